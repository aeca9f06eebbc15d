"""Downloads of the named sources' files, and Hub datasets.

Files go to ``~/.cache/viqa`` (or ``$VIQA_CACHE``, or ``cache_dir=``) with plain ``urllib``,
which honours ``HTTPS_PROXY``/``NO_PROXY``; a file already there is reused, so a copy placed
there by hand works offline. Hub datasets go through ``datasets.load_dataset`` after a quick
check that the Hub answers at all.
"""

from __future__ import annotations

import logging
import os
import tempfile
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path

import datasets

from qa_core.errors import SourceUnavailableError
from qa_core.model.hub import hub_reachable

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$VIQA_CACHE`` if set, else ``~/.cache/viqa``."""
    return Path(os.environ.get("VIQA_CACHE") or Path.home() / ".cache" / "viqa")


def download(url: str, dest: Path) -> None:
    """Fetch ``url`` into ``dest`` atomically (a partial download never looks complete)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Downloading %s to %s", url, dest)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch(name: str, url: str, cache: Path) -> Path:
    """The cached copy of ``url``, downloading it first if needed.

    A failed download raises ``SourceUnavailableError`` with the values ``name``, ``url``,
    ``filename``, ``path`` (where a copy put by hand is read) and ``reason``.
    """
    filename = url.rsplit("/", 1)[-1]
    dest = cache / filename
    if dest.is_file():
        return dest
    try:
        download(url, dest)
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SourceUnavailableError(
            "Could not download {name} from {url}: {reason}. If you are offline, download the "
            "file elsewhere and pass its path: load_source({name!r}, "
            "local_path='path/to/{filename}'), or put it at {path}.",
            name=name, url=url, reason=str(reason), filename=filename, path=str(dest),
        ) from exc
    return dest


def load_hub_rows(
    path: str, split: str, *, data_files: str | None = None, cache_dir: Path | None = None
) -> list[dict]:
    """Rows of one split of a Hub dataset (or of the parquet files ``data_files``) as dicts."""
    if not hub_reachable():  # fail in a second, not after the client's long retries
        raise ConnectionError("the Hugging Face Hub cannot be reached (offline?)")
    dataset = datasets.load_dataset(
        path,
        # A bare pattern would be named "train" by datasets; name it after the split we want.
        data_files={split: data_files} if data_files else None,
        split=split,
        cache_dir=str(cache_dir / "datasets") if cache_dir else None,
    )
    return dataset.to_list()


def hub_failure(exc: Exception) -> str:
    """What went wrong with a Hub dataset, in one line: the library's own words."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
