"""Service settings: an optional TOML file plus environment variables, read only when asked.

Nothing here runs at import time: ``load_settings()`` is called by ``python -m service`` (or by a
test) and the resulting frozen ``ServiceSettings`` is passed to ``create_app``.

Sources, lowest to highest precedence:

1. defaults below (one variant ``default`` serving ``artifacts/demo_bundle``, bucket ``control``);
2. the TOML file named by ``LONGTAIL_CONFIG`` (or passed explicitly);
3. the environment: ``REDIS_URL``, ``ADMIN_TOKEN``, ``READ_TOKEN``, ``METRICS_TOKEN``,
   ``REPLICAS``, ``HOST``, ``PORT``, ``LOG_LEVEL``.

Tokens (``admin_token``, ``read_token``, ``metrics_token``): unset means that part is off
(reload disabled) or open (stats, dashboard, metrics); set means at least ``MIN_TOKEN_CHARS``
printable, non-blank characters, else the settings are refused. A token variable that is set
but empty counts as set: ``ADMIN_TOKEN=`` is refused, never silently ignored.

Relative bundle paths are resolved against the working directory, so that
``configs/service_demo.toml`` can name ``artifacts/demo_bundle`` and be run from the repo root (and
from ``/app`` in the Docker image, where the volume is mounted at ``/app/artifacts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.toml_file import read_toml
from service.schemas import MAX_K

Port = Annotated[int, Field(ge=1, le=65535)]
MIN_TOKEN_CHARS = 16  # 16 random characters: far beyond guessing over HTTP
TOKEN_SETTINGS = {  # setting -> the environment variable that overrides it
    "admin_token": "ADMIN_TOKEN",
    "read_token": "READ_TOKEN",
    "metrics_token": "METRICS_TOKEN",
}


def token_problem(value: str) -> str | None:
    """Why ``value`` cannot be a bearer token, or None. Never repeats the value."""
    if not value.strip():
        return "is empty or blank; unset it instead (that disables or opens what it guards)"
    if len(value) < MIN_TOKEN_CHARS:
        return f"is {len(value)} characters; use at least {MIN_TOKEN_CHARS}"
    if any(not (33 <= ord(c) <= 126) for c in value):
        return "may only hold printable ASCII without spaces (it travels in an HTTP header)"
    return None


class _Section(BaseModel):
    # allow_inf_nan=False: TOML has inf and nan, and no setting here means anything with them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class IndexOptions(_Section):
    """How a variant's item embeddings are indexed (inner product in every case)."""

    # "auto": exact (flat) up to ``auto_flat_max_items`` items, else HNSW (the hnsw_* settings
    # below) with tail items indexed apart (``tail_index`` "apart": the tail searched exactly beside
    # the head items' graph). Exact search costs O(n_items · dim) per request: 8.0 ms at 1M items
    # and dim 64 on one core, so about 2 ms at the 200k threshold. Above it, the rule is the
    # measured 1M sweep's choice (docs/benchmarks/index_sweep_1m.md, a trained synthetic bundle,
    # 3.5% tail items): HNSW M 32 + exact tail recalled 0.998 of the served top-50 and 1.000 on a
    # tail-items-only search at efSearch 64, p50 209 µs, 1,974 MB RSS (targets 0.95, 2 ms, 3 GB:
    # met); at the default efSearch 256 0.9997 / 1.000 at 349 µs (the sweep built with
    # efConstruction 100; the default 200 builds a graph at least as good, slower). With the tail in
    # the one graph, HNSW recalled 0.985 served but 0.01-0.21 tail-only (graph search under so
    # selective a filter loses most neighbours); IVF at nprobe 512 0.96 served, 0.89 tail-only, at
    # 1.3-1.8 ms. Building the 1M graph took 88 s on 2 cores (IVF-SQ8: 16 s), paid once at load.
    kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto"
    auto_flat_max_items: int = Field(200_000, ge=1)
    hnsw_m: int = Field(32, ge=4, le=256)
    hnsw_ef_construction: int = Field(200, ge=8)
    hnsw_ef_search: int = Field(256, ge=1)
    ivf_nlist: int | None = Field(None, ge=1)  # None: 4·sqrt(n_items), the usual rule of thumb
    ivf_nprobe: int = Field(512, ge=1)
    # The coarse quantizer that picks the nprobe lists: exact over the centroids ("flat"), or an
    # HNSW graph over them (worth it for large nlist, where scanning every centroid dominates).
    ivf_quantizer: Literal["flat", "hnsw"] = "flat"
    # How vectors are stored in the lists: float32 ("flat", exact scores) or 8-bit scalar
    # quantised ("sq8", 4x smaller) with the best ``ivf_rerank`` x k candidates re-scored exactly
    # from the float32 vectors.
    ivf_codec: Literal["flat", "sq8"] = "sq8"
    ivf_rerank: int = Field(4, ge=1)
    # Approximate kinds only (set explicitly; "auto" above the threshold means "apart"): tail
    # items in one index with the rest ("shared"), or in their own
    # ("apart", service/split_index.py), searched beside the head items' index and merged by score:
    # exact up to auto_flat_max_items tail items, else of this kind over the tail alone. Why: an
    # approximate search loses tail items first, and under a filter to tail items (a few % of a
    # catalogue) most of them.
    tail_index: Literal["shared", "apart"] = "shared"
    # IVF k-means training sample and seed, so two replicas build the same index.
    seed: int = Field(0, ge=0)
    # Approximate indexes only: recall@recall_k against exact search, head and tail separately,
    # measured at load time on this many random known users (0: skip) and shown in /readyz.
    recall_queries: int = Field(256, ge=0)
    recall_k: int = Field(50, ge=1)

    def resolved(self, n_items: int) -> IndexOptions:
        """These options with ``kind`` "auto" replaced by the kind it means for ``n_items``."""
        if self.kind != "auto":
            return self
        if n_items <= self.auto_flat_max_items:
            return self.model_copy(update={"kind": "flat"})
        return self.model_copy(update={"kind": "hnsw", "tail_index": "apart"})


