"""A Cornac model for the serving peer row of ``bench/serving_peers.py``; run with the interpreter
of Cornac's own virtual environment (``bench/peers/setup.sh``), so it imports nothing of this
project.

    .venv-peers/cornac/bin/python bench/peers/cornac_model.py --data-dir DIR --out DIR

Trains Cornac's BPR on every ML-1M rating (implicit feedback) with 128 latent factors, the width
of this project's ML-1M serving index (MIRec: 2 x 64), for one epoch: the serving cost depends on
the shapes (3,706 items x 128, ~165 seen items per user removed), not on how well it ranks. Saves
it with its train set (which Cornac's app needs for ``remove_seen``) in Cornac's own format, and
prints the model file's path. That format is Python pickle: it is written and read only inside the
peer's environment, under ``artifacts/bench/peers/``; nothing of this project loads it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cornac
from cornac.data import Reader
from cornac.eval_methods import BaseMethod
from cornac.models import BPR


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--factors", type=int, default=128)
    args = ap.parse_args()
    reader = Reader()
    data = reader.read(str(args.data_dir / "ratings.dat"), fmt="UIR", sep="::")
    data = [(u, i, 1.0) for u, i, _ in data]
    method = BaseMethod.from_splits(train_data=data, test_data=data[:1], exclude_unknowns=True)
    model = BPR(k=args.factors, max_iter=1, learning_rate=0.01, seed=0, verbose=False)
    model.fit(method.train_set)
    path = model.save(str(args.out), save_trainset=True)
    print(path)
    print(f"cornac {cornac.__version__}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
