"""JSON reports for ``GET /stats/exposure`` and ``GET /stats/ab``, from a store's window read.

Both are pure functions of the store's counts and the catalogue (size, ids) of the variant each
bucket serves now, so they are unit-testable without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.exposure.events import BucketWindow, Counts
from service.exposure.summary import item_summary, share
from service.ztest import two_proportion_ztest


@dataclass(frozen=True)
class Catalogue:
    variant: str
    size: int
    ids: frozenset[str]


def exposure_report(
    windows: Mapping[str, BucketWindow],
    catalogues: Mapping[str, Catalogue],
    *,
    lorenz_points: int = 21,
    top_items: int = 0,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for bucket, w in windows.items():
        cat = catalogues[bucket]
        t = w.totals
        distinct, cov, gini, curve = item_summary(w.item_counts, cat.ids, cat.size, lorenz_points)
        entry: dict[str, Any] = {
            "variant": cat.variant,
            "requests": t.requests,
            "impressions": t.impressions,
            "head_impressions": t.head_impressions,
            "tail_impressions": t.tail_impressions,
            "tail_share": share(t.tail_impressions, t.impressions),
            "distinct_items": distinct,
            "catalogue_size": cat.size,
            "coverage": cov,
            "gini": gini,
            "lorenz": curve,
            "series": [_point(start, c) for start, c in w.series],
        }
        if top_items:
            ranked = sorted(w.item_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_items]
            entry["top_items"] = [{"item_id": i, "impressions": n} for i, n in ranked]
        out[bucket] = entry
    return out


def _point(start: int, c: Counts) -> dict[str, Any]:
    return {
        "t": start,
        "requests": c.requests,
        "impressions": c.impressions,
        "head_impressions": c.head_impressions,
        "tail_impressions": c.tail_impressions,
        "tail_share": share(c.tail_impressions, c.impressions),
        "clicks": c.clicks,
    }


_SLICES = (
    ("overall", "clicks", "impressions"),
    ("head", "head_clicks", "head_impressions"),
    ("tail", "tail_clicks", "tail_impressions"),
)


def _clamped(c: Counts, clicks: str, impressions: str) -> tuple[int, int]:
    # Clicks are checked against shown lists, but a click can land in a later time bucket than
    # its impression: at a window's edge clicks may exceed impressions. Clamp so rates stay ≤ 1.
    n = getattr(c, impressions)
    return min(getattr(c, clicks), n), n


def ab_report(windows: Mapping[str, BucketWindow], variants: Mapping[str, str]) -> dict[str, Any]:
    control = windows.get("control", BucketWindow()).totals
    out: dict[str, Any] = {}
    for bucket, w in windows.items():
        t = w.totals
        entry: dict[str, Any] = {"variant": variants[bucket], "requests": t.requests}
        for name, clicks, impressions in _SLICES:
            s, n = _clamped(t, clicks, impressions)
            entry[name] = {"impressions": n, "clicks": s, "ctr": share(s, n)}
        if bucket != "control":
            vs: dict[str, Any] = {}
            for name, clicks, impressions in _SLICES:
                sa, na = _clamped(control, clicks, impressions)
                sb, nb = _clamped(t, clicks, impressions)
                z = two_proportion_ztest(sa, na, sb, nb)
                vs[name] = {"diff": z.diff, "z": z.z, "p_value": z.p_value}
            entry["vs_control"] = vs
        out[bucket] = entry
    return out
