"""The embedded synthetic dataset: a seeded generative model of long-tail interactions.

Generative story (all vectorised; no per-user or per-item Python loops):

1. Latent factors. ``n_clusters`` cluster centres ``C ~ N(0, I_d)`` (d = ``latent_dim``). Item i
   belongs to cluster ``c_i`` (clusters of equal size, random membership) and has factor
   ``v_i = C[c_i] + 0.5 eps``; user u prefers cluster ``c_u`` (uniform) and has
   ``x_u = C[c_u] + 0.7 eps``. Affinity ``a(u, i) = <x_u, v_i> / sqrt(d)``.
2. Popularity. Items get a random popularity rank r_i (independent of the clusters) and
   ``p_i ∝ (r_i + 1) ** -popularity_exponent`` (Zipf).
3. Interactions. User u draws ``n_u`` distinct items (``n_u`` log-normal around
   ``interactions_per_user``, at least 3 so that every user can be split) with probability
   ∝ ``p_i * exp(a(u, i))`` by sampling-importance-resampling: a candidate pool is drawn from a
   proposal (half popularity, half popularity within the user's cluster), then ``n_u`` distinct
   candidates are taken by Gumbel-top-k over the log importance weights.
4. Coverage. Every item not drawn in step 3 gets one interaction, from the best-matching of a few
   random users (Gumbel-max over affinity), so the catalogue is exactly ``range(n_items)``: these
   are the one-interaction tail items a model must rank through their features.
5. Order and time. Interactions are grouped by user (user index order) in random order within a
   user; with ``with_timestamps`` they get strictly increasing timestamps per user.

Features carry the latent structure through noisy categorical values (each value is replaced by
a uniformly random one with probability ``feature_noise``; tags with 3x that, at most 0.5):
items ``item_id``, ``category`` (the cluster), ``genre`` (multi: the two largest latent dims),
``tags`` (multi, 1-4 values: sign of the largest-magnitude latent dims); users ``user_id``,
``segment`` (the preferred cluster) and ``region`` (argmax of a fixed random projection of x_u).

Item index i is the generator's item i (``item_ids[i] == f"i{i}"``); users likewise (``u{k}``).
``synthetic_latents`` exposes the hidden factors for tests; the Dataset never carries them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.feature_table import CategoricalField
from training.config import DataConfig
from training.data.dataset import Dataset
from training.data.errors import DataError
from training.data.indexing import codes_field, id_field, multi_codes_field, table

# (n_users, n_items, interactions_per_user) of each preset.
PRESETS: dict[str, tuple[int, int, int]] = {
    "tiny": (200, 300, 20),
    "small": (5_000, 4_000, 40),
    "large": (50_000, 1_000_000, 40),
}
ITEM_NOISE_SCALE = 0.5  # spread of item factors around their cluster centre
USER_NOISE_SCALE = 0.7
ACTIVITY_SIGMA = 0.5  # log-normal spread of interactions per user
MIN_PER_USER = 3  # leave-one-out needs train + validation + test
N_GENRES_PER_ITEM = 2
MAX_TAGS_PER_ITEM = 4
N_REGIONS = 8
POOL_FACTOR = 4  # candidate pool = POOL_FACTOR * (max items per user) + 100
COVERAGE_CANDIDATES = 16  # random users considered for an item no user drew
USER_CHUNK = 4096  # users per vectorised sampling step (bounds memory on the large preset)
ITEM_CHUNK = 65_536
BASE_TIME = 978_300_000  # 2001-01-01, seconds


@dataclass(frozen=True)
class SyntheticSpec:
    """The resolved generator parameters (preset values with explicit overrides applied)."""

    n_users: int
    n_items: int
    interactions_per_user: int
    latent_dim: int
    popularity_exponent: float
    feature_noise: float
    with_timestamps: bool
    seed: int

    @property
    def n_clusters(self) -> int:
        # Enough clusters to make categories informative, few enough to have many items each.
        return int(min(32, max(4, self.n_items // 30)))


@dataclass(frozen=True)
class SyntheticLatents:
    """The hidden variables behind a synthetic dataset, indexed like its users and items."""

    user_factors: np.ndarray  # float32 [n_users, latent_dim]
    item_factors: np.ndarray  # float32 [n_items, latent_dim]
    user_cluster: np.ndarray  # int64 [n_users], the cluster a user prefers
    item_cluster: np.ndarray  # int64 [n_items]
    centres: np.ndarray  # float32 [n_clusters, latent_dim]
    popularity: np.ndarray  # float64 [n_items], sums to 1 (before affinity)


def resolve_spec(cfg: DataConfig) -> SyntheticSpec:
    """Apply the preset and overrides; a DataError names the offending ``synthetic.*`` field."""
    s = cfg.synthetic
    if s.preset == "custom":
        missing = [
            f"synthetic.{k}"
            for k in ("n_users", "n_items", "interactions_per_user")
            if getattr(s, k) is None
        ]
        if missing:
            raise DataError(f"synthetic.preset = 'custom' needs {', '.join(missing)}")
        base = (0, 0, 0)
    else:
        base = PRESETS[s.preset]
    spec = SyntheticSpec(
        n_users=s.n_users if s.n_users is not None else base[0],
        n_items=s.n_items if s.n_items is not None else base[1],
        interactions_per_user=(
            s.interactions_per_user if s.interactions_per_user is not None else base[2]
        ),
        latent_dim=s.latent_dim,
        popularity_exponent=s.popularity_exponent,
        feature_noise=s.feature_noise,
        with_timestamps=s.with_timestamps,
        seed=cfg.seed,
    )
    # Single-field bounds (n_users >= 1, latent_dim >= 2, feature_noise in [0, 1], ...) are
    # SyntheticConfig's; what is left depends on the preset or on two fields at once.
    checks = [
        (spec.n_items >= 2 * MIN_PER_USER,
         f"synthetic.n_items must be >= {2 * MIN_PER_USER}, got {spec.n_items}"),
        (spec.interactions_per_user <= spec.n_items // 2,
         f"synthetic.interactions_per_user ({spec.interactions_per_user}) must be at most half "
         f"of synthetic.n_items ({spec.n_items})"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise DataError(message)
    return spec


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators per stage, so that e.g. the latents do not depend on how many
    interactions are drawn afterwards."""
    names = ("latents", "popularity", "interactions", "coverage", "order", "features")
    children = np.random.SeedSequence([seed, 0x5EED]).spawn(len(names))
    return {n: np.random.default_rng(c) for n, c in zip(names, children, strict=True)}


