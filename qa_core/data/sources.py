"""The named sources and :func:`load_source`: any source, one split, in the flat schema.

Sources (:data:`NAMED_SOURCES`): MLQA (the official archives, or the Hub parquet export as a
fallback), XQuAD-vi, UIT-ViQuAD 2.0 (Hub), the bundled sample; besides them a local
``.json``/``.jsonl``/``.csv``/``.parquet`` file, or any Hub dataset id with SQuAD-like columns.

Empty answers are not always "unanswerable": public test sets are often published without
their answers (``answers: []`` with ``is_impossible: false``, or no ``answers`` at all, or a
SQuAD v1.1 file, which has no unanswerable questions). Such a question has no gold answer: it
gets ``labelled=False``, is counted in the report, and ``labelled_only`` keeps it out of
scoring. Empty answers count as "unanswerable" where nothing says otherwise (SQuAD v2.0 files,
the Hub ``squad_v2`` layout, flat records), as in the official v2.0 script.
"""

from __future__ import annotations

import json
import logging
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import datasets

from qa_core.data.downloads import default_cache_dir, fetch, hub_failure, load_hub_rows
from qa_core.data.files import read_records
from qa_core.data.records import COLUMN, rows_to_records, squad_json_to_records
from qa_core.data.repair import RepairReport, repair_answers
from qa_core.data.schema import FILE_SUFFIXES, features_for
from qa_core.data.splits import parse_split
from qa_core.errors import (
    DatasetFormatError,
    SourceUnavailableError,
    UnknownSourceError,
    UnknownSplitError,
)

logger = logging.getLogger(__name__)

_MLQA_URL = "https://dl.fbaipublicfiles.com/MLQA/"
_MLQA_PARQUET = "hf://datasets/facebook/mlqa@refs%2Fconvert%2Fparquet/{config}/{split}/*.parquet"
_XQUAD_URL = "https://github.com/deepmind/xquad/raw/master/xquad.vi.json"
SAMPLE_PATH = Path(__file__).resolve().parents[2] / "assets" / "sample.vi.squad2.json"
WHOLE_FILE = "whole file"  # the split reported for a local file loaded without one


@dataclass
class LoadedSource:
    """A loaded split in the flat schema, with the repairs made on the way."""

    dataset: datasets.Dataset
    report: RepairReport
    source: str
    split: str


@dataclass(frozen=True)
class SourceInfo:
    """What a named source is and where it comes from."""

    name: str
    description: str
    splits: tuple[str, ...]
    default_split: str
    licence: str
    homepage: str
    urls: tuple[str, ...] = ()
    hub_id: str | None = None


NAMED_SOURCES: dict[str, SourceInfo] = {
    info.name: info
    for info in (
        SourceInfo(
            name="mlqa-translate-train.vi",
            description="SQuAD v1.1 machine-translated to Vietnamese (MLQA translate-train): "
            "train 84,816 / validation 10,356 questions. Read from the official archive; "
            "falls back to the Hub parquet export facebook/mlqa@refs/convert/parquet, "
            "folder mlqa-translate-train.vi.",
            splits=("train", "validation"),
            default_split="train",
            licence="CC BY-SA 3.0",
            homepage="https://github.com/facebookresearch/MLQA",
            urls=(_MLQA_URL + "mlqa-translate-train.tar.gz",),
            hub_id="facebook/mlqa",
        ),
        SourceInfo(
            name="mlqa.vi.vi",
            description="MLQA, Vietnamese contexts and questions: validation 511 / test 5,495 "
            "questions. Read from MLQA_V1.zip; falls back to the Hub parquet export "
            "facebook/mlqa@refs/convert/parquet, folder mlqa.vi.vi.",
            splits=("validation", "test"),
            default_split="validation",
            licence="CC BY-SA 3.0",
            homepage="https://github.com/facebookresearch/MLQA",
            urls=(_MLQA_URL + "MLQA_V1.zip",),
            hub_id="facebook/mlqa",
        ),
        SourceInfo(
            name="xquad.vi",
            description="XQuAD, Vietnamese: 1,190 professionally translated SQuAD v1.1 "
            "questions on 240 paragraphs (one split).",
            splits=("validation",),
            default_split="validation",
            licence="CC BY-SA 4.0",
            homepage="https://github.com/deepmind/xquad",
            urls=(_XQUAD_URL,),
        ),
        SourceInfo(
            name="uit-viquad2",
            description="UIT-ViQuAD 2.0 (VLSP 2021): train 28.5k / validation 3.8k / test 7.3k "
            "questions, about 30% unanswerable. Hub parquet; its answer offsets and ids are "
            "repaired on load (see the report).",
            splits=("train", "validation", "test"),
            default_split="validation",
            licence="see the dataset card (research use)",
            homepage="https://huggingface.co/datasets/taidng/UIT-ViQuAD2.0",
            hub_id="taidng/UIT-ViQuAD2.0",
        ),
        SourceInfo(
            name="sample",
            description="The bundled assets/sample.vi.squad2.json: 54 questions (10 "
            "unanswerable) for examples and smoke tests. 'train' is the same data as "
            "'validation', so a training smoke test can run on it.",
            splits=("validation", "train"),
            default_split="validation",
            licence="CC BY-SA 4.0",
            homepage="assets/README.md",
        ),
    )
}


