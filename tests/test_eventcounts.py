"""Event counts per family (`EventTally`) against counting event by event."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import indexer.eventcounts as ec
from bitseg.store import keys


def naive(events: list[tuple[int, str, str | None, int]]) -> Counter[tuple[str, int]]:
    out: Counter[tuple[str, int]] = Counter()
    for col, event_type, campaign, day in events:
        out[(keys.event_field(event_type), col)] += 1
        out[(keys.event_field(event_type, day=day), col)] += 1
        if campaign is not None:
            out[(keys.event_field(event_type, campaign), col)] += 1
            out[(keys.event_field(event_type, campaign, day), col)] += 1
    return out


def tallied(chunks: list[list[tuple[int, str, str | None, int]]]) -> Counter[tuple[str, int]]:
    tally = ec.EventTally()
    for events in chunks:
        type_names = sorted({e[1] for e in events})
        campaign_names = sorted({e[2] for e in events if e[2] is not None})
        tally.add(
            np.array([e[0] for e in events], dtype=np.uint32),
            np.array([type_names.index(e[1]) for e in events], dtype=np.int32),
            type_names,
            np.array([campaign_names.index(e[2]) if e[2] else -1 for e in events], np.int32),
            campaign_names,
            np.array([e[3] for e in events], dtype=np.int64),
        )
    out: Counter[tuple[str, int]] = Counter()
    for family in tally.take():
        pairs = list(zip(family.codes.tolist(), family.cols.tolist(), strict=True))
        assert pairs == sorted(set(pairs))  # sorted by (field, column), one entry a pair
        for code, col, inc in zip(family.codes.tolist(), family.cols.tolist(),
                                  family.incs.tolist(), strict=True):
            out[(family.fields[code], col)] += inc
    assert tally.size == 0 and list(tally.take()) == []
    return out


@pytest.mark.parametrize("count_every", [1 << 40, 1, 400])  # held to the end, or counted
@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("day_spread", [3, 40_000, 10**12, 10**18])
def test_families_count_like_event_by_event(
    monkeypatch: pytest.MonkeyPatch, dense: bool, day_spread: int, count_every: int
) -> None:
    monkeypatch.setattr(ec, "_DENSE_CELLS", 1 << 26 if dense else 0)
    monkeypatch.setattr(ec, "COUNT_EVERY", count_every)
    rnd = np.random.default_rng(day_spread)
    chunks = []
    for size in (500, 1, 300):
        chunks.append([
            (int(rnd.integers(0, 70)), f"t{rnd.integers(0, 4)}",
             None if rnd.random() < 0.4 else f"m{rnd.integers(0, 5)}",
             int(rnd.integers(-day_spread, day_spread)))
            for _ in range(size)
        ])
    assert tallied(chunks) == naive([e for chunk in chunks for e in chunk])


def test_no_campaigns_and_no_events() -> None:
    events = [(1, "a", None, 5), (1, "a", None, 5), (2, "b", None, 6)]
    assert tallied([events]) == naive(events)
    assert tallied([]) == Counter()
