"""The external-model path: a plugged-in model's rule is validated like any other; a
failing, slow or nonsensical model falls back to the offline translator with a note."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from nl_org import NOW_S, ORG, build_service

from bitseg.nl import ModelRequest, Translator, load_model, model_from_env
from bitseg.service import Service

SENTENCE = "contacts in Germany who love pizza"
OFFLINE_TEXT = 'country = "DE"'
VALID = {"all": [{"field": "country", "op": "eq", "value": "DE"},
                 {"field": "tags", "op": "has", "value": "vip"}]}  # fmt: skip


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = build_service(tmp_path_factory.mktemp("model"), contacts=200)
    yield service
    service.close()


def translate(service: Service, model: Any, timeout: float = 2.0, **kw: Any) -> Any:
    return Translator(service, model=model, timeout=timeout).translate(ORG, SENTENCE, NOW_S, **kw)


def test_valid_rule_is_used_and_counted(service: Service) -> None:
    seen: list[ModelRequest] = []

    def model(request: ModelRequest) -> dict[str, Any]:
        seen.append(request)
        return {"rule": VALID, "not_understood": ["love pizza"], "notes": ["fake model"],
                "ambiguities": [{"phrase": "Germany", "chosen": 'country = "DE"',
                                 "alternatives": ['company.country = "DE"']}]}  # fmt: skip

    result = translate(service, model)
    assert result.translator == "model"
    assert result.text == 'country = "DE" and tags has "vip"'
    assert result.count == service.count(ORG, result.rule, NOW_S)[0]
    assert [(p.text, p.start) for p in result.not_understood] == [("love pizza", 24)]
    assert result.ambiguities[0].alternatives == ('company.country = "DE"',)
    assert "fake model" in result.notes
    request = seen[0].to_json()  # the sentence, the org's schema and its vocabulary
    assert request["sentence"] == SENTENCE and request["now"] == "2026-11-20T12:00:00Z"
    assert request["schema"]["contact_fields"]["custom.plan"] == "keyword"
    assert "has" in request["schema"]["operators"]["set"]
    assert "vip" in request["vocabulary"]["values"]["tags"]
    assert {s["name"] for s in request["vocabulary"]["segments"]} == {"VIP", "Cooldown"}


def test_json_text_answer(service: Service) -> None:
    result = translate(service, lambda request: '{"segment": "VIP"}')
    assert (result.translator, result.text) == ("model", 'in segment "VIP"')


def test_invalid_parts_are_dropped_and_named(service: Service) -> None:
    rule = {"all": [VALID, {"field": "vibe", "op": "eq", "value": "cool"},
                    {"event": "email_opened", "campaign": "nope"},
                    {"segment": "No such segment"}]}  # fmt: skip
    result = translate(service, lambda request: rule)
    assert result.translator == "model"
    assert result.text == 'country = "DE" and tags has "vip"'
    assert len(result.rejected) == 3
    assert 'vibe = "cool": field: unknown field "vibe"' in result.rejected[0]
    assert 'unknown campaign "nope"' in result.rejected[1]
    assert 'unknown segment "No such segment"' in result.rejected[2]
    assert any("dropped" in note for note in result.notes)


@pytest.mark.parametrize(("answer", "reason"), [
    ({"field": "vibe", "op": "eq", "value": "cool"}, "is not valid"),
    ({"field": "lead_score", "op": "gt", "value": "eighty"}, "is not valid"),
    ({"bogus": 1}, "is not a rule"),
    ("this is not JSON", "is not a rule"),
    ([1, 2, 3], "is not a rule"),
])  # fmt: skip
def test_invalid_rule_falls_back(service: Service, answer: Any, reason: str) -> None:
    result = translate(service, lambda request: answer)
    assert result.translator == "offline"
    assert result.text == OFFLINE_TEXT
    assert [p.text for p in result.not_understood] == ["love pizza"]
    assert reason in result.notes[0] and "offline translator was used" in result.notes[0]


def test_failing_model_falls_back(service: Service) -> None:
    def model(request: ModelRequest) -> Any:
        raise ConnectionError("model server unreachable")

    result = translate(service, model)
    assert (result.translator, result.text) == ("offline", OFFLINE_TEXT)
    assert "ConnectionError: model server unreachable" in result.notes[0]


def test_slow_model_times_out_and_falls_back(service: Service) -> None:
    release = threading.Event()

    def model(request: ModelRequest) -> Any:
        release.wait(10)
        return VALID

    started = time.perf_counter()
    result = translate(service, model, timeout=0.2)
    release.set()
    assert time.perf_counter() - started < 5
    assert (result.translator, result.text) == ("offline", OFFLINE_TEXT)
    assert "no answer within 0.2 s" in result.notes[0]


def test_offline_flag_skips_the_model(service: Service) -> None:
    def model(request: ModelRequest) -> Any:
        raise AssertionError("must not be called")

    result = translate(service, model, offline=True)
    assert (result.translator, result.text, result.notes) == ("offline", OFFLINE_TEXT, ())


def test_load_model_by_module_path(monkeypatch: pytest.MonkeyPatch) -> None:
    module = type(sys)("fake_nl_model")
    module.answer = lambda request: VALID  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_nl_model", module)
    assert load_model("fake_nl_model:answer") is module.answer  # type: ignore[attr-defined]
    monkeypatch.setenv("BITSEG_NL_MODEL", "fake_nl_model:answer")
    monkeypatch.setenv("BITSEG_NL_TIMEOUT", "1.5")
    assert model_from_env() == (module.answer, 1.5)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="no language model"):
        load_model("no-such-entry-point")