def _archive_json(archive: Path, member: str) -> dict:
    """Parse the JSON ``member`` of a .zip or .tar.gz archive (leading './' ignored)."""
    try:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf:
                names = {n.removeprefix("./"): n for n in zf.namelist()}
                if member in names:
                    return json.loads(zf.read(names[member]))
        else:
            with tarfile.open(archive, "r:*") as tf:
                names = {n.removeprefix("./"): n for n in tf.getnames()}
                if member in names:
                    handle = tf.extractfile(names[member])
                    if handle is not None:
                        return json.load(handle)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, json.JSONDecodeError) as exc:
        raise DatasetFormatError(
            "{archive} could not be read ({detail}). If it is a broken download, delete it and "
            "load again.", archive=archive.name, detail=f"{type(exc).__name__}: {exc}",
        ) from None
    shown = ", ".join(sorted(names)[:8])
    raise DatasetFormatError(
        "{archive} has no member {member!r}; found: {found}. Expected the official archive.",
        archive=archive.name, member=member, found=shown + (", ..." if len(names) > 8 else ""),
    )


def _local_named_file(local_path: str, names: Iterable[str]) -> Path:
    """``local_path`` itself, or the first of ``names`` inside it when it is a directory."""
    path = Path(local_path)
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                return path / name
        raise UnknownSourceError(
            "{path} holds none of: {names}. Pass the file itself as local_path.",
            path=str(path), names=", ".join(names),
        )
    if not path.is_file():
        raise UnknownSourceError("local_path {path!r} does not exist.", path=str(path))
    return path


# Which split a single file of a named source holds, from its official (or Hub) file name.
_FILE_SPLITS: dict[str, tuple[tuple[str, str], ...]] = {
    "mlqa-translate-train.vi": (
        (r"translate-train-train", "train"),
        (r"translate-train-dev", "validation"),
    ),
    "mlqa.vi.vi": ((r"^dev-", "validation"), (r"^test-", "test")),
    "uit-viquad2": (
        (r"^train\b", "train"),
        (r"^(validation|dev)\b", "validation"),
        (r"^test\b", "test"),
    ),
}


def _file_split(info: SourceInfo, path: Path) -> str | None:
    """The split a file of ``info`` holds, judged by its name (or its folder's, as in the Hub
    parquet export ``<config>/<split>/0000.parquet``); None when the name does not say."""
    for pattern, split in _FILE_SPLITS.get(info.name, ()):
        if re.search(pattern, path.name, re.IGNORECASE):
            return split
    return path.parent.name if path.parent.name in info.splits else None


def _local_file_split(info: SourceInfo, local_path: str, base: str, asked: bool) -> str:
    """The split to report for ``local_path``: a single file of one split is that split,
    whatever the source's default; asking for another split is an error."""
    path = Path(local_path)
    if (
        info.name not in _FILE_SPLITS
        or not path.is_file()
        or path.suffix.lower() not in FILE_SUFFIXES
    ):
        return base  # an archive or folder holds every split: load the one asked for
    found = _file_split(info, path)
    if found is None:
        if not asked:
            logger.warning(
                "%s: its name does not say which split of %s it holds; reported as %r. "
                "Pass the split to name it.",
                path.name,
                info.name,
                base,
            )
        return base
    if asked and found != base:
        raise UnknownSplitError(
            "{file} holds the {found!r} split of {source}, but split {asked!r} was asked for. "
            "Ask for split {found!r}, or pass the {asked} file as local_path.",
            file=path.name, found=found, source=info.name, asked=base,
        )
    return found


