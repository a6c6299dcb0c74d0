"""``make bench``: every benchmark in turn, each writing docs/benchmarks/<name>.{json,md}."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The serving benchmark measures recall on a trained 100k bundle (trained once, then reused).
BENCHES = {"train_speed.py": [], "serving.py": ["--train-synthetic"]}


def main() -> int:
    failed = []
    for name, extra in BENCHES.items():
        path = ROOT / "bench" / name
        if not path.exists():
            print(f"skip {name}: not present")
            continue
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(path), *extra], cwd=ROOT).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
