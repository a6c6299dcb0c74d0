"""Client errors in one shape, the same as FastAPI's validation errors:
``{"detail": [{"loc": [...], "msg": ..., "type": ...}], ...extra}``, so every 4xx names its field.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


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
