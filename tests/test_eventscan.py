"""The column-wise events parser against the per-line path it replaces.

`scan_events` must give exactly the events `read_jsonl` + `records.event_fields` give
(values, order, ids in order of first appearance) and, on bad input, the same
`file:line: message` error for the same first bad line, whatever the block size.
"""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitseg.errors import RecordError
from indexer import records as rec
from indexer.eventscan import scan_events
from indexer.sources import read_jsonl

Event = tuple[str, str, int, str | None]


def reference(data: bytes, source: str = "events.jsonl") -> list[Event]:
    out = []
    for line, raw in read_jsonl(data, source):
        try:
            out.append(rec.event_fields(raw))
        except ValueError as exc:
            raise RecordError(source, line, str(exc)) from None
    return out


def scanned(data: bytes, block: int = 1 << 20, stream: bool = False) -> list[Event]:
    source = io.BytesIO(data) if stream else data
    out: list[Event] = []
    for cols in scan_events(source, "events.jsonl", block):
        first_seen = []
        for i in cols.contacts.tolist():
            if i not in first_seen:
                first_seen.append(i)
        assert first_seen == list(range(len(cols.contact_ids)))  # first-appearance order
        for c, t, at, m in zip(
            cols.contacts.tolist(), cols.types.tolist(), cols.times.tolist(),
            cols.campaigns.tolist(), strict=True,
        ):
            out.append((cols.contact_ids[c], cols.type_names[t], at,
                        cols.campaign_names[m] if m >= 0 else None))
    return out


def outcome(fn, *args, **kwargs) -> object:
    try:
        return fn(*args, **kwargs)
    except RecordError as exc:
        return ("error", exc.message)


LINES = [
    b'{"contact_id":"c1","type":"email_opened","at":"2026-03-01T12:00:00Z","campaign_id":"m1"}',
    b'{"contact_id":"c1","type":"activity","at":"2026-03-01T23:59:59Z"}',
    b'{"contact_id": "c2", "type": "email_clicked", "at": "2024-02-29T00:00:00Z", '
    b'"campaign_id": "m2"}',
    b'{"type":"page_view","at":"1969-12-31T23:59:59","contact_id":"c3"}',
    b'{"at":"2026-03-01T12:00:00Z","campaign_id":"m1","contact_id":"c\xc3\xa9","type":"inbound"}',
    b'{"contact_id":"c4","type":"activity","at":"2026-03-01"}',
    b'{"contact_id":"c4","type":"activity","at":1772366400}',
    b'{"contact_id":7,"type":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c\\u00e9","type":"activity","at":"2026-03-01T12:00:00.5Z"}',
    b'{"contact_id":"c5","type":" spaced ","at":"2026-03-01T12:00:00+02:00"}',
    b'{"contact_id":"c5","type":"activity","at":"2026-03-01T12:00:00Z","campaign_id":null}',
    b'{"contact_id":"c5","type":"activity","at":"2026-03-01T12:00:00Z","id":"e1"}',
    b'{"contact_id":"c6\xe2\x80\xa8","type":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c6","type":"activity","at":"0001-01-01T00:00:00Z"}',
    b'{"contact_id":"c6","type":"activity","at":"9999-12-31T23:59:59Z"}',
    b'{"contact_id":"' + b"x" * 150 + b'","type":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c7","type":"' + b"t" * 40 + b'","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c7","type":"activity","at":"2026-03-01T12:00:00Z","campaign_id":" m3"}',
    b"",
    b"   ",
    b'{"contact_id":"c8","type":"activity","at":"2026-03-01T12:00:00Z"}\r',
]

