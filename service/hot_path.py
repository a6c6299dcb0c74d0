"""The hot path: ``POST /recommend`` served straight from the ASGI stack, past FastAPI's router.

Why: on a small catalogue a recommendation is ~50 µs of our own work, while FastAPI's per-request
route machinery (router matching through included routers, dependency solving, the exception and
exit-stack middlewares, the request/response wrapper) measured ~30 µs more per request
(in-process, ML-1M-shaped bundle: 141 -> 109 µs with a plain route; docs/benchmarks/serving.md).
That is the difference between ~42% and ~50% of a bare endpoint's throughput.

What stays the same: this middleware sits inside ``ServiceMiddleware`` (request id, body limit,
latency metrics and access log apply as to any route); the handler is the same function FastAPI
documents (its ``APIRoute`` stays registered, so ``/openapi.json`` describes the endpoint, and
``scope["route"]`` is set to it so metrics label the route template as before); exceptions
render through ``service.errors.render``, the same mapping ``install_handlers`` gives the app, so
every 4xx keeps its shape and a handler added there applies here too. An exception nothing maps
propagates to Starlette's ``ServerErrorMiddleware``, as it would from the router (a 500).

The endpoint is called as ``endpoint(request)``: it must take exactly ``(request: Request)`` (no
``Depends``, no typed parameters, no ``response_model`` validation; tests/service/
test_hot_path.py checks it). ``ServiceSettings.hot_path = false`` leaves the middleware out, and
the ``APIRoute`` serves the endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import render

Endpoint = Callable[[Request], Awaitable[Response]]


class HotPath:
    def __init__(
        self, app: ASGIApp, *, routes: Mapping[tuple[str, str], tuple[Endpoint, BaseRoute]]
    ):
        self.app = app
        self.routes = routes  # (method, path) -> (handler, the APIRoute that documents it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hit = self.routes.get((scope["method"], scope["path"]))
            if hit is not None:
                endpoint, route = hit
                scope["route"] = route
                request = Request(scope, receive, send)
                try:
                    response = await endpoint(request)
                except Exception as e:  # render re-raises what no handler maps
                    response = await render(request, e)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