class VariantConfig(_Section):
    """A bundle directory plus serving options."""

    bundle: Path
    lambda_p: float | None = Field(None, ge=0.0, le=1.0)  # MIRec only; None: the manifest's
    index: IndexOptions = IndexOptions()
    # Precompute the query embeddings of known users at load time (two per user for MIRec, so λ_p
    # can still vary per request); above this many users the tower runs per request instead.
    precompute_users_max: int = Field(500_000, ge=0)
    # Known users' exact answers at the variant's λ_p, computed at load (service/known_answers.py)
    # when the index is exact and n_users × n_items is at most this (0: never): ML-1M's 22M cells
    # took 0.8 s on one core and take 4.8 MB; the 100k-item bench catalogue (2·10⁹) searches.
    # Served for a known user at the variant's λ_p with k at most answers_depth (the request's
    # history/exclude removed from them while k are left); every other request searches.
    # Memory: n_users × min(depth, n_items) × 8 bytes, so at most 8 × answers_max_cells × depth /
    # n_items (400 MB for a 100-item catalogue with 500k users; 11 MB at ML-1M's 3,706 items).
    answers_max_cells: int = Field(50_000_000, ge=0)
    answers_depth: int = Field(100, ge=1, le=MAX_K)


class BucketConfig(_Section):
    variant: str
    weight: float = Field(gt=0.0)


class AbConfig(_Section):
    # The salt makes assignment independent of any other hash of user ids; changing it reshuffles
    # every user, so it is part of the experiment's definition.
    salt: str = "longtail-rec-ab-v1"


class ExposureOptions(_Section):
    granularity_s: int = Field(60, ge=1)  # width of one time bucket of the stats
    retention_s: int = Field(86_400, ge=1)  # how long counters are kept; the longest window
    # How long a shown list can receive clicks: also how long Redis keeps it, so Redis memory
    # grows with it (README, "Redis memory"). At most a day; within the retention.
    click_ttl_s: int = Field(3_600, ge=1, le=86_400)
    queue_size: int = Field(10_000, ge=1)  # pending exposure batches; beyond it events are dropped
    batch_max: int = Field(256, ge=1)  # recommendations written per Redis round trip at most
    timeout_s: float = Field(
        0.25, gt=0.0
    )  # one Redis operation; the request path never waits on it
    retry_interval_s: float = Field(1.0, gt=0.0)  # after a failure, drop (and count) for this long
    key_prefix: str = "ltr"
    memory_max_requests: int = Field(200_000, ge=1)  # shown lists kept for clicks (memory store)


def _default_variants() -> dict[str, VariantConfig]:
    return {"default": VariantConfig(bundle=Path("artifacts/demo_bundle"))}


def _default_buckets() -> dict[str, BucketConfig]:
    return {"control": BucketConfig(variant="default", weight=1.0)}


