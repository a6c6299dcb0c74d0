"""``python -m training report``: a results file's head/tail accuracy bars and exposure curves.

The offline twin of the service's ``/dashboard``: same colours for all/head/tail (the palette below
equals ``service/static/dashboard.css``, a test checks it), same metric names (tail share,
coverage, Gini), and percentages where the dashboard shows percentages, so that a variant looks
the same offline and online.

Per results file (``training/reporting/results.py`` shape) and per dataset in it (rows may carry
``dataset``), two figures:

- ``{stem}[_{dataset}]_accuracy.png``: HR@K and NDCG@K per variant, bars for all/head/tail items,
  mean ± std over seeds;
- ``{stem}[_{dataset}]_exposure.png``: tail share@K, coverage@K and Gini@K against K, one line
  per variant.

What cannot be drawn offline: the Lorenz curve. A results file keeps only the aggregated Gini per
K, not per-item exposure counts, so the exposure figure says so instead of drawing one (the
dashboard draws it from the live per-item counts).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers / CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

# The dashboard's palette (service/static/dashboard.css: --overall, --head, --tail, --bucket-N).
OVERALL = "#7f7f7f"
HEAD = "#1f77b4"
TAIL = "#ff7f0e"
VARIANTS = (
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
)
SLICES = (("all", OVERALL), ("head", HEAD), ("tail", TAIL))
ACCURACY = ("HR", "NDCG")
# (results key, label as on the dashboard, shown as a percentage)
EXPOSURE = (
    ("tail_share", "tail share", True),
    ("coverage", "coverage", True),
    ("gini", "Gini", False),
)
LORENZ_NOTE = (
    "No Lorenz curve offline: a results file keeps only the aggregated Gini per K, "
    "not per-item exposure counts (the /dashboard draws it from live counts)."
)
DEFAULT_OUT = Path("docs/results/figures")

Row = Mapping[str, Any]


class ReportError(ValueError):
    """A results file that cannot be drawn; the message names the file and the key."""


def load_rows(path: Path) -> tuple[dict[str, Any], list[Row]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: results file not found") from None
    except json.JSONDecodeError as e:
        raise ReportError(f"{path}: not JSON: {e}") from None
    rows = doc.get("rows") if isinstance(doc, dict) else None
    if not isinstance(rows, list) or not rows:
        raise ReportError(f"{path}: no 'rows' list (is this a results file?)")
    for i, row in enumerate(rows):
        missing = [k for k in ("variant", "metrics") if k not in row]
        if missing:
            raise ReportError(f"{path}: rows[{i}]: missing key(s) {', '.join(missing)}")
    return doc, rows


def ks_for(rows: Sequence[Row], prefix: str, section: str) -> list[int]:
    """The cutoffs K present for ``prefix@K`` in any row (``section``: metrics or exposure)."""
    pattern = re.compile(rf"^{re.escape(prefix)}@(\d+)$")
    found: set[int] = set()
    for row in rows:
        tables = row.get(section) or {}
        names = (
            tables.keys() if section == "exposure" else (n for sl in tables.values() for n in sl)
        )
        found.update(int(m.group(1)) for n in names if (m := pattern.match(n)))
    return sorted(found)


def _stat(table: Mapping[str, Any] | None, name: str) -> tuple[float, float]:
    """(mean, std) of one aggregated metric, NaN when the row does not have it."""
    entry = (table or {}).get(name)
    if entry is None:
        return math.nan, math.nan
    return float(entry["mean"]), float(entry.get("std") or 0.0)


def by_dataset(doc: Mapping[str, Any], rows: Sequence[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(str(row.get("dataset") or ""), []).append(row)
    if list(groups) == [""] and isinstance(doc.get("dataset"), str):
        return {doc["dataset"]: groups[""]}
    return groups


def plot_accuracy(rows: Sequence[Row], title: str, out: Path) -> Path | None:
    ks = ks_for(rows, "HR", "metrics")
    if not ks:
        return None
    variants = [str(r["variant"]) for r in rows]
    fig, axes = plt.subplots(
        len(ACCURACY),
        len(ks),
        figsize=(max(7.0, 2.2 + 1.3 * len(variants) * len(ks)), 6.4),
        squeeze=False,
    )
    width = 0.8 / len(SLICES)
    for r, metric in enumerate(ACCURACY):
        for c, k in enumerate(ks):
            ax: Axes = axes[r][c]
            name = f"{metric}@{k}"
            for s, (sl, colour) in enumerate(SLICES):
                stats = [_stat(row["metrics"].get(sl), name) for row in rows]
                xs = [i + (s - 1) * width for i in range(len(rows))]
                ax.bar(
                    xs,
                    [m for m, _ in stats],
                    width,
                    yerr=[sd for _, sd in stats],
                    color=colour,
                    label=sl,
                    capsize=2,
                    error_kw={"elinewidth": 0.8},
                )
            ax.set_title(name)
            ax.set_xticks(range(len(variants)), variants, rotation=20, ha="right")
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.grid(axis="y", color="#e3e6eb")
            ax.set_axisbelow(True)
    axes[0][0].legend(title="items", fontsize=8, title_fontsize=8)
    fig.suptitle(f"{title}: accuracy on all / head / tail items (mean ± std over seeds)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_exposure(rows: Sequence[Row], title: str, out: Path) -> Path | None:
    if not any(row.get("exposure") for row in rows):
        return None
    fig, axes = plt.subplots(1, len(EXPOSURE), figsize=(13, 4.3), squeeze=False)
    for c, (key, label, percent) in enumerate(EXPOSURE):
        ax: Axes = axes[0][c]
        ks = ks_for(rows, key, "exposure")
        for i, row in enumerate(rows):
            stats = [_stat(row.get("exposure"), f"{key}@{k}") for k in ks]
            ax.errorbar(
                ks,
                [m for m, _ in stats],
                yerr=[sd for _, sd in stats],
                marker="o",
                capsize=3,
                color=VARIANTS[i % len(VARIANTS)],
                label=str(row["variant"]),
            )
        ax.set_title(f"{label}@K")
        ax.set_xlabel("K (list length)")
        ax.set_xticks(ks)
        if percent:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylim(-0.02, 1.02)  # all three lie in [0, 1]: one scale, as on the dashboard
        ax.grid(color="#e3e6eb")
        ax.set_axisbelow(True)
    axes[0][0].legend(title="variant", fontsize=8, title_fontsize=8)
    fig.suptitle(f"{title}: exposure against K (mean ± std over seeds)")
    fig.text(0.5, 0.01, LORENZ_NOTE, ha="center", fontsize=8, color="#6b7280")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-")


def render_report(path: Path, out_dir: Path | None = DEFAULT_OUT) -> list[Path]:
    """Draw one results file; PNGs go to ``out_dir`` (None: beside the file). Returns the paths."""
    doc, rows = load_rows(path)
    target = path.parent if out_dir is None else out_dir
    target.mkdir(parents=True, exist_ok=True)
    groups = by_dataset(doc, rows)
    made: list[Path] = []
    for dataset, group in groups.items():
        stem = path.stem if len(groups) == 1 or not dataset else f"{path.stem}_{_slug(dataset)}"
        title = f"{path.stem} · {dataset}" if dataset else path.stem
        for plot, suffix in ((plot_accuracy, "accuracy"), (plot_exposure, "exposure")):
            res = plot(group, title, target / f"{stem}_{suffix}.png")
            if res is not None:
                made.append(res)
    return made
