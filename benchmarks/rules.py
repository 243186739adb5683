"""The benchmark rules: each a name, a bitseg JSON rule and the same question as DuckDB SQL.

The SQL is a WHERE clause over `contacts c` (left-joined to `companies co` on
`c.company_id` when `company` is set) and may use the `deals`, `campaigns` and
`events` tables (see `benchmarks.peer` for their columns; times are epoch seconds).
It encodes SPEC.md's semantics exactly, so the counts must agree:

- a negation includes contacts with no value (`NOT coalesce(..., false)`, `IS DISTINCT FROM`);
- comparisons never match a missing value (SQL NULL does that for us);
- `within_last "30d"` is now-30d <= t <= now, `older_than "60d"` is t < now-60d;
- an event window `{"last": "30d"}` is the 30 whole UTC days ending on now's day;
- "the last N campaigns" are the N latest with sent_at <= now.

`benchmark_rules(now)` builds the list for one `now` (epoch seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

DAY = 86_400
SEGMENT_NAME = "bench-dach-engaged"
SEGMENT_RULE: dict[str, Any] = {"all": [
    {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]},
    {"field": "lifecycle_stage", "op": "in", "value": ["MQL", "SQL", "CUSTOMER"]},
    {"field": "last_engaged_at", "op": "within_last", "value": "90d"},
]}


@dataclass(frozen=True)
class BenchRule:
    """One benchmark rule."""

    name: str
    title: str
    rule: dict[str, Any]
    where: str  # SQL WHERE clause over contacts c [LEFT JOIN companies co]
    company: bool = False  # the SQL needs the company join
    single: bool = False  # a single field predicate (the 0.2 ms target)
    needs: frozenset[str] = frozenset()  # "activity" (deals/events loaded), "segment"

    def sql(self, select: str = "count(*)") -> str:
        join = " LEFT JOIN companies co ON co.id = c.company_id" if self.company else ""
        return f"SELECT {select} FROM contacts c{join} WHERE {self.where}"

    def count_sql(self) -> str:
        return self.sql("count(*)")

    def ids_sql(self) -> str:
        return self.sql("c.id AS id")

    def json(self) -> str:
        return orjson.dumps(self.rule).decode()


def _f(field: str, op: str, value: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"field": field, "op": op}
    if value is not None:
        rule["value"] = value
    return rule


def _sql_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _any_tag(tags: list[str]) -> str:
    """`has_any` as ORed list_contains (faster in DuckDB than list_has_any)."""
    return "(" + " OR ".join(f"list_contains(c.tags, '{t}')" for t in tags) + ")"


def benchmark_rules(now: int) -> list[BenchRule]:
    """The rules, with every relative time resolved against `now` in the SQL."""
    today = now // DAY * DAY
    last30_lo, window_hi = today - 29 * DAY, today + DAY  # 30 whole UTC days ending today
    last90_lo = today - 89 * DAY
    segment_where = (
        f"c.country IN ('DE', 'AT', 'CH') AND c.lifecycle_stage IN ('MQL', 'SQL', 'CUSTOMER') "
        f"AND c.last_engaged_at BETWEEN {now - 90 * DAY} AND {now}"
    )
    mixed_tags = ["webinar-2026", "demo-requested", "hot-lead"]
    open_stages = ["closed_won", "closed_lost"]
    return [
        BenchRule("tag", "a single tag", _f("tags", "has", "vip"),
                  "list_contains(c.tags, 'vip')", single=True),
        BenchRule("keyword", "a single keyword", _f("country", "eq", "DE"),
                  "c.country = 'DE'", single=True),
        BenchRule("two_keywords", "two keywords",
                  {"all": [_f("country", "eq", "DE"), _f("lifecycle_stage", "eq", "MQL")]},
                  "c.country = 'DE' AND c.lifecycle_stage = 'MQL'"),
        BenchRule("tags_or_keywords", "OR of tags with keywords",
                  {"any": [_f("tags", "has_any", ["webinar-2026", "demo-requested"]),
                           _f("source", "eq", "webinar"),
                           _f("lifecycle_stage", "in", ["SQL", "CUSTOMER"])]},
                  f"{_any_tag(['webinar-2026', 'demo-requested'])} "
                  "OR c.source = 'webinar' OR c.lifecycle_stage IN ('SQL', 'CUSTOMER')"),
        BenchRule("negation", "a negation: not tagged churned",
                  {"not": _f("tags", "has", "churned")},
                  "NOT coalesce(list_contains(c.tags, 'churned'), false)", single=True),
        BenchRule("negations_mixed", "US, none of two tags, stage not CUSTOMER",
                  {"all": [_f("country", "eq", "US"),
                           {"not": _f("tags", "has_any", ["newsletter", "cold"])},
                           _f("lifecycle_stage", "ne", "CUSTOMER")]},
                  "c.country = 'US' "
                  f"AND NOT coalesce({_any_tag(['newsletter', 'cold'])}, false) "
                  "AND c.lifecycle_stage IS DISTINCT FROM 'CUSTOMER'"),
        BenchRule("int_range", "an int range: lead score 40..70",
                  _f("lead_score", "between", [40, 70]),
                  "c.lead_score BETWEEN 40 AND 70", single=True),
        BenchRule("older_than", "last activity older than 60 days",
                  _f("last_activity_at", "older_than", "60d"),
                  f"c.last_activity_at < {now - 60 * DAY}", single=True),
        BenchRule("within_last", "created within the last 30 days",
                  _f("created_at", "within_last", "30d"),
                  f"c.created_at BETWEEN {now - 30 * DAY} AND {now}", single=True),
        BenchRule("bool", "unsubscribed", _f("unsubscribed", "eq", True),
                  "c.unsubscribed", single=True),
        BenchRule("text_contains", "job title contains \"sales\"",
                  _f("job_title", "contains", "sales"),
                  "contains(lower(c.job_title), 'sales')", single=True),
        BenchRule("email_domain", "email domain is gmail.com",
                  _f("email_domain", "eq", "gmail.com"),
                  "c.email_domain = 'gmail.com'", single=True),
        BenchRule("custom_fields", "custom plan pro/enterprise and >= 10 seats",
                  {"all": [_f("custom.plan", "in", ["pro", "enterprise"]),
                           _f("custom.seats", "gte", 10)]},
                  "c.plan IN ('pro', 'enterprise') AND c.seats >= 10"),
        BenchRule("company_fields", "company in DE and in Software",
                  {"all": [_f("company.country", "eq", "DE"),
                           _f("company.industry", "eq", "Software")]},
                  "co.country = 'DE' AND co.industry = 'Software'", company=True),
        BenchRule("company_no_deal", "company size >= 500 and no deal",
                  {"all": [_f("company.size", "gte", 500), {"not": {"has": "deals"}}]},
                  "co.size >= 500 AND NOT EXISTS "
                  "(SELECT 1 FROM deals d WHERE d.contact_id = c.id)",
                  company=True, needs=frozenset({"activity"})),
        BenchRule("open_deal", "has an open deal",
                  {"has": "deals", "where": _f("stage", "not_in", open_stages)},
                  "EXISTS (SELECT 1 FROM deals d WHERE d.contact_id = c.id AND "
                  f"(d.stage IS NULL OR d.stage NOT IN ({_sql_list(open_stages)})))",
                  needs=frozenset({"activity"})),
        BenchRule("big_won_deal", "a won deal worth >= 10,000.00",
                  {"has": "deals", "where": {"all": [_f("stage", "eq", "closed_won"),
                                                     _f("value", "gte", 1_000_000)]}},
                  "EXISTS (SELECT 1 FROM deals d WHERE d.contact_id = c.id AND "
                  "d.stage = 'closed_won' AND d.value >= 1000000)",
                  needs=frozenset({"activity"})),
        BenchRule("opened_not_clicked", "opened campaign cmp100 and not clicked it",
                  {"all": [{"event": "email_opened", "campaign": "cmp100"},
                           {"not": {"event": "email_clicked", "campaign": "cmp100"}}]},
                  "c.id IN (SELECT contact_id FROM events WHERE type = 'email_opened' "
                  "AND campaign_id = 'cmp100') AND c.id NOT IN (SELECT contact_id FROM events "
                  "WHERE type = 'email_clicked' AND campaign_id = 'cmp100')",
                  needs=frozenset({"activity"})),
        BenchRule("opened_last3", "opened all of the last 3 campaigns",
                  {"event": "email_opened", "campaign": {"last": 3, "match": "all"}},
                  "c.id IN (SELECT contact_id FROM events WHERE type = 'email_opened' "
                  "AND campaign_id IN (SELECT id FROM campaigns "
                  f"WHERE sent_at <= {now} ORDER BY sent_at DESC LIMIT 3) "
                  "GROUP BY contact_id HAVING count(DISTINCT campaign_id) = 3)",
                  needs=frozenset({"activity"})),
        BenchRule("activity_5_in_30d", ">= 5 activity events in the last 30 days",
                  {"event": "activity", "within": {"last": "30d"}, "count": {"gte": 5}},
                  "c.id IN (SELECT contact_id FROM events WHERE type = 'activity' "
                  f"AND ts >= {last30_lo} AND ts < {window_hi} "
                  "GROUP BY contact_id HAVING count(*) >= 5)",
                  needs=frozenset({"activity"})),
        BenchRule("clicks_3_in_90d", ">= 3 email clicks in the last 90 days",
                  {"event": "email_clicked", "within": {"last": "90d"}, "count": {"gte": 3}},
                  "c.id IN (SELECT contact_id FROM events WHERE type = 'email_clicked' "
                  f"AND ts >= {last90_lo} AND ts < {window_hi} "
                  "GROUP BY contact_id HAVING count(*) >= 3)",
                  needs=frozenset({"activity"})),
        BenchRule("mixed_10", "a 10-predicate mixed rule",
                  {"all": [
                      _f("country", "in", ["DE", "AT", "CH", "FR"]),
                      _f("lifecycle_stage", "in", ["LEAD", "MQL", "SQL"]),
                      {"not": _f("tags", "has", "churned")},
                      _f("lead_score", "gte", 20),
                      _f("engagement_score", "between", [20, 60]),
                      _f("last_activity_at", "within_last", "90d"),
                      _f("company.size", "gte", 10),
                      _f("unsubscribed", "eq", False),
                      {"any": [_f("tags", "has_any", mixed_tags),
                               _f("custom.plan", "in", ["pro", "enterprise"])]},
                  ]},
                  "c.country IN ('DE', 'AT', 'CH', 'FR') "
                  "AND c.lifecycle_stage IN ('LEAD', 'MQL', 'SQL') "
                  "AND NOT coalesce(list_contains(c.tags, 'churned'), false) "
                  "AND c.lead_score >= 20 AND c.engagement_score BETWEEN 20 AND 60 "
                  f"AND c.last_activity_at BETWEEN {now - 90 * DAY} AND {now} "
                  "AND co.size >= 10 AND NOT c.unsubscribed "
                  f"AND ({_any_tag(mixed_tags)} "
                  "OR c.plan IN ('pro', 'enterprise'))",
                  company=True),
        BenchRule("segment_ref", f"in segment {SEGMENT_NAME} and lead score >= 30",
                  {"all": [{"segment": SEGMENT_NAME}, _f("lead_score", "gte", 30)]},
                  f"{segment_where} AND c.lead_score >= 30",
                  needs=frozenset({"segment"})),
        BenchRule("everyone", "every live contact (resolves every id)", {"all": []}, "true"),
    ]
