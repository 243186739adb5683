"""History through the real server: "ever in segment" and membership_at over gRPC."""

from __future__ import annotations

import time
from pathlib import Path

from serverproc import start_server

from bitseg.client import Client
from bitseg.timeutil import format_time


def test_ever_and_membership_at_over_grpc(tmp_path: Path) -> None:
    with start_server(tmp_path / "data") as server, Client(server.address) as client:
        client.ingest("h", [{"id": "a", "country": "DE"}, {"id": "b", "country": "FR"}])
        before = int(time.time()) - 5
        client.create_segment("h", "DE", rule='country = "DE"')
        time.sleep(1.1)
        middle = int(time.time())
        time.sleep(1.1)
        client.ingest("h", [{"id": "a", "country": "FR"}, {"id": "b", "country": "DE"}])
        after = int(time.time()) + 5
        assert client.resolve("h", 'in segment "DE"') == ["b"]
        assert sorted(client.resolve("h", 'ever in segment "DE"')) == ["a", "b"]
        assert client.membership_at("h", "DE", format_time(before)) == []
        assert client.membership_at("h", "DE", format_time(middle)) == ["a"]
        assert client.membership_at("h", "DE", format_time(after)) == ["b"]
