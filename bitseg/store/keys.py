"""Key layout of the bitmap, id, record and text databases.

A bitmap key is `entity NUL field NUL slot shard`, where shard is 2 bytes big-endian
(column id >> 20) so one field's shards sort together. Slots:
  b"v" + value   keyword / set element / ref / bool ("true") value
  b"x"           exists (the field has a value)
  b"s"           sign (negative int/time values)
  b"b" + bit     bit `bit` of |value| in a bit-sliced index
  b"g" + gram    text n-gram (of "\\x02" + lower(value) + "\\x03")
  b"V"           text values too long for a value key (text fields also keep b"v" +
                 lower(value) per value, so eq is one bitmap and a predicate can be
                 checked once per distinct value instead of once per contact)
  b"L"           live entities (field is empty)
Entities are one letter: c contacts, o companies, d deals, m campaigns, e events.
"""

from __future__ import annotations

import struct

from bitseg.schema import UNKEYED_TEXT_FIELDS

SHARD_BITS = 20
SHARD_WIDTH = 1 << SHARD_BITS

CONTACT = "c"
COMPANY = "o"
DEAL = "d"
CAMPAIGN = "m"
EVENT = "e"

LIVE = b"L"
EXISTS = b"x"
SIGN = b"s"
VALUE = b"v"
BIT = b"b"
GRAM = b"g"

LONG_TEXT = b"V"  # text values too long to be a value key (checked one by one)
MAX_TEXT_VALUE_KEY = 256

TEXT_START = "\x02"
TEXT_END = "\x03"

_SHARD = struct.Struct(">H")
_COL = struct.Struct(">I")


def field_prefix(entity: str, field: str) -> bytes:
    return f"{entity}\x00{field}\x00".encode()


def bitmap_key(entity: str, field: str, slot: bytes, shard: int) -> bytes:
    return field_prefix(entity, field) + slot + _SHARD.pack(shard)


def split_bitmap_key(key: bytes) -> tuple[str, str, bytes, int]:
    """(entity, field, slot, shard) of a bitmap key."""
    entity, field, rest = key.split(b"\x00", 2)
    return entity.decode(), field.decode(), rest[:-2], _SHARD.unpack(rest[-2:])[0]


def keeps_text_values(entity: str, field: str) -> bool:
    """Whether a text field keeps a bitmap per lower-cased value (all but the contact
    identifiers in schema.UNKEYED_TEXT_FIELDS); writer and reader both ask here."""
    return not (entity == CONTACT and field in UNKEYED_TEXT_FIELDS)


def value_slot(value: str) -> bytes:
    return VALUE + value.encode()


def bit_slot(bit: int) -> bytes:
    return BIT + bytes((bit,))


def gram_slot(gram: str) -> bytes:
    return GRAM + gram.encode()


def id_key(entity: str, external_id: str) -> bytes:
    return entity.encode() + b"\x00" + external_id.encode()


def col_key(entity: str, col: int) -> bytes:
    return entity.encode() + _COL.pack(col)


def text_key(entity: str, field: str, col: int) -> bytes:
    return field_prefix(entity, field) + _COL.pack(col)


def pack_col(col: int) -> bytes:
    return _COL.pack(col)


def unpack_col(data: bytes) -> int:
    return _COL.unpack(data)[0]


# Derived contact-level fields (names start with "$", which no rule field can).
DEAL_COUNT_FIELD = "$deals"  # BSI: number of live deals per contact
OWNER_FIELD = "$owner"  # on deals: per deal shard, an array of owner contact column + 1
OWNER_SLOT = b"o"
EVENT_SEP = "\x1f"


def event_field(event_type: str, campaign: str | None = None, day: int | None = None) -> str:
    """The contact-level count BSI of events of one type, optionally per campaign and day.

    `$ev<US>type<US>all`, `$ev<US>type<US>d<day>`, `$ev<US>type<US>c<campaign>`,
    `$ev<US>type<US>c<campaign><US>d<day>` (US = \\x1f; days are UTC day numbers).
    """
    parts = ["$ev", event_type]
    if campaign is not None:
        parts.append("c" + campaign)
    if day is not None:
        parts.append(f"d{day}")
    elif campaign is None:
        parts.append("all")
    return EVENT_SEP.join(parts)


def event_day_prefix(event_type: str, campaign: str | None = None) -> str:
    """The field-name prefix shared by the per-day fields of a type (and campaign)."""
    parts = ["$ev", event_type]
    if campaign is not None:
        parts.append("c" + campaign)
    return EVENT_SEP.join(parts) + EVENT_SEP + "d"