BAD = [
    b'{"contact_id":"c6","type":"a\xe2\x80\xa8b","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-02-30T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-13-01T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T24:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T12:60:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T12:00:60Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-0aT12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2025-02-29T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"0000-01-01T00:00:00Z"}',
    b'{"contact_id":"","type":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c9","type":"","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T12:00:00Z","campaign_id":""}',
    b'{"contact_id":"c9","type":"activity"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T12:00:00Z","extra":"x"}',
    b'{"contact_id":"c9","typo":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T12:00:00Z"',
    b'["c9"]',
    b'{"contact_id":"c\x01","type":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c\xff","type":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T12:00:00Z","contact_id":"c8"}',
    b'{"contact_id":"c9" ,"type":"activity","at":"2026-03-01T12:00:00Z"}',
    b'{"contact_id":"c9","type":"activity","at":"2026-03-01T12:00:00Z"} x',
]


def test_every_line_shape_matches_the_per_line_path() -> None:
    data = b"\n".join(LINES * 3) + b"\n"
    expected = reference(data)
    assert len(expected) == 3 * (len(LINES) - 2)
    for block in (64, 200, 1 << 20):
        assert scanned(data, block) == expected
        assert scanned(data, block, stream=True) == expected


def test_last_line_without_newline_and_empty_input() -> None:
    data = b"\n".join(LINES[:3])
    assert scanned(data) == reference(data)
    assert scanned(b"") == []
    assert scanned(b"\n\n") == []


@pytest.mark.parametrize("bad", BAD)
def test_bad_lines_give_the_same_error_at_the_same_line(bad: bytes) -> None:
    good = LINES[0]
    data = b"\n".join([good] * 40 + [LINES[3], bad] + [good] * 10) + b"\n"
    expected = outcome(reference, data)
    for block in (100, 1 << 20):
        assert outcome(scanned, data, block) == expected
        assert outcome(scanned, data, block, True) == expected


def test_the_first_bad_line_is_reported() -> None:
    lines = [LINES[0]] * 30 + [LINES[2], BAD[12], LINES[0], BAD[1]]
    data = b"\n".join(lines) + b"\n"
    expected = outcome(reference, data)
    assert expected == ("error", "events.jsonl:32: at: missing")
    assert outcome(scanned, data) == expected


_IDS = st.sampled_from(["c1", "c2", "c10", "c\u00e9", " c3", "c 4", "\u2028c", "x" * 101, ""])
_TYPES = st.sampled_from(["email_opened", "activity", " pad", "x" * 33, "", "t\u00fcp"])
_CAMPAIGNS = st.one_of(st.none(), st.sampled_from(["m1", "m2", " m", "", "m" * 65]))
_TIMES = st.one_of(
    st.integers(min_value=-(10**10), max_value=10**11),
    st.sampled_from(["2026-03-01T12:00:00Z", "2024-02-29T23:59:59", "2026-02-29T00:00:00Z",
                     "2026-03-01", "2026-03-01T12:00:00+01:00", " 2026-03-01T12:00:00Z"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_IDS, _TYPES, _TIMES, _CAMPAIGNS, st.booleans(), st.randoms()),
             max_size=25),
    st.integers(min_value=40, max_value=400),
)
def test_random_events_match_the_per_line_path(rows, block) -> None:
    import orjson

    lines = []
    for cid, event_type, at, campaign, spaced, rnd in rows:
        record = {"contact_id": cid, "type": event_type, "at": at}
        if campaign is not None:
            record["campaign_id"] = campaign
        items = list(record.items())
        rnd.shuffle(items)
        line = orjson.dumps(dict(items))
        if spaced:
            line = line.replace(b'":"', b'": "').replace(b'","', b'", "')
        lines.append(line)
    data = b"\n".join(lines) + b"\n"
    assert outcome(scanned, data, block) == outcome(reference, data)


def test_grouped_and_shuffled_contacts_alike() -> None:
    rnd = random.Random(5)
    lines = [
        b'{"contact_id":"c%d","type":"t%d","at":"2026-03-%02dT12:00:00Z"}'
        % (rnd.randrange(50), rnd.randrange(4), rnd.randrange(1, 29))
        for _ in range(2000)
    ]
    data = b"\n".join(lines) + b"\n"
    assert scanned(data, 4096) == reference(data)
    data = b"\n".join(sorted(lines)) + b"\n"
    assert scanned(data, 4096) == reference(data)
