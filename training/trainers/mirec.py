"""MIRec (methods.md "MIRec"): many-shot θ*, few-shot θ with meta-learners F, curriculum, blend.

Phase 1 trains θ* (a two-tower model, logQ-corrected) on the curriculum's first set (Ω* for LTCur).
Phase 2 trains θ (initialised from θ* or at random) and F = (F_u, F_i) on the second set (Ω(k) for
LTCur, redrawn every epoch) with paper Algorithm 1: ``local_steps`` steps on θ alone on the
recommendation loss, then one joint step on (θ, w) on

    L(w, θ) = ‖F_u(u) − u*‖² + ‖F_i(i) − i*‖² + λ · L_g(F_u(u), F_i(i) | batch)

(MSE against the frozen many-shot embeddings of the same users and items; λ weights L_g). Serving
blends ``λ_p ⟨u*, i*⟩ + (1 − λ_p) ⟨F_u(u), F_i(i)⟩``, with λ_p tuned on validation.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from models.feature_batch import FeatureBatch
from models.losses import batch_softmax_loss, embedding_mse_loss, full_softmax_loss
from models.mirec import MIRec
from models.spec import field_specs
from models.two_tower import TwoTower
from training.config import RunConfig
from training.evaluation.evaluator import EvalResult
from training.evaluation.scorers import evaluate_vectors
from training.protocol.prepared import Prepared
from training.trainers.batching import epoch_batches
from training.trainers.context import (
    TrainTensors,
    resolve_device,
    set_threads,
    step_precision,
    train_tensors,
)
from training.trainers.curriculum import Curriculum, build_curriculum
from training.trainers.distributed import DistContext
from training.trainers.embed import embed_table
from training.trainers.exported import EXPORT_BATCH, Exported
from training.trainers.lambda_rule import choose_lambda_p
from training.trainers.loop import EarlyStopper, make_optimizer, new_two_tower, tower_spec
from training.trainers.progress import EpochProgress
from training.trainers.slice_loss import slice_losses
from training.trainers.two_tower import (
    train_two_tower,
)

LAMBDA_GRID = tuple(round(0.1 * i, 1) for i in range(11))


class MirecStep(nn.Module):
    """Phase-2 forward as a module (so DDP can wrap it). ``meta=False``: raw few-shot embeddings
    (Algorithm 1's local steps on θ); ``meta=True``: meta-mapped few-shot embeddings and the frozen
    many-shot targets, all ``[b, d]``."""

    def __init__(self, model: MIRec) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, users: FeatureBatch, items: FeatureBatch, meta: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        m = self.model
        u, v = m.few_shot.user_embed(users), m.few_shot.item_embed(items)
        if not meta:
            return u, v, None, None
        with torch.no_grad():
            u_star, v_star = m.many_shot.user_embed(users), m.many_shot.item_embed(items)
        return m.f_user(u), m.f_item(v), u_star, v_star


@dataclass
class LossRecorder:
    """Records per-epoch train/valid loss on all/head/tail items (the RQ3 curriculum figure)."""

    t: TrainTensors
    p: Prepared
    cfg: RunConfig
    train_pairs: tuple[np.ndarray, np.ndarray]

    @staticmethod
    def build(t: TrainTensors, p: Prepared, cfg: RunConfig) -> LossRecorder:
        rng = np.random.default_rng(cfg.train.seed)
        n = len(p.split.train_users)
        pick = rng.permutation(n)[: cfg.mirec.loss_curve_sample]
        return LossRecorder(t, p, cfg, (p.split.train_users[pick], p.split.train_items[pick]))

    def record(self, user_fn: Any, item_fn: Any) -> dict[str, Any]:
        temp = self.cfg.model.temperature if self.cfg.model.normalize else 1.0
        kw: dict[str, Any] = dict(
            user_table=self.t.user_table,
            item_table=self.t.item_table,
            is_tail=self.p.headtail.is_tail,
            batch_size=self.cfg.train.batch_size,
            temperature=temp,
        )
        return {
            "train_loss": slice_losses(user_fn, item_fn, *self.train_pairs, **kw),
            "valid_loss": slice_losses(
                user_fn,
                item_fn,
                self.p.split.valid_users,
                self.p.split.valid_items,
                **kw,
            ),
        }


def _many_shot_key(cfg: RunConfig) -> str:
    """Cache key of phase 1: everything that determines θ* (data, model, training, curriculum)."""
    c = cfg.to_dict()
    keyed = {
        "data": c["data"],
        "model": c["model"],
        "train": c["train"],
        "curriculum": cfg.mirec.curriculum,
        "epochs": cfg.mirec.many_shot_epochs,
        "logq": cfg.mirec.many_shot_logq,
        "sample": cfg.mirec.loss_curve_sample,
    }
    keyed["train"].pop("progress", None)
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]


def train_many_shot(
    cfg: RunConfig,
    p: Prepared,
    ctx: DistContext,
    cur: Curriculum,
    rec: LossRecorder | None,
    cache_dir: Path | None,
) -> tuple[TwoTower, list[dict[str, Any]]]:
    """Phase 1, cached under a key of its config when ``cache_dir`` is given (the ablations of one
    seed share θ*)."""
    model = new_two_tower(cfg, p.dataset)
    key = _many_shot_key(cfg)
    if cache_dir is not None and (cache_dir / f"many_shot-{key}.safetensors").exists():
        model.load_state_dict(load_file(str(cache_dir / f"many_shot-{key}.safetensors")))
        history = json.loads((cache_dir / f"many_shot-{key}.json").read_text())
        return model, history
    ms_cfg = cfg.model_copy(
        update={"model": cfg.model.model_copy(update={"logq": cfg.mirec.many_shot_logq})}
    )

    def on_epoch(epoch: int, m: TwoTower) -> dict[str, Any]:
        return rec.record(m.user_embed, m.item_embed) if rec else {}

    res = train_two_tower(
        ms_cfg,
        p,
        ctx,
        model=model,
        interactions=cur.phase1,
        epochs=cfg.mirec.many_shot_epochs,
        on_epoch=on_epoch,
        label="many-shot",
    )
    history = [{**h, "phase": 1} for h in res.history]
    if cache_dir is not None and ctx.is_main:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".many_shot-{key}.tmp"
        save_file({k: v.contiguous().cpu() for k, v in res.model.state_dict().items()}, str(tmp))
        (cache_dir / f"many_shot-{key}.json").write_text(json.dumps(history, default=float))
        tmp.rename(cache_dir / f"many_shot-{key}.safetensors")
    return res.model, history


def mirec_vectors(model: MIRec, t: TrainTensors, lambda_p: float) -> tuple[np.ndarray, np.ndarray]:
    """(query vectors ``[n_users, 2d]`` at ``lambda_p``, index vectors ``[n_items, 2d]``)."""
    return _query_vectors(model, t, lambda_p), _index_vectors(model, t)


def _query_vectors(model: MIRec, t: TrainTensors, lambda_p: float) -> np.ndarray:
    model.eval()
    return embed_table(lambda b: model.query_vectors(b, lambda_p), t.user_table, EXPORT_BATCH)


def _index_vectors(model: MIRec, t: TrainTensors) -> np.ndarray:
    model.eval()
    return embed_table(model.item_index_vectors, t.item_table, EXPORT_BATCH)


def validate_blend(
    model: MIRec,
    t: TrainTensors,
    p: Prepared,
    cfg: RunConfig,
    lambda_p: float,
    role: Literal["valid", "test"] = "valid",
) -> EvalResult:
    users, items = mirec_vectors(model, t, lambda_p)
    return evaluate_vectors(users, items, p, cfg, role)


def sweep_lambda_p(
    model: MIRec, t: TrainTensors, p: Prepared, cfg: RunConfig
) -> tuple[float, list[dict[str, float]]]:
    """Validation metrics for λ_p in 0, 0.1, …, 1; the λ_p chosen by ``mirec.lambda_p_rule``."""
    # The index vectors do not depend on λ_p: embedded once for the sweep, not once per λ_p
    # (at 1M items each embedding of the catalogue took about a minute).
    items = _index_vectors(model, t)
    rows = []
    for lam in LAMBDA_GRID:
        r = evaluate_vectors(_query_vectors(model, t, lam), items, p, cfg)
        rows.append(
            {
                "lambda_p": lam,
                **{f"{s}_HR@50": r.metrics[s]["HR@50"] for s in r.metrics},
                **{f"{s}_NDCG@50": r.metrics[s]["NDCG@50"] for s in r.metrics},
            }
        )
    mc = cfg.mirec
    return choose_lambda_p(rows, mc.lambda_p_rule, mc.lambda_p_epsilon), rows


def train_few_shot(
    cfg: RunConfig,
    p: Prepared,
    ctx: DistContext,
    model: MIRec,
    t: TrainTensors,
    cur: Curriculum,
    rec: LossRecorder | None,
    epoch0: int,
) -> list[dict[str, Any]]:
    """Phase 2 (paper Algorithm 1), early-stopped on the validation blend at ``mirec.lambda_p``."""
    mc = cfg.mirec
    device = t.device
    model.to(device)
    for prm in model.many_shot.parameters():
        prm.requires_grad_(False)
    step = ctx.wrap(MirecStep(model), device, find_unused=True)
    params = [*model.few_shot.parameters(), *model.f_user.parameters(), *model.f_item.parameters()]
    # One Adam over θ and w: local steps leave w's grads None, so Adam leaves w untouched there.
    opt = make_optimizer(params, cfg)
    gen = torch.Generator().manual_seed(cfg.train.seed + 1)
    temp = cfg.model.temperature if cfg.model.normalize else 1.0
    bs = cfg.train.batch_size
    stopper = EarlyStopper(cfg.train.patience)
    history: list[dict[str, Any]] = []
    n_epochs = mc.few_shot_epochs if mc.few_shot_epochs is not None else cfg.train.epochs
    use_logq = mc.few_shot_logq
    progress = EpochProgress("few-shot", n_epochs, enabled=cfg.train.progress and ctx.is_main)

    def rec_loss(
        u: torch.Tensor, v: torch.Tensor, i_idx: torch.Tensor, meta: bool = False
    ) -> torch.Tensor:
        if cfg.model.negatives == "full":
            # Exact softmax over the catalogue through the same path as v: few-shot item tower,
            # then the meta map F_i on the joint step. [N, d]; single process only.
            all_v = model.few_shot.item_embed(t.item_table.all_rows())
            if meta:
                all_v = model.f_item(all_v)
            return full_softmax_loss(u, all_v, i_idx.to(u.device), temperature=temp)
        return batch_softmax_loss(
            ctx.gather_rows(u),
            ctx.gather_rows(v),
            i_idx,
            temperature=temp,
            log_q=t.log_q[i_idx] if use_logq else None,
            logq_weight=cfg.model.logq_weight,
            mask_accidental_hits=cfg.model.mask_accidental_hits,
        )

    for epoch in range(n_epochs):
        e0 = time.perf_counter()
        model.train()
        model.many_shot.eval()
        users_np, items_np = cur.phase2(epoch)
        users, items = torch.from_numpy(users_np), torch.from_numpy(items_np)
        losses: list[float] = []
        batches = list(epoch_batches(len(users), bs, gen))
        for idx in progress.batches(batches, epoch):
            b0 = time.perf_counter()
            chunk = ctx.chunk(len(idx))
            ub = t.user_table.gather(users[idx][chunk])
            ib = t.item_table.gather(items[idx][chunk])
            i_idx = items[idx]
            for _ in range(mc.local_steps):  # local steps on θ alone
                with step_precision(cfg, t.device):
                    u, v, _, _ = step(ub, ib, False)
                    loss = rec_loss(u, v, i_idx)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            with step_precision(cfg, t.device):
                fu, fv, u_star, v_star = step(ub, ib, True)  # joint step on (θ, w)
                loss = mc.lambda_ * rec_loss(fu, fv, i_idx, meta=True)
                if mc.mse:
                    assert u_star is not None and v_star is not None
                    loss = loss + embedding_mse_loss(fu, u_star) + embedding_mse_loss(fv, v_star)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            progress.step(losses[-1], len(idx), time.perf_counter() - b0)
        seconds = time.perf_counter() - e0
        h: dict[str, Any] = {
            "epoch": epoch0 + epoch,
            "phase": 2,
            "seconds": seconds,
            "train_objective": float(np.mean(losses)) if losses else None,
            "examples_per_second": len(batches) * bs / max(seconds, 1e-9),
        }
        score = -1.0
        if ctx.is_main:
            val = validate_blend(model, t, p, cfg, mc.lambda_p)
            score = val.metrics["all"]["NDCG@50"]
            h.update(
                {
                    "valid_ndcg@50": score,
                    "valid_hr@50": val.metrics["all"]["HR@50"],
                    "valid_tail_hr@50": val.metrics["tail"]["HR@50"],
                }
            )
            if rec is not None:
                model.eval()
                h.update(
                    rec.record(
                        lambda b: model.f_user(model.few_shot.user_embed(b)),
                        lambda b: model.f_item(model.few_shot.item_embed(b)),
                    )
                )
        progress.end_epoch(epoch, "NDCG@50", score if ctx.is_main else None)
        if stopper.end_epoch(ctx, epoch, score, model, history, h):
            break
    stopper.restore_best(model)
    return history


def train_mirec(
    cfg: RunConfig, p: Prepared, ctx: DistContext, cache_dir: Path | None = None
) -> Exported | None:
    mc = cfg.mirec
    set_threads(cfg, ctx)
    device = resolve_device(cfg, ctx)
    torch.manual_seed(cfg.train.seed)
    t0 = time.perf_counter()
    t = train_tensors(p, device)
    cur = build_curriculum(mc.curriculum, p, cfg.train.seed)
    rec = LossRecorder.build(t, p, cfg) if ctx.is_main else None
    ds = p.dataset
    model = MIRec(
        field_specs(ds.user_features),
        field_specs(ds.item_features),
        tower_spec(cfg),
        meta_kind=mc.meta,
        meta_hidden=mc.meta_hidden,
    )
    if cfg.model.init_std is not None:
        model.few_shot.init_embeddings(cfg.model.init_std)  # θ when few_shot_init = "random"
    history: list[dict[str, Any]] = []
    if mc.many_shot_epochs != 0:
        many, history = train_many_shot(cfg, p, ctx, cur, rec, cache_dir)
        model.many_shot.load_state_dict(many.state_dict())
        if mc.few_shot_init == "many_shot":
            model.few_shot.load_state_dict(many.state_dict())
    history += train_few_shot(cfg, p, ctx, model, t, cur, rec, epoch0=len(history))
    if not ctx.is_main:
        return None
    lambda_p = mc.lambda_p
    sweep: list[dict[str, float]] = []
    if mc.tune_lambda_p:
        lambda_p, sweep = sweep_lambda_p(model, t, p, cfg)
    valid = validate_blend(model, t, p, cfg, lambda_p)
    users, items = mirec_vectors(model.cpu(), train_tensors(p, torch.device("cpu")), lambda_p)
    return Exported(
        kind=cfg.model.kind,
        model=model.cpu(),
        spec=tower_spec(cfg),
        user_vectors=users,
        item_vectors=items,
        valid=valid,
        lambda_p=lambda_p,
        training_info={
            "history": history,
            "seconds": time.perf_counter() - t0,
            "curriculum": mc.curriculum,
        },
        manifest_extra={
            "lambda_p_sweep": sweep,
            "lambda_p_rule": mc.lambda_p_rule if mc.tune_lambda_p else "fixed",
            "lambda_p_epsilon": mc.lambda_p_epsilon,
            "meta_kind": mc.meta,
            "meta_hidden": mc.meta_hidden,
        },
    )
