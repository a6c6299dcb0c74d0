"""Validation learning curves of a frontier document's variants (seed 0 of each): validation
HR@50 overall (solid) and tail (dashed) per epoch; MIRec's two phases are drawn one after the
other. Written as ``<results stem>_curves.png`` beside the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers / CI
import matplotlib.pyplot as plt  # noqa: E402


def render_learning_curves(results: Path) -> Path:
    doc = json.loads(results.read_text())
    fig, (ax_all, ax_tail) = plt.subplots(1, 2, figsize=(13, 5.5), sharex=True)
    for name, recs in doc["variants"].items():
        hist = [h for h in recs[0]["training"].get("history", []) if "valid_ndcg@50" in h]
        if not hist:
            continue
        xs = list(range(1, len(hist) + 1))
        (line,) = ax_all.plot(
            xs, [100 * h.get("valid_hr@50", float("nan")) for h in hist], label=name
        )
        ax_tail.plot(
            xs, [100 * h["valid_tail_hr@50"] for h in hist], color=line.get_color(), linestyle="--"
        )
    ax_all.set_title(f"{doc['dataset']}: validation HR@50 per epoch (seed 0)")
    ax_tail.set_title("validation tail HR@50 per epoch")
    for ax in (ax_all, ax_tail):
        ax.set_xlabel("epoch (MIRec: phase 1 then phase 2)")
        ax.grid(alpha=0.3)
    ax_all.set_ylabel("HR@50 (%)")
    if ax_all.get_legend_handles_labels()[0]:
        ax_all.legend(fontsize=7)
    fig.tight_layout()
    out = results.with_name(results.stem + "_curves.png")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
