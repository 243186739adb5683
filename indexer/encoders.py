"""Field values -> bitmap postings, column-wise with numpy.

An encoder takes the column ids and values of one field (for many records at once)
and returns {slot: column-id array}: the bitmaps those columns belong in. The writer
calls it once for the values being removed and once for the values being added.
Text is indexed as the set of trigrams of "\\x02" + lower(value) + "\\x03".
"""

from __future__ import annotations

import itertools
from array import array
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
from pyroaring import BitMap

from bitseg.schema import FieldType
from bitseg.store import keys

Postings = dict[bytes, np.ndarray]
_EMPTY = np.zeros(0, dtype=np.uint32)
_GRAM_WIDTH = 48  # longer strings are gram-split in Python; numpy handles the bulk
_GRAM_SLICE = 65_536  # texts per gram-code matrix
_FEW_VALUES = 8  # at most one distinct value per this many: grams per distinct value


def bitmap_of(cols: np.ndarray) -> BitMap:
    """A BitMap of a numpy column array (through array.array: the fast constructor path;
    a list for a few columns, where the conversions would cost more than the columns)."""
    if len(cols) <= 8:
        return BitMap(cols.tolist())
    return BitMap(array("I", cols.astype(np.uint32, copy=False).tobytes()))


def encode(
    kind: FieldType, cols: np.ndarray, values: Sequence[object], keyed: bool = True
) -> Postings:
    """Postings of one field's values; `keyed=False` (text only) leaves out the bitmap per
    distinct value (see schema.UNKEYED_TEXT_FIELDS)."""
    if len(values) == 0:
        return {}
    if kind in (FieldType.KEYWORD, FieldType.REF):
        out = {keys.value_slot(v): m for v, m in group_values(cols, values).items()}  # type: ignore[arg-type]
        out[keys.EXISTS] = cols
        return out
    if kind == FieldType.BOOL:
        true_cols = cols[np.fromiter((bool(v) for v in values), dtype=bool, count=len(values))]
        return {keys.value_slot("true"): true_cols} if len(true_cols) else {}
    if kind == FieldType.SET:
        flat_cols: list[int] = []
        slots: list[bytes] = []
        for col, items in zip(cols.tolist(), values, strict=True):
            for item in items:  # type: ignore[attr-defined]
                flat_cols.append(col)
                slots.append(keys.value_slot(item))
        out = _group(np.asarray(flat_cols, dtype=np.uint32), slots)
        out[keys.EXISTS] = cols
        return out
    if kind in (FieldType.INT, FieldType.TIME):
        return encode_bsi(cols, np.asarray(values, dtype=np.int64))
    if kind == FieldType.TEXT:
        lowered = [str(v).lower() for v in values]
        if not keyed:  # identifiers: every value (nearly) distinct
            out = encode_grams(cols, lowered)
            out[keys.EXISTS] = cols
            return out
        by_value: dict[str, np.ndarray] = _group(cols, lowered)  # type: ignore[arg-type,assignment]
        if len(by_value) * _FEW_VALUES <= len(lowered):
            out = _grams_by_value(by_value)
        else:
            out = encode_grams(cols, lowered)
        out[keys.EXISTS] = cols
        too_long = []
        for value, members in by_value.items():
            if len(value.encode()) <= keys.MAX_TEXT_VALUE_KEY:
                out[keys.value_slot(value)] = members
            else:  # too long for a value key: found by grams and an exact check
                too_long.append(members)
        if too_long:
            out[keys.LONG_TEXT] = np.concatenate(too_long)
        return out
    raise ValueError(f"no encoder for {kind}")


def bsi_depth(values: np.ndarray) -> int:
    """Bits needed for the largest magnitude among `values`."""
    if len(values) == 0:
        return 0
    return int(np.abs(values).max()).bit_length()


def encode_bsi(cols: np.ndarray, values: np.ndarray) -> Postings:
    """Sign-magnitude bit-sliced index: exists, sign (negatives), one slot per set bit."""
    out: Postings = {keys.EXISTS: cols}
    negative = values < 0
    if negative.any():
        out[keys.SIGN] = cols[negative]
    magnitude = np.abs(values).astype(np.uint64)
    for bit in range(bsi_depth(values)):
        hit = (magnitude >> np.uint64(bit)) & np.uint64(1)
        selected = cols[hit.astype(bool)]
        if len(selected):
            out[keys.bit_slot(bit)] = selected
    return out


def text_grams(text: str) -> set[str]:
    """The trigrams indexed for one lower-cased text value."""
    padded = keys.TEXT_START + text + keys.TEXT_END
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _grams_by_value(by_value: Mapping[str, np.ndarray]) -> Postings:
    """Gram postings when values repeat (titles, cities, company names): each distinct
    value's grams once, a gram's columns the concatenation of its values' columns."""
    pieces: dict[bytes, list[np.ndarray]] = defaultdict(list)
    for value, members in by_value.items():
        for gram in text_grams(value):
            pieces[keys.gram_slot(gram)].append(members)
    return {
        slot: parts[0] if len(parts) == 1 else np.concatenate(parts)
        for slot, parts in pieces.items()
    }


