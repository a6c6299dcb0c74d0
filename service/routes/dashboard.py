"""``GET /dashboard``: the exposure dashboard, a static page that polls ``/stats/exposure`` and
``/stats/ab`` and draws its own SVG (service/static/).

Everything the page needs ships inside the package and is read into memory once, at import: a
machine without internet shows the same page, and serving it costs no disk I/O per request. The
Content-Security-Policy allows nothing but this origin, so a stray external reference fails
loudly in the browser test instead of silently depending on a network.

The page uses relative URLs only (``dashboard/static/…``, ``stats/exposure``), so it keeps
working behind a reverse proxy that mounts the service under a path prefix.

With a ``read_token`` the page and ``/stats/*`` need it (``service/auth.py``): a person opens
``dashboard?token=<read token>`` once; the answer sets the token as an HttpOnly, SameSite=Strict
cookie and redirects to the page without the token in the URL (so it stays out of the history
and of later Referer headers), and the page's ``fetch`` calls carry the cookie.
"""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.auth import DASHBOARD_TOKEN_PARAM, READ_COOKIE, token_matches
from service.errors import field_error
from service.state import ServiceState

router = APIRouter()

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Revalidate every load: a redeployed package must not leave an old script in a browser cache.
    "Cache-Control": "no-cache",
}


def _load_assets() -> dict[str, tuple[bytes, str]]:
    assets: dict[str, tuple[bytes, str]] = {}
    for entry in files("service").joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in _MEDIA_TYPES:
            assets[entry.name] = (entry.read_bytes(), _MEDIA_TYPES[suffix])
    return assets


_ASSETS = _load_assets()


def _serve(name: str) -> Response:
    body, media_type = _ASSETS[name]
    return Response(body, media_type=media_type, headers=_HEADERS)


# Not in the OpenAPI schema: the page is for people; the JSON API it reads is the contract.
@router.get("/dashboard", include_in_schema=False)
async def dashboard(request: Request) -> Response:
    given = request.query_params.get(DASHBOARD_TOKEN_PARAM)
    if given is None:
        return _serve("dashboard.html")
    rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
    response = Response(
        status_code=303,
        headers={"Location": "dashboard" + (f"?{rest}" if rest else ""), **_HEADERS},
    )
    state: ServiceState = request.app.state.service
    token = state.settings.read_token
    if token is not None and token_matches(given, token):  # the guard has checked it already
        response.set_cookie(
            READ_COOKIE,
            given,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=None,  # the page's directory: right behind a proxy's path prefix too
        )
    return response


@router.get("/dashboard/static/{name}", include_in_schema=False)
async def dashboard_asset(name: str) -> Response:
    if name not in _ASSETS:
        return field_error(
            404,
            ["path", "name"],
            f"no dashboard asset {name[:64]!r}; assets are {', '.join(sorted(_ASSETS))}",
            "not_found",
        )
    return _serve(name)
