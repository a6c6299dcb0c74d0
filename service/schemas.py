"""Request and response bodies of the HTTP contract (docs/architecture.md), with its limits.

Requests are strict (``extra="forbid"``, no string-to-number coercion), so a typo or a wrong type
is a 422 whose ``detail[].loc`` names the field, never a silently ignored key.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_K = 1000
MAX_IDS = 1000
MAX_ID_LEN = 256
MAX_FEATURE_FIELDS = 64
MAX_FEATURE_VALUES = 1000

Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LEN)]
FeatureValue = Id | Annotated[list[Id], Field(max_length=MAX_FEATURE_VALUES)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RecommendRequest(_Request):
    user_id: Id
    k: int = Field(10, ge=1, le=MAX_K)
    history: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    features: dict[Id, FeatureValue] = Field(default_factory=dict, max_length=MAX_FEATURE_FIELDS)
    exclude: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    lambda_p: float | None = Field(
        None, ge=0, le=1, description="MIRec bundles only: overrides the variant's λ_p."
    )


class RecommendedItem(BaseModel):
    item_id: str
    score: float
    tail: bool


class RecommendResponse(BaseModel):
    request_id: str
    user_id: str
    bucket: str
    variant: str
    model_version: str
    cold_start: bool
    lambda_p: float | None
    items: list[RecommendedItem]


class FeedbackRequest(_Request):
    request_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    item_id: Id
    event: Literal["click"] = "click"


class FeedbackResponse(BaseModel):
    outcome: Literal["counted", "duplicate"]
    bucket: str
    tail: bool


class ReloadRequest(_Request):
    # Optional new bundle directories per variant; without it every variant re-reads its own.
    bundles: dict[Annotated[str, StringConstraints(min_length=1, max_length=128)], Id] = Field(
        default_factory=dict, max_length=64
    )
