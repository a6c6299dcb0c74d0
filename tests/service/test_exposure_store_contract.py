"""The contract both exposure stores pass: the same tests, parametrised over memory and Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from service.exposure.events import Click as ClickEvent
from service.exposure.events import ClickOutcome, Exposure
from service.exposure.memory import MemoryExposureStore
from service.exposure.redis_store import RedisExposureStore
from service.exposure.store import ExposureStore

pytestmark = pytest.mark.anyio

# The start of a 60 s time bucket, recent enough that Redis' EXPIREAT (retention 3600 s after the
# bucket ends) keeps every key these tests write.
T0 = float(int(time.time()) // 60 * 60 - 600)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ExposureStore]:
    if request.param == "memory":
        yield MemoryExposureStore(granularity_s=60, retention_s=3600, click_ttl_s=600)
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        s = RedisExposureStore(
            url,
            key_prefix=prefix,
            granularity_s=60,
            retention_s=3600,
            click_ttl_s=600,
            timeout_s=2.0,
        )
        yield s
        await s.close()


ODD = ("with:colons", "ünïcödé", "1control", " ", "c" * 256)
# The catalogue the lists are served from: shown lists keep rows, clicks name item ids.
ROWS = {item: i for i, item in enumerate([*"abcdefghijklmnopqrstuvwxyz", *ODD])}
CATALOGUE = 0xC0FFEE
CATALOGUES = {CATALOGUE: ROWS}


def exposure(bucket: str, rid: str, items: str, tails: str, at: float = T0) -> Exposure:
    """items 'abc', tails '010' -> items a, b, c with b a tail item."""
    return listed(bucket, rid, tuple(items), tuple(t == "1" for t in tails), at)


def listed(
    bucket: str, rid: str, items: tuple[str, ...], tail: tuple[bool, ...], at: float = T0
) -> Exposure:
    return Exposure(bucket, rid, items, tail, at, tuple(ROWS[i] for i in items), CATALOGUE)


def Click(  # the event with the catalogues these tests serve from
    rid: str, item: str, at: float, catalogues: dict[int, dict[str, int]] = CATALOGUES
) -> ClickEvent:
    return ClickEvent(rid, item, at, catalogues)


async def test_record_then_read_counts_everything(store: ExposureStore) -> None:
    assert isinstance(store, ExposureStore)
    await store.record(
        [exposure("control", "r1", "abc", "011"), exposure("control", "r2", "ad", "00")]
    )
    await store.record([exposure("treatment", "r3", "e", "1")])
    w = await store.read(["control", "treatment", "unused"], T0, T0 + 1)
    c = w["control"].totals
    assert (c.requests, c.impressions, c.head_impressions, c.tail_impressions) == (2, 5, 3, 2)
    assert w["control"].item_counts == {"a": 2, "b": 1, "c": 1, "d": 1}
    assert w["treatment"].totals.tail_impressions == 1
    assert w["unused"].totals.requests == 0 and w["unused"].item_counts == {}
    assert [start for start, _ in w["control"].series] == [int(T0)]


async def test_window_sums_only_overlapping_time_buckets(store: ExposureStore) -> None:
    await store.record([exposure("control", "r1", "a", "0", T0)])
    await store.record([exposure("control", "r2", "b", "1", T0 + 60)])
    await store.record([exposure("control", "r3", "c", "1", T0 + 125)])
    w = (await store.read(["control"], T0 + 60, T0 + 119))["control"]
    assert w.totals.requests == 1 and w.item_counts == {"b": 1}
    both = (await store.read(["control"], T0 + 30, T0 + 130))["control"]
    assert both.totals.requests == 3
    assert [(s, c.tail_impressions) for s, c in both.series] == [
        (int(T0), 0),
        (int(T0) + 60, 1),
        (int(T0) + 120, 1),
    ]


async def test_click_counted_once_in_the_showing_bucket(store: ExposureStore) -> None:
    await store.record([exposure("treatment", "r1", "ab", "01")])
    first = await store.click(Click("r1", "b", T0 + 5))
    assert (first.outcome, first.bucket, first.tail) == (ClickOutcome.COUNTED, "treatment", True)
    again = await store.click(Click("r1", "b", T0 + 6))
    assert again.outcome is ClickOutcome.DUPLICATE
    head = await store.click(Click("r1", "a", T0 + 7))
    assert head.outcome is ClickOutcome.COUNTED and head.tail is False
    w = await store.read(["control", "treatment"], T0, T0 + 10)
    t = w["treatment"].totals
    assert (t.clicks, t.head_clicks, t.tail_clicks) == (2, 1, 1)
    assert w["control"].totals.clicks == 0


async def test_click_on_something_not_shown_is_refused(store: ExposureStore) -> None:
    await store.record([exposure("control", "r1", "ab", "00")])
    assert (await store.click(Click("r1", "z", T0))).outcome is ClickOutcome.NOT_SHOWN
    assert (await store.click(Click("nope", "a", T0))).outcome is ClickOutcome.NOT_SHOWN
    assert (await store.read(["control"], T0, T0))["control"].totals.clicks == 0


async def test_awkward_ids_round_trip(store: ExposureStore) -> None:
    await store.record([listed("control", "r:1", ODD, (True, False, True, False, True))])
    w = (await store.read(["control"], T0, T0))["control"]
    assert w.item_counts == dict.fromkeys(ODD, 1)
    r = await store.click(Click("r:1", "1control", T0))
    assert (r.outcome, r.bucket, r.tail) == (ClickOutcome.COUNTED, "control", True)


async def test_clicks_are_matched_through_the_serving_catalogue(store: ExposureStore) -> None:
    await store.record([exposure("control", "r1", "ab", "01")])
    # The catalogue that served r1 is no longer loaded: refused like an expired list, even
    # though another loaded catalogue has an item "b" at the same row.
    other = {CATALOGUE + 1: ROWS}
    assert (await store.click(Click("r1", "b", T0, other))).outcome is ClickOutcome.NOT_SHOWN
    # A catalogue with "b" at another row: the row shown is what counts, not the id.
    moved = {CATALOGUE: {**ROWS, "b": ROWS["z"]}}
    assert (await store.click(Click("r1", "b", T0, moved))).outcome is ClickOutcome.NOT_SHOWN
    assert (await store.read(["control"], T0, T0))["control"].totals.clicks == 0
    assert (await store.click(Click("r1", "b", T0))).outcome is ClickOutcome.COUNTED


async def test_long_lists_keep_every_position_apart(store: ExposureStore) -> None:
    # 31 items: the clicked and tail bits span four bytes each.
    names = tuple("abcdefghijklmnopqrstuvwxyz") + ODD
    tail = tuple(j % 3 == 0 for j in range(len(names)))
    await store.record([listed("treatment", "long", names, tail)])
    assert len(names) == 31
    for j in (30, 8, 7, 0, 30):
        r = await store.click(Click("long", names[j], T0 + 1))
        assert r.tail is (j % 3 == 0) and r.bucket == "treatment"
    t = (await store.read(["treatment"], T0, T0 + 2))["treatment"].totals
    # Positions 30, 8, 7, 0 counted once each (the second 30 is a duplicate); 30 and 0 are tail.
    assert (t.clicks, t.tail_clicks, t.head_clicks) == (4, 2, 2)


async def test_concurrent_batches_lose_nothing(store: ExposureStore) -> None:
    async def one(i: int) -> None:
        await store.record([exposure("control", f"r{i}-{j}", "abcde", "00111") for j in range(5)])

    await asyncio.gather(*(one(i) for i in range(40)))
    w = (await store.read(["control"], T0, T0))["control"]
    assert w.totals.requests == 200 and w.totals.impressions == 1000
    assert w.totals.tail_impressions == 600
    assert w.item_counts == dict.fromkeys("abcde", 200)


async def test_ping(store: ExposureStore) -> None:
    await store.ping()
