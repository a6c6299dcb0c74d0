"""Who may call what: bearer tokens checked on the raw ASGI scope, before any body is read.

``ServiceMiddleware`` asks ``AccessPolicy.check(scope)`` before it reads a request body, so an
unauthenticated ``POST /admin/reload`` is a 401 however large or malformed its body (never a
422), and a guarded route does no work for a caller without the token. Tokens are compared in
constant time (``hmac.compare_digest`` over SHA-256 digests, so not even the length leaks).

Guarded paths (by path prefix, a superset of what the router would match there):

- ``/admin/…`` — ``admin_token``; without one, the admin API is disabled (always 401).
- ``/stats/…`` and ``/dashboard…`` — ``read_token``, when one is set. Accepted as
  ``Authorization: Bearer <token>`` or as the ``ltr_read_token`` cookie, which
  ``GET /dashboard?token=<token>`` sets (HttpOnly, SameSite=Strict) before redirecting to the
  page without the token in its URL; the page's own ``fetch`` calls then carry the cookie.
- ``/metrics`` — ``metrics_token``, when one is set. Open by default: it holds aggregate
  counters and latencies only (no ids, hosts or paths), and a Prometheus scrape job sends a
  bearer token when one is configured (``authorization: {credentials: …}``).

``/healthz``, ``/readyz``, ``/recommend``, ``/feedback`` and ``/openapi.json`` are never guarded:
probes and the recommendation API must keep working, and none of them discloses internals.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from pydantic import SecretStr
from starlette.types import Scope

from service.settings import ServiceSettings

READ_COOKIE = "ltr_read_token"
DASHBOARD_TOKEN_PARAM = "token"  # GET /dashboard?token=… exchanges it for the cookie


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def token_matches(given: str | None, token: SecretStr) -> bool:
    """Constant-time comparison of a presented secret with the configured one."""
    if given is None:
        return False
    return hmac.compare_digest(_digest(given), _digest(token.get_secret_value()))


def bearer(scope: Scope) -> str | None:
    """The credentials of ``Authorization: Bearer …``, or None."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, given = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return given.strip()
            return None
    return None


def cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                return None
            morsel = jar.get(name)
            return morsel.value if morsel is not None else None
    return None


def route_path(scope: Scope) -> str:
    """The path the router matches (without a proxy's ``root_path`` prefix)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


@dataclass(frozen=True)
class Guard:
    prefixes: tuple[str, ...]
    token: SecretStr | None  # None with ``disabled``: always refused; else: open
    disabled: str | None  # the refusal message when no token is configured, or None (open)
    cookie: str | None  # a cookie that may carry the token instead of the header
    hint: str  # how to pass the token, for the 401 message

    def covers(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)


def unauthorized(message: str) -> bytes:
    return json.dumps(
        {"detail": [{"loc": ["header", "Authorization"], "msg": message, "type": "unauthorized"}]}
    ).encode()


class AccessPolicy:
    def __init__(self, settings: ServiceSettings) -> None:
        self.guards = (
            Guard(
                ("/admin",),
                settings.admin_token,
                "the admin API is disabled on this server",
                None,
                "Authorization: Bearer <admin token>",
            ),
            Guard(
                ("/stats", "/dashboard"),
                settings.read_token,
                None,
                READ_COOKIE,
                "Authorization: Bearer <read token>, or open dashboard?token=<read token>",
            ),
            Guard(
                ("/metrics",),
                settings.metrics_token,
                None,
                None,
                "Authorization: Bearer <metrics token>",
            ),
        )

    def check(self, scope: Scope) -> bytes | None:
        """None when the request may proceed, else the body of the 401 to send."""
        path = route_path(scope)
        for guard in self.guards:
            if not guard.covers(path):
                continue
            if guard.token is None:
                return None if guard.disabled is None else unauthorized(guard.disabled)
            if token_matches(bearer(scope), guard.token):
                return None
            if guard.cookie and token_matches(cookie(scope, guard.cookie), guard.token):
                return None
            if path == "/dashboard" and token_matches(dashboard_query_token(scope), guard.token):
                return None
            return unauthorized(f"missing or wrong token; send {guard.hint}")
        return None


def dashboard_query_token(scope: Scope) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query).get(DASHBOARD_TOKEN_PARAM)
    return values[0] if values else None
