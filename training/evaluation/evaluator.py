"""Full-ranking evaluation of any scorer over the whole catalogue (docs/protocol.md).

For each evaluated user (those with a held-out item for the role), in batches of ``batch_size``:

1. ``scores = scorer(users)``: float ``[B, n_items]`` (numpy or torch; copied, never modified).
2. The user's training items (and for ``test`` the validation item) are set to -inf. The target
   itself is never excluded: it can be one of them only when the data has duplicate (user, item)
   pairs (see training/protocol/split.py), and then it is still ranked with its own score.
3. rank = 1 + #(items scoring above the target) + #(other items scoring equal to the target)
   = #(items j with score_j >= score_target), the target included. Ties are broken against the
   target, so a constant scorer gets the worst rank, the number of non-excluded items.
4. The top-K list (for exposure) is ``torch.topk`` of the masked scores; entries whose score is
   -inf (excluded, or a scorer's own -inf) are never recommended and become padding (-1), which
   only happens when a user has fewer than K rankable items. Among equal scores topk's choice is
   arbitrary; it does not affect accuracy metrics, which use the tie rule above.

Memory per batch: the score copy (4 * B * n_items bytes) plus a bool mask of the same shape, so a
100k-item catalogue at B = 256 needs about 130 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from training.evaluation.exposure import exposure_metrics
from training.evaluation.metrics import ranking_metrics
from training.protocol import DEFAULT_KS, SLICES
from training.protocol.headtail import HeadTail
from training.protocol.split import Role, Split

# A batch of user indices (int64 [B]) -> scores over the whole catalogue (float [B, n_items]).
Scorer = Callable[[np.ndarray], np.ndarray | torch.Tensor]


@dataclass(frozen=True)
class EvalResult:
    """Metrics of one evaluation.

    ``metrics[slice]["HR@10" | "NDCG@10" | "MAP@10" | ...]`` for slice in all / head / tail (by the
    popularity of the held-out item); ``exposure["coverage@K" | "tail_share@K" | "arp@K" |
    "gini@K"]`` over all evaluated users; ``n_users[slice]``. ``ranks`` (int64, aligned with
    ``Split.eval_users(role)``) is kept for further analysis but not serialised.
    """

    role: str
    ks: tuple[int, ...]
    metrics: dict[str, dict[str, float]]
    exposure: dict[str, float]
    n_users: dict[str, int]
    ranks: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "ks": list(self.ks),
            "n_users": dict(self.n_users),
            "metrics": {s: dict(m) for s, m in self.metrics.items()},
            "exposure": dict(self.exposure),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvalResult:
        for key in ("metrics", "exposure"):
            if key not in d:
                raise ValueError(f"evaluation result has no {key!r} key")
        return cls(
            role=str(d.get("role", "test")),
            ks=tuple(int(k) for k in d.get("ks", DEFAULT_KS)),
            metrics={s: {n: float(v) for n, v in m.items()} for s, m in d["metrics"].items()},
            exposure={n: float(v) for n, v in d["exposure"].items()},
            n_users={s: int(v) for s, v in d.get("n_users", {}).items()},
        )


def _as_scores(raw: np.ndarray | torch.Tensor, users: np.ndarray, n_items: int) -> torch.Tensor:
    """A float32 copy of the scorer's output, checked for shape and NaN."""
    if isinstance(raw, torch.Tensor):
        scores = raw.detach().to(dtype=torch.float32, copy=True)
    else:
        scores = torch.from_numpy(np.asarray(raw).astype(np.float32, copy=True))
    if tuple(scores.shape) != (len(users), n_items):
        raise ValueError(
            f"scorer returned scores of shape {tuple(scores.shape)} for {len(users)} users; "
            f"expected ({len(users)}, {n_items})"
        )
    bad = torch.isnan(scores).any(dim=1).cpu().numpy()
    if bad.any():
        shown = users[bad][:5].tolist()
        raise ValueError(
            f"scorer returned NaN scores for {int(bad.sum())} user(s), e.g. user indices {shown}"
        )
    return scores


