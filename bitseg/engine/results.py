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
    """A small LRU of leaf answers for one org, valid for one generation at a time."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self.gen = -1
        self._entries: OrderedDict[Hashable, FrozenBitMap] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(
        self, gen: int, key: Hashable, compute: Callable[[], FrozenBitMap]
    ) -> FrozenBitMap:
        with self._lock:
            if gen != self.gen:
                if gen < self.gen:  # an older snapshot than the cache's: do not mix
                    return compute()
                self._entries.clear()
                self.gen = gen
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        value = compute()
        with self._lock:
            if gen == self.gen:
                self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value
