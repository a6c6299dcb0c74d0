"""Results files: aggregation over seeds, document shape, Markdown rendered from the JSON."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest

from training.config import RunConfig
from training.evaluation.evaluator import EvalResult
from training.protocol import PROTOCOL_VERSION
from training.reporting.results import (
    aggregate,
    aggregate_exposure,
    aggregate_metrics,
    git_commit,
    make_row,
    render_markdown,
    results_document,
    write_results,
)

KS = (10, 20, 50)


def run(base: float) -> EvalResult:
    """A fake evaluation whose every metric is derived from ``base``."""
    metrics = {
        s: {
            f"{n}@{k}": base * (j + 1) / 10 + k / 1000
            for j, n in enumerate(("HR", "NDCG", "MAP"))
            for k in KS
        }
        for s in ("all", "head", "tail")
    }
    exposure = {f"{n}@{k}": base + k for n in ("coverage", "tail_share", "arp", "gini") for k in KS}
    return EvalResult(
        role="test",
        ks=KS,
        metrics=metrics,
        exposure=exposure,
        n_users={"all": 10, "head": 6, "tail": 4},
    )


def test_aggregate_mean_and_sample_std() -> None:
    both = aggregate([run(0.1), run(0.3).to_dict()])  # EvalResult and dict both accepted
    assert set(both) == {"metrics", "exposure"}
    agg = both["metrics"]
    assert agg == aggregate_metrics([run(0.1), run(0.3)])
    hr = agg["all"]["HR@10"]
    assert hr["mean"] == pytest.approx((0.01 + 0.01 + 0.03 + 0.01) / 2)
    # two values 0.02 and 0.04 (HR@10 = base/10 + 0.01): sample std = |a - b| / sqrt(2)
    assert hr["std"] == pytest.approx(0.02 / math.sqrt(2))
    three = aggregate_exposure([run(1.0), run(2.0), run(4.0)])
    assert three["gini@50"]["mean"] == pytest.approx(50 + 7 / 3)
    # sample variance of 1, 2, 4: ((4/3)^2 + (1/3)^2 + (5/3)^2) / 2 = 7/3
    assert three["gini@50"]["std"] == pytest.approx(math.sqrt(7 / 3))
    one = aggregate_metrics([run(0.5)])
    assert one["tail"]["MAP@20"] == {"mean": pytest.approx(0.5 * 3 / 10 + 0.02), "std": 0.0}
    assert list(agg) == ["all", "head", "tail"]


def test_aggregate_rejects_mismatched_runs() -> None:
    broken = run(0.1).to_dict()
    del broken["metrics"]["head"]["HR@10"]
    with pytest.raises(ValueError, match=r"run 1: metrics.head keys differ.*HR@10"):
        aggregate_metrics([run(0.2), broken])
    with pytest.raises(ValueError, match="exposure"):
        aggregate([{"metrics": {}}])
    with pytest.raises(ValueError, match="no runs"):
        aggregate([])


def doc_with_rows(**kwargs: Any) -> dict[str, Any]:
    rows = [
        make_row("popularity", [run(0.1), run(0.2)], seconds=1.5),
        make_row("random", [run(0.01), run(0.02), run(0.04)]),
    ]
    return results_document(
        "ml-1m", rows, config=RunConfig(), fingerprint="abcdef0123456789", **kwargs
    )


def test_document_shape() -> None:
    doc = doc_with_rows(extra={"note": "x"})
    assert list(doc)[:6] == [
        "dataset",
        "protocol_version",
        "fingerprint",
        "git_commit",
        "config",
        "rows",
    ]
    assert doc["protocol_version"] == PROTOCOL_VERSION == 1
    assert doc["note"] == "x"
    assert doc["config"]["eval"]["ks"] == [10, 20, 50]
    row = doc["rows"][0]
    assert row["variant"] == "popularity" and row["n_seeds"] == 2 and row["seconds"] == 1.5
    assert set(row["metrics"]) == {"all", "head", "tail"}
    assert set(row["metrics"]["head"]["NDCG@20"]) == {"mean", "std"}
    assert set(row["exposure"]["gini@50"]) == {"mean", "std"}
    assert doc["rows"][1]["n_seeds"] == 3
    with pytest.raises(ValueError, match="reserved"):
        results_document("x", [], extra={"rows": []})
    with pytest.raises(ValueError, match=r"rows\[0\].*n_seeds"):
        results_document("x", [{"variant": "a", "metrics": {}, "exposure": {}}])


def pct(stat: dict[str, float]) -> str:
    return f"{stat['mean'] * 100:.2f} ± {stat['std'] * 100:.2f}"


def test_write_results_markdown_from_json(tmp_path: Path) -> None:
    doc = doc_with_rows()
    json_path, md_path = write_results(
        doc, tmp_path / "out" / "baselines", command="python -m training baselines --seeds 3"
    )
    assert json_path.name == "baselines.json" and md_path.name == "baselines.md"
    loaded = json.loads(json_path.read_text(encoding="utf-8"))
    assert loaded == json.loads(json.dumps(doc))
    md = md_path.read_text(encoding="utf-8")
    assert "`python -m training baselines --seeds 3`" in md
    assert "protocol version: 1" in md
    assert "`abcdef0123456789`" in md
    assert f"`{loaded['git_commit']}`" in md
    for s in ("all", "head", "tail"):
        assert f"### Accuracy, {s}" in md
    lines = md.splitlines()
    for row in loaded["rows"]:
        # Every accuracy cell of the row appears, in percent, on the variant's table lines.
        row_lines = [ln for ln in lines if ln.startswith(f"| {row['variant']} |")]
        assert len(row_lines) == 4  # three slices + exposure
        for i, s in enumerate(("all", "head", "tail")):
            cells = [c.strip() for c in row_lines[i].strip("|").split("|")]
            expected = [
                pct(row["metrics"][s][f"{n}@{k}"]) for n in ("HR", "NDCG", "MAP") for k in KS
            ]
            assert cells == [row["variant"], str(row["n_seeds"]), *expected]
        exp = row["exposure"]
        exp_cells = [c.strip() for c in row_lines[3].strip("|").split("|")]
        assert pct(exp["coverage@10"]) in exp_cells
        assert pct(exp["tail_share@50"]) in exp_cells
        assert f"{exp['arp@20']['mean']:.1f} ± {exp['arp@20']['std']:.1f}" in exp_cells
        assert f"{exp['gini@50']['mean']:.3f} ± {exp['gini@50']['std']:.3f}" in exp_cells
    assert "| popularity |" in md and "1.50" in md  # the extra "seconds" column

    # The Markdown is a function of the JSON: edit the JSON, re-render, the new number shows.
    loaded["rows"][0]["metrics"]["all"]["HR@10"] = {"mean": 0.98765, "std": 0.0}
    assert "98.77 ± 0.00" in render_markdown(loaded)
    assert "98.77" not in md


def test_markdown_groups_rows_by_dataset() -> None:
    rows = [
        make_row("pop", [run(0.1)], dataset="ml-100k"),
        make_row("pop", [run(0.3)], dataset="ml-1m"),
        make_row("rand", [run(0.2)], dataset="ml-100k"),
    ]
    doc = results_document("ml-100k, ml-1m", rows, fingerprint={"ml-100k": "aaaa", "ml-1m": "bbbb"})
    md = render_markdown(doc, command="cmd")
    first, second = md.index("## ml-100k"), md.index("## ml-1m")
    assert first < second
    hr_100k = pct(doc["rows"][2]["metrics"]["all"]["HR@10"])
    hr_1m = pct(doc["rows"][1]["metrics"]["all"]["HR@10"])
    assert first < md.index(f"| rand | 1 | {hr_100k} |") < second
    assert second < md.index(f"| pop | 1 | {hr_1m} |")
    assert "ml-100k: `aaaa`" in md and "ml-1m: `bbbb`" in md


def test_nan_is_refused(tmp_path: Path) -> None:
    doc = doc_with_rows()
    doc["rows"][0]["metrics"]["all"]["HR@10"]["mean"] = float("nan")
    with pytest.raises(ValueError):
        write_results(doc, tmp_path / "bad")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_git_commit(tmp_path: Path) -> None:
    assert git_commit(tmp_path) == "unknown"
    _git(tmp_path, "init", "-q")
    (tmp_path / "f.txt").write_text("a", encoding="utf-8")
    _git(tmp_path, "add", "f.txt")
    _git(tmp_path, "commit", "-q", "-m", "init")
    sha = _git(tmp_path, "rev-parse", "HEAD")
    assert git_commit(tmp_path) == sha and len(sha) == 40
    (tmp_path / "untracked.txt").write_text("b", encoding="utf-8")
    assert git_commit(tmp_path) == sha  # untracked files do not make it dirty
    (tmp_path / "f.txt").write_text("changed", encoding="utf-8")
    assert git_commit(tmp_path) == sha + "-dirty"


def test_header_defaults_and_fingerprint_lists() -> None:
    rows = [
        {
            "variant": "pop",
            "n_seeds": 2,
            **aggregate([run(0.1), run(0.2)]),
            "seconds": {"mean": 3.25, "total": 6.5},
            "lambda_p": [0.5, 0.6],
        }
    ]
    doc = results_document(
        "ml-1m",
        rows,
        fingerprint=["aaaa", "bbbb"],
        extra={"generated_by": "python -m training experiment --config x"},
    )
    md = render_markdown(doc)
    assert "`python -m training experiment --config x`" in md
    assert "`aaaa` / `bbbb`" in md
    assert "| seconds |" in md and "| 3.25 |" in md
    assert "lambda_p" not in md  # lists are kept in the JSON only
    assert render_markdown(doc, command="other") != md
    nested = results_document("a, b", rows, fingerprint={"a": ["x1", "x2"], "b": "y"})
    assert nested["fingerprint"] == {"a": ["x1", "x2"], "b": "y"}
    assert "a: `x1` / `x2`, b: `y`" in render_markdown(nested)