def _gather_csr(
    indptr: np.ndarray, indices: np.ndarray, users: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the CSR rows of ``users``: (batch row, column) pairs, int64 ``[nnz]`` each."""
    starts = indptr[users]  # [B]
    lengths = indptr[users + 1] - starts  # [B]
    rows = np.repeat(np.arange(len(users), dtype=np.int64), lengths)
    out_starts = np.cumsum(lengths) - lengths  # where each row begins in the output
    pos = np.arange(int(lengths.sum()), dtype=np.int64) - out_starts[rows] + starts[rows]
    return rows, indices[pos]


def _check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    out = tuple(int(k) for k in ks)
    if not out or min(out) < 1:
        raise ValueError(f"ks must be a non-empty list of positive cut-offs, got {list(ks)}")
    return out


def sample_positions(n: int, max_users: int | None, seed: int) -> np.ndarray | None:
    """Sorted positions (int64, into ``split.eval_users(role)``) of at most ``max_users`` of the
    ``n`` evaluated users, drawn without replacement with ``seed``; None when all are kept."""
    if max_users is None or max_users >= n:
        return None
    if max_users < 1:
        raise ValueError(f"max_users must be >= 1, got {max_users}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_users, replace=False)).astype(np.int64)


def rank_targets(
    scorer: Scorer,
    split: Split,
    role: Role = "test",
    k: int = max(DEFAULT_KS),
    batch_size: int = 256,
    positions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full ranking for every user with a ``role`` item (steps 1-4 of the module docstring), or
    for those at ``positions`` of ``split.eval_users(role)`` only.

    Returns ``ranks`` (int64 ``[n]``, 1-based rank of each held-out item) and ``topk`` (int64
    ``[n, k]``, best first, -1 = padding), aligned with ``split.eval_users(role)`` (or its
    ``positions``).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n_items = split.n_items
    users = split.eval_users(role)
    targets = split.targets(role)
    if positions is not None:
        users, targets = users[positions], targets[positions]
    indptr, indices = split.exclusion_csr(role)
    n = len(users)
    k_take = min(k, n_items)
    ranks = np.empty(n, dtype=np.int64)
    topk = np.full((n, k), -1, dtype=np.int64)  # -1 = padding

    with torch.no_grad():
        for start in range(0, n, batch_size):
            b_users = users[start : start + batch_size]
            scores = _as_scores(scorer(b_users), b_users, n_items)  # [B, n_items]
            device = scores.device
            b = len(b_users)
            arange = torch.arange(b, device=device)
            tgt = torch.from_numpy(targets[start : start + b]).to(device)  # [B]
            tgt_score = scores[arange, tgt].clone()  # [B]
            rows, cols = _gather_csr(indptr, indices, b_users)
            scores[
                torch.from_numpy(rows).to(device), torch.from_numpy(cols).to(device)
            ] = -torch.inf
            scores[arange, tgt] = tgt_score  # the target is never excluded
            ranks[start : start + b] = (scores >= tgt_score[:, None]).sum(dim=1).cpu().numpy()
            values, idx = torch.topk(scores, k_take, dim=1)  # [B, k_take], best first
            idx[values == -torch.inf] = -1
            topk[start : start + b, :k_take] = idx.cpu().numpy()
    return ranks, topk


def evaluate(
    scorer: Scorer,
    split: Split,
    headtail: HeadTail,
    role: Role = "test",
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 256,
    max_users: int | None = None,
    seed: int = 0,
) -> EvalResult:
    """Rank every item for every user with a ``role`` item; return metrics and exposure.

    ``max_users``: rank only a sample of that many of those users (``sample_positions`` with
    ``seed``; the same sample for the same arguments)."""
    ks_t = _check_ks(ks)
    if headtail.n_items != split.n_items:
        raise ValueError(f"head/tail covers {headtail.n_items} items, the split {split.n_items}")
    targets = split.targets(role)
    positions = sample_positions(len(targets), max_users, seed)
    ranks, topk = rank_targets(scorer, split, role, max(ks_t), batch_size, positions)
    if positions is not None:
        targets = targets[positions]
    tail = headtail.is_tail[targets]  # [n] slice of each user by the held-out item
    n = len(ranks)
    masks = {"all": np.ones(n, dtype=bool), "head": ~tail, "tail": tail}
    return EvalResult(
        role=role,
        ks=ks_t,
        metrics={s: ranking_metrics(ranks[masks[s]], ks_t) for s in SLICES},
        exposure=exposure_metrics(topk, headtail, ks_t),
        n_users={s: int(masks[s].sum()) for s in SLICES},
        ranks=ranks,
    )
