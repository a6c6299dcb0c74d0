"""Client errors in one shape, the same as FastAPI's validation errors:
``{"detail": [{"loc": [...], "msg": ..., "type": ...}], ...extra}``, so every 4xx names its field.

The exception → response mapping is declared once, in ``HANDLERS``: ``install_handlers(app)``
registers it with the app (routed requests) and ``render(request, exc)`` applies it on the
``/recommend`` hot path (service/hot_path.py), which runs past the app's exception middleware. A
handler added to ``HANDLERS`` therefore applies to every endpoint, the hot path included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

_MAX_ECHO = 512  # bytes of a client's invalid input echoed back in an error


def field_error(
    status: int, loc: list[str | int], msg: str, type_: str, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"detail": [{"loc": loc, "msg": msg, "type": type_}], **extra},
    )


class ClientError(Exception):
    """Raised inside a handler; rendered by the app's exception handler as ``field_error``."""

    def __init__(self, status: int, loc: list[str | int], msg: str, type_: str, **extra: Any):
        super().__init__(msg)
        self.status = status
        self.loc = loc
        self.msg = msg
        self.type_ = type_
        self.extra = extra

    def response(self) -> JSONResponse:
        return field_error(self.status, self.loc, self.msg, self.type_, **self.extra)


def _echo(value: Any) -> Any:
    """The offending input, if it is small and strict JSON; otherwise a short repr.

    FastAPI's default handler echoes the input as is: a NaN or Infinity (which Python's json
    parser accepts) then makes the error response itself unencodable, i.e. a 500.
    """
    try:
        text = json.dumps(jsonable_encoder(value), allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)[:_MAX_ECHO]
    if len(text) > _MAX_ECHO:
        return f"<{len(text)} bytes, not echoed>"
    return json.loads(text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 in FastAPI's usual shape, but always encodable (see ``_echo``)."""
    details = []
    for err in exc.errors():
        item: dict[str, Any] = {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        if "input" in err:
            item["input"] = _echo(err["input"])
        if "ctx" in err:
            item["ctx"] = _finite(jsonable_encoder(err["ctx"], custom_encoder={Exception: str}))
        details.append(item)
    return JSONResponse(status_code=422, content={"detail": details})


_HTTP_LOC: dict[int, tuple[list[str | int], str]] = {
    400: (["body"], "unparsable_body"),  # FastAPI: a body that is not UTF-8 / not decodable
    404: (["path"], "not_found"),
    405: (["method"], "method_not_allowed"),
}


async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
    """Framework-raised HTTP errors (unparsable body, unknown path or method) in the same shape
    as every other 4xx, instead of Starlette's ``{"detail": "<text>"}``."""
    if exc.status_code < 400:  # e.g. a redirect raised as an exception: no body to shape
        return Response(status_code=exc.status_code, headers=exc.headers)
    loc, type_ = _HTTP_LOC.get(exc.status_code, ([], "http_error"))
    response = field_error(exc.status_code, loc, str(exc.detail), type_)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def client_error(_: Request, exc: ClientError) -> JSONResponse:
    return exc.response()


# (request, exception) -> response; Any: each handler takes its own exception type.
Handler = Callable[[Request, Any], Awaitable[Response]]

HANDLERS: dict[type[Exception], Handler] = {
    ClientError: client_error,
    RequestValidationError: validation_error,
    StarletteHTTPException: http_error,
}


def install_handlers(app: FastAPI) -> None:
    """Register ``HANDLERS`` as the app's exception handlers."""
    for exc_type, handler in HANDLERS.items():
        app.add_exception_handler(exc_type, handler)


def handler_for(exc: Exception) -> Handler | None:
    """The handler of the nearest class in ``exc``'s MRO, as Starlette looks it up."""
    for cls in type(exc).__mro__:
        handler = HANDLERS.get(cls)
        if handler is not None:
            return handler
    return None


async def render(request: Request, exc: Exception) -> Response:
    """``exc`` as the app's handlers would render it; re-raised when no handler maps it (a 500
    from Starlette's ServerErrorMiddleware, as from the router)."""
    handler = handler_for(exc)
    if handler is None:
        raise exc
    return await handler(request, exc)
