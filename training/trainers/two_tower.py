"""The two-tower trainer (plain, FD, SO, SSL-RFM, SSL-CFM), single process or DDP under torchrun.

Loss per step: batch softmax over the global batch (in-batch negatives, optional logQ correction,
accidental hits masked), plus ``α · L_self`` on a separate SSL item batch drawn uniformly from the
catalogue when ``ssl.mode`` in {so, rfm, cfm}. Early stopping on validation NDCG@50 keeps the best
epoch's weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from models.losses import (
    batch_softmax_loss,
    full_softmax_loss,
    info_nce_loss,
    mixed_softmax_loss,
)
from models.two_tower import TwoTower
from training.config import RunConfig
from training.evaluation.evaluator import EvalResult
from training.evaluation.scorers import evaluate_vectors
from training.protocol.prepared import Prepared
from training.trainers.batching import epoch_batches, slice_rows
from training.trainers.context import (
    TrainTensors,
    resolve_device,
    set_threads,
    step_precision,
    train_tensors,
)
from training.trainers.distributed import DistContext
from training.trainers.embed import embed_table
from training.trainers.loop import EarlyStopper, budget_spent, make_optimizer, new_two_tower
from training.trainers.progress import EpochProgress
from training.trainers.ssl_views import SslAugmenter


class TwoTowerStep(nn.Module):
    """One forward of a training step, as a module so that DDP can wrap it.

    Returns user ``[b, d]`` and item ``[b, d]`` embeddings of this rank's chunk, and the SSL views'
    item embeddings ``[n, d]`` (or None).
    """

    def __init__(self, model: TwoTower) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        users: Any,
        items: Any,
        item_mask: torch.Tensor | None,
        view1: Any | None,
        mask1: torch.Tensor | None,
        view2: Any | None,
        mask2: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        u = self.model.user_embed(users)
        v = self.model.item_embed(items, item_mask)
        z1 = z2 = None
        if view1 is not None:
            z1 = self.model.item_embed(view1, mask1)
            # view2 None means SO: both views identical, so embed once.
            z2 = z1 if view2 is None else self.model.item_embed(view2, mask2)
        return u, v, z1, z2


@dataclass
class TrainResult:
    model: TwoTower
    best_epoch: int
    valid: EvalResult | None  # None on non-main ranks
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    examples_per_second: float = 0.0


def embed_all(model: TwoTower, t: TrainTensors) -> tuple[np.ndarray, np.ndarray]:
    """(user vectors ``[n_users, d]``, item vectors ``[n_items, d]``) in eval mode."""
    was = model.training
    model.eval()
    users = embed_table(model.user_embed, t.user_table)
    items = embed_table(model.item_embed, t.item_table)
    model.train(was)
    return users, items


def validate(
    model: TwoTower,
    t: TrainTensors,
    p: Prepared,
    cfg: RunConfig,
    role: Literal["valid", "test"] = "valid",
) -> EvalResult:
    users, items = embed_all(model, t)
    return evaluate_vectors(users, items, p, cfg, role)


def _main_loss(
    model: TwoTower,
    cfg: RunConfig,
    t: TrainTensors,
    u: torch.Tensor,
    v: torch.Tensor,
    item_ids: torch.Tensor,
    temperature: float,
    gen: torch.Generator,
) -> torch.Tensor:
    """The recommendation loss of one step per ``model.negatives``; ``u``, ``v`` ``[B, d]``.

    "full" and "mixed" embed extra items with the bare model (single process: under DDP only the
    in-batch softmax's gradients are synchronised by the wrapper).
    """
    m = cfg.model
    n_items = t.item_table.n_rows
    if m.negatives == "full":
        all_v = model.item_embed(t.item_table.all_rows())  # [N, d]
        return full_softmax_loss(u, all_v, item_ids, temperature=temperature)
    if m.negatives == "mixed":
        extra = torch.randint(0, n_items, (m.uniform_negatives,), generator=gen)
        extra_v = model.item_embed(t.item_table.gather(extra))  # [M, d]
        return mixed_softmax_loss(
            u,
            v,
            item_ids,
            extra_v,
            extra.to(item_ids.device),
            n_items,
            temperature=temperature,
            item_share=t.log_q.exp() if m.logq else None,
            logq_weight=m.logq_weight,
        )
    return batch_softmax_loss(
        u,
        v,
        item_ids,
        temperature=temperature,
        log_q=t.log_q[item_ids] if m.logq else None,
        logq_weight=m.logq_weight,
        mask_accidental_hits=m.mask_accidental_hits,
    )


def _ssl_inputs(
    aug: SslAugmenter,
    t: TrainTensors,
    n_items: int,
    ssl_n: int,
    gen: torch.Generator,
    ctx: DistContext,
) -> tuple[Any, torch.Tensor | None, Any, torch.Tensor | None]:
    """This rank's two SSL views of ``ssl_n`` uniformly drawn items and their masks, or Nones
    without an SSL loss; ``view2`` None means SO (both views identical, embedded once)."""
    if not aug.has_ssl_loss:
        return None, None, None, None
    ssl_items = torch.randint(0, n_items, (ssl_n,), generator=gen)  # [ssl_n]
    views = aug.views(t.item_table.gather(ssl_items), gen)
    ssl_chunk = ctx.chunk(ssl_n)
    v1, m1 = slice_rows(views.view1, ssl_chunk), views.mask1
    if views.view2 is views.view1:
        return v1, m1, None, None
    return v1, m1, slice_rows(views.view2, ssl_chunk), views.mask2


def _validate_epoch(
    model: TwoTower, t: TrainTensors, p: Prepared, cfg: RunConfig, rec: dict[str, Any]
) -> float:
    """Validate on the main rank, add the figures to the epoch record, return the score that
    early stopping reads (validation NDCG@50)."""
    val = validate(model, t, p, cfg)
    score = float(val.metrics["all"]["NDCG@50"])
    rec.update(
        {
            "valid_ndcg@50": score,
            "valid_hr@50": val.metrics["all"]["HR@50"],
            "valid_tail_hr@50": val.metrics["tail"]["HR@50"],
        }
    )
    return score


def train_two_tower(
    cfg: RunConfig,
    p: Prepared,
    ctx: DistContext,
    *,
    model: TwoTower | None = None,
    interactions: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int | None = None,
    on_epoch: Callable[[int, TwoTower], dict[str, Any]] | None = None,
    label: str = "epoch",
) -> TrainResult:
    """Train a two-tower model (optionally with SSL) on ``interactions`` (default: all training
    interactions) and return the best epoch's model by validation NDCG@50."""
    set_threads(cfg, ctx)
    device = resolve_device(cfg, ctx)
    torch.manual_seed(cfg.train.seed)
    ds = p.dataset
    users_np, items_np = interactions if interactions is not None else (None, None)
    t = train_tensors(p, device, users_np, items_np)
    if model is None:
        model = new_two_tower(cfg, ds)
    model.to(device)
    aug = SslAugmenter(cfg.ssl, ds.item_features)
    step_module = ctx.wrap(TwoTowerStep(model), device)
    opt = make_optimizer(model.parameters(), cfg)
    gen = torch.Generator().manual_seed(cfg.train.seed)
    temperature = cfg.model.temperature if cfg.model.normalize else 1.0
    stopper = EarlyStopper(cfg.train.patience)
    history: list[dict[str, Any]] = []
    n_epochs = epochs if epochs is not None else cfg.train.epochs
    bs = cfg.train.batch_size
    ssl_n = cfg.ssl.batch_size
    t0 = time.perf_counter()
    examples = 0
    train_seconds = 0.0
    progress = EpochProgress(label, n_epochs, enabled=cfg.train.progress and ctx.is_main)
    for epoch in range(n_epochs):
        model.train()
        e0 = time.perf_counter()
        losses: list[float] = []
        batches = list(epoch_batches(len(t.users), bs, gen))
        for idx in progress.batches(batches, epoch):
            b0 = time.perf_counter()
            chunk = ctx.chunk(len(idx))
            u_idx, i_idx = t.users[idx], t.items[idx]  # [B] global batch
            item_mask = aug.main_task_mask(len(idx), gen)
            v1, m1, v2, m2 = _ssl_inputs(aug, t, ds.n_items, ssl_n, gen, ctx)
            with step_precision(cfg, device):
                u, v, z1, z2 = step_module(
                    t.user_table.gather(u_idx[chunk]),
                    t.item_table.gather(i_idx[chunk]),
                    item_mask[chunk] if item_mask is not None else None,
                    v1,
                    m1,
                    v2,
                    m2,
                )
                u_all, v_all = ctx.gather_rows(u), ctx.gather_rows(v)  # [B, d]
                loss = _main_loss(model, cfg, t, u_all, v_all, i_idx.to(device), temperature, gen)
                if z1 is not None and z2 is not None:
                    loss = loss + cfg.ssl.alpha * info_nce_loss(
                        ctx.gather_rows(z1), ctx.gather_rows(z2), cfg.ssl.temperature
                    )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            examples += len(idx)
            dt = time.perf_counter() - b0
            train_seconds += dt
            progress.step(losses[-1], len(idx), dt)
        epoch_seconds = time.perf_counter() - e0
        score = -1.0
        rec: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": float(np.mean(losses)) if losses else None,
            "seconds": epoch_seconds,
            "examples_per_second": len(batches) * bs / max(epoch_seconds, 1e-9),
        }
        if ctx.is_main:
            score = _validate_epoch(model, t, p, cfg, rec)
            if on_epoch is not None:
                rec.update(on_epoch(epoch, model))
        progress.end_epoch(epoch, "NDCG@50", score if ctx.is_main else None)
        over_budget = budget_spent(cfg, t0)
        if over_budget:
            rec["stopped_by_time_budget"] = True
        if stopper.end_epoch(ctx, epoch, score, model, history, rec) or over_budget:
            break
    stopper.restore_best(model)
    model.eval()
    valid = validate(model, t, p, cfg) if ctx.is_main else None
    seconds = time.perf_counter() - t0
    return TrainResult(
        model=model,
        best_epoch=stopper.best_epoch,
        valid=valid,
        history=history,
        seconds=seconds,
        examples_per_second=examples / max(train_seconds, 1e-9),
    )
