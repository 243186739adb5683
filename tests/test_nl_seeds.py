"""The five example prompts of seeds 000 and 001 produce the rules their tables describe.

Seed 000: "enterprise accounts in Germany that opened our last 3 campaigns but have no deal
created in the last 90 days". Seed 001's table: "Last activity date > 60 days ago",
"Industry = Healthcare AND deal count = 0", "Clicked campaign X AND no closed-won deal in
30 days", "Company size > 100 AND country = France". The choices made where the prompt
is open ("enterprise", "accounts in Germany", "Leads", "our last campaign") are offered
as alternatives, so the user sees them before saving.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from nl_org import NOW_S, ORG, build_service

from bitseg.nl import Translation, Translator
from bitseg.service import Service


@pytest.fixture(scope="module")
def translator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Translator]:
    service: Service = build_service(tmp_path_factory.mktemp("seeds"))
    yield Translator(service)
    service.close()


def run(translator: Translator, sentence: str) -> Translation:
    result = translator.translate(ORG, sentence, NOW_S)
    assert not result.not_understood, result.not_understood
    assert result.count is not None
    return result


def readings(result: Translation) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {a.phrase.text: (a.chosen, a.alternatives) for a in result.ambiguities}


def test_seed_000_enterprise_accounts(translator: Translator) -> None:
    result = run(translator, "enterprise accounts in Germany that opened our last 3 campaigns "
                             "but have no deal created in the last 90 days")
    expected: dict[str, Any] = {"all": [
        {"field": "company.size", "op": "gte", "value": 1000},
        {"field": "company.country", "op": "eq", "value": "DE"},
        {"event": "email_opened", "campaign": {"last": 3, "match": "all"}},
        {"not": {"has": "deals", "where": {"field": "created_at", "op": "within_last",
                                           "value": "90d"}}},
    ]}  # fmt: skip
    assert result.json == expected
    seen = readings(result)
    assert seen["enterprise"][1] == ('tags has "enterprise"', 'custom.plan = "enterprise"')
    assert seen["in Germany"][1] == ('country = "DE"',)
    assert seen["opened our last 3 campaigns"][1] == ('event "email_opened" campaign last 3',)
    assert any("1,000 or more employees" in note for note in result.notes)


def test_seed_001_not_contacted(translator: Translator) -> None:
    result = run(translator, "Contacts who haven't been contacted in 60 days")
    assert result.json == {"field": "last_activity_at", "op": "older_than", "value": "60d"}
    assert readings(result)["haven't been contacted in 60 days"][1] == (
        'not last_activity_at within last "60d"',)  # also counts the never-contacted


def test_seed_001_healthcare_leads(translator: Translator) -> None:
    result = run(translator, "Leads in the healthcare industry with no deal")
    assert result.json == {"all": [
        {"field": "company.industry", "op": "eq", "value": "Healthcare"},
        {"not": {"has": "deals"}},
    ]}  # fmt: skip
    assert readings(result)["Leads"][1] == ('lifecycle_stage = "LEAD"',)


def test_seed_001_clicked_but_did_not_buy(translator: Translator) -> None:
    result = run(translator, "Customers who clicked our last campaign but didn't buy")
    assert result.json == {"all": [
        {"event": "email_clicked", "campaign": {"last": 1}},
        {"not": {"has": "deals", "where": {"all": [
            {"field": "stage", "op": "eq", "value": "closed_won"},
            {"field": "close_date", "op": "within_last", "value": "30d"},
        ]}}},
    ]}  # fmt: skip
    seen = readings(result)
    assert seen["Customers"][1] == ('lifecycle_stage = "CUSTOMER"',)
    latest = seen["clicked our last campaign"][1][0]  # the campaign it is today, pinned
    assert latest.startswith('event "email_clicked" campaign "cmp')


def test_seed_001_companies_in_france(translator: Translator) -> None:
    result = run(translator, "Companies with more than 100 employees in France")
    assert result.json == {"all": [
        {"field": "company.size", "op": "gt", "value": 100},
        {"field": "company.country", "op": "eq", "value": "FR"},
    ]}  # fmt: skip
