"""Time values of the rule language and of records: parsing to UTC epoch seconds.

Times are stored to the second. A rule time is an ISO-8601 date, an ISO-8601
date-time, or relative to `now` ("now", "-30d", "-12h", "-2w", "+1d"). A date
without a time stands for the whole UTC day, so every time value parses to an
inclusive interval [lo, hi] of epoch seconds; an instant has lo == hi.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from bitseg.errors import InvalidArgument

DAY = 86_400
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
_DURATION = re.compile(r"^(\d{1,7})([smhdw])$")
_RELATIVE = re.compile(r"^([+-])(\d{1,7})([smhdw])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_duration(text: object) -> int:
    """Seconds in a duration such as "30d", "12h", "2w", "15m", "45s".

    >>> parse_duration("30d")
    2592000
    """
    if not isinstance(text, str):
        raise InvalidArgument(f'a duration is a string such as "30d", got {_show(text)}')
    m = _DURATION.match(text)
    if not m:
        raise InvalidArgument(
            f"malformed duration {_show(text)}: "
            'expected a number and a unit (s, m, h, d, w), e.g. "30d"'
        )
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def is_relative(text: str) -> bool:
    """True for "now" and offsets from it such as "-30d"."""
    return text == "now" or bool(_RELATIVE.match(text))


def parse_instant(text: str) -> int:
    """Epoch seconds of an absolute ISO-8601 date-time (no offset means UTC).

    >>> parse_instant("2026-03-01T12:00:00Z")
    1772366400
    """
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"malformed time {_show(text)}: expected ISO-8601") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) if dt.microsecond == 0 else int(dt.timestamp() // 1)


def parse_time_interval(value: object, now: int | None) -> tuple[int, int]:
    """The inclusive interval [lo, hi] of epoch seconds a rule time value stands for.

    >>> parse_time_interval("2026-03-01", None)
    (1772323200, 1772409599)
    >>> parse_time_interval("-1d", 1772409600)
    (1772323200, 1772323200)
    """
    if not isinstance(value, str):
        raise InvalidArgument(
            f'a time is an ISO-8601 string or relative like "-30d", got {_show(value)}'
        )
    text = value.strip()
    if is_relative(text):
        if now is None:
            raise InvalidArgument(f"relative time {_show(value)} needs `now`")
        if text == "now":
            return now, now
        m = _RELATIVE.match(text)
        assert m is not None
        offset = int(m.group(2)) * _UNIT_SECONDS[m.group(3)]
        t = now + offset if m.group(1) == "+" else now - offset
        return t, t
    if _DATE.match(text):
        try:
            d = date.fromisoformat(text)
        except ValueError:
            raise InvalidArgument(f"malformed date {_show(value)}") from None
        lo = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
        return lo, lo + DAY - 1
    t = parse_instant(text)
    return t, t


def check_time(value: object) -> None:
    """Raise InvalidArgument unless `value` is a well-formed rule time (absolute or relative)."""
    parse_time_interval(value, 0)


def record_time(value: object) -> int:
    """Epoch seconds of a record time: ISO-8601 (a date is its midnight UTC) or epoch int."""
    if isinstance(value, bool):
        raise InvalidArgument(f"expected an ISO-8601 time, got {_show(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if is_relative(text):
            raise InvalidArgument(f"a record time must be absolute, got {_show(value)}")
        return parse_time_interval(text, None)[0]
    raise InvalidArgument(f"expected an ISO-8601 time, got {_show(value)}")


def fast_record_time(value: object) -> int:
    """`record_time` with a fast path for ISO strings and ints (the bulk-load hot path)."""
    if type(value) is str:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return record_time(value)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        stamp = dt.timestamp()
        return int(stamp) if stamp >= 0 or stamp == int(stamp) else int(stamp) - 1
    if type(value) is int:
        return value
    return record_time(value)


def format_time(epoch: int) -> str:
    """ISO-8601 UTC text of epoch seconds, e.g. "2026-03-01T12:00:00Z"."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def day_of(epoch: int) -> int:
    """The UTC day number (days since 1970-01-01) of an epoch second."""
    return epoch // DAY


def _show(value: object) -> str:
    if isinstance(value, str):
        return '"' + value + '"'
    return repr(value)
