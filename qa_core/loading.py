"""Loading a checkpoint for extractive QA: config, tokenizer and model, or one error that names
the cause and the fix.

A checkpoint is a local directory (what ``save_pretrained`` wrote) or a Hub id. Before anything
is downloaded the name is checked (an existing folder, a path, or a valid Hub id), a local
folder is checked for a readable ``config.json`` and complete weights, and the architecture for
a question-answering head in transformers. Errors then say what is wrong: a gated Hub model, an
unreachable Hub (also when the cache holds only part of a model), a broken folder, a PhoBERT
tokenizer without offsets. transformers' load report and progress bars are silenced while
loading; callers log the one line of :meth:`LoadedCheckpoint.summary` instead.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa_core.errors import (
    BrokenCheckpointError,
    CheckpointError,
    CheckpointNotFoundError,
    GatedCheckpointError,
    HubUnreachableError,
    InvalidHubIdError,
    NotAQAModelError,
    SlowTokenizerError,
    UntrainedHeadWarning,
)
from qa_core.hub import hub_id_problem, hub_reachable, hub_url

logger = logging.getLogger(__name__)

DEFAULT_HUB_CHECKPOINT = "deepset/xlm-roberta-base-squad2"  # ungated, CC BY 4.0
# Any one of these (or a shard index) beside config.json holds the weights.
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
# Any one of these next to config.json means a tokenizer was saved with the model.
TOKENIZER_FILES = (
    "tokenizer.json",  # fast tokenizer: everything the reader needs
    "sentencepiece.bpe.model",  # XLM-R
    "spm.model",  # DeBERTa-v3
    "vocab.txt",  # BERT / WordPiece
    "vocab.json",  # RoBERTa / BPE
)
_PACKAGE_DIR = str(Path(__file__).resolve().parent) + os.sep

_PHOBERT_HINT = (
    "PhoBERT ships only a slow (Python) BPE tokenizer without character offsets, and it expects "
    "word-segmented input (VnCoreNLP), so answer spans cannot be mapped back to the raw text. "
    f"Use an XLM-R-based checkpoint such as '{DEFAULT_HUB_CHECKPOINT}' instead, or fine-tune "
    "one (python -m train.finetune)."
)
# Texts in an error (or its causes) that mean a weights file could not be read.
_CORRUPT_WEIGHT_MARKERS = (
    "pytorchstreamreader",
    "central directory",
    "invalid load key",
    "ran out of input",
    "eoferror",
    "unexpected eof",
    "corrupt",
    "unpickling",
    "headertoolarge",
    "metadataincompletebuffer",
    "invalidheader",
    "safetensorerror",
    "error while deserializing",
    "incomplete",
    "truncated",
)
# Texts in an error (or its causes) that mean the Hub could not be reached, for errors whose
# type says nothing (transformers re-raises most as OSError). Whole phrases, never a bare word
# such as "connection", which a config's own error may contain ("no 'connection_type' field").
_OFFLINE_MARKERS = (
    "couldn't connect",
    "could not connect",
    "failed to connect",
    "connection error",
    "connection refused",
    "connection reset",
    "connection aborted",
    "max retries",
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "failed to resolve",
    "getaddrinfo failed",
    "network is unreachable",
    "no route to host",
    "timed out",
    "localentrynotfound",
    "offlinemodeisenabled",
    "cannot find the requested files in the local cache",
    "outgoing traffic has been disabled",
)


# ---------------------------------------------------------------------------------------------
# Warnings and noise
# ---------------------------------------------------------------------------------------------
def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by the calling function point at the first
    frame outside ``qa_core`` (the user's line), however deep the call came through
    ``load_reader``/``build_reader``/``ReaderCache``."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


_QUIET_LOCK = threading.Lock()
_quiet = {"depth": 0, "saved": None}


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings (the "LOAD REPORT" table of unexpected/missing keys)
    and its "Loading weights" progress bars while loading; Hub download bars stay.

    Both settings are process-wide, so nested and concurrent loads share one silence: the first
    to enter saves the settings, the last to leave restores them.
    """
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as hf_logging

    with _QUIET_LOCK:
        if _quiet["depth"] == 0:
            _quiet["saved"] = (
                hf_logging.get_verbosity(),
                hf_logging.is_progress_bar_enabled(),
                hub_utils.are_progress_bars_disabled(),
            )
            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()  # also turns the Hub's bars off ...
            if not _quiet["saved"][2]:
                hub_utils.enable_progress_bars()  # ... which show a download's progress
        _quiet["depth"] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet["depth"] -= 1
            if _quiet["depth"] == 0:
                verbosity, bars, hub_disabled = _quiet["saved"]
                hf_logging.set_verbosity(verbosity)
                if bars:
                    hf_logging.enable_progress_bar()
                if hub_disabled:
                    hub_utils.disable_progress_bars()


