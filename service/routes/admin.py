"""``POST /admin/reload``: re-read the bundles and swap them in atomically.

Guarded by ``Authorization: Bearer $ADMIN_TOKEN``, checked by ``service.auth`` before the body is
read; without an admin token the admin API is disabled (every call is a 401). The body may
re-point variants to new bundle directories (``{"bundles": {"variant": "path"}}``), only inside
the configured ``bundle_root`` (resolved, symlinks included: the directory and every file in
it); otherwise each variant re-reads its current directory. A bad bundle leaves the old ones
serving: 409.

Every refused reload gets the same message (naming only the variant and the path the client
sent), whether the path is outside the root, missing, not a directory or a corrupt bundle: the
response must not tell one file-system state from another. The server log keeps the detail.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.errors import ClientError, field_error
from service.registry import VariantLoadError
from service.schemas import ReloadRequest
from service.state import ServiceState, StateDep

router = APIRouter()
log = logging.getLogger("service.admin")


class OutsideRoot(ValueError):
    """A requested bundle path that resolves outside ``bundle_root`` (or no root is set)."""


def confine(root: Path | None, given: str) -> Path:
    """``given`` resolved (relative to the working directory, like the config's paths), if it
    and everything in it stay inside ``root``; else ``OutsideRoot`` with the reason (for the log).
    """
    if root is None:
        raise OutsideRoot("no bundle_root is configured: reloads cannot re-point variants")
    base = root.resolve()
    path = Path(given).resolve()
    if not path.is_relative_to(base):
        raise OutsideRoot(f"{path} is outside bundle_root {base}")
    if path.is_dir():
        for entry in path.iterdir():  # a symlinked file inside must not escape either
            if not entry.resolve().is_relative_to(base):
                raise OutsideRoot(f"{entry} resolves outside bundle_root {base}")
    return path


def refused(state: ServiceState, variant: str, given: str | None) -> JSONResponse:
    state.metrics.reloads.labels("refused").inc()
    where = f" from {given!r}" if given is not None else ""
    return field_error(
        409,
        ["body", "bundles", variant] if given is not None else ["bundles", variant],
        f"reload refused: variant {variant!r} cannot be loaded{where}; "
        "still serving the previous bundles (the server log has the reason)",
        "reload_refused",
        serving=state.registry.current.describe(),
    )


@router.post(
    "/admin/reload",
    responses={
        400: {"description": "The body cannot be decoded (not UTF-8)"},
        401: {"description": "No or wrong bearer token, or the admin API is disabled"},
        409: {"description": "A bundle cannot be loaded; the old ones keep serving"},
        413: {"description": "Request body too large"},
        422: {"description": "Invalid field; detail[].loc names it"},
    },
)
async def reload(
    state: StateDep, body: ReloadRequest | None = None
) -> JSONResponse:
    given = dict(body.bundles) if body else {}
    unknown = sorted(set(given) - set(state.registry.current.variants))
    if unknown:
        raise ClientError(
            422,
            ["body", "bundles", unknown[0]],
            f"unknown variant {unknown[0]!r}; variants are "
            f"{sorted(state.registry.current.variants)}",
            "unknown_variant",
        )
    new_paths: dict[str, Path] = {}
    for name, p in given.items():
        try:
            new_paths[name] = confine(state.settings.bundle_root, p)
        except OutsideRoot as e:
            log.error("reload refused: variant %r: %s", name, e)
            return refused(state, name, p)
    try:
        registry = await state.registry.reload(new_paths)
    except VariantLoadError as e:
        log.error("reload refused: %s", e)
        return refused(state, e.variant, given.get(e.variant))
    state.metrics.reloads.labels("ok").inc()
    state.publish_models()
    return JSONResponse({"status": "reloaded", "variants": registry.describe()})