def _load_mlqa(
    info: SourceInfo, split: str, member: str, cache: Path, local_path: str | None
) -> list[dict]:
    url = info.urls[0]
    archive_name = url.rsplit("/", 1)[-1]
    if local_path is not None:
        # The archive, or the member inside an extracted folder at any depth: the folder that
        # holds MLQA_V1/, MLQA_V1/ itself, or its test/ folder.
        parts = member.split("/")
        inside = ["/".join(parts[i:]) for i in range(len(parts))]
        path = _local_named_file(local_path, [archive_name, *inside])
        if path.suffix.lower() in FILE_SUFFIXES:
            return read_records(path)
        return squad_json_to_records(_archive_json(path, member), f"{path.name}:{member}")
    try:
        archive = fetch(info.name, url, cache)
    except SourceUnavailableError as archive_exc:
        data_files = _MLQA_PARQUET.format(config=info.name, split=split)
        try:
            rows = load_hub_rows("parquet", split, data_files=data_files, cache_dir=cache)
        except Exception as hub_exc:
            raise SourceUnavailableError(
                "{error} The Hub parquet export ({data_files}) failed too: {detail}",
                error=archive_exc, data_files=data_files, detail=hub_failure(hub_exc),
                **{k: archive_exc.params[k] for k in ("name", "url", "filename")},
            ) from hub_exc
        return rows_to_records(rows, f"{info.hub_id} parquet {info.name}/{split}", COLUMN)
    return squad_json_to_records(_archive_json(archive, member), f"{archive.name}:{member}")


def _load_mlqa_translate_train(
    info: SourceInfo, split: str, cache: Path, local_path: str | None
) -> list[dict]:
    part = {"train": "train", "validation": "dev"}[split]
    member = f"mlqa-translate-train/vi_squad-translate-train-{part}-v1.1.json"
    return _load_mlqa(info, split, member, cache, local_path)


def _load_mlqa_vi(info: SourceInfo, split: str, cache: Path, local_path: str | None) -> list[dict]:
    part = {"validation": "dev", "test": "test"}[split]
    member = f"MLQA_V1/{part}/{part}-context-vi-question-vi.json"
    return _load_mlqa(info, split, member, cache, local_path)


def _load_xquad(info: SourceInfo, split: str, cache: Path, local_path: str | None) -> list[dict]:
    if local_path is not None:
        return read_records(_local_named_file(local_path, ["xquad.vi.json"]))
    return read_records(fetch(info.name, info.urls[0], cache))


def _load_uit_viquad2(
    info: SourceInfo, split: str, cache: Path, local_path: str | None
) -> list[dict]:
    if local_path is not None:
        path = Path(local_path)
        if path.is_dir():  # a snapshot of the Hub repo (data/<split>-*.parquet), or a
            # folder of the official files (train.json, dev.json, test.json)
            files = sorted(path.rglob(f"{split}-*.parquet")) or sorted(
                file
                for file in path.rglob("*")
                if file.suffix.lower() in FILE_SUFFIXES and _file_split(info, file) == split
            )
            if not files:
                raise UnknownSourceError(
                    "{path} has no {split}-*.parquet file (nor another file of that split, such "
                    "as dev.json for validation). Pass the split's file as local_path.",
                    path=str(path), split=split,
                )
            return [record for file in files for record in read_records(file)]
        return read_records(_local_named_file(local_path, []))
    hub_id = info.hub_id or info.name
    try:
        rows = load_hub_rows(hub_id, split, cache_dir=cache)
    except Exception as exc:  # datasets raises many types when offline
        raise SourceUnavailableError(
            "Could not load {name} from the Hub dataset {hub_id}: {detail}. If you are offline, "
            "download the split's parquet file elsewhere and pass it: load_source({name!r}, "
            "split={split!r}, local_path='path/to/{split}.parquet').",
            name=info.name, hub_id=hub_id, detail=hub_failure(exc), split=split,
            url=f"https://huggingface.co/datasets/{hub_id}",
        ) from exc
    return rows_to_records(rows, f"{hub_id} {split}", COLUMN)