def _latents(spec: SyntheticSpec, rngs: dict[str, np.random.Generator]) -> SyntheticLatents:
    rng = rngs["latents"]
    d, k = spec.latent_dim, spec.n_clusters
    centres = rng.standard_normal((k, d)).astype(np.float32)
    # Balanced clusters (none empty), in random order.
    item_cluster = rng.permutation(np.arange(spec.n_items) % k)
    user_cluster = rng.integers(0, k, spec.n_users)
    item_factors = centres[item_cluster] + np.float32(ITEM_NOISE_SCALE) * rng.standard_normal(
        (spec.n_items, d), dtype=np.float32
    )
    user_factors = centres[user_cluster] + np.float32(USER_NOISE_SCALE) * rng.standard_normal(
        (spec.n_users, d), dtype=np.float32
    )
    rank = rngs["popularity"].permutation(spec.n_items)
    weight = (rank + 1.0) ** -spec.popularity_exponent
    return SyntheticLatents(
        user_factors=user_factors,
        item_factors=item_factors,
        user_cluster=user_cluster.astype(np.int64),
        item_cluster=item_cluster.astype(np.int64),
        centres=centres,
        popularity=weight / weight.sum(),
    )


def _gumbel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    u = rng.random(shape, dtype=np.float32)
    return -np.log(-np.log(np.clip(u, 1e-12, 1.0 - 1e-7)))


