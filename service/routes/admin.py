"""``POST /admin/reload``: re-read the bundles and swap them in atomically.

Guarded by ``Authorization: Bearer $ADMIN_TOKEN`` (compared in constant time); without
``ADMIN_TOKEN`` set, reload is disabled and every call is a 401. The body may re-point variants to
new bundle directories (``{"bundles": {"variant": "path"}}``); otherwise each variant re-reads
its current directory. A bad bundle leaves the old ones serving: 409 with the reason.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from service.errors import ClientError, field_error
from service.registry import VariantLoadError
from service.schemas import ReloadRequest
from service.state import StateDep

router = APIRouter()
log = logging.getLogger("service.admin")


async def require_admin(
    state: StateDep,
    authorization: Annotated[str | None, Header(max_length=1024)] = None,
) -> None:
    token = state.settings.admin_token
    scheme, _, given = (authorization or "").partition(" ")
    if (
        token is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())
    ):
        why = (
            "reload is disabled: ADMIN_TOKEN is not set"
            if token is None
            else ("missing or wrong bearer token")
        )
        raise ClientError(401, ["header", "Authorization"], why, "unauthorized")


@router.post(
    "/admin/reload",
    dependencies=[Depends(require_admin)],
    responses={
        401: {"description": "No or wrong bearer token"},
        409: {"description": "A bundle is bad; the old ones keep serving"},
    },
)
async def reload(
    state: StateDep, body: ReloadRequest | None = None
) -> JSONResponse:
    new_paths = {name: Path(p) for name, p in (body.bundles if body else {}).items()}
    unknown = sorted(set(new_paths) - set(state.registry.current.variants))
    if unknown:
        raise ClientError(
            422,
            ["body", "bundles", unknown[0]],
            f"unknown variant {unknown[0]!r}; variants are "
            f"{sorted(state.registry.current.variants)}",
            "unknown_variant",
        )
    try:
        registry = await state.registry.reload(new_paths)
    except VariantLoadError as e:
        state.metrics.reloads.labels("refused").inc()
        log.error("reload refused: %s", e)
        return field_error(
            409,
            ["bundles", e.variant],
            f"reload refused, still serving the previous bundles: {e}",
            "bad_bundle",
            serving=state.registry.current.describe(),
        )
    state.metrics.reloads.labels("ok").inc()
    state.publish_models()
    return JSONResponse({"status": "reloaded", "variants": registry.describe()})
