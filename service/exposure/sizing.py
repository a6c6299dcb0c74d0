"""How much Redis memory the exposure store needs: the README's sizing rule, as code.

Two terms, each an upper bound on what ``MEMORY USAGE`` reports for the keys (checked against a
real Redis by tests/service/test_redis_memory.py):

- **shown lists** (TTL ``click_ttl_s``; the only keys eviction may drop):
  ``shown_list_bytes(k, …) × requests/s (all replicas together) × click_ttl_s``;
- **counters** (no TTL; deleted by the service once past ``retention_s``):
  ``buckets × (retention_s / granularity_s) × time_bucket_bytes(distinct items, id length)``.

The constants: jemalloc rounds an allocation up to its size class (at most 25% above the request
for the sizes involved), a key costs ~64 bytes of Redis object, dict entry and headers beyond
its bytes, and a TTL adds one entry (32 bytes) to the expires table, which ``MEMORY USAGE``
leaves out.
"""

from __future__ import annotations

import math

ROUNDING = 1.25  # jemalloc size classes: at most this factor above the bytes asked for
KEY_OVERHEAD = 64  # object header, dict entry, sds headers of one key and its value
TTL_ENTRY = 32  # the key's entry in the expires table (not in MEMORY USAGE)
COUNTER_HASH = 256  # one P:c:{bucket}:T hash of the seven counters, small-integer values
ITEM_FIELD = 64  # per field of P:i:{bucket}:T beyond 2 × the id's bytes (hashtable encoding)


def shown_value_bytes(k: int, bucket_bytes: int) -> int:
    """Bytes of one packed shown list (service/exposure/shown.py's layout)."""
    return 7 + 2 * ((k + 7) // 8) + 4 * k + bucket_bytes


def shown_key_bytes(prefix_bytes: int, request_id_bytes: int = 32) -> int:
    return prefix_bytes + len(":r:") + request_id_bytes


def shown_list_bytes(
    k: int, *, bucket_bytes: int, prefix_bytes: int, request_id_bytes: int = 32
) -> int:
    """Upper bound on the Redis memory one served list holds for the click window."""
    raw = shown_key_bytes(prefix_bytes, request_id_bytes) + shown_value_bytes(k, bucket_bytes)
    return math.ceil(ROUNDING * raw) + KEY_OVERHEAD + TTL_ENTRY


def time_bucket_bytes(distinct_items: int, id_bytes: int) -> int:
    """Upper bound on one (bucket, time bucket)'s counters plus per-item impressions."""
    return COUNTER_HASH + distinct_items * (ITEM_FIELD + 2 * id_bytes)


def redis_bytes(
    *,
    requests_per_s: float,
    click_ttl_s: int,
    k: int,
    buckets: int,
    retention_s: int,
    granularity_s: int,
    distinct_items: int,
    id_bytes: int,
    bucket_bytes: int = 9,
    prefix_bytes: int = 3,
) -> int:
    """The whole rule: shown lists at steady state plus counters over the retention."""
    shown = shown_list_bytes(k, bucket_bytes=bucket_bytes, prefix_bytes=prefix_bytes)
    per_bucket = math.ceil(retention_s / granularity_s) + 1
    counters = buckets * per_bucket * time_bucket_bytes(distinct_items, id_bytes)
    return math.ceil(shown * requests_per_s * click_ttl_s) + counters
