"""Time phrases: their grammar (`TIME`), and what they become in a rule.

`TIME` yields a symbolic `TimeSpec`: a rolling window ("in the last 90 days"), an age
("more than 60 days ago"), an upcoming window ("in the next 30 days"), a calendar period
("this week", "last month", "yesterday") or a date phrase ("since March", "before
2026-01-01", "in March 2025", "between May 1 and June 30"). `resolve(spec, now)` makes it
concrete (`Within`, `Older` or `Span`); `condition` turns that into a condition on a time
field and `window` into an event window. Calendar periods are UTC and weeks start on
Monday; "this week" is Monday to Sunday, "this month" the whole month; months and years
in durations count as 30 and 365 days; a month without a year is the latest one at or
before `now`. The rule language has no calendar-relative times, so "this week" becomes
fixed dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyparsing as pp

from bitseg.nl.phrases import NUMBER, W, value
from bitseg.rules.model import (
    AllOf,
    Condition,
    Rule,
    Window,
    WindowBetween,
    WindowLast,
    WindowSince,
)

EPOCH = "1970-01-01"
_UNITS = {"hour": ("h", 1), "day": ("d", 1), "week": ("w", 1), "month": ("d", 30),
          "year": ("d", 365)}  # fmt: skip
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip


# ------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Within:
    """The rolling window ending now."""

    duration: str
    note: str = ""


@dataclass(frozen=True)
class Older:
    """Longer ago than `duration`."""

    duration: str
    note: str = ""


@dataclass(frozen=True)
class Upcoming:
    duration: str
    note: str = ""


@dataclass(frozen=True)
class Calendar:
    which: str  # this | last | today | yesterday
    period: str = "day"  # day | week | month | quarter | year


@dataclass(frozen=True)
class PartialDate:
    year: int | None
    month: int | None = None
    day: int | None = None


@dataclass(frozen=True)
class DateRef:
    kind: str  # since | after | before | until | in | on
    when: PartialDate


@dataclass(frozen=True)
class Range:
    start: PartialDate
    end: PartialDate


@dataclass(frozen=True)
class Span:
    """Concrete bounds: rule times (ISO dates or "now" / "+30d"); strict = exclusive."""

    lo: str | None
    hi: str | None
    lo_strict: bool = False
    hi_strict: bool = False


TimeSpec = Within | Older | Upcoming | Calendar | DateRef | Range
Resolved = Within | Older | Span


# ------------------------------------------------------------------------- grammar
def _unit_of(text: str) -> str:
    word = text.lower().rstrip("s")
    return {"hr": "hour", "wk": "week", "mo": "month", "yr": "year"}.get(word, word)


UNIT = pp.Regex(r"(?<![\w])(?:hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)(?!\w)",
                re.I).set_parse_action(lambda t: _unit_of(t[0]))  # fmt: skip


def _duration(n: int, unit: str) -> tuple[str, str]:
    suffix, factor = _UNITS[unit]
    note = ""
    if factor != 1:
        note = f'"{n} {unit}{"s" if n != 1 else ""}" read as {n * factor} days'
    return f"{n * factor}{suffix}", note


_ONE = W("a", "an", "one").set_parse_action(lambda: 1)
DURATION = (NUMBER + UNIT | _ONE + UNIT).set_parse_action(value(lambda t: _duration(t[0], t[1])))
"""(duration text, note), e.g. ("90d", '"3 months" read as 90 days')."""
_LAST_UNIT = UNIT.copy().add_parse_action(lambda t: _duration(1, t[0]))
_LAST = W("last", "past", "previous", "preceding", "prior")
_IN = W("in", "within", "over", "during", "from", "for")


def _spec(kind: type) -> pp.ParseAction:
    return value(lambda t: kind(*t[0]))


WITHIN = (
    (pp.Suppress(_IN + pp.Opt(W("the")) + _LAST) + (DURATION | _LAST_UNIT))
    | (pp.Suppress(W("within")) + DURATION)
).set_parse_action(_spec(Within))
WITHIN_BARE = (pp.Suppress(W("in", "within", "for")) + DURATION).set_parse_action(_spec(Within))
"""`in 60 days` / `for 90 days`: only after a negation or "inactive" (see grammar)."""
RECENTLY = W("recently", "lately").set_parse_action(
    lambda: Within("30d", '"recently" read as the last 30 days'))
_MORE = W("more than", "over", "at least", "longer than", "older than")
_LESS = W("less than", "under", "within the last", "within", "fewer than")
AGO = (
    (pp.Suppress(_MORE) + DURATION + pp.Suppress(W("ago")) ).set_parse_action(_spec(Older))
    | (pp.Suppress(_LESS) + DURATION + pp.Suppress(W("ago"))).set_parse_action(_spec(Within))
    | (DURATION + pp.Suppress(W("ago", "back"))).set_parse_action(
        value(lambda t: Older(t[0][0], f'"{t[0][0]} ago" read as "more than {t[0][0]} ago"')))
)  # fmt: skip
UPCOMING = (
    pp.Suppress(_IN + pp.Opt(W("the")) + W("next", "coming", "upcoming")) + (DURATION | _LAST_UNIT)
).set_parse_action(_spec(Upcoming))
_PERIOD = W("day", "week", "month", "quarter", "year")
CALENDAR = (
    W("today").set_parse_action(lambda: Calendar("today"))
    | W("yesterday").set_parse_action(lambda: Calendar("yesterday"))
    | (W("this", "the current", "current") + _PERIOD).set_parse_action(
        lambda t: Calendar("this", t[1].lower()))
    | (pp.Suppress(pp.Opt(W("in", "during", "over"))) + pp.Suppress(pp.Opt(W("the")))
       + W("last", "previous") + _PERIOD).set_parse_action(
        lambda t: Calendar("last", t[1].lower()))
)  # fmt: skip

_MONTH = pp.Regex(
    r"(?<![\w])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?![\w])", re.I
).add_condition(lambda t: _month(t[0]) is not None).set_parse_action(lambda t: _month(t[0]))
_YEAR = pp.Regex(r"(?<![\w\-])(?:19|20)\d\d(?![\w\-])").set_parse_action(lambda t: int(t[0]))
_DAY = pp.Regex(r"(?<![\w\-])(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![\w\-])", re.I
                ).set_parse_action(lambda t: int(re.sub(r"\D", "", t[0])))  # fmt: skip
_ISO = pp.Regex(r"(?<![\w\-])\d{4}-\d{2}-\d{2}(?![\w\-])").set_parse_action(
    value(lambda t: _iso(t[0])))
DATE = (
    _ISO
    | (_MONTH + _DAY + pp.Opt(pp.Suppress(",")) + _YEAR).set_parse_action(
        value(lambda t: PartialDate(t[2], t[0], t[1])))
    | (_DAY + pp.Suppress(pp.Opt(W("of"))) + _MONTH + _YEAR).set_parse_action(
        value(lambda t: PartialDate(t[2], t[1], t[0])))
    | (_MONTH + _DAY).set_parse_action(value(lambda t: PartialDate(None, t[0], t[1])))
    | (_DAY + pp.Suppress(pp.Opt(W("of"))) + _MONTH).set_parse_action(
        value(lambda t: PartialDate(None, t[1], t[0])))
    | (_MONTH + _YEAR).set_parse_action(value(lambda t: PartialDate(t[1], t[0])))
    | _MONTH.copy().add_parse_action(value(lambda t: PartialDate(None, t[0])))
    | _YEAR.copy().add_parse_action(value(lambda t: PartialDate(t[0])))
)  # fmt: skip
_DATE_WORDS = {"since": ("since", "starting", "as of", "from"), "after": ("after",),
               "before": ("before", "prior to", "earlier than"),
               "until": ("until", "till", "up to", "through"), "in": ("in", "during"),
               "on": ("on",)}  # fmt: skip
DATE_REF = pp.MatchFirst([
    (W(*words).set_parse_action(lambda k=kind: k) + DATE).set_parse_action(
        value(lambda t: DateRef(t[0], t[1])))
    for kind, words in _DATE_WORDS.items()
]) | (pp.Suppress(W("between", "from")) + DATE + pp.Suppress(W("and", "to", "until")) + DATE
      ).set_parse_action(value(lambda t: Range(t[0], t[1])))  # fmt: skip

TIME = (UPCOMING | WITHIN | AGO | RECENTLY | CALENDAR | DATE_REF).set_name("time")
"""Any time phrase, as a TimeSpec."""


def _month(text: str) -> int | None:
    word = text.lower().rstrip(".")
    for i, name in enumerate(_MONTHS):
        if name.startswith(word[:3]) and name.startswith(word) or word == "sept" and i == 8:
            return i + 1
    return None


def _iso(text: str) -> PartialDate:
    y, m, d = (int(x) for x in text.split("-"))
    return PartialDate(y, m, d)


# ------------------------------------------------------------------------- resolution
def resolve(spec: TimeSpec, now: int) -> Resolved:
    """Make a spec concrete at `now` (epoch seconds)."""
    if isinstance(spec, Within | Older):
        return spec
    if isinstance(spec, Upcoming):
        return Span("now", f"+{spec.duration}")
    today = datetime.fromtimestamp(now, UTC).date()
    if isinstance(spec, Calendar):
        lo, hi = _calendar(spec, today)
        return Span(_d(lo), _d(hi))
    if isinstance(spec, Range):
        return Span(_d(_bounds(spec.start, today)[0]), _d(_bounds(spec.end, today)[1]))
    first, last = _bounds(spec.when, today)
    return {
        "since": Span(_d(first), None), "after": Span(_d(last), None, lo_strict=True),
        "before": Span(None, _d(first), hi_strict=True), "until": Span(None, _d(last)),
    }.get(spec.kind, Span(_d(first), _d(last)))  # fmt: skip


def _d(day: date) -> str:
    return day.isoformat()


def _calendar(spec: Calendar, today: date) -> tuple[date, date]:
    if spec.which == "today":
        return today, today
    if spec.which == "yesterday":
        day = today - timedelta(days=1)
        return day, day
    start = _period_start(spec.period, today)
    if spec.which == "this":
        return start, _period_end(spec.period, start)
    previous = _period_start(spec.period, start - timedelta(days=1))
    return previous, start - timedelta(days=1)


def _period_end(period: str, start: date) -> date:
    if period == "week":
        return start + timedelta(days=6)
    if period == "month":
        return _bounds(PartialDate(start.year, start.month), start)[1]
    if period == "quarter":
        return _bounds(PartialDate(start.year, start.month + 2), start)[1]
    if period == "year":
        return date(start.year, 12, 31)
    return start


def _period_start(period: str, day: date) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    return day


def _bounds(when: PartialDate, today: date) -> tuple[date, date]:
    """First and last day of a partial date; a missing year is the latest one not after today."""
    year = when.year
    if year is None:
        month, day = when.month or 1, when.day or 1
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    if when.month is None:
        return date(year, 1, 1), date(year, 12, 31)
    if when.day is not None:
        try:
            one = date(year, when.month, when.day)
        except ValueError:
            one = date(year, when.month, 28)
        return one, one
    first = date(year, when.month, 1)
    following = date(year + (when.month == 12), when.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


# ------------------------------------------------------------------------- into rules
def condition(field: str, when: Resolved) -> Rule:
    """The condition "`field` is `when`" on a time field."""
    if isinstance(when, Within):
        return Condition(field, "within_last", when.duration)
    if isinstance(when, Older):
        return Condition(field, "older_than", when.duration)
    if when.lo is not None and when.hi is not None and not (when.lo_strict or when.hi_strict):
        return Condition(field, "between", (when.lo, when.hi))
    parts: list[Rule] = []
    if when.lo is not None:
        parts.append(Condition(field, "gt" if when.lo_strict else "gte", when.lo))
    if when.hi is not None:
        parts.append(Condition(field, "lt" if when.hi_strict else "lte", when.hi))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def window(when: Resolved) -> Window:
    """The event window "`when`"; event windows are whole UTC days."""
    if isinstance(when, Within):
        if when.duration.endswith(("d", "w")):
            return WindowLast(when.duration)
        return WindowSince(f"-{when.duration}")
    if isinstance(when, Older):
        return WindowBetween(EPOCH, f"-{when.duration}")
    lo, hi = when.lo, when.hi
    if lo is not None and when.lo_strict:
        lo = _shift(lo, 1)
    if hi is not None and when.hi_strict:
        hi = _shift(hi, -1)
    if hi is None:
        return WindowSince(lo or EPOCH)
    return WindowBetween(lo or EPOCH, hi)


def _shift(day: str, days: int) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        return day
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def note_of(spec: TimeSpec) -> str:
    return getattr(spec, "note", "")
