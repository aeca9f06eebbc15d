"""Checks of a local checkpoint folder, from file headers only: is it complete, and which
tokenizer does it carry? Each problem is said in a few words (``weights_problem``,
``config_problem``) or raised with the fix (``check_local_checkpoint``)."""

from __future__ import annotations

import json
from pathlib import Path

from qa_core.errors import BrokenCheckpointError, CheckpointNotFoundError, Phrase

# Any one of these (or a shard index) beside config.json holds the weights.
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
# Any one of these next to config.json means a tokenizer was saved with the model.
TOKENIZER_FILES = (
    "tokenizer.json",  # fast tokenizer: everything the reader needs
    "sentencepiece.bpe.model",  # XLM-R
    "spm.model",  # DeBERTa-v3
    "vocab.txt",  # BERT / WordPiece, and PhoBERT (with bpe.codes)
    "vocab.json",  # RoBERTa / BPE
)


def is_phobert(directory: str | Path | None, config=None) -> bool:
    """Whether a checkpoint uses PhoBERT's tokenizer: ``tokenizer_class: PhobertTokenizer`` in
    its config or ``tokenizer_config.json``, or fastBPE's ``bpe.codes`` beside ``vocab.txt``
    (never judged by the folder's name)."""
    if config is not None and str(getattr(config, "tokenizer_class", "") or "").startswith(
        "Phobert"
    ):
        return True
    if directory is None:
        return False
    directory = Path(directory)
    if (directory / "bpe.codes").is_file() and (directory / "vocab.txt").is_file():
        return True
    for name in ("tokenizer_config.json", "config.json"):
        data = read_json(directory / name)
        if isinstance(data, dict) and str(data.get("tokenizer_class") or "").startswith("Phobert"):
            return True
    return False


def read_json(path: Path):
    """The JSON in ``path``, or ``None`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _safetensors_problem(path: Path) -> Phrase | None:
    """Why a ``.safetensors`` file cannot be complete (read from its header), or ``None``."""
    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return Phrase("is truncated (shorter than a safetensors header)")
            n = int.from_bytes(head, "little")
            if n > 100_000_000:  # safetensors' own limit
                return Phrase("has an unreadable header (it claims more than 100 MB)")
            if n > size - 8:
                return Phrase("is truncated (its header says it is longer than the file)")
            header = json.loads(f.read(n))
    except (OSError, ValueError) as exc:
        return Phrase("has an unreadable header ({detail})", detail=str(exc))
    ends = [
        v["data_offsets"][1]
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v
    ]
    if ends and 8 + n + max(ends) > size:
        return Phrase("is truncated ({size:,} of {expected:,} bytes)", size=size,
                      expected=8 + n + max(ends))
    return None


def _file_problem(path: Path) -> Phrase | None:
    """Why the weights file ``path`` cannot be loaded, as far as a cheap look tells."""
    size = path.stat().st_size
    if size == 0:
        return Phrase("is empty (0 bytes)")
    if path.suffix == ".safetensors":
        return _safetensors_problem(path)
    with path.open("rb") as f:
        magic = f.read(4)
    if magic.startswith(b"PK"):  # torch's zip format: the directory sits at the end
        import zipfile

        if not zipfile.is_zipfile(path):
            return Phrase("is truncated (its zip directory is missing)")
    return None


def weights_problem(directory: str | Path) -> Phrase | None:
    """Why the weights beside ``directory/config.json`` cannot load (missing, empty,
    truncated, a shard missing), in a few words, or ``None`` when they look complete."""
    directory = Path(directory)
    for index in WEIGHT_INDEXES:
        if (directory / index).is_file():
            shards = (read_json(directory / index) or {}).get("weight_map", {})
            for shard in sorted(set(shards.values()) if isinstance(shards, dict) else ()):
                path = directory / shard
                problem = Phrase("is missing") if not path.is_file() else _file_problem(path)
                if problem:
                    return Phrase("the weights shard {shard} listed in {index} {problem}",
                                  shard=shard, index=index, problem=problem)
            return None
    present = [directory / name for name in WEIGHT_FILES if (directory / name).is_file()]
    if not present:
        return Phrase("it has a config.json but no weights ({files})",
                      files=" or ".join(WEIGHT_FILES))
    problems = [(p, _file_problem(p)) for p in present]
    if all(problem for _, problem in problems):  # one good file is enough
        path, problem = problems[0]
        return Phrase("its weights file {file} {problem}", file=path.name, problem=problem)
    return None


def config_problem(directory: str | Path) -> Phrase | None:
    """Why ``directory/config.json`` cannot be read as a model config, or ``None``."""
    config_file = Path(directory) / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return Phrase("its config.json is not valid JSON ({detail})", detail=str(exc))
    if not isinstance(config, dict):
        return Phrase("its config.json holds a JSON {type}, not an object of settings",
                      type=type(config).__name__)
    return None


def check_local_checkpoint(directory: Path) -> None:
    """Refuse a folder that cannot be a complete checkpoint, naming exactly what is wrong."""
    if not directory.is_dir():
        raise CheckpointNotFoundError(
            "'{name}' is a file, not a model directory. Point at the folder that "
            "save_pretrained wrote (it holds config.json and the weights).", name=str(directory)
        )
    if not (directory / "config.json").is_file():
        raise CheckpointNotFoundError(
            "'{name}' exists but is not a model directory (no config.json). Point at the folder "
            "that save_pretrained wrote (it holds config.json and the weights).",
            name=str(directory),
        )
    problem = config_problem(directory)
    if problem:
        raise BrokenCheckpointError(
            "'{name}' cannot be loaded: {problem}. Restore config.json from the original "
            "checkpoint, or save the model again with save_pretrained.",
            name=str(directory), problem=problem,
        )
    problem = weights_problem(directory)
    if problem:
        raise BrokenCheckpointError(
            "'{name}' cannot be loaded: {problem}. The save, copy or download was interrupted: "
            "copy or download the checkpoint again, or save it again with save_pretrained.",
            name=str(directory), problem=problem,
        )


def check_tokenizer_files(directory: Path) -> None:
    """Refuse a local checkpoint saved without its tokenizer."""
    if not any((directory / name).is_file() for name in TOKENIZER_FILES):
        raise BrokenCheckpointError(
            "'{name}' cannot be loaded: {problem}. Save the tokenizer beside the model "
            "(tokenizer.save_pretrained(DIR)), or copy its files from the checkpoint it was "
            "fine-tuned from.", name=str(directory), problem=Phrase(
                "it has no tokenizer files ({files})", files=", ".join(TOKENIZER_FILES)),
        )
