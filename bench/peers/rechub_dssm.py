"""torch-rechub's DSSM on ML-1M, timed two ways; run by ``bench/train_speed.py`` with the
interpreter of the peer's own virtual environment (``bench/peers/setup.sh``), so it imports
nothing of this project.

    .venv-peers/rechub/bin/python bench/peers/rechub_dssm.py --data-dir DIR --steps N --batch B

Prints one JSON object: examples/second of ``N`` steps of batch ``B``

* ``as_shipped``: the library's ``MatchTrainer.train_one_epoch`` (in-batch negatives, its
  cross-entropy over them) over its ``MatchDataGenerator`` DataLoader, the way its ML-1M example
  trains (``num_workers=0``: its default of 8 workers on a 2-core machine only adds processes);
* ``plain_loop``: the same DSSM module in a loop over pre-built tensors (index slices, the
  towers, the same in-batch cross-entropy, Adam), i.e. the model without the library's loop.

Features mirror this project's ML-1M fields: user_id, gender, age, occupation, zip prefix (sparse)
for the user tower; movie_id, year bucket (sparse), genres and title tokens (mean-pooled
sequences) for the item tower; embedding dim 32, MLP [256, 128, 64], as the project's towers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch_rechub.basic.features import SequenceFeature, SparseFeature
from torch_rechub.models.matching import DSSM
from torch_rechub.trainers import MatchTrainer
from torch_rechub.utils.data import MatchDataGenerator

USER_FIELDS = ["user_id", "gender", "age", "occupation", "zip_prefix"]


def _codes(values: list[str]) -> np.ndarray:
    vocab = {v: i + 1 for i, v in enumerate(sorted(set(values)))}  # 0 = padding / unknown
    return np.asarray([vocab[v] for v in values], dtype=np.int64)


def _padded(rows: list[list[str]], width: int) -> np.ndarray:
    vocab = {v: i + 1 for i, v in enumerate(sorted({v for r in rows for v in r}))}
    out = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids = [vocab[v] for v in r][:width]
        out[i, : len(ids)] = ids
    return out


def load(data_dir: Path, n: int) -> dict[str, np.ndarray]:
    """The first ``n`` ratings as one row each, with the user's and the movie's features."""
    users: dict[str, list[str]] = {}
    for line in (data_dir / "users.dat").read_text(encoding="latin-1").splitlines():
        uid, gender, age, occ, zipc = line.split("::")
        users[uid] = [uid, gender, age, occ, zipc[:2]]
    movies: dict[str, tuple[str, str, list[str], list[str]]] = {}
    for line in (data_dir / "movies.dat").read_text(encoding="latin-1").splitlines():
        mid, title, genres = line.split("::")
        m = re.search(r"\((\d{4})\)\s*$", title)
        year = m.group(1)[:3] if m else "?"
        tokens = re.findall(r"[a-z0-9]+", title.lower())
        movies[mid] = (mid, year, genres.split("|"), tokens)
    rows_u, rows_m = [], []
    with (data_dir / "ratings.dat").open(encoding="latin-1") as f:
        for line in f:
            uid, mid = line.split("::")[:2]
            rows_u.append(users[uid])
            rows_m.append(movies[mid])
            if len(rows_u) >= n:
                break
    x = {name: _codes([r[j] for r in rows_u]) for j, name in enumerate(USER_FIELDS)}
    x["movie_id"] = _codes([m[0] for m in rows_m])
    x["year_bucket"] = _codes([m[1] for m in rows_m])
    x["genres"] = _padded([m[2] for m in rows_m], 6)
    x["title_tokens"] = _padded([m[3] for m in rows_m], 12)
    return x


def build(x: dict[str, np.ndarray]) -> DSSM:
    def vocab(name: str) -> int:
        return int(x[name].max()) + 1

    user = [SparseFeature(n, vocab(n), embed_dim=32) for n in USER_FIELDS]
    item = [SparseFeature(n, vocab(n), embed_dim=32) for n in ["movie_id", "year_bucket"]]
    item += [
        SequenceFeature(n, vocab(n), embed_dim=32, pooling="mean", padding_idx=0)
        for n in ["genres", "title_tokens"]
    ]
    params = {"dims": [256, 128, 64], "activation": "relu", "dropout": 0.0}
    return DSSM(user, item, user_params=params, item_params=params, temperature=1.0)


def as_shipped(x: dict[str, np.ndarray], steps: int, batch: int) -> float:
    torch.manual_seed(0)
    model = build(x)
    trainer = MatchTrainer(
        model,
        mode=0,
        in_batch_neg=True,
        optimizer_params={"lr": 1e-3, "weight_decay": 1e-5},
        n_epoch=1,
        model_path="/tmp",
    )
    y = np.ones(steps * batch, dtype=np.float32)
    gen = MatchDataGenerator(x=x, y=y)
    probe = {k: v[:batch] for k, v in x.items()}  # the test / item loaders, unused here
    loader, _, _ = gen.generate_dataloader(probe, probe, batch_size=batch, num_workers=0)
    start = time.perf_counter()
    trainer.train_one_epoch(loader)
    return steps * batch / (time.perf_counter() - start)


def plain_loop(x: dict[str, np.ndarray], steps: int, batch: int) -> float:
    torch.manual_seed(0)
    model = build(x)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    tensors = {k: torch.as_tensor(v) for k, v in x.items()}
    n = steps * batch
    perm = torch.randperm(n)
    target = torch.arange(batch)
    model.train()
    start = time.perf_counter()
    for s in range(steps):
        idx = perm[s * batch : (s + 1) * batch]
        xb = {k: v[idx] for k, v in tensors.items()}
        u, v = model.user_tower(xb), model.item_tower(xb)  # [B, 64] each
        loss = F.cross_entropy(u @ v.T, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return n / (time.perf_counter() - start)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x = load(args.data_dir, args.steps * args.batch)
    import torch_rechub

    out = {
        "as_shipped": as_shipped(x, args.steps, args.batch),
        "plain_loop": plain_loop(x, args.steps, args.batch),
        "version": getattr(torch_rechub, "__version__", "?"),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
