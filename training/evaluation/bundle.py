"""``python -m training evaluate``: a baseline on a dataset, or a bundle reloaded from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from models.bundle import BundleError, load_bundle
from training.config import DataConfig, apply_overrides, config_from_dict
from training.evaluation.baselines import popularity_scorer, random_scorer
from training.evaluation.evaluator import evaluate
from training.evaluation.scorers import embedding_scorer
from training.evaluation.user_vectors import bundle_user_vectors
from training.protocol import PROTOCOL_VERSION
from training.protocol.prepared import prepare

Role = Literal["test", "valid"]


def evaluate_baseline(name: str, cfg: DataConfig, role: Role = "test") -> dict[str, Any]:
    p = prepare(cfg)
    scorer = (
        popularity_scorer(p.headtail)
        if name == "popularity"
        else random_scorer(p.dataset.n_items, seed=cfg.seed)
    )
    res = evaluate(scorer, p.split, p.headtail, role=role)
    return {
        "variant": name,
        "dataset": p.dataset.name,
        "fingerprint": p.fingerprint,
        "protocol_version": PROTOCOL_VERSION,
        "split": role,
        **res.to_dict(),
    }


def evaluate_bundle(
    path: Path, role: Role = "test", overrides: list[str] | None = None
) -> dict[str, Any]:
    """Reload a bundle, rebuild its dataset split from the saved config, and evaluate it.

    ``overrides`` (``section.key=value``) apply to the saved config, e.g. ``data.data_dir`` when
    the data moved. The dataset fingerprint must match the manifest's: evaluating a bundle on
    other data than it was trained on is refused (a BundleError, like a missing or corrupt bundle).
    """
    bundle = load_bundle(path)
    saved = bundle.manifest.get("config")
    if not isinstance(saved, dict):
        raise BundleError(f"bundle {path}: manifest.json: no 'config' object")
    cfg = config_from_dict(apply_overrides(saved, overrides or []), source=f"{path}/manifest.json")
    p = prepare(cfg.data)
    if p.fingerprint != bundle.manifest.get("fingerprint"):
        raise BundleError(
            f"bundle {path}: dataset fingerprint {bundle.manifest.get('fingerprint')} differs from "
            f"the data found now ({p.fingerprint}); check --data-dir / the data files"
        )
    users = bundle_user_vectors(bundle)
    res = evaluate(
        embedding_scorer(users, bundle.embeddings),
        p.split,
        p.headtail,
        role=role,
        ks=tuple(cfg.eval.ks),
        batch_size=cfg.eval.batch_size,
    )
    return {
        "bundle": str(path),
        "kind": bundle.kind,
        "dataset": p.dataset.name,
        "fingerprint": p.fingerprint,
        "protocol_version": PROTOCOL_VERSION,
        "split": role,
        "lambda_p": bundle.lambda_p,
        **res.to_dict(),
    }
