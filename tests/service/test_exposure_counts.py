"""``Counts``: the one place both stores count a served list, and the Redis hash field names."""

from __future__ import annotations

from service.exposure.events import COUNTERS, Counts, Exposure


def test_counter_names_are_the_redis_hash_fields_unchanged() -> None:
    # Existing Redis data is read by these names: renaming or reordering a field breaks it.
    assert COUNTERS == (
        "requests", "impressions", "head_impressions", "tail_impressions",
        "clicks", "head_clicks", "tail_clicks",
    )  # fmt: skip


def test_add_exposure_splits_impressions_by_the_tail_label() -> None:
    c = Counts()
    c.add_exposure(
        Exposure("control", "r1", ("a", "b", "c"), (True, False, True), 0.0, (0, 1, 2), 7)
    )
    c.add_exposure(Exposure("control", "r2", ("d",), (False,), 1.0, (3,), 7))
    # An empty list is still a request.
    c.add_exposure(Exposure("control", "r3", (), (), 2.0, (), 7))
    assert c.as_dict() == {
        "requests": 3, "impressions": 4, "head_impressions": 2, "tail_impressions": 2,
        "clicks": 0, "head_clicks": 0, "tail_clicks": 0,
    }  # fmt: skip
