"""Figures of an experiment (PNG beside its results file), drawn from the cached run records.

- ``curriculum``: train/valid loss per epoch on all/head/tail items; rows ltcur/head2tail/tail2head.
- ``projection``: 2-D PCA of item embeddings, many-shot i* vs meta-mapped few-shot F_i(i),
  head and tail coloured apart.
- ``lambda_p``: validation HR@50 (all/head/tail) against λ_p.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers / CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

Records = dict[str, list[dict[str, Any]]]
SLICES = ("all", "head", "tail")


def _pick(records: Records, curriculum: str) -> tuple[str, dict[str, Any]] | None:
    """The run to draw for a curriculum: a full-MIRec variant with that curriculum, first seed."""
    cands = [
        (name, recs[0])
        for name, recs in records.items()
        if recs
        and recs[0]["config"]["model"]["kind"] == "mirec"
        and recs[0]["config"]["mirec"]["curriculum"] == curriculum
    ]
    full = [
        c
        for c in cands
        if c[1]["config"]["mirec"]["meta"] == "residual"
        and c[1]["config"]["mirec"]["mse"]
        and c[1]["config"]["mirec"]["few_shot_init"] == "many_shot"
        # both phases ran (the many_shot ablation has no phase 2)
        and c[1]["config"]["mirec"]["few_shot_epochs"] != 0
        and c[1]["config"]["mirec"]["many_shot_epochs"] != 0
    ]
    best = full or cands
    return best[0] if best else None


def plot_curriculum(records: Records, out: Path) -> Path | None:
    picked = [(c, _pick(records, c)) for c in ("ltcur", "head2tail", "tail2head")]
    rows = [(c, r) for c, r in picked if r is not None]
    if not rows:
        return None
    fig, axes = plt.subplots(len(rows), 3, figsize=(12, 3.2 * len(rows)), squeeze=False)
    for r, (cur, (name, rec)) in enumerate(rows):
        hist = [h for h in rec["training"]["history"] if "train_loss" in h]
        epochs = [h["epoch"] for h in hist]
        switch = next((h["epoch"] for h in hist if h.get("phase") == 2), None)
        for c, sl in enumerate(SLICES):
            ax = axes[r][c]
            ax.plot(epochs, [h["train_loss"][sl] for h in hist], "o-", label="train")
            ax.plot(epochs, [h["valid_loss"][sl] for h in hist], "s--", label="validation")
            if switch is not None:
                ax.axvline(switch - 0.5, color="grey", lw=0.8, ls=":")
            ax.set_title(f"{cur} ({name}): {sl} items")
            ax.set_xlabel("epoch (phase 1 | phase 2)")
            ax.set_ylabel("batch-softmax loss")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_projection(records: Records, cache_dir: Path, out: Path) -> Path | None:
    pick = _pick(records, "ltcur")
    if pick is None:
        return None
    name, rec = pick
    files = sorted(cache_dir.glob(f"{name}-s{rec['seed']}-*.items.npz"))
    if not files:
        return None
    with np.load(files[-1], allow_pickle=False) as z:
        vec, is_tail = z["vectors"], z["is_tail"]
    d = vec.shape[1] // 2
    many, mapped = vec[:, :d], vec[:, d:]
    both = np.concatenate([many, mapped])
    mean = both.mean(0)
    _, _, vt = np.linalg.svd(both - mean, full_matrices=False)  # one PCA basis for both panels
    fig, axes = plt.subplots(1, 2, figsize=(11, 5), sharex=True, sharey=True)
    for ax, emb, title in (
        (axes[0], many, "many-shot i*"),
        (axes[1], mapped, "meta-mapped F_i(i)"),
    ):
        xy = (emb - mean) @ vt[:2].T
        ax.scatter(xy[~is_tail, 0], xy[~is_tail, 1], s=4, alpha=0.5, label="head", c="tab:blue")
        ax.scatter(xy[is_tail, 0], xy[is_tail, 1], s=4, alpha=0.5, label="tail", c="tab:orange")
        ax.set_title(f"{title} ({name}, seed {rec['seed']})")
        ax.legend(markerscale=3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_lambda_p(records: Records, out: Path) -> Path | None:
    pick = _pick(records, "ltcur")
    if pick is None:
        return None
    name = pick[0]
    sweeps = [r["lambda_p_sweep"] for r in records[name] if r.get("lambda_p_sweep")]
    if not sweeps:
        return None
    lams = [row["lambda_p"] for row in sweeps[0]]
    fig, ax = plt.subplots(figsize=(6, 4))
    for sl in SLICES:
        vals = np.array([[row[f"{sl}_HR@50"] for row in s] for s in sweeps]) * 100
        ax.errorbar(lams, vals.mean(0), yerr=vals.std(0), marker="o", capsize=3, label=sl)
    ax.set_xlabel("λ_p (weight of the many-shot score)")
    ax.set_ylabel("validation HR@50 (%)")
    ax.set_title(f"λ_p sweep ({name}, {len(sweeps)} seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def render_plots(plots: list[str], records: Records, cache_dir: Path, stem: Path) -> list[Path]:
    made = []
    for name in plots:
        out = stem.parent / f"{stem.name}_{name}.png"
        if name == "curriculum":
            res = plot_curriculum(records, out)
        elif name == "projection":
            res = plot_projection(records, cache_dir, out)
        elif name == "lambda_p":
            res = plot_lambda_p(records, out)
        else:
            raise ValueError(f"unknown plot {name!r}; known: curriculum, projection, lambda_p")
        if res is not None:
            made.append(res)
    return made