class ServiceSettings(_Section):
    host: str = "127.0.0.1"
    port: Port = 8000
    redis_url: str | None = None  # None: the in-memory exposure store
    # Processes serving this config together (``REPLICAS``; set by ``python -m service.replicas``
    # and the compose ``replicas`` profile). Above 1 the exposure store must be shared (Redis):
    # the in-memory store is per process and would split the counts.
    replicas: int = Field(1, ge=1, le=256)
    admin_token: SecretStr | None = None  # None: /admin/reload is disabled (always 401)
    read_token: SecretStr | None = None  # None: /stats/* and /dashboard are open to anyone
    metrics_token: SecretStr | None = None  # None: /metrics is open (see service/auth.py)
    # Where /admin/reload may point a variant (resolved, symlinks included); None: a reload can
    # only re-read the configured directories, never point a variant elsewhere.
    bundle_root: Path | None = None
    log_level: str = "info"
    config_path: Path | None = None  # where the TOML came from, for messages only
    variants: dict[str, VariantConfig] = Field(default_factory=_default_variants)
    buckets: dict[str, BucketConfig] = Field(default_factory=_default_buckets)
    ab: AbConfig = AbConfig()
    exposure: ExposureOptions = ExposureOptions()
    # Request-shape limits (k, ids, lengths) are part of the HTTP contract: service/schemas.py.
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)  # larger bodies get 413 unread
    access_log: bool = True  # one JSON line per request on the ``service.access`` logger
    build_threads: int = Field(2, ge=1)  # index building and recall checks, never a request
    # uvicorn's HTTP parser and event loop. "auto" takes httptools and uvloop (installed with
    # uvicorn[standard]); "h11" / "asyncio" are uvicorn's pure-Python ones (several times slower
    # per request, docs/benchmarks/serving.md), kept selectable for comparison and debugging.
    http: Literal["auto", "httptools", "h11"] = "auto"
    loop: Literal["auto", "uvloop", "asyncio"] = "auto"
    # POST /recommend served past FastAPI's router (service/hot_path.py). Off: the plain APIRoute
    # serves it, with identical responses (tests/service/test_api_contract.py runs both ways).
    hot_path: bool = True
    # FastAPI's native OpenTelemetry instrumentation (spans, metrics and logs, active once an OTel
    # provider is configured in the process). Off by default: the service exports its own
    # Prometheus metrics and access log, and FastAPI's per-request provider checks cost ~20 µs of
    # a ~170 µs ML-1M-shaped request in process (an in-process A/B). On: FastAPI's defaults apply.
    otel: bool = False

    @field_validator("admin_token", "read_token", "metrics_token")
    @classmethod
    def _check_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            problem = token_problem(v.get_secret_value())
            if problem:
                raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _check_replicas(self) -> ServiceSettings:
        if self.replicas > 1 and not self.redis_url:
            raise ValueError(
                f"replicas: {self.replicas} processes need a shared exposure store; set "
                "redis_url (REDIS_URL): the in-memory store is per process, each replica would "
                "count only its own requests"
            )
        return self

    @model_validator(mode="after")
    def _check_buckets(self) -> ServiceSettings:
        if "control" not in self.buckets:
            raise ValueError(
                f"buckets: one bucket must be named 'control'; got {list(self.buckets)}"
            )
        for name, bucket in self.buckets.items():
            if bucket.variant not in self.variants:
                raise ValueError(
                    f"buckets.{name}.variant: unknown variant {bucket.variant!r}; "
                    f"variants are {sorted(self.variants)}"
                )
        return self


class _Environment(BaseSettings):
    """The variables a deployment sets; read only when ``load_settings`` runs."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    longtail_config: Path | None = None
    redis_url: str | None = None
    admin_token: str | None = None
    read_token: str | None = None
    metrics_token: str | None = None
    replicas: str | None = None  # validated with the rest, so a bad value names the setting
    host: str | None = None
    port: str | None = None  # validated by ServiceSettings, so a bad PORT names the setting
    log_level: str | None = None


class SettingsError(ValueError):
    """A config that cannot be used; the message names the file and the key."""


def settings_from_dict(raw: Mapping[str, Any], source: str = "<dict>") -> ServiceSettings:
    """``raw`` validated; a bad value raises SettingsError ``<source>: <dotted.field>: <why>``."""
    try:
        return ServiceSettings.model_validate(dict(raw))
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in e.errors()
        )
        raise SettingsError(f"{source}: {problems}") from None


def load_settings(config_path: str | Path | None = None, **overrides: Any) -> ServiceSettings:
    """Read the TOML file (``config_path`` or ``$LONGTAIL_CONFIG``), then the environment."""
    env = _Environment()
    path = Path(config_path) if config_path is not None else env.longtail_config
    raw: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        raw = read_toml(path, SettingsError, what="service config file")
        raw["config_path"] = str(path)
    for key, var in TOKEN_SETTINGS.items():
        value = getattr(env, key)
        if value is not None:  # set, even if empty: an empty secret is refused, not ignored
            problem = token_problem(value)
            if problem:
                raise SettingsError(f"environment: {var} {problem}")
            raw[key] = value
    for key in ("redis_url", "replicas", "host", "port", "log_level"):
        value = getattr(env, key)
        if value is not None and value != "":
            raw[key] = value
    raw.update(overrides)
    return settings_from_dict(raw, source)
