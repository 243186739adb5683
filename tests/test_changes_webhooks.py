"""Webhooks end to end: a real HTTP receiver on 127.0.0.1 that fails the first attempts.

The server runs in process (`LoopServer`); log entries are appended directly with
`bitseg.store.changelog.append` on its writer thread. Checked: every entry arrives
exactly once and in order after the retries, signatures verify, the segment filter
works (and filtered-out entries still advance the cursor), a restart resumes from the
durable cursor (nothing acknowledged re-sent, nothing unacknowledged lost), and the
registry's RPCs, CLI and errors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import orjson
import pytest
from changes_harness import (
    WAIT,
    LoopServer,
    Receiver,
    append_offline,
    entry,
    read_log,
    wait_until,
)
from click.testing import CliRunner

from bitseg.changes import sign, verify
from bitseg.changes.webhooks import backoff
from bitseg.cli import cli
from bitseg.client import BitsegClientError, Client

ORG = "acme"
SECRET = "s3cret-key"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[LoopServer]:
    with LoopServer(tmp_path / "data") as srv:
        yield srv


@pytest.fixture()
def client(server: LoopServer) -> Iterator[Client]:
    with Client(server.address, timeout=WAIT) as c:
        c.ingest(ORG, [{"id": f"c{i}"} for i in range(1, 4)])
        yield c


def segments(client: Client) -> tuple[str, str]:
    """Two real (empty, static) segments, so the filter can name them."""
    a = client.create_segment(ORG, "Alpha").id
    b = client.create_segment(ORG, "Beta").id
    return a, b


def seqs(events: list[dict[str, object]]) -> list[object]:
    return [e["seq"] for e in events]


def test_signature_scheme() -> None:
    body = b'{"events":[]}'
    signature = sign("key", "1700000000", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("key", "1700000000", body, signature, now=1700000100)
    assert not verify("key", "1700000000", body + b" ", signature, now=1700000100)
    assert not verify("other", "1700000000", body, signature, now=1700000100)
    assert not verify("key", "1700000000", body, signature, now=1700001000)  # too old
    assert all(0.25 <= backoff(0) <= 0.5 for _ in range(50))
    assert all(30.0 <= backoff(40) <= 60.0 for _ in range(50))


def test_retried_in_order_exactly_once_and_signed(server: LoopServer, client: Client) -> None:
    a, b = segments(client)
    with Receiver(fail_first=2) as receiver:
        hook = client.add_webhook(ORG, receiver.url, SECRET)
        start = server.hub.list_webhooks(ORG)[0].delivered_seq
        server.append(ORG, [entry(a, "Alpha", "c1"), entry(b, "Beta", "c2")])
        server.append(ORG, [entry(a, "Alpha", f"x{i}", joined=i % 2 == 0) for i in range(150)])
        expected = read_log(server.store(ORG), after=start)
        wait_until(lambda: len(receiver.delivered()) >= len(expected), what="deliveries")
        time.sleep(0.3)  # nothing more may arrive
        attempts = receiver.all()
        assert [a.status for a in attempts[:2]] == [500, 500]
        assert attempts[0].body == attempts[1].body == attempts[2].body  # the same batch
        assert receiver.delivered() == expected  # exactly once, in order, every field
        assert all(len(a.events) <= 100 for a in attempts)
        for attempt in attempts:
            assert attempt.signature == sign(SECRET, attempt.timestamp, attempt.body)
            assert verify(SECRET, attempt.timestamp, attempt.body, attempt.signature)
            assert abs(int(attempt.timestamp) - attempt.received_at) < 60
            assert attempt.headers["x-bitseg-webhook-id"] == hook
            assert attempt.headers["content-type"] == "application/json"
            body = orjson.loads(attempt.body)
            assert body["org"] == ORG and body["webhook_id"] == hook
        [listed] = client.list_webhooks(ORG)
        wait_until(lambda: client.list_webhooks(ORG)[0].delivered_seq == expected[-1]["seq"])
        listed = client.list_webhooks(ORG)[0]
        assert (listed.id, listed.url, listed.segment_ids) == (hook, receiver.url, ())
        assert listed.last_seq == listed.delivered_seq and listed.failures == 0
        assert listed.last_error == ""


def test_segment_filter(server: LoopServer, client: Client) -> None:
    a, b = segments(client)
    with Receiver() as only_a, Receiver() as both:
        hook_a = client.add_webhook(ORG, only_a.url, SECRET, segments=["alpha"])  # by name
        client.add_webhook(ORG, both.url, SECRET, segments=[a, "Beta"])
        [listed] = [w for w in client.list_webhooks(ORG) if w.id == hook_a]
        assert listed.segment_ids == (a,) and listed.segment_names == ("Alpha",)
        start = listed.delivered_seq
        server.append(ORG, [entry(a if i % 3 == 0 else b, "x", f"c{i}") for i in range(30)])
        server.append(ORG, [entry(b, "Beta", "tail")])  # filtered out for only_a
        log = read_log(server.store(ORG), after=start)
        wait_until(lambda: len(both.delivered()) >= len(log), what="both")
        wait_until(lambda: len(only_a.delivered()) >= 10, what="only_a")
        assert both.delivered() == log
        assert only_a.delivered() == [e for e in log if e["segment_id"] == a]
        # entries filtered out still advance the cursor
        end = log[-1]["seq"]
        wait_until(
            lambda: [w.delivered_seq for w in client.list_webhooks(ORG) if w.id == hook_a]
            == [end],
            what="the filtered cursor",
        )
    with pytest.raises(BitsegClientError) as e:
        client.add_webhook(ORG, "http://127.0.0.1:9/x", SECRET, segments=["No such"])
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_restart_resumes_from_the_durable_cursor(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Receiver() as receiver:
        with LoopServer(data) as first, Client(first.address) as client:
            client.ingest(ORG, [{"id": "c1"}])
            client.add_webhook(ORG, receiver.url, SECRET, since=0)  # the whole log
            first.append(ORG, [entry("seg_00000000000a", "A", f"a{i}") for i in range(5)])
            acked = read_log(first.store(ORG))
            wait_until(lambda: receiver.delivered() == acked, what="batch 1")
            wait_until(lambda: client.list_webhooks(ORG)[0].delivered_seq == len(acked))
            receiver.fail_always = True  # batch 2 is attempted, never acknowledged
            first.append(ORG, [entry("seg_00000000000a", "A", f"b{i}") for i in range(3)])
            wait_until(lambda: len(receiver.all()) > len(receiver.accepted()), what="a failure")
        # stopped with batch 2 unacknowledged; more entries arrive while it is down
        append_offline(data, ORG, [entry("seg_00000000000a", "A", f"c{i}") for i in range(4)])
        receiver.fail_always = False
        with LoopServer(data) as second:  # workers start for the endpoints found on disk
            log = read_log(second.store(ORG))
            wait_until(lambda: len(receiver.delivered()) >= len(log), what="resumed deliveries")
            time.sleep(0.3)
            assert receiver.delivered() == log  # nothing acknowledged re-sent, nothing lost
            assert seqs(receiver.delivered()) == list(range(1, len(log) + 1))


def test_delete_stops_deliveries_and_errors(server: LoopServer, client: Client) -> None:
    with Receiver() as receiver:
        hook = client.add_webhook(ORG, receiver.url, SECRET)
        client.delete_webhook(ORG, hook)
        assert client.list_webhooks(ORG) == []
        server.append(ORG, [entry("seg_00000000000a", "A", "c1")])
        time.sleep(0.5)
        assert receiver.all() == []
    for call, code in [
        (lambda: client.delete_webhook(ORG, hook), grpc.StatusCode.NOT_FOUND),
        (lambda: client.add_webhook("nobody", "http://127.0.0.1:9/", "s"),
         grpc.StatusCode.NOT_FOUND),
        (lambda: client.list_webhooks("nobody"), grpc.StatusCode.NOT_FOUND),
        (lambda: client.add_webhook(ORG, "ftp://example.com/", "s"),
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: client.add_webhook(ORG, "not a url", "s"), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: client.add_webhook(ORG, "http://127.0.0.1:9/", ""),
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: client.add_webhook(ORG, "http://127.0.0.1:9/", "s", since=10**9),
         grpc.StatusCode.INVALID_ARGUMENT),
    ]:
        with pytest.raises(BitsegClientError) as e:
            call()
        assert e.value.code == code


def test_unreachable_endpoint_is_retried_and_reported(server: LoopServer, client: Client) -> None:
    with Receiver() as probe:  # a port that was open and is now closed
        dead = probe.url
    hook = client.add_webhook(ORG, dead, SECRET)
    server.append(ORG, [entry("seg_00000000000a", "A", "c1")])
    wait_until(lambda: client.list_webhooks(ORG)[0].failures >= 2, what="retries")
    [listed] = client.list_webhooks(ORG)
    assert listed.id == hook and listed.last_error
    assert listed.delivered_seq < listed.last_seq


def test_cli_webhooks(server: LoopServer, client: Client) -> None:
    segments(client)
    runner = CliRunner()
    base = ["--org", ORG, "--server", server.address]
    result = runner.invoke(
        cli, ["webhooks", "add", *base, "http://127.0.0.1:9/hook", "--secret", "k",
              "--segment", "Alpha"],
    )
    assert result.exit_code == 0, result.output
    hook = result.stdout.strip().splitlines()[0]
    assert hook.startswith("wh_")
    result = runner.invoke(cli, ["webhooks", "list", *base, "--json"])
    assert result.exit_code == 0, result.output
    [listed] = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert listed["id"] == hook and listed["segment_names"] == ["Alpha"]
    assert "secret" not in listed
    result = runner.invoke(cli, ["webhooks", "list", *base])
    assert result.exit_code == 0 and hook in result.stdout
    result = runner.invoke(cli, ["webhooks", "delete", *base, hook])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["webhooks", "delete", *base, hook])
    assert result.exit_code == 1 and "NOT_FOUND" in result.output
