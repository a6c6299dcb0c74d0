"""Claims verdicts: |Δ| against twice the standard error over seeds."""

from __future__ import annotations

import json
from pathlib import Path

from training.reporting.claims import compare, render, ssl_claims


def _row(variant: str, mean: float, std: float, n: int = 3) -> dict:
    m = {"mean": mean, "std": std}
    return {
        "variant": variant,
        "n_seeds": n,
        "metrics": {
            s: {k: m for k in ("HR@10", "HR@50", "NDCG@50")} for s in ("all", "head", "tail")
        },
    }


def test_verdicts_follow_the_standard_error() -> None:
    rows = {"a": _row("a", 0.30, 0.01), "b": _row("b", 0.20, 0.01), "c": _row("c", 0.205, 0.02)}
    assert compare(rows, "a", "b", "tail", "HR@50")["verdict"] == "clearly higher"
    assert compare(rows, "b", "a", "tail", "HR@50")["verdict"] == "clearly lower"
    # Δ = 0.005 against se = sqrt(0.01²/3 + 0.02²/3) ≈ 0.0129: within noise.
    c = compare(rows, "c", "b", "all", "HR@50")
    assert c["verdict"] == "no clear difference"
    assert abs(c["delta"] - 0.005) < 1e-12
    one = {"x": _row("x", 0.3, 0.0, 1), "y": _row("y", 0.2, 0.0, 1)}
    assert compare(one, "x", "y", "all", "HR@50")["verdict"].startswith("higher (1 seed")
    assert compare(rows, "a", "zzz", "all", "HR@50")["missing"]


def test_ssl_claims_render_from_a_results_file(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text(
        json.dumps(
            {
                "rows": [
                    _row("two_tower", 0.2, 0.01),
                    _row("ssl_cfm", 0.25, 0.01),
                    _row("ssl_rfm", 0.22, 0.01),
                ]
            }
        )
    )
    doc = ssl_claims(f, None)
    md = render(doc)
    assert "ssl_cfm 25.00 ± 1.00 vs two_tower 20.00 ± 1.00" in md
    assert "fd vs" not in md or "not measured" in md
