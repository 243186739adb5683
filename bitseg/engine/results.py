"""Results of expensive leaves kept across queries while the data does not change.

Deal and event leaves cost milliseconds (owner mapping, bit-sliced sums of day counts)
while everything else costs microseconds, and a segment-builder UI asks the same
leaves again on every keystroke. Their answers depend only on the data generation and
on the leaf as resolved for `now` (absolute times, the chosen campaign and day fields),
so they are cached under that resolved key and dropped as soon as the generation moves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from pyroaring import FrozenBitMap


class LeafResults:
    """A small LRU of leaf answers for one org, valid for one generation at a time,
    within `max_bytes` of bitmap containers (and `max_entries`)."""

    def __init__(self, max_entries: int = 1024, max_bytes: int = 64 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.used = 0
        self.gen = -1
        self._entries: OrderedDict[Hashable, tuple[FrozenBitMap, int]] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.used = 0

    def get_or_compute(
        self, gen: int, key: Hashable, compute: Callable[[], FrozenBitMap]
    ) -> FrozenBitMap:
        with self._lock:
            if gen != self.gen:
                if gen < self.gen:  # an older snapshot than the cache's: do not mix
                    return compute()
                self._entries.clear()
                self.used = 0
                self.gen = gen
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit[0]
        value = compute()
        size = _size(value)
        with self._lock:
            if gen == self.gen and key not in self._entries and size <= self.max_bytes:
                self._entries[key] = (value, size)
                self.used += size
                while len(self._entries) > self.max_entries or self.used > self.max_bytes:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self.used -= dropped
        return value


def _size(bitmap: FrozenBitMap) -> int:
    stats = bitmap.get_statistics()
    return 64 + sum(stats[f"n_bytes_{kind}_containers"] for kind in ("array", "run", "bitset"))
