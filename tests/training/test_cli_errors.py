"""Every ``python -m training`` subcommand turns bad config, data and bundle input into one
``error: …`` line on stderr with exit status 2, never a traceback (issue 13 item 4)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from training.cli import main


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    corrupt = tmp / "corrupt_bundle"
    corrupt.mkdir()
    (corrupt / "manifest.json").write_text("{not json", encoding="utf-8")
    not_json = tmp / "results.json"
    not_json.write_text("nope", encoding="utf-8")
    bad_toml = tmp / "bad.toml"
    bad_toml.write_text("[train\nepochs = 1\n", encoding="utf-8")
    return {
        "stats-missing-dir": (["stats", "--dataset", "ml-1m", "--data-dir", str(tmp / "no")], "no"),
        "stats-unknown-key": (["stats", "--set", "data.nope=1"], "data.nope"),
        "stats-bad-config": (["stats", "--config", str(bad_toml)], "bad.toml"),
        "evaluate-missing-bundle": (["evaluate", "--bundle", str(tmp / "missing")], "missing"),
        "evaluate-corrupt-bundle": (["evaluate", "--bundle", str(corrupt)], "manifest.json"),
        "evaluate-baseline-bad-set": (
            [
                "evaluate",
                "--baseline",
                "popularity",
                "--dataset",
                "synthetic",
                "--set",
                "data.head_fraction=oops",
            ],
            "data.head_fraction",
        ),
        "evaluate-no-mode": (["evaluate"], "--bundle"),
        "baselines-bad-set": (["baselines", "--datasets", "synthetic", "--set", "x.y=1"], "x"),
        "baselines-missing-data": (
            [
                "baselines",
                "--datasets",
                "ml-100k",
                "--data-root",
                str(tmp / "none"),
                "--out",
                str(tmp / "b"),
            ],
            "ml-100k",
        ),
        "train-unknown-key": (["train", "--set", "model.nope=1", "--out", str(tmp / "o")], "nope"),
        "train-missing-config": (
            ["train", "--config", str(tmp / "none.toml"), "--out", str(tmp / "o")],
            "none.toml",
        ),
        "experiment-missing": (["experiment", "--config", str(tmp / "none.toml")], "none.toml"),
        "report-not-json": (["report", "--results", str(not_json), "--out", str(tmp)], "results"),
        "claims-missing": (
            ["claims", "ssl", "--results", str(tmp / "none.json"), "--out", str(tmp / "c")],
            "none.json",
        ),
        "claims-not-json": (
            ["claims", "mirec", "--results", str(not_json), "--out", str(tmp / "c")],
            "JSON",
        ),
        "demo-unknown-key": (["demo", "--no-serve", "--set", "train.nope=1"], "train.nope"),
        "frontier-missing": (["frontier", "--config", str(tmp / "none.toml")], "none.toml"),
        "pareto-not-json": (["pareto", "--results", str(not_json)], "JSON"),
        "tailclaims-missing": (
            ["tailclaims", "--results", str(tmp / "none.json"), "--out", str(tmp / "c")],
            "none.json",
        ),
    }


NAMES = [
    "stats-missing-dir",
    "stats-unknown-key",
    "stats-bad-config",
    "evaluate-missing-bundle",
    "evaluate-corrupt-bundle",
    "evaluate-baseline-bad-set",
    "evaluate-no-mode",
    "baselines-bad-set",
    "baselines-missing-data",
    "train-unknown-key",
    "train-missing-config",
    "experiment-missing",
    "report-not-json",
    "claims-missing",
    "claims-not-json",
    "demo-unknown-key",
    "frontier-missing",
    "pareto-not-json",
    "tailclaims-missing",
]


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_an_error_line_not_a_traceback(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, names = _bad_inputs(tmp_path)[name]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, err
    assert names in lines[0], err


def test_every_subcommand_is_covered() -> None:
    from training.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    covered = {n.split("-")[0] for n in NAMES}
    assert set(sub.choices) == covered  # type: ignore[union-attr]


def test_bundle_fingerprint_mismatch_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real (tiny) bundle evaluated on other data: refused with error:, exit 2.
    out = tmp_path / "b"
    sets = [
        "data.synthetic.preset=tiny",
        "model.kind=two_tower",
        "model.dim=8",
        "model.hidden=[8]",
        "model.field_dim=4",
        "train.epochs=1",
        "train.progress=false",
    ]
    argv = ["train", "--out", str(out)] + [x for s in sets for x in ("--set", s)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["evaluate", "--bundle", str(out), "--set", "data.seed=5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "fingerprint" in err and "Traceback" not in err
    assert main(["evaluate", "--bundle", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "two_tower"


def test_stats_with_config_keeps_the_item_features(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``stats --config`` reads the same [data.csv] as ``train``: item features included, the
    same fingerprint (before, stats took no --config and silently dropped them)."""
    (tmp_path / "i.csv").write_text(
        "u,it\n" + "".join(f"u{k % 7},m{k % 5}\n" for k in range(40)), encoding="utf-8"
    )
    (tmp_path / "items.csv").write_text("it,genre\nm0,a\nm1,b\nm2,a\n", encoding="utf-8")
    cfg = tmp_path / "own.toml"
    cfg.write_text(
        f'[data]\ndataset = "csv"\ndata_dir = "{tmp_path}"\n[data.csv]\ninteractions = "i.csv"\n'
        'user_col = "u"\nitem_col = "it"\nitem_features = "items.csv"\nitem_key = "it"\n',
        encoding="utf-8",
    )
    assert main(["stats", "--config", str(cfg)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["item_features"] == ["item_id", "genre"]
    assert main(["evaluate", "--baseline", "popularity", "--config", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"] == doc["fingerprint"]


def test_demo_refuses_a_busy_port_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        # A config that would fail if it were read: the port check comes first.
        rc = main(["demo", "--port", str(port), "--config", str(tmp_path / "absent.toml")])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"error: port {port} is in use" in err


def test_demo_port_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "99999")
    assert main(["demo"]) == 2
    assert "error: PORT: must be in 1..65535" in capsys.readouterr().err
