"""``POST /feedback``: a click on an item that a recommendation showed.

The click names the recommendation's ``request_id`` and the ``item_id``; the bucket and the
head/tail label come from what the service itself recorded, never from the client, and each
(request, item) counts once. A click on something not shown (or shown longer ago than
``exposure.click_ttl_s``) is a 404. When the store is unreachable, 503: stats degrade, nothing
else does.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.errors import ClientError, field_error
from service.exposure.events import Click, ClickOutcome
from service.exposure.store import StoreUnavailable
from service.schemas import FeedbackRequest, FeedbackResponse
from service.state import StateDep

router = APIRouter()
log = logging.getLogger("service.feedback")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be decoded (not UTF-8)"},
    404: {"description": "The item was not shown in that request (or it expired)"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid field; detail[].loc names it"},
    503: {"description": "Exposure store unavailable"},
}


@router.post("/feedback", response_model=FeedbackResponse, responses=_ERRORS)
async def feedback(
    body: FeedbackRequest, state: StateDep
) -> FeedbackResponse | JSONResponse:
    # Read-your-writes within this replica: the shown list may still be in the recorder's queue
    # (not worth waiting for while the store is failing anyway).
    if state.recorder.healthy:
        await state.recorder.flush(state.settings.exposure.timeout_s)
    try:
        click = Click(body.request_id, body.item_id, state.clock(), state.registry.current.rows)
        result = await state.store.click(click)
    except StoreUnavailable as e:
        state.recorder.mark(False, "click")
        log.warning("feedback: exposure store unavailable: %s", e)  # the detail stays in the log
        return field_error(503, ["store"], "exposure store unavailable", "store_unavailable")
    state.recorder.mark(True, "click")
    if result.outcome is ClickOutcome.NOT_SHOWN:
        raise ClientError(
            404,
            ["body", "item_id"],
            f"item {body.item_id!r} was not shown in request {body.request_id!r} "
            f"(or that request is older than {state.settings.exposure.click_ttl_s} s)",
            "not_shown",
        )
    assert result.bucket is not None and result.tail is not None
    return FeedbackResponse(
        outcome="counted" if result.outcome is ClickOutcome.COUNTED else "duplicate",
        bucket=result.bucket,
        tail=result.tail,
    )
