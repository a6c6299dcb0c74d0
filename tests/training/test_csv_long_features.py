"""Issue 13 item 10: a long feature table (one row per item and tag) is grouped into one entity,
its multi-valued columns unioned; a single-valued column that differs within a key is an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.cli import main
from training.config import CsvConfig
from training.data.csv_source import load_csv
from training.data.errors import DataError

INTERACTIONS = "user,item\nalice,m1\nbob,m2\nalice,m3\ncarol,m1\n"
LONG = (
    "item,tag,studio,genre\n"
    "m1,funny,S1,comedy|drama\n"
    "m2,dark,S2,thriller\n"
    "m1,short,S1,comedy\n"  # m1 again: tag unioned, studio repeated identically
    "m1,funny,S1,\n"  # a duplicate tag is dropped
    "m2,long,S2,crime\n"
)


def _files(tmp_path: Path, items: str) -> Path:
    (tmp_path / "interactions.csv").write_text(INTERACTIONS)
    (tmp_path / "items.csv").write_text(items)
    return tmp_path


def _cfg(**kw: object) -> CsvConfig:
    base: dict[str, object] = dict(
        user_col="user",
        item_col="item",
        item_features="items.csv",
        item_key="item",
        item_multi=["tag", "genre"],
    )
    base.update(kw)
    return CsvConfig(**base)  # type: ignore[arg-type]


def _by_item(ds: object, field: str) -> dict[str, list[str]]:
    f = ds.item_features[field]  # type: ignore[attr-defined]
    return {i: f.row(r) for r, i in enumerate(ds.item_ids)}  # type: ignore[attr-defined]


def test_a_long_tag_table_is_grouped_per_item(tmp_path: Path) -> None:
    ds = load_csv(_files(tmp_path, LONG), _cfg())
    assert ds.item_features.names == ("item_id", "tag", "studio", "genre")
    assert _by_item(ds, "tag") == {"m1": ["funny", "short"], "m2": ["dark", "long"], "m3": []}
    assert _by_item(ds, "genre") == {
        "m1": ["comedy", "drama"],
        "m2": ["thriller", "crime"],
        "m3": [],
    }
    assert _by_item(ds, "studio") == {"m1": ["S1"], "m2": ["S2"], "m3": ["<unk>"]}


def test_a_differing_single_valued_column_names_column_key_and_line(tmp_path: Path) -> None:
    items = LONG + "m2,grim,S9,crime\n"  # line 7: m2's studio changes
    with pytest.raises(DataError) as e:
        load_csv(_files(tmp_path, items), _cfg())
    msg = str(e.value)
    assert "items.csv line 7" in msg and "'m2'" in msg and "'studio'" in msg
    assert "first on line 3" in msg and "csv.item_multi" in msg


def test_stats_groups_a_long_table_and_reports_a_conflict_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _files(tmp_path, LONG)
    sets = [
        "data.csv.user_col=user",
        "data.csv.item_col=item",
        "data.csv.item_features=items.csv",
        "data.csv.item_key=item",
        'data.csv.item_multi=["tag", "genre"]',
    ]
    args = ["stats", "--dataset", "csv", "--data-dir", str(tmp_path)]
    args += [a for s in sets for a in ("--set", s)]
    assert main(args) == 0
    assert '"tag"' in capsys.readouterr().out
    (tmp_path / "items.csv").write_text(LONG + "m2,grim,S9,crime\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "training", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, timeout=120)
    assert done.returncode == 2
    err = done.stderr
    assert "error:" in err and "'studio'" in err and "line 7" in err
    assert "Traceback" not in err