def _draw_interactions(
    spec: SyntheticSpec, lat: SyntheticLatents, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Step 3: (users, items) int64 ``[n]``, each user's items distinct.

    Target: ``P(i | u) ∝ p_i exp(a(u, i))``. Proposal per user: half the pool from popularity
    ``p``, half from ``p`` restricted to the user's preferred cluster (where most of the target's
    non-head mass lies), i.e. ``q_u(i) = p_i (1/2 + [c_i = c_u] / (2 m_c))`` with ``m_c`` the
    cluster's popularity mass. Importance weights ``p_i exp(a) / q_u(i)`` times the multiplicity
    of a candidate in the pool give the Gumbel-top-k logits.
    """
    ipu = spec.interactions_per_user
    n_max = min(spec.n_items // 2, max(MIN_PER_USER, 2 * ipu))
    activity = rng.lognormal(-(ACTIVITY_SIGMA**2) / 2, ACTIVITY_SIGMA, spec.n_users)
    n_per_user = np.clip(np.rint(ipu * activity), MIN_PER_USER, n_max).astype(np.int64)
    pool_size = POOL_FACTOR * n_max + 100
    half = pool_size // 2
    cdf = np.cumsum(lat.popularity)
    # Items sorted by cluster, with the popularity cdf running across clusters: cluster c owns
    # the cdf interval [cluster_lo[c], cluster_lo[c] + mass[c]).
    by_cluster = np.argsort(lat.item_cluster, kind="stable")
    cdf_by_cluster = np.cumsum(lat.popularity[by_cluster])
    mass = np.bincount(lat.item_cluster, weights=lat.popularity, minlength=spec.n_clusters)
    cluster_lo = np.concatenate([[0.0], np.cumsum(mass)[:-1]])
    scale = np.float32(1.0 / np.sqrt(spec.latent_dim))
    positions = np.arange(pool_size)
    out_users: list[np.ndarray] = []
    out_items: list[np.ndarray] = []
    for start in range(0, spec.n_users, USER_CHUNK):
        stop = min(spec.n_users, start + USER_CHUNK)
        b = stop - start
        cu = lat.user_cluster[start:stop]  # [b]
        # Candidate pool [b, P]: half from p, half from p within the user's cluster.
        glob = np.searchsorted(cdf, rng.random((b, half)) * cdf[-1], side="right")
        r = cluster_lo[cu][:, None] + rng.random((b, pool_size - half)) * mass[cu][:, None]
        local = by_cluster[
            np.minimum(np.searchsorted(cdf_by_cluster, r, side="right"), spec.n_items - 1)
        ]
        pool = np.concatenate([np.minimum(glob, spec.n_items - 1), local], axis=1)
        pool.sort(axis=1)  # repeats become adjacent
        first = np.ones((b, pool_size), dtype=bool)
        first[:, 1:] = pool[:, 1:] != pool[:, :-1]
        # Multiplicity of each first occurrence = distance to the next first occurrence.
        nxt = np.where(first, positions, pool_size)[:, ::-1]
        nxt = np.minimum.accumulate(nxt, axis=1)[:, ::-1]  # smallest first-position >= j
        after = np.concatenate([nxt[:, 1:], np.full((b, 1), pool_size)], axis=1)
        count = np.maximum(after - positions, 1).astype(np.float32)
        # log(p_i / q_u(i)) = -log(1/2 + [same cluster] / (2 m_c)): [b, P].
        same = lat.item_cluster[pool] == cu[:, None]
        log_p_over_q = -np.log(0.5 + same * (0.5 / mass[cu][:, None]))
        # Affinity of each candidate, [b, P]: <x_u, v_i> / sqrt(d).
        aff = np.einsum("bpd,bd->bp", lat.item_factors[pool], lat.user_factors[start:stop])
        logits = np.where(first, aff * scale + log_p_over_q + np.log(count), -np.inf)
        keys = logits + _gumbel(rng, (b, pool_size))
        # Gumbel-top-k: the n_max best keys per row, best first.
        top = np.argpartition(-keys, n_max - 1, axis=1)[:, :n_max]
        top_keys = np.take_along_axis(keys, top, axis=1)
        top = np.take_along_axis(top, np.argsort(-top_keys, axis=1), axis=1)
        chosen = np.take_along_axis(pool, top, axis=1)  # [b, n_max]
        valid = np.isfinite(np.take_along_axis(keys, top, axis=1))
        valid &= np.arange(n_max)[None, :] < n_per_user[start:stop, None]
        rows = np.broadcast_to(np.arange(start, stop)[:, None], (b, n_max))
        out_users.append(rows[valid])
        out_items.append(chosen[valid])
    return np.concatenate(out_users).astype(np.int64), np.concatenate(out_items).astype(np.int64)


def _cover_items(
    spec: SyntheticSpec, lat: SyntheticLatents, items: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Step 4: one (user, item) pair for each item never drawn."""
    missing = np.flatnonzero(np.bincount(items, minlength=spec.n_items) == 0)
    users_out = np.empty(len(missing), dtype=np.int64)
    scale = np.float32(1.0 / np.sqrt(spec.latent_dim))
    for start in range(0, len(missing), ITEM_CHUNK):
        chunk = missing[start : start + ITEM_CHUNK]
        cand = rng.integers(0, spec.n_users, (len(chunk), COVERAGE_CANDIDATES))  # [m, C]
        aff = np.einsum("mcd,md->mc", lat.user_factors[cand], lat.item_factors[chunk]) * scale
        pick = np.argmax(aff + _gumbel(rng, aff.shape), axis=1)
        users_out[start : start + len(chunk)] = cand[np.arange(len(chunk)), pick]
    return users_out, missing.astype(np.int64)


def _noisy(rng: np.random.Generator, codes: np.ndarray, n_labels: int, rate: float) -> np.ndarray:
    """Replace each code (>= 0) by a uniform random one with probability ``rate``."""
    flip = (rng.random(codes.shape) < rate) & (codes >= 0)
    return np.where(flip, rng.integers(0, n_labels, codes.shape), codes)