def encode_grams(cols: np.ndarray, texts: list[str]) -> Postings:
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    short = lengths <= _GRAM_WIDTH
    out = _numpy_grams(cols[short], [t for t, s in zip(texts, short, strict=True) if s])
    long_pairs: dict[bytes, list[int]] = defaultdict(list)
    for col, text in zip(
        cols[~short].tolist(), (t for t, s in zip(texts, short, strict=True) if not s), strict=True
    ):
        for gram in text_grams(text):
            long_pairs[keys.gram_slot(gram)].append(col)
    for slot, extra in long_pairs.items():
        arr = np.asarray(extra, dtype=np.uint32)
        out[slot] = np.concatenate([out[slot], arr]) if slot in out else arr
    return out


def _numpy_grams(cols: np.ndarray, texts: list[str]) -> Postings:
    if not texts:
        return {}
    # Gram codes are computed a slice of texts at a time (the padded character matrix is
    # 8 bytes per character slot), then sorted and grouped once for the whole run.
    pieces = [
        _gram_codes(cols[at : at + _GRAM_SLICE], texts[at : at + _GRAM_SLICE])
        for at in range(0, len(texts), _GRAM_SLICE)
    ]
    gram_codes = np.concatenate([codes for codes, _ in pieces])
    gram_cols = np.concatenate([gcols for _, gcols in pieces])
    del pieces
    order = _gram_order(gram_codes)
    gram_codes = gram_codes[order]
    gram_cols = gram_cols[order]
    del order
    bounds = np.flatnonzero(np.diff(gram_codes)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(gram_codes)]])
    mask = np.uint64((1 << 21) - 1)
    out: Postings = {}
    for start, end, code in zip(
        starts.tolist(), ends.tolist(), gram_codes[starts].tolist(), strict=True
    ):
        gram = chr(code >> 42) + chr((code >> 21) & int(mask)) + chr(code & int(mask))
        out[keys.gram_slot(gram)] = gram_cols[start:end]
    return out


_ASCII_GRAM = np.uint64((0x7F << 42) | (0x7F << 21) | 0x7F)


def _gram_order(codes: np.ndarray) -> np.ndarray:
    """A stable order of gram codes by value. When every gram is ASCII (the usual case) a
    code fits in 21 bits and is sorted by two radix passes (numpy sorts 16- and 8-bit keys
    stably in linear time), several times faster than a comparison sort of 20M codes."""
    if not len(codes) or (codes & ~_ASCII_GRAM).any():
        return np.argsort(codes, kind="stable")
    small = (
        ((codes >> np.uint64(42)) << np.uint64(14))
        | (((codes >> np.uint64(21)) & np.uint64(0x7F)) << np.uint64(7))
        | (codes & np.uint64(0x7F))
    ).astype(np.uint32)
    order = np.argsort(small.astype(np.uint16), kind="stable")  # low 16 bits
    high = (small[order] >> 16).astype(np.uint8)
    return order[np.argsort(high, kind="stable")]


def _gram_codes(cols: np.ndarray, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(gram code, column) of every trigram of these texts (three 21-bit code points)."""
    n = len(texts)
    width = max(1, max(len(t) for t in texts))
    chars = np.array(texts, dtype=f"<U{width}").view(np.uint32).reshape(n, width)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    padded = np.zeros((n, width + 2), dtype=np.uint64)
    padded[:, 0] = ord(keys.TEXT_START)
    padded[:, 1 : width + 1] = chars
    padded[np.arange(n), lengths + 1] = ord(keys.TEXT_END)
    codes = (padded[:, :-2] << np.uint64(42)) | (padded[:, 1:-1] << np.uint64(21)) | padded[:, 2:]
    valid = np.arange(width)[None, :] < lengths[:, None]  # position i starts a gram iff i < len
    return codes[valid], np.broadcast_to(cols[:, None], (n, width))[valid]


def group_values(cols: np.ndarray, values: Sequence[object]) -> dict[object, np.ndarray]:
    """Columns grouped by value, values in order of first appearance."""
    return _group(cols, values)  # type: ignore[arg-type,return-value]


def _group(cols: np.ndarray, slots: Sequence[bytes]) -> Postings:
    """Columns grouped by their slot, slots in order of first appearance.

    Each slot is numbered by the position of its first occurrence (one C-level pass of
    `dict.setdefault`), then the columns are ordered by that number with a stable sort.
    """
    n = len(slots)
    if not n:
        return {}
    first: dict[bytes, int] = {}
    codes = np.fromiter(map(first.setdefault, slots, itertools.count()), np.int64, n)
    cols = np.asarray(cols, dtype=np.uint32)
    if len(first) == n:  # every slot once (e.g. the values of a unique text field)
        return {slot: cols[i : i + 1] for i, slot in enumerate(slots)}
    order = np.argsort(codes, kind="stable")
    ordered_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered_codes[1:] != ordered_codes[:-1]])
    ordered = cols[order]
    bounds = [*starts.tolist(), n]
    return {
        slots[at]: ordered[bounds[i] : bounds[i + 1]]
        for i, at in enumerate(ordered_codes[starts].tolist())
    }


__all__ = [
    "Postings", "bsi_depth", "encode", "encode_bsi", "encode_grams", "group_values", "text_grams",
    "_EMPTY",
]
