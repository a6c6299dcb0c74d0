"""ASGI middleware: request id, body-size limit, latency metrics and the structured access log.

Pure ASGI (not ``BaseHTTPMiddleware``) because it wraps every request and must stay cheap.

- Every request gets a server-generated id (``X-Request-ID`` response header; also the
  ``request_id`` of a recommendation, which clicks refer to). A client's own ``X-Request-ID`` is
  only logged, never reused, so a client cannot collide with another request's shown list.
- Guarded paths (``service/auth.py``) are checked first, on the headers alone: a caller without
  the token gets 401 before any body is read or any handler runs.
- A body above ``max_body_bytes`` is answered 413 before the app parses it (a declared
  ``Content-Length`` is checked first; a chunked body is counted as it arrives).
- Latency is observed per route template (never the raw path: 404 probes must not create label
  values) and per bucket, which the recommend handler puts in ``scope["state"]["bucket"]``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.access_log import emit_fields
from service.auth import AccessPolicy
from service.metrics import ServiceMetrics

access_log = logging.getLogger("service.access")

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _too_large(limit: int) -> bytes:
    return json.dumps(
        {
            "detail": [
                {"loc": ["body"], "msg": f"request body over {limit} bytes", "type": "too_large"}
            ]
        }
    ).encode()


class ServiceMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServiceMetrics,
        max_body_bytes: int,
        log_requests: bool,
        policy: AccessPolicy | None = None,
    ) -> None:
        self.app = app
        self.policy = policy
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.log_requests = log_requests
        self._latency: dict[tuple[str, str], Any] = {}
        self._responses: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = os.urandom(16).hex()  # 32 hex characters, like uuid4().hex, cheaper
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        rid_header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        try:
            refusal = self.policy.check(scope) if self.policy is not None else None
            if refusal is not None:
                status = 401
                challenge = [(b"www-authenticate", b"Bearer")]
                await self._reject(send, rid_header, 401, refusal, challenge)
                return
            if scope["method"] in _BODY_METHODS:
                body = await self._read_body(scope, receive)
                if body is None:
                    status = 413
                    await self._reject(send, rid_header, 413, _too_large(self.max_body_bytes))
                    return
                receive = _replay(body, receive)
            await self.app(scope, receive, send_wrapper)
        finally:
            self._observe(scope, state, status, time.perf_counter() - start, request_id)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when it is over the limit."""
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body_bytes:
                        return None
                except ValueError:
                    pass  # h11 rejects a malformed Content-Length before we get here
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _reject(
        self,
        send: Send,
        rid_header: tuple[bytes, bytes],
        status: int,
        payload: bytes,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        # The body is left unread: close the connection rather than read it to reuse it.
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                    rid_header,
                    *(extra or []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _observe(
        self, scope: Scope, state: dict[str, Any], status: int, seconds: float, request_id: str
    ) -> None:
        route = scope.get("route")
        endpoint = getattr(route, "path", None) or "unmatched"
        bucket = state.get("bucket") or "-"
        # Children by label values, cached: ``labels()`` re-validates its arguments on every call.
        # Bounded: endpoints are route templates and buckets come from the config.
        latency = self._latency.get((endpoint, bucket))
        if latency is None:
            latency = self._latency[(endpoint, bucket)] = self.metrics.latency.labels(
                endpoint, bucket
            )
        latency.observe(seconds)
        responses = self._responses.get((endpoint, status))
        if responses is None:
            responses = self._responses[(endpoint, status)] = self.metrics.responses.labels(
                endpoint, str(status)
            )
        responses.inc()
        if self.log_requests:
            client_rid = next(
                (
                    v.decode("latin-1")[:128]
                    for k, v in scope.get("headers", [])
                    if k == b"x-request-id"
                ),
                None,
            )
            emit_fields(
                access_log,
                "request",
                {
                    "request_id": request_id,
                    "client_request_id": client_rid,
                    "method": scope["method"],
                    "path": scope.get("path", "")[:256],
                    "endpoint": endpoint,
                    "status": status,
                    "duration_ms": round(seconds * 1000.0, 3),
                    "bucket": state.get("bucket"),
                    "variant": state.get("variant"),
                },
            )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect like a normal receive

    return replay
