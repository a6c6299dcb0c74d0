"""Prometheus metrics, one registry per app instance (tests build many apps in one process).

Label values come only from the service's own config and route table, never from client input,
so no request can blow up the metrics' cardinality.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Fine at the low end: a known user on a small catalogue is served well under a millisecond.
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.latency = Histogram(
            "longtail_request_latency_seconds",
            "Request latency by endpoint (route template) and A/B bucket ('-' where none).",
            ["endpoint", "bucket"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.responses = Counter(
            "longtail_responses_total",
            "Responses by endpoint and status code.",
            ["endpoint", "status"],
            registry=r,
        )
        self.store_errors = Counter(
            "longtail_exposure_store_errors_total",
            "Exposure-store operations that failed or timed out, by operation.",
            ["store", "op"],
            registry=r,
        )
        self.events_dropped = Counter(
            "longtail_exposure_events_dropped_total",
            "Served lists whose exposure was not recorded, by reason.",
            ["reason"],
            registry=r,
        )
        self.events_recorded = Counter(
            "longtail_exposure_events_recorded_total",
            "Served lists recorded in the store.",
            registry=r,
        )
        self.queue_depth = Gauge(
            "longtail_exposure_queue_depth",
            "Served lists waiting to be written.",
            registry=r,
        )
        self.store_up = Gauge(
            "longtail_exposure_store_up",
            "1 if the last exposure-store operation succeeded.",
            ["store"],
            registry=r,
        )
        self.model_info = Gauge(
            "longtail_model_info",
            "Loaded bundles (value 1), by variant.",
            ["variant", "kind", "model_version", "n_items", "index"],
            registry=r,
        )
        self.index_recall = Gauge(
            "longtail_index_recall",
            "Recall@K of an approximate index against exact search, by variant and slice.",
            ["variant", "slice"],
            registry=r,
        )
        self.reloads = Counter(
            "longtail_reloads_total",
            "Bundle reloads by outcome.",
            ["outcome"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
