"""Natural-language mode end to end: the real server (a subprocess) through the real
client and the `bitseg translate` command, with a fake language model plugged in through
BITSEG_NL_MODEL (tests/nl_fake_model.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import orjson
import pytest
from click.testing import CliRunner, Result
from nl_org import NOW, ORG, SEGMENTS, write_org
from serverproc import ServerProcess, start_server

from bitseg.cli import cli
from bitseg.client import BitsegClientError, Client
from bitseg.demo import demo_schema

SEED = ("enterprise accounts in Germany that opened our last 3 campaigns but have no deal "
        "created in the last 90 days")  # fmt: skip
SEED_TEXT = ('company.size >= 1000 and company.country = "DE" and event "email_opened" '
             'campaign last 3 match all and not has deals where (created_at within last "90d")')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tests = str(Path(__file__).parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BITSEG_NL_MODEL", "nl_fake_model:answer")
        patch.setenv("BITSEG_NL_TIMEOUT", "5")
        patch.setenv("PYTHONPATH", os.pathsep.join(p for p in (tests, os.environ.get(
            "PYTHONPATH", "")) if p))  # fmt: skip
        started = start_server(tmp_path_factory.mktemp("nl-data"))
        proc = started.__enter__()
    try:
        with Client(proc.address, timeout=60) as client:
            client.load(ORG, write_org(tmp_path_factory.mktemp("nl-source"), 300),
                        schema=demo_schema())  # fmt: skip
            for name, rule in SEGMENTS.items():
                client.create_segment(ORG, name, rule=rule, members=None if rule else ["c1"])
        yield proc
    finally:
        started.__exit__(None, None, None)


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=60) as c:
        yield c


def test_translate_through_the_client(client: Client) -> None:
    result = client.translate(ORG, SEED, now=NOW)
    assert result.translator == "offline"  # the fake model refused: fallback, with a note
    assert result.text == SEED_TEXT
    assert result.rule is not None and result.rule["all"][0] == {
        "field": "company.size", "op": "gte", "value": 1000}
    assert result.count == client.count(ORG, result.rule, now=NOW)
    assert "the language model failed (RuntimeError" in result.notes[0]
    phrases = {a.phrase.text: a.alternatives for a in result.ambiguities}
    assert phrases["enterprise"] == ('tags has "enterprise"', 'custom.plan = "enterprise"')
    assert result.eval_micros > 0 and not result.not_understood


def test_not_understood_named_with_offsets(client: Client) -> None:
    sentence = "VIP contacts in Germany who love pizza"
    result = client.translate(ORG, sentence, now=NOW, offline=True)
    assert result.text == 'tags has "vip" and country = "DE"'
    assert [(p.text, sentence[p.start : p.end]) for p in result.not_understood] == [
        ("love pizza", "love pizza")]
    assert result.notes == ()  # offline: the model was not asked


def test_model_answer_and_offline_flag(client: Client) -> None:
    result = client.translate(ORG, "contacts the model likes", now=NOW)
    assert (result.translator, result.text) == ("model", 'tags has "vip"')
    assert result.count == client.count(ORG, 'tags has "vip"', now=NOW)
    offline = client.translate(ORG, "contacts the model likes", now=NOW, offline=True)
    assert offline.translator == "offline"


def test_nothing_understood(client: Client) -> None:
    result = client.translate(ORG, "asdf qwerty", now=NOW, offline=True)
    assert (result.rule, result.text, result.count) == (None, "", None)
    assert [p.text for p in result.not_understood] == ["asdf qwerty"]


def test_errors(client: Client) -> None:
    with pytest.raises(BitsegClientError) as err:
        client.translate("no-such-org", "contacts in Germany")
    assert err.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(BitsegClientError) as err:
        client.translate(ORG, "   ")
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(BitsegClientError) as err:
        client.translate(ORG, "x" * 3000)
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT


def run(server: ServerProcess, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["translate", "--org", ORG, "--server", server.address, "--now", NOW, *args],
        catch_exceptions=False,
    )


def test_cli_human(server: ServerProcess) -> None:
    result = run(server, "--offline", "Companies with more than 100 employees in France")
    assert result.exit_code == 0, result.output
    assert 'rule   company.size > 100 and company.country = "FR"' in result.output
    assert "contacts (" in result.output and "offline translator" in result.output
    assert 'ambiguous  "in France": company.country = "FR"' in result.output


def test_cli_json_and_text(server: ServerProcess) -> None:
    result = run(server, "--offline", "--format", "json", "MQLs in Germany who love pizza")
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.output)
    assert data["text"] == 'lifecycle_stage = "MQL" and country = "DE"'
    assert data["not_understood"] == [{"text": "love pizza", "start": 20, "end": 30}]
    assert isinstance(data["count"], int)
    text = run(server, "--offline", "--format", "text", "contacts in Germany")
    assert text.output == 'country = "DE"\n'


def test_cli_nothing_understood_exits_1(server: ServerProcess) -> None:
    result = run(server, "--offline", "asdf qwerty")
    assert result.exit_code == 1
    assert "nothing in the sentence was understood" in result.output
    assert 'not understood  "asdf qwerty"' in result.output