# ---------------------------------------------------------------------------------------------
# Names and local folders
# ---------------------------------------------------------------------------------------------
def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def resolve_name(checkpoint: str) -> tuple[str, Path | None]:
    """``(name, local_dir)``: the checkpoint as given (stripped) and its directory when it is
    one, else ``None`` for a Hub id. Names that are neither are refused here, before any
    network access."""
    name = str(checkpoint).strip()
    if not name:
        raise CheckpointNotFoundError("No checkpoint given: pass a Hub id or a local directory.")
    local = Path(name).expanduser()
    if local.exists():
        return str(local), local
    first = name.split("/", 1)[0]
    if _looks_like_path(name) or ("/" in name and first and Path(first).expanduser().is_dir()):
        raise CheckpointNotFoundError(
            f"The directory '{name}' does not exist. Check the path, or give a Hub id such as "
            f"'{DEFAULT_HUB_CHECKPOINT}'."
        )
    problem = hub_id_problem(name)
    if problem:
        raise InvalidHubIdError(
            f"'{name}' is not a valid Hugging Face Hub id ({problem.rstrip('.')}), and no "
            f"directory of that name exists. Give a folder that exists, or an id such as "
            f"'{DEFAULT_HUB_CHECKPOINT}'."
        )
    return name, None


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
        data = _read_json(directory / name)
        if isinstance(data, dict) and str(data.get("tokenizer_class") or "").startswith("Phobert"):
            return True
    return False


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _safetensors_problem(path: Path) -> str | None:
    """Why a ``.safetensors`` file cannot be complete (read from its header), or ``None``."""
    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return "is truncated (shorter than a safetensors header)"
            n = int.from_bytes(head, "little")
            if n > 100_000_000:  # safetensors' own limit
                return "has an unreadable header (it claims more than 100 MB)"
            if n > size - 8:
                return "is truncated (its header says it is longer than the file)"
            header = json.loads(f.read(n))
    except (OSError, ValueError) as exc:
        return f"has an unreadable header ({exc})"
    ends = [
        v["data_offsets"][1]
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v
    ]
    if ends and 8 + n + max(ends) > size:
        return f"is truncated ({size:,} of {8 + n + max(ends):,} bytes)"
    return None


def _file_problem(path: Path) -> str | None:
    """Why the weights file ``path`` cannot be loaded, as far as a cheap look tells."""
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    if path.suffix == ".safetensors":
        return _safetensors_problem(path)
    with path.open("rb") as f:
        magic = f.read(4)
    if magic.startswith(b"PK"):  # torch's zip format: the directory sits at the end
        import zipfile

        if not zipfile.is_zipfile(path):
            return "is truncated (its zip directory is missing)"
    return None


def weights_problem(directory: str | Path) -> str | None:
    """Why the weights beside ``directory/config.json`` cannot load (missing, empty,
    truncated, a shard missing), in a few words, or ``None`` when they look complete."""
    directory = Path(directory)
    for index in WEIGHT_INDEXES:
        if (directory / index).is_file():
            shards = (_read_json(directory / index) or {}).get("weight_map", {})
            for shard in sorted(set(shards.values()) if isinstance(shards, dict) else ()):
                path = directory / shard
                problem = "is missing" if not path.is_file() else _file_problem(path)
                if problem:
                    return f"the weights shard {shard} listed in {index} {problem}"
            return None
    present = [directory / name for name in WEIGHT_FILES if (directory / name).is_file()]
    if not present:
        return f"it has a config.json but no weights ({' or '.join(WEIGHT_FILES)})"
    problems = [(p, _file_problem(p)) for p in present]
    if all(problem for _, problem in problems):  # one good file is enough
        path, problem = problems[0]
        return f"its weights file {path.name} {problem}"
    return None