def _load_sample(info: SourceInfo, split: str, cache: Path, local_path: str | None) -> list[dict]:
    path = Path(local_path) if local_path is not None else SAMPLE_PATH
    if not path.is_file():
        raise UnknownSourceError(
            "The bundled sample {file} is missing; reinstall viqa or pass local_path.",
            file=path.name,
        )
    return read_records(path)


_Reader = Callable[..., list[dict]]  # (info, split, cache dir, local_path) -> records
_READERS: dict[str, _Reader] = {
    "mlqa-translate-train.vi": _load_mlqa_translate_train,
    "mlqa.vi.vi": _load_mlqa_vi,
    "xquad.vi": _load_xquad,
    "uit-viquad2": _load_uit_viquad2,
    "sample": _load_sample,
}


def list_sources() -> list[SourceInfo]:
    """The named sources :func:`load_source` knows, with licences and homepages."""
    return list(NAMED_SOURCES.values())


def _hub_records(source: str, split: str, cache_dir: str | None) -> list[dict]:
    try:
        rows = load_hub_rows(source, split, cache_dir=Path(cache_dir) if cache_dir else None)
    except Exception as exc:  # datasets raises many types when offline or not found
        raise SourceUnavailableError(
            "Could not load {name} from the Hub dataset {hub_id}: {detail}. Check the id and "
            "split, or download the data elsewhere and pass the file's path to load_source.",
            name=source, hub_id=source, detail=hub_failure(exc), split=split,
            url=f"https://huggingface.co/datasets/{source}",
        ) from exc
    return rows_to_records(rows, f"{source} {split}", COLUMN)


def load_source(
    source: str,
    split: str | None = None,
    *,
    cache_dir: str | None = None,
    local_path: str | None = None,
) -> LoadedSource:
    """Load one split of a source in the flat schema, with answers repaired and counted.

    ``source`` is a name from :data:`NAMED_SOURCES`, a local file, or a Hub dataset id
    (``"org/name"``). ``split`` is ``datasets``-style (``"test"``, ``"validation[:20%]"``,
    ``"train[100:200]"``); it defaults to the source's usual split, to ``"train"`` for a Hub
    id, and to the whole file (reported as :data:`WHOLE_FILE`) for a local file (a file is one
    split; any name is accepted for it). ``local_path`` points a named source at a copy of its
    download (archive, extracted folder, JSON or parquet file) for offline use; a file of one
    split (e.g. MLQA's ``test-context-vi-question-vi.json``) is reported as that split. The slice is taken after repair, so ids and the report do not depend on it;
    the report covers the whole split.
    """
    info = NAMED_SOURCES.get(source)
    base, part = parse_split(split or (info.default_split if info else "train"))
    name = split or base
    if info is not None:
        if base not in info.splits:
            raise UnknownSplitError(
                "{source} has no split {split!r}; available: {splits}.",
                source=source, split=base, splits=", ".join(info.splits),
            )
        if local_path is not None:
            base = _local_file_split(info, local_path, base, asked=split is not None)
            name = split or base
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        records = _READERS[source](info, base, cache, local_path)
    elif Path(source).is_file():
        records = read_records(source)
        name = split or WHOLE_FILE
    elif Path(source).suffix.lower() in FILE_SUFFIXES or Path(source).is_dir():
        raise UnknownSourceError(
            "{source!r} is not a file. Pass an existing .json/.jsonl/.csv/.parquet file.",
            source=source,
        )
    elif "/" in source:
        records = _hub_records(source, base, cache_dir)
    else:
        raise UnknownSourceError(
            "Unknown source {source!r}. Use one of {names}, a path to a .json/.jsonl/.csv/"
            ".parquet file, or a Hub dataset id like 'org/name'.",
            source=source, names=", ".join(NAMED_SOURCES),
        )
    report = RepairReport()
    records = repair_answers(records, report)
    dataset = datasets.Dataset.from_list(records, features=features_for(records))
    if part is not None:
        dataset = dataset.select(part.indices(len(dataset)))
    if not report.clean:
        logger.warning("%s %s: %s", source, name, report.summary())
    return LoadedSource(dataset=dataset, report=report, source=source, split=name)