def _item_features(
    spec: SyntheticSpec, lat: SyntheticLatents, rng: np.random.Generator, item_ids: tuple[str, ...]
) -> tuple[CategoricalField, ...]:
    d = spec.latent_dim
    noise = spec.feature_noise
    category = _noisy(rng, lat.item_cluster, spec.n_clusters, noise)
    order = np.argsort(-lat.item_factors, axis=1)  # dims by value, largest first: [n_items, d]
    genre = _noisy(rng, order[:, :N_GENRES_PER_ITEM].astype(np.int64), d, noise)
    n_tag = min(MAX_TAGS_PER_ITEM, d)
    by_mag = np.argsort(-np.abs(lat.item_factors), axis=1)[:, :n_tag]  # [n_items, n_tag]
    sign = np.take_along_axis(lat.item_factors, by_mag, axis=1) < 0
    tags = (2 * by_mag + sign).astype(np.int64)  # tag "t{dim}+" = 2 dim, "t{dim}-" = 2 dim + 1
    tags = _noisy(rng, tags, 2 * d, min(0.5, 3 * noise))
    n_tags = rng.integers(1, n_tag + 1, spec.n_items)
    tag_labels = [f"t{j // 2}{'-' if j % 2 else '+'}" for j in range(2 * d)]
    tags = np.where(np.arange(n_tag)[None, :] < n_tags[:, None], tags, -1)
    return (
        id_field("item_id", item_ids),
        codes_field("category", category, [f"c{k}" for k in range(spec.n_clusters)]),
        multi_codes_field("genre", genre, [f"g{j}" for j in range(d)]),
        multi_codes_field("tags", tags, tag_labels),
    )


def _user_features(
    spec: SyntheticSpec, lat: SyntheticLatents, rng: np.random.Generator, user_ids: tuple[str, ...]
) -> tuple[CategoricalField, ...]:
    noise = spec.feature_noise
    segment = _noisy(rng, lat.user_cluster, spec.n_clusters, noise)
    projection = rng.standard_normal((spec.latent_dim, N_REGIONS)).astype(np.float32)
    region = _noisy(rng, np.argmax(lat.user_factors @ projection, axis=1), N_REGIONS, noise)
    return (
        id_field("user_id", user_ids),
        codes_field("segment", segment, [f"s{k}" for k in range(spec.n_clusters)]),
        codes_field("region", region, [f"r{k}" for k in range(N_REGIONS)]),
    )


def synthetic_latents(cfg: DataConfig) -> SyntheticLatents:
    """The hidden factors of the dataset ``load_synthetic(cfg)`` returns (same seed, same spec)."""
    spec = resolve_spec(cfg)
    return _latents(spec, _streams(spec.seed))


def generate_synthetic(cfg: DataConfig) -> tuple[Dataset, SyntheticLatents]:
    """The synthetic dataset and its latents; deterministic in cfg.seed and cfg.synthetic."""
    spec = resolve_spec(cfg)
    rngs = _streams(spec.seed)
    lat = _latents(spec, rngs)
    users, items = _draw_interactions(spec, lat, rngs["interactions"])
    cover_users, cover_items = _cover_items(spec, lat, items, rngs["coverage"])
    users = np.concatenate([users, cover_users])
    items = np.concatenate([items, cover_items])

    rng = rngs["order"]
    order = np.lexsort((rng.random(len(users)), users))  # by user, random within a user
    users, items = users[order], items[order]
    timestamps = None
    if spec.with_timestamps:
        # Strictly increasing per user: a random start plus positive gaps (1 min to 3 days).
        gaps = rng.integers(60, 3 * 86_400, len(users))
        cum = np.cumsum(gaps)
        group_start = np.searchsorted(users, np.arange(spec.n_users))  # users is sorted
        before = cum[group_start] - gaps[group_start]  # [n_users] sum of gaps before the user
        start = BASE_TIME + rng.integers(0, 180 * 86_400, spec.n_users)
        timestamps = (start[users] + cum - before[users]).astype(np.int64)

    user_ids = tuple(f"u{k}" for k in range(spec.n_users))
    item_ids = tuple(f"i{k}" for k in range(spec.n_items))
    frng = rngs["features"]
    dataset = Dataset(
        name="synthetic",
        user_ids=user_ids,
        item_ids=item_ids,
        users=users,
        items=items,
        timestamps=timestamps,
        item_features=table(*_item_features(spec, lat, frng, item_ids)),
        user_features=table(*_user_features(spec, lat, frng, user_ids)),
    )
    return dataset, lat


def load_synthetic(cfg: DataConfig) -> Dataset:
    """The synthetic dataset for ``cfg`` (see the module docstring for the generative story)."""
    return generate_synthetic(cfg)[0]