def config_problem(directory: str | Path) -> str | None:
    """Why ``directory/config.json`` cannot be read as a model config, or ``None``."""
    config_file = Path(directory) / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"its config.json is not valid JSON ({exc})"
    if not isinstance(config, dict):
        return f"its config.json holds a JSON {type(config).__name__}, not an object of settings"
    return None


def check_local_checkpoint(directory: Path) -> None:
    """Refuse a folder that cannot be a complete checkpoint, naming exactly what is wrong."""
    if not directory.is_dir():
        raise CheckpointNotFoundError(
            f"'{directory}' is a file, not a model directory. Point at the folder that "
            "save_pretrained wrote (it holds config.json and the weights)."
        )
    if not (directory / "config.json").is_file():
        raise CheckpointNotFoundError(
            f"'{directory}' exists but is not a model directory (no config.json). Point at "
            "the folder that save_pretrained wrote (it holds config.json and the weights)."
        )
    problem = config_problem(directory)
    if problem:
        raise BrokenCheckpointError(
            f"'{directory}' cannot be loaded: {problem}. Restore config.json from the original "
            "checkpoint, or save the model again with save_pretrained."
        )
    problem = weights_problem(directory)
    if problem:
        raise BrokenCheckpointError(
            f"'{directory}' cannot be loaded: {problem}. The save, copy or download was "
            "interrupted: copy or download the checkpoint again, or save it again with "
            "save_pretrained."
        )


def check_tokenizer_files(directory: Path) -> None:
    """Refuse a local checkpoint saved without its tokenizer."""
    if not any((directory / name).is_file() for name in TOKENIZER_FILES):
        raise BrokenCheckpointError(
            f"'{directory}' cannot be loaded: it has no tokenizer files "
            f"({', '.join(TOKENIZER_FILES)}). Save the tokenizer beside the model "
            "(tokenizer.save_pretrained(DIR)), or copy its files from the checkpoint it was "
            "fine-tuned from."
        )


# ---------------------------------------------------------------------------------------------
# Errors from the Hub and transformers
# ---------------------------------------------------------------------------------------------
def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _chain_text(exc: BaseException) -> str:
    return " | ".join(f"{type(e).__name__}: {e}" for e in _chain(exc)).lower()


def _network_error_types() -> tuple[type[BaseException], ...]:
    """Exception types that mean the Hub could not be reached: the Hub client's "not in the
    cache and no network" and offline-mode errors, the HTTP client's connect and timeout
    errors (httpx2 for huggingface_hub 2.x, httpx for 1.x, requests for 0.x; whichever is
    installed), and the socket's own."""
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    types: list[type[BaseException]] = [
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        ConnectionError,  # builtin: refused, reset, aborted
        socket.gaierror,  # DNS
    ]
    for module, names in (
        ("httpx2", ("ConnectError", "TimeoutException")),
        ("httpx", ("ConnectError", "TimeoutException")),
        ("requests.exceptions", ("ConnectionError", "Timeout")),
    ):
        try:
            found = importlib.import_module(module)
        except ImportError:  # not installed: the Hub client does not use it
            continue
        types += [getattr(found, name) for name in names if hasattr(found, name)]
    return tuple(types)


