"""Events JSON Lines parsed column-wise: whole blocks of lines at once with numpy.

An events file is tens of millions of small lines; parsing them one by one costs
microseconds of Python each. `scan_events` reads a block of lines (a few MB) as one
byte array and recognises the usual line shape with vectorised operations:

    {"contact_id":"c1","type":"email_opened","at":"2026-03-01T12:00:00Z","campaign_id":"m7"}

(keys in any order, `campaign_id` optional, `": "` / `", "` spacing allowed, string
values without escapes, `at` as `YYYY-MM-DDTHH:MM:SS` with an optional `Z`). Such a
line is accepted exactly when `records.event_fields` would take its fast path: the
same length, printability and spacing checks are made once per distinct id, type
and campaign of the block. Every other line — blank, escaped, spaced differently,
numeric ids, another time format, or anything invalid — goes through the per-line
path (`orjson.loads` + `records.event_fields`) in line order, so errors are the same
`file:line: message` as before and the first bad line is the one reported.

Each block becomes an `EventColumns`: per-block tables of distinct contact ids,
types and campaigns (in order of first appearance) and per-event code arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import orjson

from bitseg.errors import RecordError
from indexer import records as rec

# bytes of lines scanned at once: a block and its temporaries (the quote positions alone
# are 1.4 bytes of int64 per byte) stay in the L2/L3 caches; 2 MiB scans ~27% faster per
# line than 8 MiB on the benchmark machine (2 MiB L2 per core, 32 MiB L3 shared)
BLOCK_BYTES = 2 << 20
_KEYS = (b"contact_id", b"type", b"at", b"campaign_id")
_CID, _TYPE, _AT, _CAMPAIGN = range(4)
_MAX_ID_BYTES = 100  # longer values take the per-line path (the fast check allows 100 chars)
_QUOTE, _COLON, _COMMA, _SPACE, _LBRACE, _RBRACE = (ord(c) for c in '":, {}')
_DAYS_BEFORE_MONTH = np.array([0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass
class EventColumns:
    """Events of one block, column-wise; `campaigns` is -1 for an event without one."""

    contact_ids: list[str]
    contacts: np.ndarray  # int32 index into contact_ids
    type_names: list[str]
    types: np.ndarray  # int32 index into type_names
    campaign_names: list[str]
    campaigns: np.ndarray  # int32 index into campaign_names, -1: none
    times: np.ndarray  # int64 epoch seconds

    def __len__(self) -> int:
        return len(self.types)


def scan_events(
    data: bytes | BinaryIO, source: str, block_bytes: int = BLOCK_BYTES
) -> Iterator[EventColumns]:
    """The events of a JSON Lines source, a block of lines at a time."""
    line = 1
    for block in _blocks(data, block_bytes):
        columns = scan_block(block, source, line)
        line += block.count(b"\n")
        if len(columns):
            yield columns


def _blocks(data: bytes | BinaryIO, block_bytes: int) -> Iterator[bytes]:
    """Whole lines, about `block_bytes` at a time (the last block may lack its newline)."""
    if isinstance(data, bytes | bytearray):
        view = memoryview(data)
        start = 0
        while start < len(data):
            end = data.rfind(b"\n", start, start + block_bytes) + 1
            if end <= start:  # a line longer than a block, or the tail
                cut = data.find(b"\n", start + block_bytes)
                end = len(data) if cut < 0 else cut + 1
            yield bytes(view[start:end])
            start = end
        return
    rest = b""
    while True:
        piece = data.read(block_bytes)
        if not piece:
            if rest:
                yield rest
            return
        piece = rest + piece if rest else piece
        cut = piece.rfind(b"\n") + 1
        if cut == 0:
            rest = piece
            continue
        rest = piece[cut:]
        yield piece[:cut]


def scan_block(block: bytes, source: str, first_line: int) -> EventColumns:
    """Events of whole lines `block`, the first being line `first_line` of `source`."""
    padded = block + bytes(8)  # every 8-byte window below starts inside the block
    buf = np.frombuffer(padded, dtype=np.uint8, count=len(block))
    win = _windows(padded, len(block))
    ends = np.flatnonzero(buf == ord("\n"))
    if len(buf) and buf[-1] != ord("\n"):
        ends = np.append(ends, len(buf))
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    # content ends before "\n" and before a "\r" just ahead of it
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == ord("\r"))
    stops = ends - cr
    n = len(starts)
    fast = _recognise(buf, win, starts, stops)
    fields = [_intern(win, fast, spans) for spans in (fast.cid, fast.type, fast.campaign)]
    ok = fast.ok & fields[0].ok & fields[1].ok & fields[2].ok
    ok[fast.rows[~_check_ids(fields[0], 100, strip=False)[fields[0].inverse]]] = False
    ok[fast.rows[~_check_ids(fields[1], 32, strip=True)[fields[1].inverse]]] = False
    campaign_ok = _check_ids(fields[2], 64, strip=True)
    ok[fast.rows[fast.has_campaign & ~campaign_ok[np.maximum(fields[2].inverse, 0)]]] = False
    row_ok = ok[fast.rows]
    out = _Assembly(n)
    out.put_fast(fast.rows[row_ok], fast.times[row_ok], fields, row_ok, fast.has_campaign)
    slow = np.ones(n, dtype=bool)
    slow[fast.rows[row_ok]] = False
    for i in np.flatnonzero(slow).tolist():
        raw_line = block[starts[i] : ends[i] + 1]  # with its newline, as read_jsonl reads it
        if not raw_line.strip():
            continue
        out.put_slow(i, _slow_event(raw_line, source, first_line + i))
    return out.finish()


@dataclass
class _Spans:
    start: np.ndarray  # per recognised row: value start offset (or 0 when absent)
    stop: np.ndarray


@dataclass
class _Recognised:
    rows: np.ndarray  # line indexes of the rows below
    ok: np.ndarray  # per line: shape recognised and `at` well-formed
    cid: _Spans
    type: _Spans
    campaign: _Spans
    has_campaign: np.ndarray  # per row
    times: np.ndarray  # per row


def _windows(padded: bytes, n: int) -> np.ndarray:
    """win[p]: the 8 bytes at p..p+7 as one little-endian uint64, for every p <= n (an
    overlapping, unaligned view: one gather reads 8 bytes at any offset)."""
    return np.ndarray((n + 1,), dtype="<u8", buffer=padded, strides=(1,))


def _read8(win: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The 8 bytes at each position; past the block only the last window is read (a
    byte and NULs, which no fixed part and no value matches)."""
    return win[np.minimum(positions, len(win) - 1)]


