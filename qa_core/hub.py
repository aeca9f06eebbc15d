"""Is the Hugging Face Hub reachable right now? Asked before any download.

Without this, an offline machine spends ~25 s in the Hub client's retries before failing;
with it, loaders fail at once with a message that says how to use a local copy.
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
