"""Deserialized bitmaps (and other versioned values) kept across queries, revalidated by version.

Each stored bitmap value starts with an 8-byte version (the generation that wrote
it). An entry checked at the current generation is used as is; after any write the
next access compares one 8-byte header and deserializes only what changed. Least
recently used entries are evicted beyond a byte budget.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pyroaring import FrozenBitMap

EMPTY = FrozenBitMap()


class _Entry:
    __slots__ = ("version", "bitmap", "checked_gen", "nbytes")

    def __init__(self, version: bytes, bitmap: Any, checked_gen: int, nbytes: int):
        self.version = version
        self.bitmap = bitmap
        self.checked_gen = checked_gen
        self.nbytes = nbytes


class BitmapCache:
    """key -> (version, FrozenBitMap), LRU within `max_bytes` of serialized size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(
        self, key: bytes, gen: int, fetch: object, decode: Callable[[Any], Any] | None = None
    ) -> Any:
        """The bitmap at `key` as of generation `gen`; `fetch(key)` reads its raw value."""
        entry = self._entries.get(key)
        if entry is not None and entry.checked_gen == gen:
            self.hits += 1
            with self._lock:  # another thread may evict it meanwhile: then just return it
                if key in self._entries:
                    self._entries.move_to_end(key)
            return entry.bitmap
        raw = fetch(key)  # type: ignore[operator]
        version = bytes(raw[:8]) if raw is not None else b""
        with self._lock:
            if entry is not None and entry.version == version:
                entry.checked_gen = gen
                self.hits += 1
                return entry.bitmap
            self.misses += 1
            if decode is not None:
                bitmap = decode(raw[8:] if raw is not None else None)
            else:
                bitmap = FrozenBitMap.deserialize(raw[8:]) if raw is not None else EMPTY
            nbytes = len(raw) if raw is not None else 16
            old = self._entries.pop(key, None)
            if old is not None:
                self.used -= old.nbytes
            self._entries[key] = _Entry(version, bitmap, gen, nbytes)
            self.used += nbytes
            while self.used > self.max_bytes and len(self._entries) > 1:
                _, evicted = self._entries.popitem(last=False)
                self.used -= evicted.nbytes
            return bitmap

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.used = 0
