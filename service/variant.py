"""A variant: a serving bundle plus its options (λ_p for MIRec), and the recommendation itself.

Rules (see service/README.md):

- a known user (``user_id`` in the bundle) is embedded from the bundle's own feature row; the
  request's ``features`` are still checked against the bundle's fields (a typo is a 422 whatever
  the user) but not used;
- an unknown user is embedded from the request's ``features`` alone (cold start), never an error;
- a known user's own interactions (the bundle's ``user_history``, when it has one) are excluded,
  as are the request's ``history`` and ``exclude``; ids that are not in this bundle's catalogue
  are ignored (they may belong to another bundle);
- λ_p: the request's override, else the variant's configured value, else the bundle manifest's.
  Only MIRec bundles have a λ_p; an override for any other kind is a 422.
- a known user at the variant's λ_p is answered from the variant's precomputed exact answers
  where it has them (service/known_answers.py), the request's ``history`` / ``exclude`` removed
  from them: the same items the exact index returns, without a search; a request whose
  exclusions leave fewer than ``k`` of them searches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from service.known_answers import KnownAnswers
from service.serving_bundle import ServingBundle


class LambdaNotApplicable(ValueError):
    """A λ_p override for a variant whose bundle is not MIRec."""


@dataclass(frozen=True)
class Recommendation:
    item_ids: tuple[str, ...]
    rows: tuple[int, ...]  # the items' rows in the bundle (what the exposure store keeps)
    scores: tuple[float, ...]
    tail: tuple[bool, ...]
    cold_start: bool
    lambda_p: float | None


@dataclass(frozen=True, eq=False)
class Variant:
    name: str
    serving: ServingBundle
    lambda_p: float | None  # the variant's default; None unless the bundle is MIRec
    answers: KnownAnswers | None = None  # known users' exact answers at ``lambda_p``

    @property
    def model_version(self) -> str:
        return self.serving.model_version

    def _excluded(self, ids: Sequence[str], user_idx: int | None) -> np.ndarray | None:
        """Bundle indices never to return: the request's ids in this catalogue, plus a known
        user's own history; None when there are none (the common fast path)."""
        history = self.serving.bundle.user_history
        own = None
        if user_idx is not None and history is not None:
            indptr, items = history
            own = items[indptr[user_idx] : indptr[user_idx + 1]]
        if not ids:
            return own if own is not None and len(own) else None
        asked = self._asked(ids)
        return asked if own is None else np.union1d(asked, own)

    def _asked(self, ids: Sequence[str]) -> np.ndarray:
        """The bundle indices of the request's ``ids`` that are in this catalogue (int64)."""
        pos = self.serving.item_pos
        return np.fromiter({p for p in (pos.get(i) for i in ids) if p is not None}, dtype=np.int64)

    def recommend(
        self,
        user_id: str,
        k: int,
        *,
        history: Sequence[str] = (),
        exclude: Sequence[str] = (),
        features: Mapping[str, str | list[str]] | None = None,
        lambda_p: float | None = None,
    ) -> Recommendation:
        sb = self.serving
        raw = dict(features or {})
        sb.features.check(raw)  # UnknownFeature names the field
        if lambda_p is not None and self.lambda_p is None:
            raise LambdaNotApplicable(
                f"lambda_p applies to MIRec bundles only; variant {self.name!r} serves a "
                f"{sb.kind!r} bundle"
            )
        lam = self.lambda_p if lambda_p is None else float(lambda_p)
        user_idx = sb.user_pos.get(user_id)
        answers = self.answers
        answered = None
        if (
            answers is not None
            and user_idx is not None
            and lam == answers.lambda_p
            and k <= answers.depth
        ):
            asked = self._asked([*history, *exclude]) if history or exclude else None
            answered = answers.top(user_idx, k, asked)
        if answered is not None:
            found_ids, found_scores = answered
        else:
            if user_idx is None:
                query = sb.cold_query(raw, lam)
            else:
                query = sb.known_query(user_idx, lam)
            found = sb.index.search(query, k, self._excluded([*history, *exclude], user_idx))
            found_ids, found_scores = found.ids, found.scores
        ids = sb.bundle.item_ids
        rows = found_ids.tolist()  # Python ints: indexing a list with numpy scalars is slower
        return Recommendation(
            item_ids=tuple([ids[i] for i in rows]),
            rows=tuple(rows),
            scores=tuple(found_scores.tolist()),
            tail=tuple(sb.bundle.is_tail[found_ids].tolist()),
            cold_start=user_idx is None,
            lambda_p=lam,
        )
