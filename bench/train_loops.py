"""Reference training loops for ``bench/train_speed.py``: what the same step costs written as
plainly as PyTorch allows, so the trainer's own overhead (batch assembly, SSL augmenter, data-
parallel context, early-stopping bookkeeping) shows as a ratio.

``bare_loop``: the trainer's model (the same ``TwoTower`` over the same feature fields, built by
``new_two_tower``), fed by the same pre-tensorised tables and vectorised CSR gather
(``train_tensors``), trained by a loop of a dozen lines: shuffled index slices, forward, the same
in-batch softmax loss (logQ and accidental-hit masking as configured), ``loss.backward()``,
``torch.optim.Adam``. With ``ids_only`` the towers see the user-id and item-id fields alone (what
the feature fields cost).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from models.losses import batch_softmax_loss
from training.config import RunConfig
from training.protocol.features import with_features
from training.protocol.prepared import Prepared
from training.trainers.context import train_tensors
from training.trainers.loop import new_two_tower


@dataclass(frozen=True)
class LoopResult:
    examples_per_second: float
    losses: list[float]  # one per step


def bare_loop(cfg: RunConfig, p: Prepared, steps: int, *, ids_only: bool = False) -> LoopResult:
    """Examples/second (and the losses) of ``steps`` plain training steps of the configured
    two-tower."""
    torch.manual_seed(cfg.train.seed)
    if ids_only:
        p = with_features(p, "ids")
    model = new_two_tower(cfg, p.dataset)
    bs = cfg.train.batch_size
    n = steps * bs
    # The trainer's own pre-tensorised tables, interactions and log-shares (built before timing).
    t = train_tensors(p, torch.device("cpu"), p.split.train_users[:n], p.split.train_items[:n])
    m = cfg.model
    temperature = m.temperature if m.normalize else 1.0
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    perm = torch.randperm(n)
    model.train()
    losses: list[torch.Tensor] = []
    start = time.perf_counter()
    for s in range(steps):
        idx = perm[s * bs : (s + 1) * bs]  # [B]
        u_rows, i_rows = t.users[idx], t.items[idx]
        u = model.user_embed(t.user_table.gather(u_rows))  # [B, d]
        v = model.item_embed(t.item_table.gather(i_rows))  # [B, d]
        loss = batch_softmax_loss(
            u,
            v,
            i_rows,
            temperature=temperature,
            log_q=t.log_q[i_rows] if m.logq else None,
            logq_weight=m.logq_weight,
            mask_accidental_hits=m.mask_accidental_hits,
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    rate = n / (time.perf_counter() - start)
    return LoopResult(rate, [float(x) for x in losses])
