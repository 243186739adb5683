"""Event counts of a batch, gathered column-wise and counted per family in one pass.

Every event increments four count fields of its contact: per type, per (type, day),
per (type, campaign) and per (type, campaign, day) — see `keys.event_field`. Instead
of four (field, contact, +1) triples per event, `EventTally` keeps the events
themselves (contact column, type, campaign, day; batch-wide codes) and, when they are
applied, counts each family at once: one sort of (field, contact) keys (or a
`bincount` when the family's key space is small) gives the count per pair, already
ordered by field and contact as `counts.apply_sorted` wants them.

A bulk load's events come in faster than they are parsed, so the writer would wait for
the parse process and then count them all at the end. Instead, every `COUNT_EVERY`
events the tally counts what it holds (`_count_held`) and keeps the counts per family,
keyed by (field, contact) with batch-wide field codes; `take` then only merges those
sorted runs (a stable sort merges runs in near-linear time) and sums equal keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from bitseg.store import keys

_KEY_BITS = 32  # a family key is field part << 32 | contact column
_COL_MASK = np.uint64((1 << _KEY_BITS) - 1)
COUNT_EVERY = 4_000_000  # events counted (and let go) at a time
_DENSE_CELLS = 1 << 24  # counted with bincount when fields x columns is at most this


@dataclass
class FamilyCounts:
    """Counts of one family: `fields[codes[i]]` of contact `cols[i]` grows by `incs[i]`,
    sorted by (code, col)."""

    fields: list[str]
    codes: np.ndarray
    cols: np.ndarray
    incs: np.ndarray


class EventTally:
    """Events waiting to be counted: append column-wise, then take per family."""

    def __init__(self) -> None:
        self.type_names: list[str] = []
        self.campaign_names: list[str] = []
        self._type_codes: dict[str, int] = {}
        self._campaign_codes: dict[str, int] = {}
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._held = 0  # events in `_parts`
        # counted so far: per family (a label), runs of (field code << 32 | col, count)
        self._counted: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = {}
        self._fields: list[str] = []
        self._field_codes: dict[str, int] = {}
        self.size = 0  # events since the last `take`

    def add(
        self,
        cols: np.ndarray,
        types: np.ndarray,
        type_names: list[str],
        campaigns: np.ndarray,
        campaign_names: list[str],
        days: np.ndarray,
    ) -> None:
        """Events of one chunk: contact columns, per-chunk type / campaign codes (with their
        names; campaign -1: none) and UTC day numbers."""
        if not len(cols):
            return
        type_map = np.array([_code(self._type_codes, self.type_names, t) for t in type_names],
                            dtype=np.int32)
        campaign_map = np.array(
            [_code(self._campaign_codes, self.campaign_names, c) for c in campaign_names] + [-1],
            dtype=np.int32,
        )  # index -1 (no campaign) reads the last entry
        small = days.min() > -(1 << 31) and days.max() < (1 << 31)
        self._parts.append((
            np.asarray(cols, dtype=np.uint32),
            type_map[types],
            campaign_map[campaigns],
            days.astype(np.int32) if small else days.astype(np.int64),
        ))
        self.size += len(cols)
        self._held += len(cols)
        if self._held >= COUNT_EVERY:
            self._count_held()

    def _count_held(self) -> None:
        """Count the events held and keep the counts, as batch-wide (field, col) keys."""
        for label, family in self._families():
            codes = np.array([_code(self._field_codes, self._fields, f) for f in family.fields],
                             dtype=np.uint64)
            key = codes[family.codes]
            key <<= np.uint64(_KEY_BITS)
            key |= family.cols
            self._counted.setdefault(label, []).append((key, family.incs))

    def take(self) -> Iterator[FamilyCounts]:
        """The counts of every family (then the tally is empty)."""
        if not self._counted:  # everything is still held: counted at once, nothing to merge
            yield from (family for _, family in self._families())
            self.size = 0
            return
        self._count_held()
        counted, self._counted = self._counted, {}
        fields, self._fields, self._field_codes = self._fields, [], {}
        self.size = 0
        for runs in counted.values():
            yield _merged(fields, runs)
            runs.clear()

    def _families(self) -> Iterator[tuple[tuple[str, int], FamilyCounts]]:
        """The counts of the events held, per family (labelled), letting them go."""
        if not self._parts:
            return
        parts, self._parts, self._held = self._parts, [], 0
        columns = [[p[k] for p in parts] for k in range(4)]
        del parts
        cols, types, campaigns, days = (_concat(column) for column in columns)
        ncamp = max(1, len(self.campaign_names))
        tn, cn = self.type_names, self.campaign_names
        day0 = int(days.min())
        span = int(days.max()) - day0 + 1
        if span * len(tn) * ncamp < 1 << 62:
            day_off = days - day0
            if span < 1 << 31:
                day_off = day_off.astype(np.int32)

            def day(k: int) -> int:
                return day0 + k
        else:  # times centuries apart: number the distinct days so keys fit 64 bits
            distinct, day_off = np.unique(days, return_inverse=True)
            span = len(distinct)

            def day(k: int) -> int:
                return int(distinct[k])
        del days
        yield ("all", -1), _family(types, cols, lambda k: keys.event_field(tn[k]))
        # The other families type by type: their fields differ by type, and the
        # temporaries of a sort stay a type's share of the events.
        for code, name in enumerate(tn):
            sel = types == code
            if not sel.any():
                continue
            t_cols, t_days, t_campaigns = cols[sel], day_off[sel], campaigns[sel]
            del sel
            yield ("day", code), _family(
                t_days, t_cols, lambda k, t=name: keys.event_field(t, day=day(k))
            )
            has = t_campaigns >= 0
            if not has.any():
                continue
            t_cols, t_days, t_campaigns = t_cols[has], t_days[has], t_campaigns[has]
            del has
            yield ("campaign", code), _family(
                t_campaigns, t_cols, lambda k, t=name: keys.event_field(t, cn[k])
            )
            yield ("campaign-day", code), _family(
                _combine(t_campaigns, span, t_days), t_cols,
                lambda k, t=name: keys.event_field(t, cn[k // span], day(k % span)),
            )


def _merged(fields: list[str], runs: list[tuple[np.ndarray, np.ndarray]]) -> FamilyCounts:
    """One family's counted runs as one count per (field, col), sorted by both."""
    key = runs[0][0] if len(runs) == 1 else np.concatenate([k for k, _ in runs])
    incs = runs[0][1] if len(runs) == 1 else np.concatenate([i for _, i in runs])
    order = np.argsort(key, kind="stable")  # merges the sorted runs
    key = key[order]
    incs = incs[order]
    del order
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.add.reduceat(incs, starts) if len(starts) < len(key) else incs
    key = key[starts]
    return FamilyCounts(
        fields, (key >> np.uint64(_KEY_BITS)).astype(np.int64),
        (key & _COL_MASK).astype(np.uint32), counts.astype(np.int32),
    )


