"""Timing helpers: bounded repetition loops and percentiles.

Every loop here is bounded twice: by a number of repetitions and by a time budget
(at least `min_reps` samples are taken even when the budget is spent, so a slow
operation still gets a p50).

>>> s = Sample([0.001, 0.002, 0.003])
>>> round(s.p50 * 1000, 3), s.n
(2.0, 3)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; nan for no values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Sample:
    """Durations in seconds."""

    values: list[float] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def p50(self) -> float:
        return percentile(self.values, 50)

    @property
    def p99(self) -> float:
        return percentile(self.values, 99)

    def __bool__(self) -> bool:
        return bool(self.values)


def repeat(
    fn: Callable[[], float],
    reps: int,
    warmup: int,
    budget: float,
    min_reps: int = 3,
) -> Sample:
    """Call `fn` (which returns the duration to record, in seconds) `warmup` times
    unrecorded, then up to `reps` times or until `budget` seconds have passed."""
    for _ in range(max(0, warmup)):
        fn()
    out = Sample()
    deadline = time.perf_counter() + budget
    for i in range(max(1, reps)):
        if i >= min_reps and time.perf_counter() > deadline:
            break
        out.values.append(fn())
    return out


def geomean(values: list[float]) -> float:
    """Geometric mean of positive values; nan if there are none.

    >>> round(geomean([1.0, 100.0]), 6)
    10.0
    """
    good = [v for v in values if v > 0 and math.isfinite(v)]
    if not good:
        return math.nan
    return math.exp(sum(math.log(v) for v in good) / len(good))
