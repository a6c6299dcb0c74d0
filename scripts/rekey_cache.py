"""Rename cached run records to the current run key (python scripts/rekey_cache.py DIR...).

A run's cache file is ``<variant>-s<seed>-<run_key>.json``; when ``run_key`` changes (a new
option joins ``training/experiment.py:ADDED_OPTIONS``), records written before keep their old
name and ``--cached-only`` no longer finds them. The key is recomputed from each record's stored
resolved config; records already under the right name are left alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from training.config import config_from_dict
from training.experiment import run_key


def rekey(folder: Path) -> int:
    moved = 0
    for f in sorted(folder.glob("*-s*-*.json")):
        rec = json.loads(f.read_text())
        if "config" not in rec or "variant" not in rec:
            continue
        name = f"{rec['variant']}-s{rec['seed']}-{run_key(config_from_dict(rec['config']))}.json"
        if f.name != name:
            f.rename(f.with_name(name))
            moved += 1
    return moved


if __name__ == "__main__":
    for d in sys.argv[1:]:
        print(f"{d}: {rekey(Path(d))} renamed")