def is_network_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says the Hub could not be reached.

    Judged by type first, walking ``__cause__``/``__context__``; then, for errors re-raised as
    plain ``OSError`` with the cause dropped, by whole phrases of the message.

    >>> is_network_error(OSError("We couldn't connect to 'https://huggingface.co'"))
    True
    >>> is_network_error(OSError("config has no 'connection_type' field"))
    False
    """
    types = _network_error_types()
    if any(isinstance(e, types) for e in _chain(exc)):
        return True
    lowered = _chain_text(exc)
    return any(m in lowered for m in _OFFLINE_MARKERS)


def _is_gated(exc: BaseException) -> bool:
    from huggingface_hub.errors import GatedRepoError

    return any(isinstance(e, GatedRepoError) for e in _chain(exc)) or "gated repo" in _chain_text(
        exc
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def gated_message(checkpoint: str) -> str:
    return (
        f"'{checkpoint}' is a gated model on the Hugging Face Hub: its authors let only "
        f"logged-in users who accepted their conditions download it. Open {hub_url(checkpoint)}, "
        "log in and accept the conditions; then give this machine your token with "
        "`hf auth login` or the HF_TOKEN environment variable (on a Hugging Face Space: add "
        "HF_TOKEN as a secret in the Space's settings). Or pick an ungated checkpoint such as "
        f"'{DEFAULT_HUB_CHECKPOINT}'."
    )


def _classify_load_error(
    checkpoint: str, exc: Exception, partial: bool = False, offline: bool = False
) -> Exception:
    """Turn the Hub's and transformers' errors for a Hub id into messages a user can act on.

    ``partial``: the config was found (in the cache) but a later file was not. ``offline``: the
    Hub did not answer before loading, so only the local cache was read.
    """
    if _is_gated(exc):
        return GatedCheckpointError(gated_message(checkpoint))
    if offline or is_network_error(exc):
        what = (
            f"the local cache holds only part of '{checkpoint}' (its config, not its weights "
            "or tokenizer)"
            if partial
            else f"'{checkpoint}' is not in the local cache"
        )
        return HubUnreachableError(
            f"Could not reach the Hugging Face Hub to download '{checkpoint}', and {what}. "
            "Connect to the internet once (it is cached afterwards), or download it elsewhere "
            f"(`hf download {checkpoint} --local-dir DIR`) and pass the local directory "
            "instead of the id."
        )
    if partial:
        return CheckpointError(
            f"'{checkpoint}' was found on the Hugging Face Hub but could not be loaded: "
            f"{_first_line(exc)}"
        )
    return CheckpointNotFoundError(
        f"'{checkpoint}' is neither a local model directory nor a model on the Hugging Face Hub "
        "(check the spelling, or log in with `hf auth login` if it is private). "
        f"Details: {_first_line(exc)}"
    )


def _local_load_error(directory: str, exc: Exception, weights: bool) -> Exception:
    """An error loading from a local folder: a damaged file, or transformers' own message."""
    lowered = _chain_text(exc)
    if weights and any(m in lowered for m in _CORRUPT_WEIGHT_MARKERS):
        return BrokenCheckpointError(
            f"The weights in '{directory}' cannot be read: they are truncated or corrupt "
            f"({_first_line(exc)}). Copy or download the checkpoint again."
        )
    if weights and "size mismatch" in lowered:
        return BrokenCheckpointError(
            f"The weights in '{directory}' do not fit its config.json (size mismatch): the two "
            "files come from different models. Restore them from one checkpoint."
        )
    return CheckpointError(f"'{directory}' could not be loaded: {_first_line(exc)}")


def _load_error(
    checkpoint: str, exc: Exception, local: Path | None, offline: bool, weights: bool = False,
    partial: bool = True,
) -> Exception:
    """The error to raise for ``exc`` met while loading a file of ``checkpoint``: about the
    folder when it is local, about the Hub otherwise (``partial``: its config was found)."""
    if local is not None:
        return _local_load_error(checkpoint, exc, weights)
    return _classify_load_error(checkpoint, exc, partial, offline)


