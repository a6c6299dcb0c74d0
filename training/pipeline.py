"""``python -m training train``: train the configured model and write a bundle."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import write_bundle
from training.config import RunConfig
from training.evaluation.evaluator import EvalResult
from training.evaluation.scorers import evaluate_vectors
from training.protocol import PROTOCOL_VERSION
from training.protocol.features import with_features
from training.protocol.prepared import Prepared, prepare
from training.reporting.results import git_commit
from training.trainers import trainer_for
from training.trainers.distributed import DistContext, init_distributed, shutdown_distributed
from training.trainers.exported import Exported


def configure_logging() -> None:
    """Structured (JSON-per-line) training logs on stderr."""
    logger = logging.getLogger("training")
    if not logger.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(h)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def test_metrics(exp: Exported, p: Prepared, cfg: RunConfig) -> EvalResult:
    return evaluate_vectors(exp.user_vectors, exp.item_vectors, p, cfg, role="test")


def train_model(
    cfg: RunConfig, p: Prepared, ctx: DistContext, cache_dir: Path | None = None
) -> Exported | None:
    """Train per ``cfg.model.kind``; returns the exported model on the main rank, None elsewhere.

    ``cache_dir`` lets a trainer reuse a phase shared between runs (MIRec's many-shot phase)."""
    return trainer_for(cfg.model.kind).train(cfg, p, ctx, cache_dir)


def user_history_csr(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Every interaction of each user (train, validation and test) as CSR over user indices: the
    items a served user has already interacted with, which the service excludes."""
    ds = p.dataset
    order = np.argsort(ds.users, kind="stable")
    indptr = np.zeros(ds.n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(ds.users, minlength=ds.n_users), out=indptr[1:])
    return indptr, ds.items[order].astype(np.int64)


def write_exported(exp: Exported, p: Prepared, cfg: RunConfig, out: Path, test: EvalResult) -> Path:
    extra: dict[str, Any] = {
        "config": cfg.to_dict(),
        "dataset": p.dataset.name,
        "fingerprint": p.fingerprint,
        "protocol_version": PROTOCOL_VERSION,
        "git_commit": git_commit(),
        "metrics": {"valid": exp.valid.to_dict() if exp.valid else None, "test": test.to_dict()},
        "training": exp.training_info,
        **exp.manifest_extra,
    }
    return write_bundle(
        out,
        kind=exp.kind,
        model=exp.model,
        spec=exp.spec,
        user_table=p.dataset.user_features,
        item_table=p.dataset.item_features,
        item_ids=p.dataset.item_ids,
        user_ids=p.dataset.user_ids,
        item_embeddings=exp.item_vectors.astype(np.float32),
        train_counts=p.headtail.train_counts,
        is_tail=p.headtail.is_tail,
        lambda_p=exp.lambda_p,
        manifest_extra=extra,
        user_history=user_history_csr(p),
    )


def train_to_bundle(cfg: RunConfig, out: Path) -> Path | None:
    configure_logging()
    ctx = init_distributed(cfg.train.device)
    try:
        p = with_features(prepare(cfg.data), cfg.model.features)
        exp = train_model(cfg, p, ctx)
        if exp is None:
            return None
        return write_exported(exp, p, cfg, out, test_metrics(exp, p, cfg))
    finally:
        ctx.barrier()
        shutdown_distributed(ctx)
