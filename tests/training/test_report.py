"""``python -m training report``: results files drawn as PNG in the dashboard's palette."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pytest

from training.cli import main
from training.reporting import report

ROOT = Path(__file__).resolve().parents[2]
KS = (10, 20, 50)


def stat(mean: float, std: float = 0.01) -> dict[str, float]:
    return {"mean": mean, "std": std}


def row(variant: str, head: float, tail: float, dataset: str | None = None) -> dict[str, Any]:
    metrics = {
        sl: {
            f"{m}@{k}": stat(v * k / 50 * (0.5 if m == "NDCG" else 1))
            for m in ("HR", "NDCG")
            for k in KS
        }
        for sl, v in (("all", (head + tail) / 2), ("head", head), ("tail", tail))
    }
    exposure = {}
    for k in KS:
        exposure.update(
            {
                f"coverage@{k}": stat(0.1 + tail * k / 100),
                f"tail_share@{k}": stat(tail),
                f"gini@{k}": stat(0.9 - tail / 2),
                f"arp@{k}": stat(100.0),
            }
        )
    out: dict[str, Any] = {
        "variant": variant,
        "n_seeds": 3,
        "metrics": metrics,
        "exposure": exposure,
    }
    if dataset is not None:
        out["dataset"] = dataset
    return out


def write(path: Path, rows: list[dict[str, Any]], dataset: str = "synthetic") -> Path:
    path.write_text(json.dumps({"dataset": dataset, "protocol_version": 1, "rows": rows}))
    return path


def colour_pixels(png: Path, hex_colour: str, tol: float = 0.02) -> int:
    img = mpimg.imread(png)[..., :3]
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(img - rgb).max(axis=-1) < tol).sum())


def test_one_dataset_gives_two_figures_in_the_dashboard_colours(tmp_path: Path) -> None:
    results = write(tmp_path / "ssl.json", [row("two_tower", 0.4, 0.1), row("ssl", 0.35, 0.2)])
    made = report.render_report(results, tmp_path / "figs")
    assert [p.name for p in made] == ["ssl_accuracy.png", "ssl_exposure.png"]
    accuracy, exposure = made
    for png in made:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Head/tail bars in the dashboard's head/tail colours; variants' lines in its bucket colours.
    assert colour_pixels(accuracy, report.HEAD) > 10_000
    assert colour_pixels(accuracy, report.TAIL) > 5_000
    assert colour_pixels(accuracy, report.OVERALL) > 5_000
    assert colour_pixels(exposure, report.VARIANTS[0]) > 200
    assert colour_pixels(exposure, report.VARIANTS[1]) > 200
    assert colour_pixels(exposure, report.VARIANTS[2]) == 0  # only two variants


def test_zero_tail_accuracy_draws_no_tail_bar(tmp_path: Path) -> None:
    results = write(tmp_path / "pop.json", [row("popularity", 0.4, 0.0)])
    accuracy = report.render_report(results, tmp_path)[0]
    assert colour_pixels(accuracy, report.HEAD) > 10_000
    assert colour_pixels(accuracy, report.TAIL) < 500  # the legend's swatch only


def test_rows_with_datasets_are_drawn_per_dataset(tmp_path: Path) -> None:
    rows = [
        row("popularity", 0.3, 0.0, "ml-1m"),
        row("random", 0.01, 0.01, "ml-1m"),
        row("popularity", 0.2, 0.0, "book crossing"),
    ]
    results = write(tmp_path / "baselines.json", rows, dataset="ml-1m, book crossing")
    made = report.render_report(results, None)  # None: beside the results file
    assert sorted(p.name for p in made) == [
        "baselines_book-crossing_accuracy.png",
        "baselines_book-crossing_exposure.png",
        "baselines_ml-1m_accuracy.png",
        "baselines_ml-1m_exposure.png",
    ]
    assert all(p.parent == tmp_path for p in made)


def test_rows_without_exposure_give_the_accuracy_figure_only(tmp_path: Path) -> None:
    r = row("ssl", 0.3, 0.1)
    del r["exposure"]
    made = report.render_report(write(tmp_path / "acc.json", [r]), tmp_path)
    assert [p.name for p in made] == ["acc_accuracy.png"]


def test_palette_is_the_dashboards() -> None:
    css = (ROOT / "service" / "static" / "dashboard.css").read_text(encoding="utf-8")
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", css))
    assert (var["head"], var["tail"], var["overall"]) == (report.HEAD, report.TAIL, report.OVERALL)
    assert tuple(var[f"bucket-{i}"] for i in range(len(report.VARIANTS))) == report.VARIANTS


def test_cli_writes_into_out_and_prints_the_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(tmp_path / "a.json", [row("x", 0.2, 0.1)])
    b = write(tmp_path / "b.json", [row("y", 0.2, 0.1)])
    out = tmp_path / "figures"
    assert main(["report", "--results", str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / f"{s}_{f}.png") for s in "ab" for f in ("accuracy", "exposure")]
    assert all(Path(p).is_file() for p in printed)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "results file not found"),
        ("{not json", "not JSON"),
        ('{"rows": []}', "no 'rows' list"),
        ('{"rows": [{"variant": "x"}]}', "rows[0]: missing key(s) metrics"),
    ],
)
def test_cli_refuses_a_bad_file_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", "--results", str(path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err
    assert not list(tmp_path.glob("*.png"))


def test_the_published_baselines_table_renders(tmp_path: Path) -> None:
    doc, rows = report.load_rows(ROOT / "docs" / "results" / "baselines.json")
    groups = report.by_dataset(doc, rows)
    assert set(groups) == {r["dataset"] for r in rows} and len(groups) > 1
    name, group = next(iter(groups.items()))
    assert report.ks_for(group, "HR", "metrics") == list(KS)
    assert report.ks_for(group, "gini", "exposure") == list(KS)
    assert report.plot_exposure(group, name, tmp_path / "e.png") == tmp_path / "e.png"
