"""The (overall HR@50, tail HR@50) Pareto figure of a frontier document (training/frontier/).

One line per model on the test split: each reference's and each variant's β-knob curve (mean over
seeds at each relative knob b; the β = 0 point, the model itself, is marked with a circle),
MIRec's λ_p curve (dashed, squares) and the document's multi-variant curves such as SSL's α
(dotted, triangles). Written as ``<results stem>_pareto.png`` beside the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers / CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _mean_points(recs: list[dict[str, Any]], key: str, role: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds of (overall, tail) HR@50 at each point of the curve ``key``."""
    rows = [r["curve"]["points"] if key == "curve" else r[key] for r in recs if key in r]
    n = min(len(x) for x in rows)
    xs = np.array([[p[role]["all_HR@50"] for p in x[:n]] for x in rows]).mean(axis=0)
    ys = np.array([[p[role]["tail_HR@50"] for p in x[:n]] for x in rows]).mean(axis=0)
    return xs, ys


def curves(doc: dict[str, Any], role: str = "test") -> list[dict[str, Any]]:
    """Every line of the figure: ``{"label", "style", "x" [n], "y" [n]}`` (HR@50 as fractions)."""
    out = []
    for name, ref in doc["references"].items():
        x, y = _mean_points([ref], "curve", role)
        out.append({"label": f"{name} + β", "style": "ref", "x": x, "y": y})
    for name, recs in doc["variants"].items():
        x, y = _mean_points(recs, "curve", role)
        out.append({"label": f"{name} + β ({len(recs)} seeds)", "style": "beta", "x": x, "y": y})
        mc = recs[0]["config"].get("mirec", {})
        blends = mc.get("few_shot_epochs") != 0 and mc.get("many_shot_epochs") != 0
        if blends and all("lambda_p_curve" in r for r in recs):
            x, y = _mean_points(recs, "lambda_p_curve", role)
            out.append({"label": f"{name}: λ_p 0…1", "style": "lambda", "x": x, "y": y})
    for c in doc.get("curves", []):
        pts = [doc["variants"][v] for v in c["variants"] if v in doc["variants"]]
        if len(pts) < 2:
            continue
        x = np.array(
            [np.mean([r["curve"]["points"][0][role]["all_HR@50"] for r in p]) for p in pts]
        )
        y = np.array(
            [np.mean([r["curve"]["points"][0][role]["tail_HR@50"] for r in p]) for p in pts]
        )
        out.append({"label": c["name"], "style": "multi", "x": x, "y": y})
    return out


def render_pareto(results: Path, role: str = "test") -> Path:
    doc = json.loads(results.read_text())
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(15, 6.5))
    styles = {
        "ref": {"linestyle": "-", "linewidth": 2.2, "alpha": 0.8},
        "beta": {"linestyle": "-", "linewidth": 1.4},
        "lambda": {"linestyle": "--", "marker": "s", "markersize": 3},
        "multi": {"linestyle": ":", "marker": "^", "markersize": 5},
    }
    lines = curves(doc, role)
    for c in lines:
        for a in (ax, zoom):
            (line,) = a.plot(100 * c["x"], 100 * c["y"], label=c["label"], **styles[c["style"]])
            if c["style"] in ("ref", "beta"):
                a.plot(100 * c["x"][0], 100 * c["y"][0], "o", color=line.get_color())
    partial = "" if doc.get("complete") else " (partial)"
    ax.set_title(f"{doc['dataset']}: overall vs tail HR@50 on {role}{partial}")
    zoom.set_title("the high-accuracy end (β small)")
    if lines:
        # Zoom on overall HR@50 within 25% of the best model's own (β = 0) point.
        top = 100 * max(float(c["x"][0]) for c in lines)
        zoom.set_xlim(0.75 * top, 1.03 * top)
    for a in (ax, zoom):
        a.set_xlabel("overall HR@50 (%)")
        a.set_ylabel("tail HR@50 (%)")
        a.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    out = results.with_name(results.stem + "_pareto.png")
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
