"""``POST /recommend``: bucket, variant, one index search, and the exposure handed to the recorder.

The model work (query vector + FAISS search) runs on the event-loop thread on purpose: it is
sub-millisecond to a few milliseconds, the loop thread is where FAISS' OpenMP is limited to one
thread, and a thread-pool hop would cost about as much as a small search. Recording never waits
for the store (see service/exposure/recorder.py).

The body and the ``X-AB-Bucket`` header are read from the request here rather than declared as
FastAPI parameters: FastAPI's per-request parameter solving cost about as much as the whole
recommendation for a small catalogue (cProfile: ~40% of the handler's time), while
``RecommendRequest.model_validate_json`` validates the raw bytes in one pydantic-core call. The
contract is unchanged: the same model and limits, errors in FastAPI's 422 shape with ``loc``
starting at ``body`` / ``header``, and the OpenAPI document still describes the body and header
(``openapi_extra``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError

from service.ab import UnknownBucket
from service.cold_start import UnknownFeature
from service.errors import ClientError
from service.exposure.events import Exposure
from service.fast_json import FastJSONResponse
from service.schemas import RecommendRequest, RecommendResponse
from service.state import ServiceState
from service.variant import LambdaNotApplicable

router = APIRouter()

BUCKET_HEADER_MAX = 64

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Unknown X-AB-Bucket; the body lists the valid buckets"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid field; detail[].loc names it"},
}

_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": RecommendRequest.model_json_schema()}},
    },
    "parameters": [
        {
            "name": "X-AB-Bucket",
            "in": "header",
            "required": False,
            "description": "Force this A/B bucket (400 if unknown); default: hash of user_id",
            "schema": {"type": "string", "maxLength": BUCKET_HEADER_MAX},
        }
    ],
}


def _parse(body: bytes) -> RecommendRequest:
    try:
        return RecommendRequest.model_validate_json(body)
    except ValidationError as e:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        raise RequestValidationError(errors) from None


@router.post(
    "/recommend", response_model=RecommendResponse, responses=_ERRORS, openapi_extra=_OPENAPI
)
async def recommend(request: Request) -> FastJSONResponse:
    # Takes ONLY the request: service/hot_path.py calls ``recommend(request)`` past FastAPI's
    # router, so a ``Depends``, a typed body/header parameter or ``response_model`` validation
    # would never run there (a TypeError, i.e. a 500). Read everything from ``request``.
    # tests/service/test_hot_path.py pins the signature.
    state: ServiceState = request.app.state.service
    body = _parse(await request.body())
    x_ab_bucket = request.headers.get("x-ab-bucket")
    if x_ab_bucket is not None and len(x_ab_bucket) > BUCKET_HEADER_MAX:
        raise ClientError(
            422,
            ["header", "X-AB-Bucket"],
            f"String should have at most {BUCKET_HEADER_MAX} characters",
            "string_too_long",
        )
    try:
        bucket = state.assigner.resolve(body.user_id, x_ab_bucket)
    except UnknownBucket as e:
        raise ClientError(
            400, ["header", "X-AB-Bucket"], str(e), "unknown_bucket", valid_buckets=list(e.valid)
        ) from None
    # The scope's state dict, not ``request.state`` (a wrapper built per access): ServiceMiddleware
    # reads bucket and variant from it for the metrics labels and the access log.
    scope_state = request.scope["state"]
    scope_state["bucket"] = bucket
    variant = state.registry.current.for_bucket(bucket)
    scope_state["variant"] = variant.name
    try:
        rec = variant.recommend(
            body.user_id,
            body.k,
            history=body.history,
            exclude=body.exclude,
            features=body.features,
            lambda_p=body.lambda_p,
        )
    except UnknownFeature as e:
        raise ClientError(
            422,
            ["body", "features", e.names[0]],
            e.args[0],
            "unknown_feature",
            valid_features=list(e.valid),
        ) from None
    except LambdaNotApplicable as e:
        raise ClientError(422, ["body", "lambda_p"], str(e), "not_applicable") from None
    request_id: str = scope_state["request_id"]
    state.recorder.submit(
        Exposure(
            bucket,
            request_id,
            rec.item_ids,
            rec.tail,
            state.clock(),
            rec.rows,
            variant.serving.catalogue_id,
        )
    )
    # Built by hand rather than through response_model: validating our own output would cost a
    # noticeable share of a sub-millisecond request. The shape is RecommendResponse (tested).
    return FastJSONResponse(
        {
            "request_id": request_id,
            "user_id": body.user_id,
            "bucket": bucket,
            "variant": variant.name,
            "model_version": variant.model_version,
            "cold_start": rec.cold_start,
            "lambda_p": rec.lambda_p,
            "items": [
                {"item_id": i, "score": s, "tail": t}
                for i, s, t in zip(rec.item_ids, rec.scores, rec.tail, strict=True)
            ],
        }
    )


def hot_routes() -> dict[tuple[str, str], tuple[Any, APIRoute]]:
    """This endpoint for ``service.hot_path.HotPath``: served past FastAPI's router, documented
    by (and metrics-labelled as) its ``APIRoute``."""
    route = next(r for r in router.routes if isinstance(r, APIRoute) and r.path == "/recommend")
    return {("POST", "/recommend"): (recommend, route)}
