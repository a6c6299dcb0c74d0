"""The model kinds, each declared once: the bundle writer and reader, the query encoder, the
service and the training pipeline look a kind up here instead of comparing kind strings.

A new kind is its model module plus one ``KindSpec`` in ``KINDS`` (and, on the training side, one
line in ``training/trainers/__init__.py:TRAINERS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from torch import Tensor, nn

from models.feature_batch import FeatureBatch
from models.meta import MetaKind
from models.mirec import MIRec
from models.spec import FieldSpec, TowerSpec
from models.two_tower import TwoTower

Fields = tuple[FieldSpec, ...]


@dataclass(frozen=True)
class KindSpec:
    """Everything kind-specific about a served model.

    ``query_vectors(model, user_batch, lambda_p)`` gives ``[B, index_dim]`` query vectors whose dot
    product with the bundle's item index vectors ``[n_items, index_dim]`` is the model's score;
    ``lambda_p`` is None for kinds without one (``has_lambda_p`` False). ``manifest_keys(model)``
    are the extra manifest keys the writer stores; ``manifest_error(manifest)`` checks them on
    read (None when they are valid, else the reason).
    """

    name: str
    model_cls: type[nn.Module]
    has_lambda_p: bool
    index_dim: Callable[[TowerSpec], int]
    build: Callable[[Fields, Fields, TowerSpec, Mapping[str, Any]], nn.Module]
    query_vectors: Callable[[nn.Module, FeatureBatch, float | None], Tensor]
    model_fields: Callable[[nn.Module], tuple[Fields, Fields]]
    manifest_keys: Callable[[nn.Module], dict[str, Any]]
    manifest_error: Callable[[Mapping[str, Any]], str | None]


# --- two-tower (with or without SSL: SSL changes training only, not the served model) ---------

def _tt_build(user: Fields, item: Fields, spec: TowerSpec, _m: Mapping[str, Any]) -> nn.Module:
    return TwoTower(user, item, spec)


def _tt_query(model: nn.Module, batch: FeatureBatch, _lam: float | None) -> Tensor:
    assert isinstance(model, TwoTower)
    return model.user_embed(batch)  # [B, dim]


def _tt_fields(model: nn.Module) -> tuple[Fields, Fields]:
    assert isinstance(model, TwoTower)
    return model.query_tower.input.fields, model.item_tower.input.fields


def _two_tower(name: str) -> KindSpec:
    return KindSpec(
        name=name,
        model_cls=TwoTower,
        has_lambda_p=False,
        index_dim=lambda spec: spec.dim,
        build=_tt_build,
        query_vectors=_tt_query,
        model_fields=_tt_fields,
        manifest_keys=lambda _model: {},
        manifest_error=lambda _m: None,
    )


# --- MIRec: the index holds [i*, F_i(i)], so index_dim = 2 * dim -------------------------------

META_KINDS: tuple[str, ...] = get_args(MetaKind)


def _mirec_build(user: Fields, item: Fields, spec: TowerSpec, m: Mapping[str, Any]) -> nn.Module:
    return MIRec(user, item, spec, meta_kind=m["meta_kind"], meta_hidden=m.get("meta_hidden"))


def _mirec_query(model: nn.Module, batch: FeatureBatch, lam: float | None) -> Tensor:
    assert isinstance(model, MIRec) and lam is not None
    return model.query_vectors(batch, lam)  # [B, 2 * dim]


def _mirec_fields(model: nn.Module) -> tuple[Fields, Fields]:
    assert isinstance(model, MIRec)
    return _tt_fields(model.many_shot)


def _mirec_keys(model: nn.Module) -> dict[str, Any]:
    assert isinstance(model, MIRec)
    return {"meta_kind": model.meta_kind, "meta_hidden": model.meta_hidden}


def _mirec_manifest_error(m: Mapping[str, Any]) -> str | None:
    meta_kind, meta_hidden = m.get("meta_kind"), m.get("meta_hidden")
    hidden_ok = meta_hidden is None or (
        isinstance(meta_hidden, int) and not isinstance(meta_hidden, bool) and meta_hidden > 0
    )
    if meta_kind in META_KINDS and hidden_ok:
        return None
    return f"bad meta options meta_kind={meta_kind!r}, meta_hidden={meta_hidden!r}"


MIREC = KindSpec(
    name="mirec",
    model_cls=MIRec,
    has_lambda_p=True,
    index_dim=lambda spec: 2 * spec.dim,
    build=_mirec_build,
    query_vectors=_mirec_query,
    model_fields=_mirec_fields,
    manifest_keys=_mirec_keys,
    manifest_error=_mirec_manifest_error,
)

KINDS: dict[str, KindSpec] = {
    k.name: k for k in (_two_tower("two_tower"), _two_tower("ssl"), MIREC)
}
KIND_NAMES: tuple[str, ...] = tuple(KINDS)


def get_kind(name: object) -> KindSpec:
    """The kind called ``name``; ValueError naming the known kinds otherwise."""
    spec = KINDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"kind must be one of {list(KIND_NAMES)}, got {name!r}")
    return spec


def lambda_p_kinds() -> str:
    """The kinds that take a λ_p, for error messages ("mirec")."""
    return " / ".join(k.name for k in KINDS.values() if k.has_lambda_p)
