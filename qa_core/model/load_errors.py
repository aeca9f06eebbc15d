"""Errors met while loading a checkpoint, turned into messages a user can act on: a gated
model, an unreachable Hub (also when the cache holds only part of a model), a missing model,
a damaged folder. The Hub client and transformers raise many types, and re-raise most as plain
``OSError``; they are judged by type first, then by whole phrases of their messages."""

from __future__ import annotations

import importlib
import socket
from collections.abc import Iterator
from pathlib import Path

from qa_core.errors import (
    BrokenCheckpointError,
    CheckpointError,
    CheckpointNotFoundError,
    GatedCheckpointError,
    HubUnreachableError,
    Phrase,
)
from qa_core.model.hub import hub_url
from qa_core.model.names import DEFAULT_HUB_CHECKPOINT

# Texts in an error (or its causes) that mean a weights file could not be read.
CORRUPT_WEIGHT_MARKERS = (
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
OFFLINE_MARKERS = (
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
    return any(m in lowered for m in OFFLINE_MARKERS)


def is_gated(exc: BaseException) -> bool:
    from huggingface_hub.errors import GatedRepoError

    return any(isinstance(e, GatedRepoError) for e in _chain(exc)) or "gated repo" in _chain_text(
        exc
    )


def first_line(exc: BaseException) -> str:
    """An exception's first line of text (its type when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def gated_error(checkpoint: str) -> GatedCheckpointError:
    """The error for a gated model: where to accept its conditions and how to give a token."""
    return GatedCheckpointError(
        "'{name}' is a gated model on the Hugging Face Hub: its authors let only logged-in users "
        "who accepted their conditions download it. Open {url}, log in and accept the "
        "conditions; then give this machine your token with `hf auth login` or the HF_TOKEN "
        "environment variable (on a Hugging Face Space: add HF_TOKEN as a secret in the Space's "
        "settings). Or pick an ungated checkpoint such as '{default}'.",
        name=checkpoint, url=hub_url(checkpoint), default=DEFAULT_HUB_CHECKPOINT,
    )


def hub_load_error(
    checkpoint: str, exc: Exception, partial: bool = False, offline: bool = False
) -> CheckpointError:
    """Turn the Hub's and transformers' errors for a Hub id into messages a user can act on.

    ``partial``: the config was found (in the cache) but a later file was not. ``offline``: the
    Hub did not answer before loading, so only the local cache was read.
    """
    if is_gated(exc):
        return gated_error(checkpoint)
    if offline or is_network_error(exc):
        what = (
            Phrase("the local cache holds only part of '{name}' (its config, not its weights or "
                   "tokenizer)", name=checkpoint)
            if partial
            else Phrase("'{name}' is not in the local cache", name=checkpoint)
        )
        return HubUnreachableError(
            "Could not reach the Hugging Face Hub to download '{name}', and {what}. Connect to "
            "the internet once (it is cached afterwards), or download it elsewhere (`hf download "
            "{name} --local-dir DIR`) and pass the local directory instead of the id.",
            name=checkpoint, what=what,
        )
    if partial:
        return CheckpointError(
            "'{name}' was found on the Hugging Face Hub but could not be loaded: {detail}",
            name=checkpoint, detail=first_line(exc),
        )
    return CheckpointNotFoundError(
        "'{name}' is neither a local model directory nor a model on the Hugging Face Hub (check "
        "the spelling, or log in with `hf auth login` if it is private). Details: {detail}",
        name=checkpoint, detail=first_line(exc),
    )


def _local_load_error(directory: str, exc: Exception, weights: bool) -> CheckpointError:
    """An error loading from a local folder: a damaged file, or transformers' own message."""
    lowered = _chain_text(exc)
    if weights and any(m in lowered for m in CORRUPT_WEIGHT_MARKERS):
        return BrokenCheckpointError(
            "The weights in '{name}' cannot be read: they are truncated or corrupt ({detail}). "
            "Copy or download the checkpoint again.", name=directory, detail=first_line(exc),
        )
    if weights and "size mismatch" in lowered:
        return BrokenCheckpointError(
            "The weights in '{name}' do not fit its config.json (size mismatch): the two files "
            "come from different models. Restore them from one checkpoint.", name=directory,
        )
    return CheckpointError("'{name}' could not be loaded: {detail}", name=directory,
                           detail=first_line(exc))


def load_error(
    checkpoint: str, exc: Exception, local: Path | None, offline: bool, weights: bool = False,
    partial: bool = True,
) -> CheckpointError:
    """The error to raise for ``exc`` met while loading a file of ``checkpoint``: about the
    folder when it is local, about the Hub otherwise (``partial``: its config was found)."""
    if local is not None:
        return _local_load_error(checkpoint, exc, weights)
    return hub_load_error(checkpoint, exc, partial, offline)