# ---------------------------------------------------------------------------------------------
# Architecture
# ---------------------------------------------------------------------------------------------
def _qa_model_class(config):
    """transformers' QA class for ``config`` or ``None`` when its type has no QA head."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_QUESTION_ANSWERING_MAPPING,
        MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES,
    )

    if config.model_type not in MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES:
        return None
    try:
        return MODEL_FOR_QUESTION_ANSWERING_MAPPING[type(config)]
    except (KeyError, ValueError):
        return None


_ATTENTION_FLAGS = {
    "sdpa": "_supports_sdpa",
    "flash_attention_2": "_supports_flash_attn",
    "flash_attention_3": "_supports_flash_attn",
    "flex_attention": "_supports_flex_attn",
}


def supported_attention(model_class, requested: str | None) -> str | None:
    """``requested`` when ``model_class`` supports it, else the best it does (sdpa, then eager).

    >>> class Eager: _supports_sdpa = False
    >>> supported_attention(Eager, "sdpa")
    'eager'
    """
    flag = _ATTENTION_FLAGS.get(requested or "")
    if model_class is None or flag is None or getattr(model_class, flag, False):
        return requested
    return "sdpa" if getattr(model_class, "_supports_sdpa", False) else "eager"


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
@dataclass
class LoadedCheckpoint:
    """A checkpoint's parts plus what the one log line and the user need to know."""

    name: str
    config: object
    tokenizer: object
    model: object
    untrained_head: bool = False
    attention_note: str = ""  # set when the requested attention was replaced
    record_dir: Path | None = None  # where its viqa_training.json lies, if it has one

    @property
    def architecture(self) -> str:
        return type(self.model).__name__

    def summary(self, precision: str | None = None, device: str | None = None) -> str:
        """One line: what was loaded, how big, in which precision (on which device), and what
        to watch."""
        import torch

        n = sum(p.numel() for p in self.model.parameters())
        size = f"{n / 1e6:.1f}M" if n < 1e8 else f"{n / 1e6:.0f}M"
        if precision is None:
            dtypes = {p.dtype for p in self.model.parameters()} or {torch.float32}
            precision = "/".join(sorted(str(d).replace("torch.", "") for d in dtypes))
        where = f" on {device}" if device else ""
        line = f"Loaded {self.name}: {self.architecture}, {size} parameters{where}, {precision}"
        if self.attention_note:
            line += f"; {self.attention_note}"
        if self.untrained_head:
            line += "; QA head untrained (random)"
        return line

    def warnings(self) -> tuple[str, ...]:
        """Messages every answer of this checkpoint should carry."""
        return (untrained_head_message(self.name),) if self.untrained_head else ()


def untrained_head_message(checkpoint: str) -> str:
    return (
        f"'{checkpoint}' has no trained question-answering head: the head was initialised at "
        "random, so its answers are meaningless until it is fine-tuned "
        f"(python -m train.finetune --model-name-or-path {checkpoint})."
    )


