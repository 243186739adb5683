"""Segment ids and where a static segment's members are stored. Pure: no I/O.

A static segment's members are contact bitmaps like any other: entity "c", field
`$segment.<id>`, slot b"m", sharded by column id >> 20, each value carrying the
8-byte version header, so the store's bitmap cache and `ReadView` read them as they
read every other bitmap. The "$" keeps the field apart from every schema field.

>>> member_field("seg_0123456789ab")
'$segment.seg_0123456789ab'
>>> is_segment_id("seg_0123456789ab"), is_segment_id("VIP")
(True, False)
"""

from __future__ import annotations

import re
import secrets

MEMBER_FIELD_PREFIX = "$segment."
MEMBER_SLOT = b"m"
ID_PREFIX = "seg_"
_ID = re.compile(r"^seg_[0-9a-f]{12}$")


def new_id() -> str:
    """A fresh random segment id: "seg_" and 12 hex digits."""
    return ID_PREFIX + secrets.token_hex(6)


def is_segment_id(text: str) -> bool:
    """True if `text` has the shape of a segment id (names never do)."""
    return bool(_ID.match(text))


def member_field(segment_id: str) -> str:
    """The bitmap field holding a static segment's members."""
    return MEMBER_FIELD_PREFIX + segment_id


TRACKED_FIELD_PREFIX = "$current."
EVER_FIELD_PREFIX = "$ever."


def tracked_field(segment_id: str) -> str:
    """The bitmap field of a segment's members as last logged (change detection)."""
    return TRACKED_FIELD_PREFIX + segment_id


def ever_field(segment_id: str) -> str:
    """The bitmap field of everyone who ever joined a segment."""
    return EVER_FIELD_PREFIX + segment_id
