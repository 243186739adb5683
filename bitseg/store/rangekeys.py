"""Key math of the range index kept next to the bit-sliced index of int and time fields.

Every value maps to an order-preserving unsigned 64-bit key:
  time: the two's-complement bits with the sign bit flipped (linear: seconds stay seconds);
  int:  a float-like code (sign, exponent, 57 mantissa bits left-aligned), so buckets
        widen with magnitude and a few levels cover 0..100 and 10**12 alike; the coarse
        level keeps 3 mantissa bits (at most 8 cumulative bitmaps per power of two), so
        a range over a score or a size is one or two dense bitmaps and a few small ones.
A bucket at shift s is `key >> s`. Each field keeps, per shard:
  - a cumulative bitmap per *coarse* bucket b that has ever held a value:
    G_b = {columns whose key >= start of b}   (range encoding: "value >= t" in one op)
  - equality bitmaps per bucket at each finer level (fan-out 8 per level).
"value >= t" is then G of the next stored coarse bucket, the finer buckets above t's
inside t's coarse bucket (at most 7 per level), and, inside t's finest bucket, either
the whole bucket (it holds one int value) or an exact bit-sliced check on its few columns.
"""

from __future__ import annotations

import struct

import numpy as np

from bitseg.schema import FieldType

_SIGN = 1 << 63
_U64 = struct.Struct(">Q")
_SHARD = struct.Struct(">H")

CUMULATIVE = b"r"  # + shard (2 bytes) + coarse bucket (8 bytes)
EQUAL = b"q"  # + level (1 byte) + shard + bucket


class Levels:
    """The shifts of one field type: a coarse (cumulative) level, then equality levels."""

    def __init__(self, coarse: int, equal: tuple[int, ...], exact_below: int | None) -> None:
        self.coarse = coarse
        self.equal = equal
        self.exact_below = exact_below  # |value| below this: a finest bucket is one value

    def exact(self, value: int) -> bool:
        return self.exact_below is not None and abs(value) < self.exact_below


# Three equality levels: a fourth (17-minute buckets, 12 mantissa bits) doubled a 1M
# contact bulk load's bitmap keys (1.12M -> ~0.6M) to save checking ~100 columns of a
# finest bucket, which the range cache then makes moot for repeated queries.
TIME_LEVELS = Levels(22, (19, 16, 13), None)  # ~48 days, 6 days, 18 h, 2.3 h
INT_LEVELS = Levels(54, (51, 48), 1 << 10)  # exponent + 3 mantissa bits, then 3 a level
LAYOUT = b"2"  # the levels above; stores flagged with another layout use no range index


def kept_mantissa_bits() -> int:
    """Mantissa bits of an int key the finest level keeps (57 bits in all)."""
    return 57 - INT_LEVELS.equal[-1]


def levels(kind: FieldType) -> Levels:
    return TIME_LEVELS if kind == FieldType.TIME else INT_LEVELS


def indexed(kind: FieldType, field: str) -> bool:
    """Fields with a range index: int/time fields of records (not derived `$` counts)."""
    return kind in (FieldType.INT, FieldType.TIME) and not field.startswith("$")


def order_key(kind: FieldType, value: int) -> int:
    if kind == FieldType.TIME:
        return (value & 0xFFFF_FFFF_FFFF_FFFF) ^ _SIGN
    if value >= 0:
        return _SIGN + _magnitude_code(value)
    return _SIGN - 1 - _magnitude_code(-value)


def _magnitude_code(x: int) -> int:
    e = min(x.bit_length(), 63)
    if e == 0:
        return 0
    x = min(x, (1 << 63) - 1)
    mant = x - (1 << (e - 1))
    bits = e - 1
    aligned = mant << (57 - bits) if bits <= 57 else mant >> (bits - 57)
    return (e << 57) | aligned


def order_keys(kind: FieldType, values: np.ndarray) -> np.ndarray:
    """`order_key` of many int64 values at once (uint64)."""
    values = np.asarray(values, dtype=np.int64)
    if kind == FieldType.TIME:
        return values.view(np.uint64) ^ np.uint64(_SIGN)
    negative = values < 0
    magnitude = np.where(negative, -(values + 1), values).astype(np.uint64)  # |v| - [v<0]
    magnitude = magnitude + negative.astype(np.uint64)  # |v|, -2**63 wraps to 2**63
    magnitude = np.minimum(magnitude, np.uint64((1 << 63) - 1))
    code = _magnitude_codes(magnitude)
    return np.where(negative, np.uint64(_SIGN - 1) - code, np.uint64(_SIGN) + code)


def _magnitude_codes(x: np.ndarray) -> np.ndarray:
    e = _bit_lengths(x)
    bits = np.maximum(e - 1, 0).astype(np.uint64)
    top = np.where(e > 0, np.uint64(1) << bits, np.uint64(0))
    mant = x - top
    left = np.uint64(57) - np.minimum(bits, np.uint64(57))
    right = np.maximum(bits, np.uint64(57)) - np.uint64(57)
    aligned = (mant << left) >> right
    return (e.astype(np.uint64) << np.uint64(57)) | aligned


def _bit_lengths(x: np.ndarray) -> np.ndarray:
    """Exact bit length of each uint64 (float log2 can be off by one near powers of two)."""
    guess = np.zeros(len(x), dtype=np.int64)
    nonzero = x > 0
    guess[nonzero] = np.floor(np.log2(x[nonzero].astype(np.float64))).astype(np.int64) + 1
    guess = np.clip(guess, 0, 64)
    for _ in range(2):
        shift = np.clip(guess, 0, 63).astype(np.uint64)
        too_small = (guess < 64) & ((x >> shift) > 0)  # x >= 2**guess
        guess = guess + too_small
        shift = np.clip(guess - 1, 0, 63).astype(np.uint64)
        too_big = (guess > 0) & ((x >> shift) == 0)  # x < 2**(guess-1)
        guess = guess - too_big
    return guess


def cumulative_slot(shard: int, bucket: int) -> bytes:
    return CUMULATIVE + _SHARD.pack(shard) + _U64.pack(bucket)


def equal_slot(level: int, shard: int, bucket: int) -> bytes:
    return EQUAL + bytes((level,)) + _SHARD.pack(shard) + _U64.pack(bucket)


def slot_bucket(slot: bytes) -> int:
    """The bucket number at the end of a cumulative or equality slot."""
    return _U64.unpack(slot[-8:])[0]