def load_checkpoint(
    checkpoint: str | Path,
    dtype=None,
    cache_dir: str | None = None,
    config_overrides: dict | None = None,
    **model_kwargs,
) -> LoadedCheckpoint:
    """Config, fast tokenizer and QA model of ``checkpoint`` on the CPU, or a clear error.

    ``dtype`` (a torch dtype) loads the weights straight into that precision. ``cache_dir`` is
    the Hub download cache (default: the Hub's own). ``config_overrides`` set those of their
    config fields that this architecture has (others are ignored: names differ between
    architectures) before the model is built. ``model_kwargs`` go to the model's
    ``from_pretrained``; an ``attn_implementation`` the architecture lacks is replaced by the
    best one it has (mDeBERTa has no SDPA). Warns ``UntrainedHeadWarning`` at the caller's line
    when the checkpoint has no trained QA head.
    """
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    from qa_core.tokenizer_loading import load_tokenizer

    checkpoint, local = resolve_name(str(checkpoint))
    if local is not None:
        check_local_checkpoint(local)
    # Offline: read the local cache only (fast), instead of retrying the network for ~25 s.
    offline = local is None and not hub_reachable()
    hub = {"local_files_only": True} if offline else {}
    if cache_dir:
        hub["cache_dir"] = cache_dir

    with quiet_transformers():
        try:
            config = AutoConfig.from_pretrained(checkpoint, **hub)
        except Exception as exc:  # the Hub raises many types; all mean "cannot get this"
            raise _load_error(checkpoint, exc, local, offline, partial=False) from exc
        for key, value in (config_overrides or {}).items():
            if hasattr(config, key):
                setattr(config, key, value)
        model_class = _qa_model_class(config)
        if model_class is None:
            raise NotAQAModelError(
                f"'{checkpoint}' is a '{config.model_type}' model, which has no "
                "question-answering head in transformers. Pick an encoder such as XLM-R, BERT "
                "or mDeBERTa."
            )
        if is_phobert(local, config):
            raise SlowTokenizerError(f"'{checkpoint}' cannot be used: {_PHOBERT_HINT}")
        if local is not None:
            check_tokenizer_files(local)
        try:
            # The checkpoint's own tokenizer.json, not transformers 5's rebuild of it.
            tokenizer = load_tokenizer(checkpoint, config, **hub)
        except Exception as exc:
            raise _load_error(checkpoint, exc, local, offline) from exc
        if not getattr(tokenizer, "is_fast", False):
            hint = (
                _PHOBERT_HINT
                if type(tokenizer).__name__.startswith("Phobert")
                else (
                    "Extractive QA needs a fast (Rust) tokenizer for character offsets; convert "
                    "the tokenizer with `PreTrainedTokenizerFast` or pick a checkpoint that "
                    "ships tokenizer.json."
                )
            )
            raise SlowTokenizerError(f"'{checkpoint}' has no fast tokenizer. {hint}")

        note = ""
        requested = model_kwargs.get("attn_implementation")
        attention = supported_attention(model_class, requested)
        if attention != requested:
            model_kwargs["attn_implementation"] = attention
            # Said in the summary line, the one line callers log.
            note = f"attention {attention} ({model_class.__name__} does not support {requested})"
        try:
            model, info = AutoModelForQuestionAnswering.from_pretrained(
                checkpoint, config=config, output_loading_info=True, **hub, **model_kwargs,
                **({"dtype": dtype} if dtype is not None else {}),
            )
        except Exception as exc:
            raise _load_error(checkpoint, exc, local, offline, weights=True) from exc

    missing = list(info.get("missing_keys", []))
    untrained = any("qa_outputs" in key for key in missing)
    encoder_missing = [k for k in missing if "qa_outputs" not in k]
    if encoder_missing:  # a partly random encoder matters as much as a random head
        logger.warning(
            "%s: %d weights were not in the checkpoint and are random (e.g. %s); its answers "
            "will be poor.", checkpoint, len(encoder_missing), ", ".join(encoder_missing[:3]),
        )
    loaded = LoadedCheckpoint(
        checkpoint, config, tokenizer, model, untrained, note, _record_dir(checkpoint, local, hub)
    )
    if untrained:
        warnings.warn(
            untrained_head_message(checkpoint), UntrainedHeadWarning, stacklevel=caller_stacklevel()
        )
    return loaded


def _record_dir(checkpoint: str, local: Path | None, hub: dict) -> Path | None:
    """The folder holding the checkpoint's ``viqa_training.json``: a local checkpoint's own,
    or the Hub cache's for a model trained here and pushed (its settings travel with it)."""
    from qa_core.answer_options import RECORD_FILE

    if local is not None:
        return local
    from transformers.utils.hub import cached_file

    try:
        path = cached_file(
            checkpoint, RECORD_FILE, _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False, **hub,
        )
    except Exception:  # the model loaded; without its record it answers with the defaults
        logger.debug("No %s for %s", RECORD_FILE, checkpoint, exc_info=True)
        return None
    return Path(path).parent if path else None


def load_components(
    checkpoint: str, dtype=None, cache_dir: str | None = None, config_overrides=None,
    **model_kwargs,
):
    """``(config, tokenizer, model)`` of :func:`load_checkpoint`, with its one log line."""
    loaded = load_checkpoint(checkpoint, dtype, cache_dir, config_overrides, **model_kwargs)
    logger.info(loaded.summary())
    return loaded.config, loaded.tokenizer, loaded.model
