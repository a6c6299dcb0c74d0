"""Leave-one-out split of a dataset into training, validation and test interactions.

Protocol (docs/protocol.md):

- With timestamps: temporal leave-one-out per user. Interactions are stably sorted by
  (user, timestamp), ties keeping the file's order; the last is the test item, the second last the
  validation item, the rest is training.
- Without timestamps: seeded random leave-one-out per user (``np.random.default_rng(seed)``), same
  roles.
- Users with fewer than 3 interactions stay entirely in training.

Duplicate (user, item) pairs are kept as they come: each occurrence is one interaction. So a user's
held-out item can also occur in that user's training interactions (never the same interaction).
The evaluator never excludes the target itself from its ranking, so such a target is still ranked.

Everything is vectorised (one sort over all interactions, no per-user Python loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from training.data.dataset import Dataset

MIN_INTERACTIONS_TO_HOLD_OUT = 3

Role = Literal["valid", "test"]


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Split:
    """Training interactions plus one validation and one test item per eligible user.

    ``train_users``/``train_items`` (int64 ``[n_train]``) are the training interactions in the
    file's order. ``valid_users``/``valid_items`` and ``test_users``/``test_items`` (int64
    ``[n_eligible]``) hold one item per eligible user, users ascending; the two user arrays are
    equal.

    ``held_back_users``/``held_back_items`` are training interactions removed by
    :meth:`with_train_fraction` (empty otherwise). They are not trained on, but are still excluded
    from the ranking, so that the evaluation task is the same at every training fraction.
    """

    train_users: np.ndarray
    train_items: np.ndarray
    valid_users: np.ndarray
    valid_items: np.ndarray
    test_users: np.ndarray
    test_items: np.ndarray
    n_users: int
    n_items: int
    held_back_users: np.ndarray = field(default_factory=_empty)
    held_back_items: np.ndarray = field(default_factory=_empty)

    def __post_init__(self) -> None:
        pairs = (
            ("train", self.train_users, self.train_items),
            ("valid", self.valid_users, self.valid_items),
            ("test", self.test_users, self.test_items),
            ("held_back", self.held_back_users, self.held_back_items),
        )
        for name, users, items in pairs:
            for arr, what in ((users, "users"), (items, "items")):
                if not isinstance(arr, np.ndarray) or arr.dtype != np.int64 or arr.ndim != 1:
                    raise ValueError(f"Split.{name}_{what} must be a 1-d int64 array")
            if len(users) != len(items):
                raise ValueError(
                    f"Split.{name}_users and {name}_items differ in length "
                    f"({len(users)} vs {len(items)})"
                )
            if len(users) and (users.min() < 0 or users.max() >= self.n_users):
                raise ValueError(f"Split.{name}_users: user index outside [0, {self.n_users})")
            if len(items) and (items.min() < 0 or items.max() >= self.n_items):
                raise ValueError(f"Split.{name}_items: item index outside [0, {self.n_items})")
        if not np.array_equal(self.valid_users, self.test_users):
            raise ValueError("Split.valid_users and Split.test_users must be the same users")

    @property
    def n_train(self) -> int:
        return len(self.train_users)

    def eval_users(self, role: Role) -> np.ndarray:
        """Users with a held-out item for ``role`` (int64, ascending)."""
        return self.valid_users if _check_role(role) == "valid" else self.test_users

    def targets(self, role: Role) -> np.ndarray:
        """The held-out item of each of :meth:`eval_users` (int64)."""
        return self.valid_items if _check_role(role) == "valid" else self.test_items

    def with_train_fraction(self, frac: float, seed: int) -> Split:
        """Keep a seeded random ``round(frac * n_train)`` of the training interactions.

        For data-size sweeps: validation and test items are unchanged, kept interactions stay in
        file order, and the dropped ones move to ``held_back_*`` (still excluded from ranking).
        """
        if not 0.0 < frac <= 1.0:
            raise ValueError(f"train_fraction must be in (0, 1], got {frac}")
        if frac == 1.0:
            return self
        n = self.n_train
        n_keep = int(np.floor(frac * n + 0.5))
        rng = np.random.default_rng(seed)
        keep = np.zeros(n, dtype=bool)
        keep[rng.permutation(n)[:n_keep]] = True
        return replace(
            self,
            train_users=self.train_users[keep],
            train_items=self.train_items[keep],
            held_back_users=np.concatenate([self.held_back_users, self.train_users[~keep]]),
            held_back_items=np.concatenate([self.held_back_items, self.train_items[~keep]]),
        )

    def exclusion_csr(self, role: Role) -> tuple[np.ndarray, np.ndarray]:
        """Items to exclude from each user's ranking, as CSR ``(indptr [n_users+1], indices)``.

        Training items (including held-back ones) for both roles; for ``test`` also the validation
        item. Row ``u`` is ``indices[indptr[u]:indptr[u+1]]`` (may hold duplicates; unsorted).
        """
        parts_u = [self.train_users, self.held_back_users]
        parts_i = [self.train_items, self.held_back_items]
        if _check_role(role) == "test":
            parts_u.append(self.valid_users)
            parts_i.append(self.valid_items)
        users = np.concatenate(parts_u)
        items = np.concatenate(parts_i)
        order = np.argsort(users, kind="stable")
        indptr = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(users, minlength=self.n_users), out=indptr[1:])
        return indptr, items[order]


def _check_role(role: str) -> str:
    if role not in ("valid", "test"):
        raise ValueError(f"role must be 'valid' or 'test', got {role!r}")
    return role


def make_split(ds: Dataset, seed: int) -> Split:
    """Split ``ds`` by leave-one-out: temporal with timestamps, seeded random without."""
    users = np.asarray(ds.users, dtype=np.int64)
    items = np.asarray(ds.items, dtype=np.int64)
    n = len(users)
    if n and (users.min() < 0 or users.max() >= ds.n_users):
        raise ValueError(f"{ds.name}: interaction user index outside [0, {ds.n_users})")
    if n and (items.min() < 0 or items.max() >= ds.n_items):
        raise ValueError(f"{ds.name}: interaction item index outside [0, {ds.n_items})")

    # order: interaction positions sorted by user, then by the within-user key; np.lexsort sorts
    # by the last key first and is stable, so equal keys keep the file's order.
    if ds.timestamps is not None:
        order = np.lexsort((np.asarray(ds.timestamps, dtype=np.int64), users))
    else:
        rng = np.random.default_rng(seed)
        order = np.lexsort((rng.random(n), users))

    counts = np.bincount(users, minlength=ds.n_users)  # [n_users]
    ends = np.cumsum(counts) - 1  # position in `order` of each user's last interaction
    eligible = np.flatnonzero(counts >= MIN_INTERACTIONS_TO_HOLD_OUT).astype(np.int64)
    test_pos = order[ends[eligible]]  # original positions of the held-out interactions
    valid_pos = order[ends[eligible] - 1]

    train = np.ones(n, dtype=bool)
    train[test_pos] = False
    train[valid_pos] = False
    return Split(
        train_users=users[train],
        train_items=items[train],
        valid_users=eligible,
        valid_items=items[valid_pos],
        test_users=eligible.copy(),
        test_items=items[test_pos],
        n_users=ds.n_users,
        n_items=ds.n_items,
    )
