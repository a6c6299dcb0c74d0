"""``POST /recommend``: bucket, variant, one index search, and the exposure handed to the recorder.

The model work (query vector + FAISS search) runs on the event-loop thread on purpose: it is
sub-millisecond to a few milliseconds, the loop thread is where FAISS' OpenMP is limited to one
thread, and a thread-pool hop would cost about as much as a small search. Recording never waits
for the store (see service/exposure/recorder.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from service.ab import UnknownBucket
from service.cold_start import UnknownFeature
from service.errors import ClientError
from service.exposure.events import Exposure
from service.schemas import RecommendRequest, RecommendResponse
from service.state import ServiceState, get_state
from service.variant import LambdaNotApplicable

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Unknown X-AB-Bucket; the body lists the valid buckets"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid field; detail[].loc names it"},
}


@router.post("/recommend", response_model=RecommendResponse, responses=_ERRORS)
async def recommend(
    body: RecommendRequest,
    request: Request,
    state: Annotated[ServiceState, Depends(get_state)],
    x_ab_bucket: Annotated[str | None, Header(alias="X-AB-Bucket", max_length=64)] = None,
) -> JSONResponse:
    try:
        bucket = state.assigner.resolve(body.user_id, x_ab_bucket)
    except UnknownBucket as e:
        raise ClientError(
            400, ["header", "X-AB-Bucket"], str(e), "unknown_bucket", valid_buckets=list(e.valid)
        ) from None
    request.state.bucket = bucket
    variant = state.registry.current.for_bucket(bucket)
    request.state.variant = variant.name
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
    request_id: str = request.state.request_id
    state.recorder.submit(Exposure(bucket, request_id, rec.item_ids, rec.tail, state.clock()))
    # Built by hand rather than through response_model: validating our own output would cost a
    # noticeable share of a sub-millisecond request. The shape is RecommendResponse (tested).
    return JSONResponse(
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
