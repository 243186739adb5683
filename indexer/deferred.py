"""Postings of many-small-bitmap fields, held column-wise until the end of a batch.

A bulk load writes its bitmaps several times (each time the values held grow large),
and every write rewrites each touched key: a key costs ~20 us of Python and LMDB work
whatever its size. Most keys are cheap to hold back instead: fields with a small
bitmap per value (a company id, name or domain per ~10 contacts, an email domain,
fine range-index buckets) touch tens of thousands of keys per write, each with a
couple of new columns. At 1M contacts they were two thirds of 2.3M key rewrites.

`DeferredPostings` keeps the small postings of such fields (keys given at most SMALL
columns by a write) as two flat arrays per run of removals or additions (slot code,
column; 8 bytes a column, against ~250 bytes per key and write as dicts of arrays)
and gives them back as ordinary postings when the batch's bitmaps are written in
full. A key once held stays held until then, so its changes are replayed in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

Postings = Mapping[bytes, np.ndarray]
Key = tuple[str, str]  # (entity, field)

MIN_SLOTS = 1_000  # a field starts holding keys when a write has this many small ones
SMALL = 16  # columns of a key's postings in one write, at most, for it to be held


def _split(
    parts: list[tuple[bool, Postings]], held: Mapping[bytes, int]
) -> tuple[list[tuple[bool, Postings]], list[tuple[bool, Postings]]] | None:
    """(parts of the keys to hold, parts of the others), or None: nothing worth holding.

    A key is held when its postings in this write are small, or when it is held already
    (a key, once held, stays held, so its changes stay in order)."""
    totals: dict[bytes, int] = {}
    for _, postings in parts:
        for slot, cols in postings.items():
            totals[slot] = totals.get(slot, 0) + len(cols)
    small = {slot for slot, n in totals.items() if n <= SMALL or slot in held}
    if not small or (not held and len(small) < MIN_SLOTS):
        return None
    if len(small) == len(totals):
        return parts, []
    keep: list[tuple[bool, Postings]] = []
    write: list[tuple[bool, Postings]] = []
    for remove, postings in parts:
        mine = {slot: cols for slot, cols in postings.items() if slot in small}
        rest = {slot: cols for slot, cols in postings.items() if slot not in small}
        if mine:
            keep.append((remove, mine))
        if rest:
            write.append((remove, rest))
    return keep, write


class _Held:
    __slots__ = ("slots", "codes", "runs")

    def __init__(self) -> None:
        self.slots: list[bytes] = []
        self.codes: dict[bytes, int] = {}
        self.runs: list[tuple[bool, list[np.ndarray], list[np.ndarray]]] = []

    def add(self, remove: bool, postings: Postings) -> None:
        if not postings:
            return
        codes = self.codes
        slots = self.slots
        numbers = []
        for slot in postings:
            code = codes.get(slot)
            if code is None:
                code = codes[slot] = len(slots)
                slots.append(slot)
            numbers.append(code)
        arrays = list(postings.values())
        lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        slot_codes = np.repeat(np.asarray(numbers, dtype=np.uint32), lengths)
        cols = np.concatenate(arrays).astype(np.uint32, copy=False)
        if self.runs and self.runs[-1][0] == remove:
            self.runs[-1][1].append(slot_codes)
            self.runs[-1][2].append(cols)
        else:
            self.runs.append((remove, [slot_codes], [cols]))

    def postings(self) -> Iterator[tuple[bool, dict[bytes, np.ndarray]]]:
        slots = self.slots
        for remove, code_parts, col_parts in self.runs:
            codes = np.concatenate(code_parts)
            cols = np.concatenate(col_parts)
            order = np.argsort(codes, kind="stable")  # columns keep their order per slot
            codes, cols = codes[order], cols[order]
            edges = np.flatnonzero(codes[1:] != codes[:-1]) + 1
            starts = [0, *edges.tolist()]
            ends = [*edges.tolist(), len(codes)]
            firsts = codes[starts].tolist()
            yield remove, {
                slots[code]: cols[start:end]
                for code, start, end in zip(firsts, starts, ends, strict=True)
            }


class DeferredPostings:
    """(entity, field) -> its held postings (see the module docstring)."""

    def __init__(self) -> None:
        self._fields: dict[Key, _Held] = {}

    def __bool__(self) -> bool:
        return bool(self._fields)

    def take(self, key: Key, parts: list[tuple[bool, Postings]]) -> list[tuple[bool, Postings]]:
        """Hold the small postings of a field's write (after those it holds already);
        the parts left to write now."""
        held = self._fields.get(key)
        split = _split(parts, held.codes if held is not None else {})
        if split is None:
            return parts
        keep, write = split
        if held is None:
            held = self._fields[key] = _Held()
        for remove, postings in keep:
            held.add(remove, postings)
        return write

    def drain(self) -> Iterator[tuple[Key, list[tuple[bool, dict[bytes, np.ndarray]]]]]:
        """Every held field's postings, in the order they arose (then nothing is held)."""
        fields, self._fields = self._fields, {}
        for key, held in fields.items():
            yield key, list(held.postings())
