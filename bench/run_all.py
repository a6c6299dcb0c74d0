"""``make bench``: every benchmark in turn, each writing docs/benchmarks/<name>.{json,md}."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ["train_speed.py", "serving.py"]


def main() -> int:
    failed = []
    for name in BENCHES:
        path = ROOT / "bench" / name
        if not path.exists():
            print(f"skip {name}: not present")
            continue
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(path)], cwd=ROOT).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
