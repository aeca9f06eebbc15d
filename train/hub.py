"""Can we publish? Checked before training starts, so a long run never ends in a failed push.

The token is whatever ``huggingface_hub`` finds: the ``HF_TOKEN`` environment variable, else the
cached ``hf auth login``. It is never taken from arguments, never stored and never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

TOKEN_HELP = (
    "Set HF_TOKEN to a token with write access (https://huggingface.co/settings/tokens) or run "
    "`hf auth login`."
)


class HubAccessError(ValueError):
    """The Hub cannot be reached, or the token cannot write to the repository."""


@dataclass(frozen=True)
class HubTarget:
    """Where a model will be pushed, as checked: ``user/name`` or ``org/name``."""

    repo_id: str
    user: str


def _namespace_and_name(hub_model_id: str) -> tuple[str | None, str]:
    parts = hub_model_id.strip().split("/")
    if len(parts) == 1 and parts[0]:
        return None, parts[0]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise HubAccessError(
        f"--hub-model-id {hub_model_id!r} is not a repository id; use USER/NAME or ORG/NAME, "
        "e.g. my-name/xlmr-base-vi-qa."
    )


def _can_write(auth: dict, namespace: str) -> bool | None:
    """Whether the token may write to repos of ``namespace`` (None: the Hub did not say)."""
    token = auth.get("accessToken") if isinstance(auth, dict) else None
    if not isinstance(token, dict) or "role" not in token:
        return None
    role = token["role"]
    if role in ("write", "admin"):
        return True
    if role == "fineGrained":
        scopes = (token.get("fineGrained") or {}).get("scoped") or []
        for scope in scopes:
            entity = scope.get("entity") or {}
            if entity.get("name") == namespace and "repo.write" in scope.get("permissions", []):
                return True
        return False
    return False  # "read"


def check_hub_access(hub_model_id: str) -> HubTarget:
    """Verify the Hub is reachable and the token can create and write ``hub_model_id``.

    Raises ``HubAccessError`` with the cause and the fix: no token, Hub unreachable (or
    ``HF_HUB_OFFLINE`` set), invalid token, read-only token, or a namespace the user is not in.
    """
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    namespace, name = _namespace_and_name(hub_model_id)
    if get_token() is None:
        raise HubAccessError(
            f"No Hugging Face token found, so the model could not be pushed. {TOKEN_HELP}"
        )
    api = HfApi()
    try:
        info = api.whoami()
    except OfflineModeIsEnabled as exc:
        raise HubAccessError(
            "HF_HUB_OFFLINE is set, so the model could not be pushed. Unset it, or train without "
            "--push-to-hub and publish later with `python -m train.push`."
        ) from exc
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 401:
            raise HubAccessError(
                f"The Hugging Face token was refused (invalid or expired). {TOKEN_HELP}"
            ) from exc
        raise HubAccessError(
            f"The Hub answered {status} when checking the token: {exc}. Try again later, or train "
            "without --push-to-hub and publish later with `python -m train.push`."
        ) from exc
    except Exception as exc:  # httpx/socket errors: no network, DNS, proxy, timeout
        raise HubAccessError(
            f"Could not reach the Hugging Face Hub at {api.endpoint} ({type(exc).__name__}: "
            f"{exc}). Check the network (or HF_ENDPOINT), or train without --push-to-hub and "
            "publish later with `python -m train.push`."
        ) from exc
    user = info.get("name", "")
    namespace = namespace or user
    orgs = {org.get("name") for org in info.get("orgs", []) if isinstance(org, dict)}
    if namespace != user and namespace not in orgs:
        raise HubAccessError(
            f"You are logged in as {user!r}, which cannot create repositories under {namespace!r} "
            f"(not your account or one of your organisations: {', '.join(sorted(orgs)) or 'none'})."
            f" Use --hub-model-id {user}/{name}."
        )
    writable = _can_write(info.get("auth", {}), namespace)
    if writable is False:
        raise HubAccessError(
            f"The Hugging Face token of {user!r} cannot write to {namespace!r} (a read-only token, "
            f"or a fine-grained one without 'repo.write' there). {TOKEN_HELP}"
        )
    if writable is None:
        logger.warning("The Hub did not report the token's permissions; assuming it can write.")
    return HubTarget(repo_id=f"{namespace}/{name}", user=user)
