"""Is the Hugging Face Hub reachable right now? Asked before any download.

Without the probe, an offline machine spends ~25 s in the Hub client's retries before failing;
with it, loaders fail at once with a message that says how to use a local copy. The probe goes
through ``huggingface_hub``'s own HTTP client, so it takes the road the downloads would take:
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` and ``HF_ENDPOINT`` are honoured.
"""

from __future__ import annotations

import os
import threading
import time

# How long an answer is trusted: a success for a minute (downloads follow at once), a failure
# only briefly, so a network that comes back (or a proxy set meanwhile) is seen soon.
REMEMBER_SUCCESS_S = 60.0
REMEMBER_FAILURE_S = 5.0
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                    "all_proxy", "NO_PROXY", "no_proxy")
_probes: dict[tuple, tuple[float, bool]] = {}
_probes_lock = threading.Lock()


def hub_endpoint() -> str:
    """The Hub's address: ``$HF_ENDPOINT``, else https://huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` asks for no network at all."""
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hub answers an HTTP request now, through the proxy the environment names
    (always False when ``HF_HUB_OFFLINE`` is set). Any HTTP answer counts: the question is
    whether the network gets there, not whether some page exists."""
    if hub_offline():
        return False
    endpoint = hub_endpoint()
    key = (endpoint, *(os.environ.get(name) for name in _PROXY_VARIABLES))
    now = time.monotonic()
    with _probes_lock:
        cached = _probes.get(key)
    if cached is not None:
        at, ok = cached
        if now - at < (REMEMBER_SUCCESS_S if ok else REMEMBER_FAILURE_S):
            return ok
    ok = _probe(endpoint, timeout)
    with _probes_lock:
        _probes[key] = (time.monotonic(), ok)
    return ok


def _probe(endpoint: str, timeout: float) -> bool:
    from huggingface_hub.utils import get_session

    try:
        get_session().head(endpoint, timeout=timeout, follow_redirects=False)
    except Exception:  # connect, proxy, TLS and timeout errors: the network does not get there
        return False
    return True


def forget_probes() -> None:
    """Forget every remembered answer (tests, or after changing the network settings)."""
    with _probes_lock:
        _probes.clear()


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
    return f"{hub_endpoint()}/{hub_id}"
