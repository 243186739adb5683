"""End to end: the real server (a subprocess on 127.0.0.1, port 0) through the real client.

One small org is loaded from JSONL and CSV files written here; every query is checked
against answers worked out by hand from those records.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import orjson
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from serverproc import ServerProcess, start_server

from bitseg.client import BitsegClientError, Client, unpack_ids
from bitseg.rules.model import AllOf, Condition, Not
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

ORG = "acme"
NOW = "2026-11-20T12:00:00Z"

CONTACTS = [
    {"id": "c1", "name": "Anna Adler", "email": "anna@adler.de", "country": "DE",
     "lead_score": 90, "tags": ["vip"], "company_id": "co1", "lifecycle_stage": "MQL",
     "last_activity_at": "2026-11-10T00:00:00Z"},
    {"id": "c2", "name": "Bruno Blanc", "email": "bruno@blanc.fr", "country": "FR",
     "lead_score": 50, "tags": [], "company_id": "co2", "lifecycle_stage": "SQL",
     "last_activity_at": "2026-06-15T00:00:00Z"},
    {"id": "c3", "name": "Clara Chen", "email": "clara@gamma.de", "country": "DE",
     "lead_score": 85, "tags": ["vip", "churned"], "company_id": "co3",
     "lifecycle_stage": "CUSTOMER", "last_activity_at": "2026-11-19T08:00:00Z"},
    {"id": "c4", "name": "Dan Doe", "email": "dan@doe.us", "country": "US",
     "lead_score": 20, "tags": ["newsletter"], "lifecycle_stage": "LEAD"},
    {"id": "c5", "name": "Eve Etoile", "email": "eve@acme.fr", "country": "FR",
     "lead_score": 95, "tags": ["vip"], "company_id": "co1", "lifecycle_stage": "MQL",
     "last_activity_at": "2026-09-01T00:00:00Z"},
    {"id": "c6", "name": "Finn Fischer", "email": "finn@beta.de", "country": "DE",
     "company_id": "co2", "lifecycle_stage": "SUBSCRIBER",
     "last_activity_at": "2026-11-01T00:00:00Z"},
]
COMPANIES = [
    {"id": "co1", "name": "Acme", "size": 500, "country": "FR"},
    {"id": "co2", "name": "Beta", "size": 10, "country": "FR"},
    {"id": "co3", "name": "Gamma", "size": 200, "country": "DE"},
]
CSV = """id,name,email,country,lead_score,tags
c7,Gina Gold,gina@gold.de,DE,81,vip;beta
c8,Hugo Hill,hugo@hill.co.uk,GB,10,
c9,Ines Ito,ines@ito.fr,FR,99,vip
"""
ALL_IDS = {f"c{i}" for i in range(1, 10)}

DE = {"field": "country", "op": "eq", "value": "DE"}
VIP_HOT = {"all": [{"field": "tags", "op": "has", "value": "vip"},
                   {"field": "lead_score", "op": "gt", "value": 80}]}
BIG_FR = {"all": [{"field": "company.size", "op": "gt", "value": 100},
                  {"field": "company.country", "op": "eq", "value": "FR"}]}
RECENT = {"field": "last_activity_at", "op": "within_last", "value": "30d"}


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("data")) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def loaded(client: Client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """ORG with six JSONL contacts and three companies, then three CSV contacts."""
    first = tmp_path_factory.mktemp("jsonl")
    write_jsonl(first / "contacts.jsonl", CONTACTS)
    write_jsonl(first / "companies.jsonl", COMPANIES)
    sent: list[tuple[int, int]] = []
    applied = client.load(ORG, first, progress=lambda done, total: sent.append((done, total)))
    second = tmp_path_factory.mktemp("csv")
    (second / "contacts.csv").write_text(CSV)
    applied_csv = client.load(ORG, second)
    return {"jsonl": applied, "csv": applied_csv, "progress": sent}


@pytest.fixture()
def stub(server: ServerProcess) -> Iterator[pb_grpc.BitsegStub]:
    with grpc.insecure_channel(server.address) as channel:
        yield pb_grpc.BitsegStub(channel)


def code_of(excinfo: pytest.ExceptionInfo[BitsegClientError]) -> grpc.StatusCode:
    return excinfo.value.code


# ---------------------------------------------------------------------------- load


def test_load_reports_counts_per_kind_and_progress(loaded: dict[str, object]) -> None:
    applied = loaded["jsonl"]
    assert applied["contacts"]["upserted"] == 6  # type: ignore[index]
    assert applied["companies"]["upserted"] == 3  # type: ignore[index]
    assert loaded["csv"]["contacts"]["upserted"] == 3  # type: ignore[index]
    progress = loaded["progress"]
    assert isinstance(progress, list) and progress
    done, total = progress[-1]
    assert done == total > 0


# ---------------------------------------------------------------------------- count


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (DE, 4),
        (VIP_HOT, 5),
        (BIG_FR, 2),
        ({"all": []}, 9),
        ({"any": []}, 0),
        ({"not": DE}, 5),
        ({"field": "lifecycle_stage", "op": "in", "value": ["MQL", "SQL"]}, 3),
    ],
)
def test_count_json(client: Client, rule: dict[str, object], expected: int) -> None:
    assert client.count(ORG, rule, now=NOW) == expected


@pytest.mark.usefixtures("loaded")
def test_count_text_json_and_node_agree(client: Client) -> None:
    text = 'country = "DE" and not tags has "churned" and lead_score > 80'
    as_json = {"all": [DE, {"not": {"field": "tags", "op": "has", "value": "churned"}},
                       {"field": "lead_score", "op": "gt", "value": 80}]}
    tree = AllOf((Condition("country", "eq", "DE"), Not(Condition("tags", "has", "churned")),
                  Condition("lead_score", "gt", 80)))
    raw_node = pb.RuleNode(logic=pb.LOGIC_ALL, children=[
        pb.RuleNode(condition=pb.Condition(field="country", op="eq",
                                           value=pb.Value(string_value="DE"))),
        pb.RuleNode(logic=pb.LOGIC_NOT, children=[pb.RuleNode(condition=pb.Condition(
            field="tags", op="has", value=pb.Value(string_value="churned")))]),
        pb.RuleNode(condition=pb.Condition(field="lead_score", op="gt",
                                           value=pb.Value(int_value=80))),
    ])
    counts = {client.count(ORG, rule, now=NOW) for rule in (text, as_json, tree, raw_node)}
    assert counts == {2}  # c1 and c7


@pytest.mark.usefixtures("loaded")
def test_now_is_used_for_relative_rules(client: Client) -> None:
    from datetime import datetime

    assert client.count(ORG, RECENT, now=NOW) == 3  # c1, c3, c6
    assert client.count(ORG, RECENT, now=datetime(2026, 7, 1)) == 1  # c2
    assert client.resolve(ORG, RECENT, now="2026-07-01T00:00:00Z") == ["c2"]


@pytest.mark.usefixtures("loaded")
def test_eval_micros_on_every_query(client: Client) -> None:
    n, micros = client.count_with_time(ORG, DE, now=NOW)
    assert n == 4 and micros > 0 and client.last_eval_micros == micros
    assert client.preview(ORG, DE, now=NOW).eval_micros > 0
    assert client.list_members(ORG, DE, now=NOW).eval_micros > 0
    client.last_eval_micros = 0
    client.resolve(ORG, DE, now=NOW)
    assert client.last_eval_micros > 0


# ---------------------------------------------------------------- preview, resolve, list


@pytest.mark.usefixtures("loaded")
def test_preview_members_with_company(client: Client) -> None:
    result = client.preview(ORG, BIG_FR, now=NOW)
    assert result.count == 2
    by_id = {m.id: m for m in result.members}
    assert set(by_id) == {"c1", "c5"}
    assert by_id["c1"].name == "Anna Adler"
    assert by_id["c1"].email == "anna@adler.de"
    assert by_id["c1"].company == "Acme"
    small = client.preview(ORG, {"all": []}, limit=3, now=NOW)
    assert small.count == 9 and len(small.members) == 3
    no_company = client.preview(ORG, {"field": "country", "op": "eq", "value": "US"}, now=NOW)
    assert [(m.id, m.company) for m in no_company.members] == [("c4", None)]


@pytest.mark.usefixtures("loaded")
def test_preview_limit_bounded(client: Client) -> None:
    with pytest.raises(BitsegClientError) as excinfo:
        client.preview(ORG, DE, limit=5000, now=NOW)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "limit" in str(excinfo.value)


@pytest.mark.usefixtures("loaded")
def test_resolve_packed(client: Client) -> None:
    assert set(client.resolve(ORG, VIP_HOT, now=NOW)) == {"c1", "c3", "c5", "c7", "c9"}
    assert sorted(client.resolve(ORG, {"all": []}, now=NOW)) == sorted(ALL_IDS)
    assert client.resolve(ORG, {"any": []}, now=NOW) == []


@pytest.mark.usefixtures("loaded")
def test_resolve_unpacked_first_chunk_has_total(stub: pb_grpc.BitsegStub) -> None:
    request = pb.ResolveRequest(org=ORG, rule=pb.Rule(json=orjson.dumps(DE).decode()), now=NOW)
    chunks = list(stub.Resolve(request, timeout=30))
    assert chunks[0].total == 4 and chunks[0].eval_micros > 0
    assert all(not c.ids_packed for c in chunks)
    assert {i for c in chunks for i in c.ids} == {"c1", "c3", "c6", "c7"}
    empty = list(stub.Resolve(pb.ResolveRequest(org=ORG, rule=pb.Rule(json='{"any": []}')),
                              timeout=30))
    assert len(empty) == 1 and empty[0].total == 0 and not empty[0].ids


@pytest.mark.usefixtures("loaded")
def test_list_members_pages(client: Client) -> None:
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        page = client.list_members(ORG, {"all": []}, cursor=cursor, page_size=4, now=NOW)
        assert len(page.ids) <= 4
        seen += page.ids
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 9
    assert set(seen) == ALL_IDS


def test_unpack_ids_is_fast() -> None:
    ids = [f"contact-{i:07d}" for i in range(1_000_000)]
    data = "\n".join(ids).encode()
    timings = []
    for _ in range(3):  # best of three: a busy CI machine should not fail this
        started = time.perf_counter()
        unpacked = unpack_ids(data)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.3
    assert unpacked == ids
    assert unpack_ids(b"") == []


# ---------------------------------------------------------------------------- errors


@pytest.mark.usefixtures("loaded")
def test_unknown_field_is_invalid_argument_naming_it(client: Client) -> None:
    rule = {"all": [DE, {"field": "no_such_field", "op": "eq", "value": "x"}]}
    with pytest.raises(BitsegClientError) as excinfo:
        client.count(ORG, rule, now=NOW)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "no_such_field" in str(excinfo.value)
    assert "all[1]" in str(excinfo.value)


@pytest.mark.usefixtures("loaded")
def test_wrong_value_type_names_the_part(client: Client) -> None:
    rule = {"all": [DE, {"field": "lead_score", "op": "gt", "value": "eighty"}]}
    with pytest.raises(BitsegClientError) as excinfo:
        client.count(ORG, rule, now=NOW)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "lead_score" in str(excinfo.value) or "eighty" in str(excinfo.value)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    "rule",
    [
        "country = ",
        "((((",
        'country = "DE" and',
        pb.Rule(json='{"field": "country", "op": "eq"'),
        pb.Rule(json="[1, 2]"),
        {"all": [{"nope": 1}]},
        {"field": "country", "op": "no_such_op", "value": "DE"},
    ],
)
def test_malformed_rules_are_invalid_argument(client: Client, rule: object) -> None:
    with pytest.raises(BitsegClientError) as excinfo:
        client.count(ORG, rule, now=NOW)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert str(excinfo.value)


@pytest.mark.usefixtures("loaded")
def test_too_deep_rules_are_invalid_argument(client: Client) -> None:
    json_rule: dict[str, object] = DE
    tree: object = Condition("country", "eq", "DE")
    node = pb.RuleNode()
    leaf = node
    for _ in range(200):
        json_rule = {"not": json_rule}
        tree = Not(tree)  # type: ignore[arg-type]
        leaf.logic = pb.LOGIC_NOT
        leaf = leaf.children.add()
    leaf.condition.field, leaf.condition.op = "country", "exists"
    for rule in (json_rule, tree, node):  # node: deeper than protobuf's own parser allows
        with pytest.raises(BitsegClientError) as excinfo:
            client.count(ORG, rule, now=NOW)
        assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
        assert "deep" in str(excinfo.value) or "depth" in str(excinfo.value)
    ok = Condition("country", "eq", "DE")
    for _ in range(20):
        ok = Not(Not(ok))  # type: ignore[assignment]
    assert client.count(ORG, ok, now=NOW) == 4
    wide = {"any": [DE] * 2_500}
    with pytest.raises(BitsegClientError) as excinfo:
        client.count(ORG, wide, now=NOW)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.usefixtures("loaded")
def test_empty_rule_and_bad_now(client: Client) -> None:
    with pytest.raises(BitsegClientError) as excinfo:
        client.count(ORG, pb.Rule(), now=NOW)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "rule" in str(excinfo.value)
    with pytest.raises(BitsegClientError) as excinfo:
        client.count(ORG, DE, now="next tuesday")
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "now" in str(excinfo.value)


def test_unknown_org_is_not_found(client: Client) -> None:
    for call in (
        lambda: client.count("no-such-org", DE),
        lambda: client.preview("no-such-org", DE),
        lambda: client.resolve("no-such-org", DE),
        lambda: client.list_members("no-such-org", DE),
    ):
        with pytest.raises(BitsegClientError) as excinfo:
            call()
        assert code_of(excinfo) == grpc.StatusCode.NOT_FOUND
        assert "no-such-org" in str(excinfo.value)


@pytest.mark.usefixtures("loaded")
def test_bad_record_line_rejects_whole_batch(client: Client, tmp_path: Path) -> None:
    before = client.count(ORG, {"all": []}, now=NOW)
    good = orjson.dumps({"id": "new1", "name": "New", "country": "DE"}).decode()
    (tmp_path / "contacts.jsonl").write_text(f"{good}\n{good.replace('new1', 'new2')}\n{{oops\n")
    with pytest.raises(BitsegClientError) as excinfo:
        client.load(ORG, tmp_path)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "contacts.jsonl:3" in str(excinfo.value)
    assert client.count(ORG, {"all": []}, now=NOW) == before
    assert client.count(ORG, DE, now=NOW) == 4


@pytest.mark.usefixtures("loaded")
def test_message_over_4_mib_is_refused(client: Client, stub: pb_grpc.BitsegStub) -> None:
    huge = {"field": "country", "op": "in", "value": ["X" * 1000] * 5000}  # ~5 MB of JSON
    with pytest.raises(BitsegClientError) as excinfo:
        client.count(ORG, huge, now=NOW)
    assert code_of(excinfo) == grpc.StatusCode.RESOURCE_EXHAUSTED
    chunk = pb.FileChunk(kind="contacts", name="contacts.jsonl", data=b" " * (5 << 20))
    with pytest.raises(grpc.RpcError) as raw:
        stub.Ingest(iter([pb.IngestRequest(org=ORG, file=chunk)]), timeout=30)
    assert raw.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert client.count(ORG, DE, now=NOW) == 4  # still serving


# ---------------------------------------------------------------------------- ingest records


def test_records_patch_delete_and_custom_fields(client: Client) -> None:
    org = "records"
    client.declare_fields(org, {"seats": "int"})
    applied = client.ingest(org, [
        {"id": "r1", "country": "DE", "custom": {"seats": 12}},
        {"id": "r2", "country": "FR", "custom": {"seats": 3}},
        {"id": "r3", "country": "DE"},
    ])
    assert applied["contacts"]["upserted"] == 3
    seats = {"field": "custom.seats", "op": "gt", "value": 10}
    assert client.count(org, seats) == 1
    patched = client.ingest(org, [{"id": "r2", "custom": {"seats": 30}}], op="patch")
    assert patched["contacts"]["patched"] == 1
    assert set(client.resolve(org, seats)) == {"r1", "r2"}
    assert client.count(org, {"field": "country", "op": "eq", "value": "FR"}) == 1  # kept
    deleted = client.ingest(org, [{"id": "r1"}], op="delete")
    assert deleted["contacts"]["deleted"] == 1
    assert client.resolve(org, seats) == ["r2"]
    with pytest.raises(BitsegClientError) as excinfo:
        client.ingest(org, [{"id": "r9", "custom": {"seats": "many"}}])
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "records:1" in str(excinfo.value)
    assert client.count(org, {"all": []}) == 2


def test_ingest_stream_shape_errors(stub: pb_grpc.BitsegStub) -> None:
    def ingest(*messages: pb.IngestRequest) -> grpc.StatusCode:
        try:
            stub.Ingest(iter(messages), timeout=30)
        except grpc.RpcError as e:
            return e.code()  # type: ignore[attr-defined,no-any-return]
        return grpc.StatusCode.OK

    chunk = pb.FileChunk(kind="contacts", name="a.jsonl", data=b'{"id": "x"}\n')
    assert ingest(pb.IngestRequest(file=chunk)) == grpc.StatusCode.INVALID_ARGUMENT  # no org
    assert ingest() == grpc.StatusCode.INVALID_ARGUMENT  # empty stream
    bad_kind = pb.FileChunk(kind="people", name="p.jsonl", data=b"{}")
    assert ingest(pb.IngestRequest(org="x1", file=bad_kind)) == grpc.StatusCode.INVALID_ARGUMENT
    assert ingest(pb.IngestRequest(org="x1"), pb.IngestRequest(org="x2")) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    bad_org = pb.IngestRequest(org="../escape", file=chunk)
    assert ingest(bad_org) == grpc.StatusCode.INVALID_ARGUMENT


def test_file_chunks_split_anywhere_are_joined(client: Client, stub: pb_grpc.BitsegStub) -> None:
    data = b"".join(orjson.dumps({"id": f"s{i}", "country": "DE"}) + b"\n" for i in range(50))
    pieces = [data[i : i + 7] for i in range(0, len(data), 7)]
    messages = [pb.IngestRequest(org="split", file=pb.FileChunk(name="contacts.jsonl", data=p))
                for p in pieces]
    response = stub.Ingest(iter(messages), timeout=30)
    assert response.applied["contacts"].upserted == 50
    assert client.count("split", DE) == 50


# ---------------------------------------------------------------------------- parse rule


def test_parse_rule_round_trips(client: Client) -> None:
    parsed = client.parse_rule('country = "DE" and lead_score > 80')
    assert orjson.loads(parsed["json"]) == {
        "all": [DE, {"field": "lead_score", "op": "gt", "value": 80}]
    }
    again = client.parse_rule(orjson.loads(parsed["json"]))
    assert again["text"] == parsed["text"]
    with pytest.raises(BitsegClientError) as excinfo:
        client.parse_rule("country = ")
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.usefixtures("loaded")
def test_parse_rule_against_an_org(client: Client, stub: pb_grpc.BitsegStub) -> None:
    assert client.parse_rule(DE, org=ORG)["text"]
    with pytest.raises(BitsegClientError) as excinfo:
        client.parse_rule({"field": "no_such_field", "op": "eq", "value": 1}, org=ORG)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "no_such_field" in str(excinfo.value)
    with pytest.raises(BitsegClientError) as excinfo:
        client.parse_rule(DE, org="no-such-org")
    assert code_of(excinfo) == grpc.StatusCode.NOT_FOUND
    response = stub.ParseRule(pb.ParseRuleRequest(rule=pb.Rule(text='country = "DE"')), timeout=30)
    assert response.node.condition.field == "country"
    assert response.node.condition.value.string_value == "DE"


# ---------------------------------------------------------------------------- health, reflection


def test_health_serving(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "bitseg.v1.Bitseg"):
            response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.address) as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = list(reflection.ServerReflectionInfo(iter([request]), timeout=10))
    names = {s.name for s in responses[0].list_services_response.service}
    assert "bitseg.v1.Bitseg" in names
    assert "grpc.health.v1.Health" in names


def test_sigterm_stops_gracefully(tmp_path: Path) -> None:
    with start_server(tmp_path / "data") as proc:
        with Client(proc.address) as c:
            c.ingest("g", [{"id": "1"}])
            assert c.count("g", {"all": []}) == 1
        proc.process.send_signal(signal.SIGTERM)
        assert proc.process.wait(15) == 0
    assert "Traceback" not in proc.log()


# ---------------------------------------------------------------------------- in-process edges


def test_unexpected_errors_are_internal_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bitseg.server import app
    from bitseg.service import Service

    class Broken(Service):
        def count(self, *args: object, **kwargs: object) -> tuple[int, float]:
            raise ZeroDivisionError("boom")

    monkeypatch.setattr(app, "Service", Broken)
    with app.ServerThread(tmp_path, port=0) as server, Client(server.address) as c:
        c.ingest("o", [{"id": "1"}])
        with pytest.raises(BitsegClientError) as excinfo:
            c.count("o", DE)
        assert code_of(excinfo) == grpc.StatusCode.INTERNAL
        assert "boom" not in str(excinfo.value)  # details stay in the server log
        assert c.preview("o", {"all": []}).count == 1  # the server carries on
    assert any(
        r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records
    ), "the traceback is logged"


def test_health_not_serving_during_shutdown(tmp_path: Path) -> None:
    import asyncio

    from bitseg.server.app import SERVICE_NAME, BitsegServer

    async def scenario() -> list[int]:
        server = BitsegServer(tmp_path, port=0)
        await server.start()
        seen = []
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.bound_port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
            seen.append((await health.Check(request, timeout=10)).status)
            watch = health.Watch(request, timeout=10)
            seen.append((await watch.read()).status)
            stopping = asyncio.ensure_future(server.stop(grace=1))
            seen.append((await watch.read()).status)
            await stopping
        return seen

    serving, not_serving = (health_pb2.HealthCheckResponse.SERVING,
                            health_pb2.HealthCheckResponse.NOT_SERVING)
    assert asyncio.run(scenario()) == [serving, serving, not_serving]
