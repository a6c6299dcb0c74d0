"""The framework's ceiling: a bare FastAPI endpoint that parses the same request body as
``POST /recommend`` (the same pydantic model) and returns a fixed list of 10 items.

Run as ``python bench/serving_bare.py PORT [STACK]`` (one uvicorn worker, like the service);
STACK ``auto`` (default: httptools and uvloop, as the service runs) or ``h11`` (uvicorn's
pure-Python parser and asyncio loop)."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from service.schemas import RecommendRequest

FIXED = [{"item_id": f"i{i}", "score": 1.0 - i / 10, "tail": i % 2 == 0} for i in range(10)]


def create_bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/recommend")
    async def recommend(body: RecommendRequest) -> JSONResponse:
        return JSONResponse({"user_id": body.user_id, "items": FIXED[: body.k]})

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


if __name__ == "__main__":
    pure = len(sys.argv) > 2 and sys.argv[2] == "h11"
    uvicorn.run(
        create_bare_app(),
        http="h11" if pure else "auto",
        loop="asyncio" if pure else "auto",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log=False,
        log_level="warning",
    )
