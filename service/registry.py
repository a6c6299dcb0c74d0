"""The loaded variants and the bucket -> variant map, swapped atomically on reload.

A ``Registry`` is immutable; a request takes ``holder.current`` once and uses that snapshot to
the end, so a reload can never serve half an old and half a new bundle. ``reload`` builds a
complete new registry in a worker thread (CPU-heavy: checksums, index build) while the old one
keeps serving, then swaps one reference. If any bundle is bad, nothing is swapped and the error
(naming the variant, the bundle path and the file) goes back to the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from models.bundle import BundleError
from models.kinds import get_kind, lambda_p_kinds
from service.known_answers import KnownAnswers
from service.serving_bundle import ServingBundle, load_serving_bundle
from service.settings import IndexOptions, ServiceSettings
from service.split_index import SplitIndex
from service.variant import Variant


class VariantLoadError(ValueError):
    """A variant whose bundle cannot be served; the message names variant, path and file."""

    def __init__(self, variant: str, message: str) -> None:
        super().__init__(f"variant {variant!r}: {message}")
        self.variant = variant


@dataclass(frozen=True, eq=False)
class Registry:
    variants: Mapping[str, Variant]
    bucket_variant: Mapping[str, str]
    bundle_paths: Mapping[str, Path]

    @cached_property
    def rows(self) -> dict[int, dict[str, int]]:
        """Catalogue id -> (item id -> row) of every loaded bundle: how clicks find their item
        among the rows a shown list keeps (service/exposure/shown.py)."""
        return {v.serving.catalogue_id: v.serving.item_pos for v in self.variants.values()}

    def for_bucket(self, bucket: str) -> Variant:
        return self.variants[self.bucket_variant[bucket]]

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, v in self.variants.items():
            sb = v.serving
            out[name] = {
                "bundle": str(self.bundle_paths[name]),
                "kind": sb.kind,
                "model_version": sb.model_version,
                "lambda_p": v.lambda_p,
                "n_items": sb.n_items,
                "index_dim": sb.index.dim,
                "index": sb.index.kind,
                # E.g. "hnsw head + flat tail" where tail items are indexed apart; else None.
                "index_parts": sb.index.describe() if isinstance(sb.index, SplitIndex) else None,
                "recall": sb.recall.as_dict() if sb.recall else None,
                # Known users answered without a search, up to this k (None: every request
                # searches).
                "known_answers_depth": v.answers.depth if v.answers else None,
            }
        return out


def build_registry(settings: ServiceSettings, paths: Mapping[str, Path]) -> Registry:
    """Load every variant's bundle (shared between variants naming the same directory)."""
    shared: dict[tuple[Path, IndexOptions, int], ServingBundle] = {}
    variants: dict[str, Variant] = {}
    # Known users' answers, shared by the variants serving one bundle at one λ_p.
    shared_answers: dict[tuple[int, float | None, int], KnownAnswers | None] = {}
    for name, cfg in settings.variants.items():
        path = paths[name]
        key = (path.resolve(), cfg.index, cfg.precompute_users_max)
        serving = shared.get(key)
        if serving is None:
            try:
                serving = load_serving_bundle(
                    path,
                    cfg.index,
                    precompute_users_max=cfg.precompute_users_max,
                    threads=settings.build_threads,
                )
            except BundleError as e:
                raise VariantLoadError(name, str(e)) from e
            except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
                raise VariantLoadError(name, f"bundle {path}: {type(e).__name__}: {e}") from e
            shared[key] = serving
        has_lambda_p = get_kind(serving.kind).has_lambda_p
        if cfg.lambda_p is not None and not has_lambda_p:
            raise VariantLoadError(
                name, f"lambda_p is set but bundle {path} is {serving.kind!r}, not "
                f"{lambda_p_kinds()!r}"
            )
        lam = cfg.lambda_p if cfg.lambda_p is not None else serving.bundle.lambda_p
        lam = lam if has_lambda_p else None
        answers = None
        if len(serving.bundle.user_ids) * serving.n_items <= cfg.answers_max_cells:
            answers_key = (id(serving), lam, cfg.answers_depth)
            if answers_key not in shared_answers:
                shared_answers[answers_key] = serving.known_answers(lam, cfg.answers_depth)
            answers = shared_answers[answers_key]
        variants[name] = Variant(name, serving, lam, answers)
    return Registry(
        variants=variants,
        bucket_variant={b: c.variant for b, c in settings.buckets.items()},
        bundle_paths=dict(paths),
    )


class RegistryHolder:
    def __init__(self, settings: ServiceSettings, registry: Registry) -> None:
        self._settings = settings
        self.current = registry
        self._lock = asyncio.Lock()

    @staticmethod
    async def load(settings: ServiceSettings) -> RegistryHolder:
        paths = {name: cfg.bundle for name, cfg in settings.variants.items()}
        registry = await asyncio.to_thread(build_registry, settings, paths)
        return RegistryHolder(settings, registry)

    async def reload(self, new_paths: Mapping[str, Path] | None = None) -> Registry:
        """Re-read every bundle (``new_paths`` re-points some variants); swap only on success."""
        async with self._lock:  # one reload at a time; requests never wait for it
            unknown = sorted(set(new_paths or {}) - set(self.current.variants))
            if unknown:
                raise KeyError(unknown)
            paths = {**self.current.bundle_paths, **(new_paths or {})}
            registry = await asyncio.to_thread(build_registry, self._settings, paths)
            self.current = registry
            return registry
