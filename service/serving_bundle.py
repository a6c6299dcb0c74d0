"""One loaded bundle ready to serve: verified files, FAISS index, query encoder, lookups.

Variants that name the same bundle directory with the same index options share one
``ServingBundle`` (one copy of the embeddings and the index), differing only in λ_p.

Known users: their query vectors are precomputed at load time (up to ``precompute_users_max``
users), so serving a known user runs no torch at all. For MIRec two matrices are kept,
``A = q(λ_p=1) = [u*, 0]`` and ``B = q(λ_p=0) = [0, F_u(u)]``; any λ_p is then exactly
``λ_p·A + (1−λ_p)·B = [λ_p·u*, (1−λ_p)·F_u(u)]``, so a per-request λ_p override stays cheap.
Above the limit (or for cold users) the bundle's query tower runs per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.bundle import Bundle, load_bundle
from models.kinds import get_kind
from models.query_encoder import QueryEncoder
from service.cold_start import ColdStartFeatures
from service.exposure.shown import catalogue_id
from service.known_answers import KnownAnswers, compute_known_answers
from service.recall import RecallReport, measure_recall
from service.settings import IndexOptions
from service.split_index import AnyIndex, build_item_index

_ENCODE_BATCH = 4096


@dataclass(frozen=True, eq=False)
class ServingBundle:
    path: Path
    bundle: Bundle
    index: AnyIndex
    encoder: QueryEncoder
    features: ColdStartFeatures
    item_pos: dict[str, int]
    user_pos: dict[str, int]
    catalogue: frozenset[str]
    catalogue_id: int  # service.exposure.shown.catalogue_id: names these rows in shown lists
    known_a: np.ndarray | None  # precomputed queries of known users (see module docstring)
    known_b: np.ndarray | None  # MIRec only
    recall: RecallReport | None

    @property
    def kind(self) -> str:
        return self.bundle.kind

    @property
    def model_version(self) -> str:
        return self.bundle.model_version

    @property
    def n_items(self) -> int:
        return self.bundle.n_items

    def known_query(self, user_idx: int, lambda_p: float | None) -> np.ndarray:
        """``float32 [index_dim]`` query of a known user."""
        if self.known_a is not None and user_idx < len(self.known_a):
            if self.known_b is None:
                return self.known_a[user_idx]
            assert lambda_p is not None
            lam = np.float32(lambda_p)
            return lam * self.known_a[user_idx] + (np.float32(1.0) - lam) * self.known_b[user_idx]
        return self.encoder.encode_known(np.array([user_idx], dtype=np.int64), lambda_p)[0]

    def cold_query(self, raw: dict[str, str | list[str]], lambda_p: float | None) -> np.ndarray:
        return self.encoder.encode(self.features.batch(raw), lambda_p)[0]

    def known_answers(self, lambda_p: float | None, depth: int) -> KnownAnswers | None:
        """Every known user's exact top-``depth`` at ``lambda_p`` (service/known_answers.py), or
        None where they would not be what the index serves (an approximate index) or the
        queries are not precomputed."""
        if self.index.kind != "flat" or self.known_a is None:
            return None
        if self.known_b is None:
            queries = self.known_a
        else:
            lam = np.float32(lambda_p)
            queries = lam * self.known_a + (np.float32(1.0) - lam) * self.known_b
        return compute_known_answers(
            queries, self.bundle.embeddings, self.bundle.user_history, depth, lambda_p
        )


def _encode_all(encoder: QueryEncoder, n: int, lambda_p: float | None) -> np.ndarray:
    parts = [
        encoder.encode_known(np.arange(s, min(n, s + _ENCODE_BATCH), dtype=np.int64), lambda_p)
        for s in range(0, n, _ENCODE_BATCH)
    ]
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _recall_queries(
    bundle: Bundle,
    encoder: QueryEncoder,
    a: np.ndarray | None,
    b: np.ndarray | None,
    n: int,
    seed: int,
) -> np.ndarray:
    """Queries of up to ``n`` random known users at the bundle's λ_p."""
    users = len(bundle.user_ids)
    pick = np.sort(np.random.default_rng(seed).choice(users, size=min(n, users), replace=False))
    if a is not None and b is None:
        return a[pick]
    if a is not None and b is not None:
        lam = np.float32(bundle.lambda_p)
        return lam * a[pick] + (1 - lam) * b[pick]
    return encoder.encode_known(pick)


def load_serving_bundle(
    path: Path,
    options: IndexOptions,
    *,
    precompute_users_max: int,
    threads: int = 1,
) -> ServingBundle:
    """Load, verify and index a bundle (raises ``BundleError`` naming the file on a bad one).

    CPU-heavy: the service runs it in a worker thread, never on the event loop.
    """
    bundle = load_bundle(path, verify=True)
    encoder = bundle.query_encoder()
    n_users = len(bundle.user_ids)
    a = b = None
    if 0 < n_users <= precompute_users_max:
        with torch.inference_mode():
            if get_kind(bundle.kind).has_lambda_p:  # both ends of the λ_p blend
                a = _encode_all(encoder, n_users, 1.0)
                b = _encode_all(encoder, n_users, 0.0)
            else:
                a = _encode_all(encoder, n_users, None)
    index = build_item_index(bundle.embeddings, options, bundle.is_tail, threads=threads)
    recall = None
    if index.kind != "flat" and options.recall_queries > 0 and n_users > 0:
        queries = _recall_queries(bundle, encoder, a, b, options.recall_queries, options.seed)
        recall = measure_recall(
            index, bundle.embeddings, queries, bundle.is_tail, options.recall_k, threads
        )
    return ServingBundle(
        path=path,
        bundle=bundle,
        index=index,
        encoder=encoder,
        features=ColdStartFeatures(bundle.user_table),
        item_pos={item: i for i, item in enumerate(bundle.item_ids)},
        user_pos={user: i for i, user in enumerate(bundle.user_ids)},
        catalogue=frozenset(bundle.item_ids),
        catalogue_id=catalogue_id(bundle.item_ids),
        known_a=a,
        known_b=b,
        recall=recall,
    )
