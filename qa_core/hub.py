"""Is the Hugging Face Hub reachable right now, and can a name be a Hub id at all? Asked
before any download.

Without the probe, an offline machine spends ~25 s in the Hub client's retries before failing;
with it, loaders fail at once with a message that says how to use a local copy. A name that
cannot be a repository id (spaces, ``<``, ``&``) is refused as such, never blamed on the network.
"""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlparse

_HUB_PROBE: dict[str, tuple[float, bool]] = {}


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hub answers a TCP connection now (cached for a minute); always False when
    ``HF_HUB_OFFLINE`` is set."""

    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    now = time.monotonic()
    cached = _HUB_PROBE.get(endpoint)
    if cached and now - cached[0] < 60:
        return cached[1]
    url = urlparse(endpoint)
    try:
        with socket.create_connection(
            (url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout=timeout
        ):
            ok = True
    except OSError:
        ok = False
    _HUB_PROBE[endpoint] = (now, ok)
    return ok


def hub_id_problem(name: str) -> str | None:
    """Why ``name`` cannot be a Hub model id (huggingface_hub's own rule), or ``None``.

    >>> hub_id_problem("deepset/xlm-roberta-base-squad2") is None
    True
    >>> hub_id_problem("my model") is not None
    True
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError as exc:
        return str(exc).splitlines()[0]
    return None


def hub_url(hub_id: str) -> str:
    """The model's page on the Hub (where gated models' conditions are accepted)."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    return f"{endpoint}/{hub_id}"
