"""The curricula of MIRec (methods.md): which interactions each of the two phases trains on.

- ``ltcur`` (the paper's): phase 1 on Ω* (all training interactions, the many-shot model θ*),
  phase 2 on Ω(k) (head items cut to k, redrawn every epoch; the few-shot model θ and F).
- ``head2tail``: phase 1 on head-item interactions, phase 2 on tail-item interactions.
- ``tail2head``: the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from training.protocol.prepared import Prepared
from training.trainers.omega import omega_k_mask, slice_mask

Pairs = tuple[np.ndarray, np.ndarray]  # (users int64 [n], items int64 [n])


@dataclass(frozen=True)
class Curriculum:
    name: str
    phase1: Pairs
    phase2: Callable[[int], Pairs]  # epoch -> that epoch's phase-2 interactions


def build_curriculum(name: str, p: Prepared, seed: int) -> Curriculum:
    users, items = p.split.train_users, p.split.train_items
    is_tail = p.headtail.is_tail
    if name == "ltcur":

        def omega_k(epoch: int) -> Pairs:
            # Ω(k) is redrawn every epoch from a seed derived from (seed, epoch).
            m = omega_k_mask(items, is_tail, p.headtail.k, np.random.default_rng([seed, epoch]))
            return users[m], items[m]

        return Curriculum(name, (users, items), omega_k)
    first, second = ("head", "tail") if name == "head2tail" else ("tail", "head")
    if name not in ("head2tail", "tail2head"):
        raise ValueError(f"mirec.curriculum: unknown curriculum {name!r}")
    m1, m2 = slice_mask(items, is_tail, first), slice_mask(items, is_tail, second)
    p2 = (users[m2], items[m2])
    return Curriculum(name, (users[m1], items[m1]), lambda epoch: p2)