def _combine(high: np.ndarray, base: int, low: np.ndarray) -> np.ndarray:
    """high * base + low in 64 bits, built in place."""
    out = high.astype(np.int64)
    out *= base
    out += low
    return out


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    """One array of `parts`, emptying the list as it goes (peak memory: one column)."""
    out = np.concatenate(parts)
    parts.clear()
    return out


def _code(codes: dict[str, int], names: list[str], name: str) -> int:
    code = codes.get(name)
    if code is None:
        code = codes[name] = len(names)
        names.append(name)
    return code


def _family(part: np.ndarray, cols: np.ndarray, name_of: Callable[[int], str]) -> FamilyCounts:
    """Events counted per (field part, column): fields named by `name_of(part)`.

    Temporaries are few and updated in place: this runs over tens of millions of events.
    """
    top_col = int(cols.max()) + 1
    uniq: np.ndarray | None = None
    if int(part.max()) >= 1 << _KEY_BITS:  # a wide key space: number the parts first
        uniq, part = np.unique(part, return_inverse=True)
    top_part = int(part.max()) + 1
    if top_part * top_col <= _DENSE_CELLS:
        cell = part.astype(np.int64)
        cell *= top_col
        cell += cols
        counts = np.bincount(cell, minlength=top_part * top_col)
        del cell
        cells = np.flatnonzero(counts)
        incs = counts[cells].astype(np.int32)
        del counts
        out_cols = (cells % top_col).astype(np.uint32)
        cells //= top_col
        parts = cells
    else:
        key = part.astype(np.uint64)
        key <<= np.uint64(_KEY_BITS)
        key |= cols
        key.sort()
        change = np.empty(len(key), dtype=bool)
        change[:1] = True
        np.not_equal(key[1:], key[:-1], out=change[1:])
        starts = np.flatnonzero(change)
        del change
        incs = np.diff(starts, append=len(key)).astype(np.int32)
        key = key[starts]
        del starts
        out_cols = (key & np.uint64((1 << _KEY_BITS) - 1)).astype(np.uint32)
        key >>= np.uint64(_KEY_BITS)
        parts = key
    firsts = np.flatnonzero(np.r_[True, parts[1:] != parts[:-1]])
    distinct = parts[firsts].astype(np.int64)
    del parts
    if uniq is not None:
        distinct = uniq[distinct]
    fields = [name_of(k) for k in distinct.tolist()]
    codes = np.repeat(
        np.arange(len(firsts), dtype=np.int32), np.diff(firsts, append=len(out_cols))
    )
    return FamilyCounts(fields, codes, out_cols, incs)
