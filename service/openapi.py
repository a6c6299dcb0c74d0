"""The OpenAPI document, completed with what only the settings know.

FastAPI builds the document from the module-level routers, which cannot know the configured
buckets, the retention or which tokens are set. ``install(app, settings)`` replaces
``app.openapi`` with a function that adds, once per app:

- the bucket header and query parameter as an ``enum`` of the configured buckets (other values
  are still answered, with the documented 400 listing the valid ones);
- ``window_s``'s ``maximum``: the retention (``exposure.retention_s``);
- the error body (``{"detail": [{"loc", "msg", "type"}]}``) on every 4xx and 5xx response;
- the security schemes (``service/auth.py``) on the guarded operations, with their 401.

``tests/service/test_openapi_document.py`` and the fuzz test check the document against the
answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.auth import READ_COOKIE
from service.settings import ServiceSettings

ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        }
    },
}

SCHEMES: dict[str, Any] = {
    "adminToken": {"type": "http", "scheme": "bearer", "description": "ADMIN_TOKEN"},
    "readToken": {"type": "http", "scheme": "bearer", "description": "READ_TOKEN"},
    "readCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": READ_COOKIE,
        "description": "set by GET /dashboard?token=<READ_TOKEN>",
    },
    "metricsToken": {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN"},
}

BUCKET_PARAMS = {("/recommend", "X-AB-Bucket"), ("/stats/exposure", "bucket")}


def _schema_of(param: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an optional parameter's schema (itself if not optional)."""
    schema: dict[str, Any] = param["schema"]
    for branch in schema.get("anyOf", []):
        if branch.get("type") != "null":
            return dict(branch)
    return schema


def _security(path: str, settings: ServiceSettings) -> list[dict[str, list[str]]] | None:
    if path.startswith("/admin/"):
        return [{"adminToken": []}]
    if path.startswith("/stats/") and settings.read_token is not None:
        return [{"readToken": []}, {"readCookie": []}]
    if path == "/metrics" and settings.metrics_token is not None:
        return [{"metricsToken": []}]
    return None


def complete(doc: dict[str, Any], settings: ServiceSettings) -> dict[str, Any]:
    buckets = list(settings.buckets)
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["ErrorBody"] = ERROR_SCHEMA
    used_schemes: set[str] = set()
    for path, ops in doc["paths"].items():
        for op in ops.values():
            for param in op.get("parameters", []):
                schema = _schema_of(param)
                if (path, param["name"]) in BUCKET_PARAMS:
                    schema["enum"] = buckets
                if param["name"] == "window_s":
                    schema["maximum"] = settings.exposure.retention_s
                if "anyOf" in param["schema"]:
                    param["schema"]["anyOf"] = [schema, {"type": "null"}]
                else:
                    param["schema"] = schema
            security = _security(path, settings)
            responses = op["responses"]
            if security is not None:
                op["security"] = security
                used_schemes.update(k for s in security for k in s)
                responses.setdefault("401", {"description": "No or wrong token"})
            for code, response in responses.items():
                if code[0] in "45" and code != "422":
                    response.setdefault(
                        "content",
                        {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorBody"}
                            }
                        },
                    )
    if used_schemes:
        components["securitySchemes"] = {k: SCHEMES[k] for k in sorted(used_schemes)}
    return doc


def install(app: FastAPI, settings: ServiceSettings) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