def _u64(text: bytes) -> np.uint64:
    return np.frombuffer(text.ljust(8, b"\0"), dtype="<u8")[0]


_P0 = (_u64(b'{"contac'), _u64(b'ct_id":"'))  # {"contact_id":"  (15 bytes)
_P1 = (_u64(b'","type"'), _u64(b'"type":"'))  # ","type":"  (10 bytes, from its quote)
_P2 = _u64(b'","at":"')  # ","at":"  (8 bytes)
_P3 = (_u64(b'","campa'), _u64(b'ign_id":'))  # ","campaign_id":"  (17 bytes)
_END = _u64(b'"}')
_LOW16 = np.uint64(0xFFFF)


def _template(
    buf: np.ndarray, win: np.ndarray, q: np.ndarray, start: np.ndarray, stop: np.ndarray,
    pairs: int,
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Rows written exactly as `{"contact_id":"…","type":"…","at":"…"(,"campaign_id":"…")}`
    (the usual writer's form: the keys in that order, no spaces), checked with a few
    8-byte compares of their fixed parts, and the spans of their values. `q` holds the
    rows' 4 * pairs quote positions: a value lies between two of them, so once the
    fixed parts match, where each value starts and ends is known."""
    q3, q7, q11 = q[:, 3], q[:, 7], q[:, 11]
    good = (_read8(win, start) == _P0[0]) & (_read8(win, start + 7) == _P0[1])
    good &= (_read8(win, q3) == _P1[0]) & (_read8(win, q3 + 2) == _P1[1])
    good &= _read8(win, q7) == _P2
    if pairs == 3:
        good &= ((_read8(win, q11) & _LOW16) == _END) & (q11 + 2 == stop)
    else:
        q15 = q[:, 15]
        good &= (_read8(win, q11) == _P3[0]) & (_read8(win, q11 + 8) == _P3[1])
        good &= (buf[np.minimum(q11 + 16, len(buf) - 1)] == _QUOTE)
        good &= ((_read8(win, q15) & _LOW16) == _END) & (q15 + 2 == stop)
    zero = np.zeros(len(start), dtype=np.int64)
    spans = [(start + 15, q3), (q3 + 10, q7), (q7 + 8, q11)]
    spans.append((q11 + 17, q[:, 15]) if pairs == 4 else (zero, zero))
    return good, spans


def _recognise(
    buf: np.ndarray, win: np.ndarray, starts: np.ndarray, stops: np.ndarray
) -> _Recognised:
    """Rows of the usual shape, with the byte spans of their values and their times."""
    n = len(starts)
    quotes = np.flatnonzero(buf == _QUOTE)
    specials = np.flatnonzero((buf < 0x20) | (buf == ord("\\")))
    first_quote = np.searchsorted(quotes, starts)
    nquotes = np.searchsorted(quotes, stops) - first_quote
    clean = np.searchsorted(specials, stops) == np.searchsorted(specials, starts)
    ok = np.zeros(n, dtype=bool)
    parts = []
    for pairs in (3, 4):
        rows = np.flatnonzero(clean & (nquotes == 4 * pairs))
        if not len(rows):
            continue
        q = quotes[first_quote[rows, None] + np.arange(4 * pairs)]
        matched, spans = _template(buf, win, q, starts[rows], stops[rows], pairs)
        if matched.any():
            parts.append((rows[matched], np.ones(int(matched.sum()), dtype=bool),
                          [(a[matched], b[matched]) for a, b in spans], pairs))
        rest = np.flatnonzero(~matched)
        if len(rest):  # other key orders or spacing: key by key
            parts.append(_shape(buf, rows[rest], q[rest], starts, stops, pairs))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        spans = _Spans(empty, empty)
        return _Recognised(empty, ok, spans, spans, spans, empty.astype(bool), empty)
    rows = np.concatenate([p[0] for p in parts])
    good = np.concatenate([p[1] for p in parts])
    spans = [
        _Spans(
            np.concatenate([p[2][k][0] for p in parts]),
            np.concatenate([p[2][k][1] for p in parts]),
        )
        for k in range(4)
    ]
    has_campaign = np.concatenate([np.full(len(p[0]), p[3] == 4) for p in parts])
    times, time_ok = _times(buf, win, spans[_AT].start, spans[_AT].stop)
    good &= time_ok
    # rows are distinct line numbers: their order is read off a scatter, not a sort
    slot = np.full(n, -1, dtype=np.int64)
    slot[rows] = np.arange(len(rows))
    order = slot[slot >= 0]
    rows, good, times, has_campaign = rows[order], good[order], times[order], has_campaign[order]
    spans = [_Spans(s.start[order], s.stop[order]) for s in spans]
    ok[rows] = good
    keep = good
    return _Recognised(
        rows[keep], ok, _sel(spans[_CID], keep), _sel(spans[_TYPE], keep),
        _sel(spans[_CAMPAIGN], keep), has_campaign[keep], times[keep],
    )


def _sel(spans: _Spans, keep: np.ndarray) -> _Spans:
    return _Spans(spans.start[keep], spans.stop[keep])


def _shape(
    buf: np.ndarray,
    rows: np.ndarray,
    q: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    pairs: int,
) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]], int]:
    """Check `{"k":"v", ...}` with `pairs` string pairs, in any key order (the rows'
    quote positions in `q`); spans of each known key's value."""
    start, stop = starts[rows], stops[rows]
    good = (buf[start] == _LBRACE) & (q[:, 0] == start + 1)
    good &= (buf[stop - 1] == _RBRACE) & (q[:, -1] == stop - 2)
    seen = np.zeros(len(rows), dtype=np.int64)
    value_start = np.zeros((4, len(rows)), dtype=np.int64)
    value_stop = np.zeros((4, len(rows)), dtype=np.int64)
    for k in range(pairs):
        key_open, key_close, val_open, val_close = (q[:, 4 * k + j] for j in range(4))
        good &= _separator(buf, key_close, val_open, _COLON)
        if k + 1 < pairs:
            good &= _separator(buf, val_close, q[:, 4 * k + 4], _COMMA)
        key_len = key_close - key_open - 1
        which = np.full(len(rows), -1)
        for code, name in enumerate(_KEYS):
            candidates = np.flatnonzero(key_len == len(name))
            if not len(candidates):
                continue
            got = buf[key_open[candidates, None] + 1 + np.arange(len(name))]
            same = (got == np.frombuffer(name, dtype=np.uint8)).all(axis=1)
            which[candidates[same]] = code
        good &= which >= 0
        seen |= np.where(which >= 0, 1 << np.maximum(which, 0), 0)
        for code in range(4):
            hit = which == code
            value_start[code, hit] = val_open[hit] + 1
            value_stop[code, hit] = val_close[hit]
    good &= seen == (1 << pairs) - 1  # every key once: contact_id, type, at (, campaign_id)
    spans = [(value_start[c], value_stop[c]) for c in range(4)]
    return rows, good, spans, pairs


def _separator(buf: np.ndarray, before: np.ndarray, after: np.ndarray, sep: int) -> np.ndarray:
    """Between two quotes exactly `sep`, or `sep` and one space."""
    gap = after - before
    first_ok = buf[before + 1] == sep
    return first_ok & ((gap == 2) | ((gap == 3) & (buf[before + 2] == _SPACE)))


def _times(
    buf: np.ndarray, win: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds of `YYYY-MM-DDTHH:MM:SS[Z]` values, and which ones were well-formed."""
    length = stop - start
    ok = (length == 19) | ((length == 20) & (buf[np.minimum(start + 19, len(buf) - 1)] == ord("Z")))
    # three 8-byte gathers a row; bytes stay uint8 until the digits are checked
    text = np.stack([_read8(win, start + k) for k in (0, 8, 16)], axis=1)
    text = text.view(np.uint8)[:, :19]
    digit_at = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
    small = text[:, digit_at] - np.uint8(ord("0"))  # wraps: a non-digit becomes > 9
    ok &= (small <= 9).all(axis=1)
    ok &= (text[:, [4, 7, 10, 13, 16]] == np.frombuffer(b"--T::", dtype=np.uint8)).all(axis=1)
    digits = small.astype(np.int64)
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 4] * 10 + digits[:, 5]
    day = digits[:, 6] * 10 + digits[:, 7]
    hour = digits[:, 8] * 10 + digits[:, 9]
    minute = digits[:, 10] * 10 + digits[:, 11]
    second = digits[:, 12] * 10 + digits[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    safe_month = np.where(month_ok, month, 1)
    month_days = _DAYS_IN_MONTH[safe_month] + ((safe_month == 2) & leap)
    ok &= (year >= 1) & month_ok & (day >= 1) & (day <= month_days)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    # days since 1970-01-01 of a proleptic Gregorian date
    y = year - 1
    days = (
        y * 365 + y // 4 - y // 100 + y // 400
        + _DAYS_BEFORE_MONTH[safe_month] + ((safe_month > 2) & leap) + day - 1
        - 719162
    )
    return days * 86_400 + hour * 3600 + minute * 60 + second, ok


@dataclass
class _Interned:
    names: list[str | None]  # distinct values (None: not valid UTF-8)
    inverse: np.ndarray  # per row: index into names, -1 where the value is absent
    ok: np.ndarray  # per line: False where the value is too long for this path


def _intern(win: np.ndarray, fast: _Recognised, spans: _Spans) -> _Interned:
    """Distinct values of one string field over the recognised rows."""
    m = len(fast.rows)
    ok = np.ones(len(fast.ok), dtype=bool)
    length = spans.stop - spans.start
    present = spans.stop > 0
    inverse = np.full(m, -1, dtype=np.int64)
    too_long = present & (length > _MAX_ID_BYTES)
    ok[fast.rows[too_long]] = False
    sel = np.flatnonzero(present & ~too_long)
    if not len(sel):
        return _Interned([], inverse, ok)
    lengths = length[sel]
    nwords = (max(1, int(lengths.max())) + 7) // 8
    # one 8-byte gather per word of the widest value, the bytes past a value masked off
    # (NUL padding is safe: values have no NUL)
    first_byte = spans.start[sel]
    words = np.empty((len(sel), nwords), dtype=np.uint64)
    for j in range(nwords):
        keep = np.clip(lengths - 8 * j, 0, 8)
        words[:, j] = _read8(win, first_byte + 8 * j) & _MASKS[keep]
    # consecutive equal values (events usually come grouped by contact) share one lookup
    head = np.ones(len(sel), dtype=bool)
    head[1:] = (words[1:] != words[:-1]).any(axis=1)
    heads = np.flatnonzero(head)
    first, inv = _distinct_rows(words[heads])
    run = np.cumsum(head) - 1
    inverse[sel] = inv.ravel()[run]
    names: list[str | None] = []
    for raw in words[heads[first]]:
        try:
            names.append(raw.tobytes().rstrip(b"\x00").decode())
        except UnicodeDecodeError:
            names.append(None)
    return _Interned(names, inverse, ok)


_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _distinct_rows(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct row, per row: its distinct number) of a uint64 matrix.

    Rows are hashed to one uint64 and the hashes sorted (much faster than sorting the rows
    as byte strings); a hash shared by two different rows is detected, and then the rows
    themselves are sorted.
    """
    hashed = words[:, 0].copy()
    for j in range(1, words.shape[1]):
        hashed *= _MIX  # wraps modulo 2^64
        hashed ^= words[:, j]
    _, first, inv = np.unique(hashed, return_index=True, return_inverse=True)
    inv = inv.ravel()
    if words.shape[1] == 1 or (words[first[inv]] == words).all():
        return first, inv
    key = np.ascontiguousarray(words).view(np.dtype((np.void, words.shape[1] * 8))).ravel()
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return first, inv.ravel()


def _check_ids(field: _Interned, max_chars: int, strip: bool) -> np.ndarray:
    """Per distinct value: does it pass the per-line fast check of `records.event_fields`?"""
    return np.array(
        [
            name is not None
            and 0 < len(name) <= max_chars
            and name.isprintable()
            and (not strip or name.strip() == name)
            for name in field.names
        ]
        + [False],  # index -1 (absent) reads the last entry
        dtype=bool,
    )


def columns_of(events: list[tuple[str, str, int, str | None]]) -> EventColumns:
    """Events already checked (`records.event_fields` results) as columns."""
    out = _Assembly(len(events))
    for i, event in enumerate(events):
        out.put_slow(i, event)
    return out.finish()


def _slow_event(line: bytes, source: str, number: int) -> tuple[str, str, int, str | None]:
    """One line through the general path (the same checks and errors as `read_jsonl`)."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise RecordError(source, number, f"malformed JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RecordError(source, number, "expected a JSON object")
    try:
        return rec.event_fields(raw)
    except ValueError as exc:
        raise RecordError(source, number, str(exc)) from None


class _Assembly:
    """Per-line codes of one block, merged from the vectorised and the per-line rows."""

    def __init__(self, n: int) -> None:
        self.keep = np.zeros(n, dtype=bool)
        self.codes = [np.full(n, -1, dtype=np.int64) for _ in range(3)]
        self.times = np.zeros(n, dtype=np.int64)
        self.tables: list[list[str]] = [[], [], []]
        self.lookup: list[dict[str, int]] = [{}, {}, {}]

    def put_fast(
        self,
        lines: np.ndarray,
        times: np.ndarray,
        fields: list[_Interned],
        row_ok: np.ndarray,
        has_campaign: np.ndarray,
    ) -> None:
        self.keep[lines] = True
        self.times[lines] = times
        for k, field in enumerate(fields):
            names = [name or "" for name in field.names]
            self.tables[k] = names
            self.lookup[k] = {name: i for i, name in enumerate(names)}
            inverse = field.inverse[row_ok]
            if k == 2:
                inverse = np.where(has_campaign[row_ok], inverse, -1)
            self.codes[k][lines] = inverse

    def put_slow(self, line: int, event: tuple[str, str, int, str | None]) -> None:
        cid, event_type, at, campaign = event
        self.keep[line] = True
        self.times[line] = at
        for k, value in ((0, cid), (1, event_type), (2, campaign)):
            if value is None:
                continue
            code = self.lookup[k].get(value)
            if code is None:
                code = self.lookup[k][value] = len(self.tables[k])
                self.tables[k].append(value)
            self.codes[k][line] = code

    def finish(self) -> EventColumns:
        keep = self.keep
        out: list[tuple[list[str], np.ndarray]] = []
        for k in range(3):
            codes = self.codes[k][keep]
            present = codes >= 0
            uniq, first, inv = np.unique(codes[present], return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")  # first appearance, as lines come
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            final = np.full(len(codes), -1, dtype=np.int32)
            final[present] = rank[inv.ravel()]
            table = self.tables[k]
            out.append(([table[int(c)] for c in uniq[order].tolist()], final))
        return EventColumns(
            out[0][0], out[0][1], out[1][0], out[1][1], out[2][0], out[2][1], self.times[keep]
        )

