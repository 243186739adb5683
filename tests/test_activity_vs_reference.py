"""Deals, campaigns and events: the engine against the reference evaluator.

Random small orgs with deals (owned by loaded contacts, by contacts that are not loaded,
or by nobody), campaign timelines (ties, campaigns sent after `now`, campaigns never
sent) and events of several types (a custom one included) at times that straddle UTC
day boundaries are ingested through `Service`; random `has deals` / `event` rules mixed
with contact conditions are answered by `count` and `resolve` at `now` = noon, midnight,
the second before midnight and 23:59:59, and must equal `tests/reference.py`. A second
random batch (deals reassigned, patched, deleted; contacts deleted or loaded late; new
events and campaigns; campaigns re-timed) is applied and everything is checked again.

Hand-written cases below pin the edges one by one, so that a failure names its cause.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitseg.errors import InvalidArgument
from bitseg.rules.model import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    WindowBetween,
    WindowLast,
    WindowSince,
)
from bitseg.service import Service, SourceFile

try:
    from tests.reference import reference_members
    from tests.strategies import (
        CUSTOM_SCHEMA,
        MIDNIGHT,
        NOW,
        ORG_SCHEMA,
        QUERY_NOWS,
        ActivityBatch,
        ActivityOrg,
        activity_batches,
        activity_orgs,
        activity_rules,
        apply_activity_batch,
        to_jsonl,
    )
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import reference_members
    from strategies import (
        CUSTOM_SCHEMA,
        MIDNIGHT,
        NOW,
        ORG_SCHEMA,
        QUERY_NOWS,
        ActivityBatch,
        ActivityOrg,
        activity_batches,
        activity_orgs,
        activity_rules,
        apply_activity_batch,
        to_jsonl,
    )

ORG = "acme"
DAY = 86_400
PROPERTY = settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def service() -> Iterator[Service]:
    """A Service over a fresh temporary data folder (hypothesis reruns forbid tmp_path)."""
    with tempfile.TemporaryDirectory(prefix="bitseg-activity-") as tmp:
        svc = Service(Path(tmp))
        try:
            yield svc
        finally:
            svc.close()


def org_files(org: ActivityOrg) -> list[SourceFile]:
    """All five files of the org (empty ones included: an empty file is no records)."""
    parts = {
        "contacts": org.contacts.values(),
        "companies": org.companies.values(),
        "deals": org.deals.values(),
        "campaigns": org.campaigns.values(),
        "events": org.events,
    }
    return [
        SourceFile(kind, f"{kind}.jsonl", "jsonl", to_jsonl(records))
        for kind, records in parts.items()
    ]


def batch_files(batch: ActivityBatch) -> list[SourceFile]:
    return [
        SourceFile(kind, f"{kind}.jsonl", "jsonl", to_jsonl(lines))
        for kind, lines in batch.lines.items()
        if lines
    ]


def expected(org: ActivityOrg, rule: Rule, now: int) -> set[str]:
    return reference_members(
        rule,
        org.contacts,
        org.companies,
        ORG_SCHEMA,
        now,
        deals=org.deals,
        campaigns=org.campaigns,
        events=org.events,
    )


def answers(svc: Service, rule: Rule, now: int) -> tuple[int, set[str], list[str]]:
    count, _seconds = svc.count(ORG, rule, now)
    chunks, _seconds = svc.resolve(ORG, rule, now, chunk_size=5)
    ids = [cid for chunk in chunks for cid in chunk]
    return count, set(ids), ids


def check(svc: Service, org: ActivityOrg, rules: list[Rule], nows: list[int]) -> None:
    for now in nows:
        for rule in rules:
            want = expected(org, rule, now)
            count, got, ids = answers(svc, rule, now)
            assert len(ids) == len(got), f"duplicate ids at now={now}: {rule}"
            assert got == want, (
                f"now={now} rule={rule}\nmissing={sorted(want - got)} extra={sorted(got - want)}"
            )
            assert count == len(want), f"now={now} count {count} != {len(want)}: {rule}"


@PROPERTY
@given(
    org=activity_orgs(),
    nows=st.lists(st.sampled_from(QUERY_NOWS), min_size=1, max_size=2, unique=True),
    data=st.data(),
)
def test_activity_rules_match_reference(
    org: ActivityOrg, nows: list[int], data: st.DataObject
) -> None:
    rules = data.draw(
        st.lists(activity_rules(tuple(org.campaigns)), min_size=1, max_size=8), label="rules"
    )
    with service() as svc:
        svc.ingest(ORG, files=org_files(org), schema=CUSTOM_SCHEMA)
        check(svc, org, rules, nows)

        batch = data.draw(activity_batches(org), label="batch")
        svc.ingest(ORG, files=batch_files(batch), records=batch.records)
        after = apply_activity_batch(org, batch)
        more = data.draw(
            st.lists(activity_rules(tuple(after.campaigns)), min_size=1, max_size=6),
            label="more rules",
        )
        check(svc, after, rules + more, nows)


# ---------------------------------------------------------------- hand-written edges
def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def small_org() -> ActivityOrg:
    """Four contacts; deals and events chosen to sit on the edges the rules test."""
    contacts = {cid: {"id": cid} for cid in ("a", "b", "c", "d")}
    deals = {
        "d1": {"id": "d1", "contact_id": "a", "stage": "proposal", "value": 100},
        "d2": {"id": "d2", "contact_id": "a", "stage": "closed_won", "value": 5000},
        "d3": {"id": "d3", "contact_id": "b", "stage": "proposal", "value": 5000},
        "d4": {"id": "d4", "contact_id": "ghost", "stage": "proposal", "value": 1},
        "d5": {"id": "d5", "stage": "proposal"},  # nobody's
    }
    campaigns = {
        "m1": {"id": "m1", "sent_at": _iso(NOW - 10 * DAY)},
        "m2": {"id": "m2", "sent_at": _iso(NOW - 2 * DAY)},
        "m3": {"id": "m3", "sent_at": _iso(NOW - 2 * DAY)},  # ties with m2
        "m4": {"id": "m4", "sent_at": _iso(NOW + 1)},  # later today: not yet sent at noon
        "m5": {"id": "m5"},  # never sent
    }
    events = [
        {"contact_id": "a", "type": "email_opened", "at": _iso(NOW - DAY), "campaign_id": "m1"},
        {"contact_id": "a", "type": "email_opened", "at": _iso(NOW - DAY), "campaign_id": "m2"},
        {"contact_id": "a", "type": "email_opened", "at": _iso(NOW - DAY), "campaign_id": "m3"},
        {"contact_id": "b", "type": "email_opened", "at": _iso(NOW - DAY), "campaign_id": "m3"},
        {"contact_id": "b", "type": "email_opened", "at": _iso(NOW), "campaign_id": "m4"},
        {"contact_id": "c", "type": "activity", "at": _iso(MIDNIGHT - 29 * DAY)},  # 30d edge
        {"contact_id": "c", "type": "activity", "at": _iso(MIDNIGHT - 29 * DAY - 1)},  # outside
        {"contact_id": "c", "type": "activity", "at": _iso(MIDNIGHT + DAY - 1)},  # today 23:59:59
        {"contact_id": "d", "type": "activity", "at": _iso(MIDNIGHT + DAY)},  # tomorrow
        {"contact_id": "ghost", "type": "activity", "at": _iso(NOW)},
        {"contact_id": "d", "type": "webinar_attended", "at": _iso(NOW - 3 * DAY)},
    ]
    return ActivityOrg(contacts, {}, deals, campaigns, events)


OPENED = "email_opened"
EDGE_CASES: list[tuple[str, Rule, set[str]]] = [
    ("has deals alone", HasDeals(), {"a", "b"}),
    ("no deal", Not(HasDeals()), {"c", "d"}),
    ("count eq 0", HasDeals(count=Cmp(eq=0)), {"c", "d"}),
    ("count gte 2", HasDeals(count=Cmp(gte=2)), {"a"}),
    ("where on one deal", HasDeals(AllOf((Condition("stage", "eq", "proposal"),
                                          Condition("value", "gt", 1000)))), {"b"}),
    ("where lt 1", HasDeals(Condition("stage", "eq", "proposal"), Cmp(lt=1)), {"c", "d"}),
    ("last 2 any (tie: m3 > m2)", EventRule(OPENED, CampaignLast(2)), {"a", "b"}),
    ("last 2 all", EventRule(OPENED, CampaignLast(2, "all")), {"a"}),
    ("last 3 all", EventRule(OPENED, CampaignLast(3, "all")), {"a"}),
    ("last 3 all, count eq 0", EventRule(OPENED, CampaignLast(3, "all"), count=Cmp(eq=0)),
     {"c", "d"}),
    ("last 1 any", EventRule(OPENED, CampaignLast(1)), {"a", "b"}),
    ("in counts each event once", EventRule(OPENED, CampaignIn(("m3", "m3")), count=Cmp(gte=2)),
     set()),
    ("one id", EventRule(OPENED, "m4"), {"b"}),
    ("last 30d edge", EventRule("activity", within=WindowLast("30d"), count=Cmp(eq=2)), {"c"}),
    ("no window sees the future", EventRule("activity"), {"c", "d"}),
    ("since today", EventRule("activity", within=WindowSince("now")), {"c"}),
    ("between days", EventRule("activity", within=WindowBetween("-1d", "+1d")), {"c", "d"}),
    ("custom type", EventRule("webinar_attended", within=WindowLast("7d")), {"d"}),
    ("unknown type", EventRule("never_seen", count=Cmp(lt=1)), {"a", "b", "c", "d"}),
    ("mixed", AnyOf((HasDeals(count=Cmp(gt=1)), EventRule("webinar_attended"))), {"a", "d"}),
]


@pytest.mark.parametrize(("rule", "want"), [c[1:] for c in EDGE_CASES],
                         ids=[c[0] for c in EDGE_CASES])
def test_edge_cases(rule: Rule, want: set[str]) -> None:
    org = small_org()
    assert expected(org, rule, NOW) == want, "the reference itself"
    with service() as svc:
        svc.ingest(ORG, files=org_files(org))
        count, got, _ = answers(svc, rule, NOW)
        assert (count, got) == (len(want), want)


def test_campaign_sent_exactly_at_now_is_among_the_last() -> None:
    org = small_org()
    rule = EventRule(OPENED, CampaignLast(1))
    with service() as svc:
        svc.ingest(ORG, files=org_files(org))
        # at NOW + 1 campaign m4 is sent (sent_at == now): the only one of "the last 1"
        assert expected(org, rule, NOW + 1) == {"b"}
        assert answers(svc, rule, NOW + 1)[1] == {"b"}


def test_no_campaign_sent_yet() -> None:
    """Before any campaign is sent, "all" of the last N matches nobody, "any" counts 0."""
    org = small_org()
    early = NOW - 30 * DAY
    rules: list[Rule] = [
        EventRule(OPENED, CampaignLast(2, "all"), count=Cmp(eq=0)),
        EventRule(OPENED, CampaignLast(2, "all"), count=Cmp(lt=5)),
        EventRule(OPENED, CampaignLast(2, "any"), count=Cmp(eq=0)),
        EventRule(OPENED, CampaignLast(2, "any")),
    ]
    assert [expected(org, r, early) for r in rules] == [set(), set(), set(org.contacts), set()]
    with service() as svc:
        svc.ingest(ORG, files=org_files(org))
        check(svc, org, rules, [early])


def test_reassign_and_delete_deals_and_contacts() -> None:
    org = small_org()
    batch = ActivityBatch(
        lines={"contacts": [{"id": "ghost"}]},  # loaded late: gets its deal and event
        records=[
            ("deals", "patch", {"id": "d2", "contact_id": "c"}),  # a -> c
            ("deals", "patch", {"id": "d3", "contact_id": None}),  # b -> nobody
            ("deals", "delete", {"id": "d1"}),
            ("contacts", "delete", {"id": "d"}),
            ("events", "upsert", {"contact_id": "b", "type": "activity", "at": _iso(NOW)}),
        ],
    )
    after = apply_activity_batch(org, batch)
    rules = [HasDeals(), HasDeals(count=Cmp(eq=0)), EventRule("activity"),
             EventRule("activity", within=WindowLast("1d"), count=Cmp(gte=1))]
    with service() as svc:
        svc.ingest(ORG, files=org_files(org))
        svc.ingest(ORG, files=batch_files(batch), records=batch.records)
        check(svc, after, rules, [NOW, MIDNIGHT])
    assert expected(after, HasDeals(), NOW) == {"c", "ghost"}


def test_unknown_campaign_is_invalid_argument() -> None:
    org = small_org()
    with service() as svc:
        svc.ingest(ORG, files=org_files(org))
        for rule, part in [
            (EventRule(OPENED, "nope"), "campaign"),
            (AllOf((HasDeals(), EventRule(OPENED, CampaignIn(("m1", "nope"))))),
             "all[1].campaign.in[1]"),
        ]:
            with pytest.raises(InvalidArgument) as excinfo:
                svc.count(ORG, rule, NOW)
            assert "nope" in str(excinfo.value) and part in str(excinfo.value)
    with pytest.raises(ValueError, match="unknown campaign"):
        expected(org, EventRule(OPENED, "nope"), NOW)


def test_campaign_id_with_a_key_separator_is_refused_or_exact() -> None:
    """A campaign id holding the unit separator (\\x1f) must not read as another campaign's
    per-day count: refuse it at ingest, or answer exactly. Twice: the id on a campaign
    record and on the event, and on the event alone."""
    weird = f"x\x1fd{NOW // DAY}"  # looks like campaign "x", day = today
    event = {"contact_id": "a", "type": OPENED, "at": _iso(NOW - 40 * DAY), "campaign_id": weird}
    x = {"id": "x", "sent_at": _iso(NOW - 10)}
    rules: list[Rule] = [
        EventRule(OPENED, "x", within=WindowLast("1d")),
        EventRule(OPENED, CampaignLast(1), within=WindowLast("30d")),
    ]
    for campaigns in ({"x": x, weird: {"id": weird, "sent_at": _iso(NOW - 100)}}, {"x": x}):
        org = ActivityOrg({"a": {"id": "a"}}, {}, campaigns=campaigns, events=[event])
        with service() as svc:
            try:
                svc.ingest(ORG, files=org_files(org))
            except InvalidArgument:
                continue  # refused: fine
            check(svc, org, rules, [NOW])

def test_counts_grow_and_shrink_across_batches() -> None:
    """Count BSIs deepen as counts pass powers of two (events) and shrink again (deals)."""
    org = ActivityOrg({cid: {"id": cid} for cid in ("a", "b", "c")}, {})
    sizes = (1, 2, 4, 9, 17, 40)
    with service() as svc:
        svc.ingest(ORG, files=org_files(org))
        for step, n in enumerate(sizes):
            owner = "ab"[step % 2]
            events = [
                {"contact_id": owner, "type": "activity", "at": _iso(MIDNIGHT - (i % 3) * DAY)}
                for i in range(n)
            ]
            deals = [{"id": f"s{step}-{i}", "contact_id": "a"} for i in range(n)]
            records = [("deals", "delete", {"id": f"s{step - 1}-{i}"})
                       for i in range(0, sizes[step - 1] if step else 0, 2)]
            batch = ActivityBatch({"events": events, "deals": deals}, records)
            svc.ingest(ORG, files=batch_files(batch), records=batch.records)
            org = apply_activity_batch(org, batch)
            totals = {len([d for d in org.deals.values() if d["contact_id"] == "a"]),
                      *(sum(e["contact_id"] == c for e in org.events) for c in "ab")}
            rules: list[Rule] = []
            for total in sorted(totals):
                for k in (total - 1, total, total + 1):
                    for cmp in (Cmp(eq=k), Cmp(gte=k), Cmp(lt=k), Cmp(gt=k - 2, lte=k)):
                        rules += [HasDeals(count=cmp), EventRule("activity", count=cmp),
                                  EventRule("activity", within=WindowLast("2d"), count=cmp)]
            check(svc, org, [r for r in rules if _valid_counts(r)], [NOW, MIDNIGHT])


def _valid_counts(rule: Rule) -> bool:
    cmp = rule.count  # type: ignore[union-attr]
    return all(v is None or v >= 0 for v in (cmp.eq, cmp.gt, cmp.gte, cmp.lt, cmp.lte))


# ---------------------------------------------------------------- shard boundaries
SHARD = 1 << 20
BIG = SHARD + 1_500


def _big_expectations(
    owners: np.ndarray, stages: np.ndarray, live: np.ndarray, ev_cols: np.ndarray,
    ev_days: np.ndarray, today: int,
) -> list[tuple[Rule, np.ndarray]]:
    has_owner = owners >= 0
    deals = np.bincount(owners[has_owner], minlength=BIG)
    stage_a = np.bincount(owners[has_owner & (stages == 0)], minlength=BIG)
    events = np.bincount(ev_cols, minlength=BIG)
    recent = np.bincount(ev_cols[ev_days >= today - 6], minlength=BIG)
    return [
        (HasDeals(), live & (deals > 0)),
        (Not(HasDeals()), live & (deals == 0)),
        (HasDeals(count=Cmp(gte=2)), live & (deals >= 2)),
        (HasDeals(count=Cmp(gt=0, lt=2)), live & (deals == 1)),
        (HasDeals(Condition("stage", "eq", "a"), Cmp(eq=1)), live & (stage_a == 1)),
        (HasDeals(Condition("stage", "eq", "a"), Cmp(lt=1)), live & (stage_a == 0)),
        (EventRule("activity"), live & (events > 0)),
        (EventRule("activity", count=Cmp(eq=0)), live & (events == 0)),
        (EventRule("activity", within=WindowLast("7d"), count=Cmp(gte=2)), live & (recent >= 2)),
        (AllOf((HasDeals(), EventRule("activity", count=Cmp(lte=1)))),
         live & (deals > 0) & (events <= 1)),
    ]


def _check_big(svc: Service, ids: np.ndarray, cases: list[tuple[Rule, np.ndarray]]) -> None:
    for rule, mask in cases:
        count, _seconds = svc.count(ORG, rule, NOW)
        assert count == int(mask.sum()), rule
        chunks, _seconds = svc.resolve(ORG, rule, NOW, chunk_size=65_536)
        got = [cid for chunk in chunks for cid in chunk]
        assert len(got) == count and set(got) == set(ids[mask].tolist()), rule


@pytest.mark.slow
def test_deals_and_events_across_shard_boundaries() -> None:
    """~1.05M contacts and ~1.05M deals: contact and deal columns in two shards each; deals
    moved across both boundaries, deleted, and events added on both sides."""
    rng = np.random.default_rng(11)
    ids = np.array([f"c{i}" for i in range(BIG)])
    live = np.ones(BIG, dtype=bool)
    owners = rng.integers(0, BIG, BIG)
    owners[SHARD - 5 : SHARD + 5] = SHARD - 1  # deals on both sides of the deal boundary
    stages = rng.integers(0, 2, BIG)
    today = NOW // DAY
    near = np.r_[np.arange(SHARD - 40, SHARD + 40), rng.integers(0, BIG, 2_000)]
    ev_cols = near[rng.integers(0, len(near), 6_000)]
    ev_days = today - rng.integers(0, 20, len(ev_cols))

    def events_jsonl(cols: np.ndarray, days: np.ndarray) -> bytes:
        return "".join(
            f'{{"contact_id":"c{c}","type":"activity","at":{d * DAY + 3600}}}\n'
            for c, d in zip(cols.tolist(), days.tolist(), strict=True)
        ).encode()

    contacts = "".join(f'{{"id":"c{i}"}}\n' for i in range(BIG)).encode()
    deals = "".join(
        f'{{"id":"d{i}","contact_id":"c{o}","stage":"{"ab"[s]}"}}\n'
        for i, (o, s) in enumerate(zip(owners.tolist(), stages.tolist(), strict=True))
    ).encode()
    with service() as svc:
        svc.ingest(ORG, files=[
            SourceFile("contacts", "contacts.jsonl", "jsonl", contacts),
            SourceFile("deals", "deals.jsonl", "jsonl", deals),
            SourceFile("events", "events.jsonl", "jsonl", events_jsonl(ev_cols, ev_days)),
        ])
        _check_big(svc, ids, _big_expectations(owners, stages, live, ev_cols, ev_days, today))

        records: list[tuple[str, str, dict[str, object]]] = []
        for deal in (3, SHARD - 2, SHARD + 2, BIG - 1, 17):  # moved across the boundary
            target = SHARD + 9 if owners[deal] < SHARD else SHARD - 9
            records.append(("deals", "patch", {"id": f"d{deal}", "contact_id": f"c{target}"}))
            owners[deal] = target
        for deal in (SHARD - 1, SHARD, SHARD + 1_000):
            records.append(("deals", "delete", {"id": f"d{deal}"}))
            owners[deal] = -1
        records.append(("deals", "patch", {"id": "d5", "stage": "a"}))
        stages[5] = 0
        for col in (SHARD - 1, SHARD + 3, 11):
            records.append(("contacts", "delete", {"id": f"c{col}"}))
            live[col] = False
        more_cols = np.r_[np.full(3, SHARD - 9), np.full(3, SHARD + 9), np.arange(SHARD, SHARD + 4)]
        more_days = np.full(len(more_cols), today)
        more = SourceFile("events", "events.jsonl", "jsonl", events_jsonl(more_cols, more_days))
        svc.ingest(ORG, files=[more], records=records)
        ev_cols, ev_days = np.r_[ev_cols, more_cols], np.r_[ev_days, more_days]
        _check_big(svc, ids, _big_expectations(owners, stages, live, ev_cols, ev_days, today))
