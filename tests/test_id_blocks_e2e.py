"""Resolve through the real server over a store whose id blocks are 8 columns wide.

The store is written in this process with `idblocks.BLOCK_BITS = 3` (a store records
its block width), then served by a server subprocess: the client's packed Resolve and
the unpacked stream must give every member id, in column order, across hundreds of
block boundaries and in more than one chunk (ids of ~360 bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from serverproc import start_server

from bitseg.client import Client
from bitseg.service import Service
from bitseg.store import idblocks
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

ORG = "blocks"
N = 5_000
NOW = "2026-11-20T12:00:00Z"


def ext_id(i: int) -> str:
    return f"contact-{i:05d}-" + "x" * (300 + i % 7) + "é" * 20  # ~360 bytes of UTF-8


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(idblocks, "BLOCK_BITS", 3)
        svc = Service(Path(data))
        try:
            records = [
                ("contacts", "upsert", {"id": ext_id(i), "country": "DE" if i % 3 else "FR"})
                for i in range(N)
            ]
            svc.ingest(ORG, [], records)
            deleted = [("contacts", "delete", {"id": ext_id(i)}) for i in range(0, N, 10)]
            svc.ingest(ORG, [], deleted)
        finally:
            svc.close()
    with start_server(data) as proc, Client(proc.address) as c:
        yield c


def test_packed_resolve_crosses_block_boundaries(client: Client) -> None:
    live = [ext_id(i) for i in range(N) if i % 10]
    assert client.resolve(ORG, {"all": []}, now=NOW) == live
    de = [ext_id(i) for i in range(N) if i % 10 and i % 3]
    assert client.resolve(ORG, 'country = "DE"', now=NOW) == de
    fr = [ext_id(i) for i in range(N) if i % 10 and not i % 3]
    assert client.resolve(ORG, 'country = "FR"', now=NOW) == fr


def test_packed_and_unpacked_streams_agree(client: Client) -> None:
    stub: pb_grpc.BitsegStub = client._stub
    rule = pb.Rule(json=orjson.dumps({"all": []}).decode())
    for packed in (True, False):
        request = pb.ResolveRequest(org=ORG, rule=rule, now=NOW, packed=packed)
        chunks = list(stub.Resolve(request, timeout=30))
        assert chunks[0].total == N - N // 10
        assert len(chunks) > 1  # ~1.6 MB of ids: more than one chunk
        if packed:
            ids = [i for c in chunks for i in c.ids_packed.decode().split("\n")]
            assert all(0 < len(c.ids_packed) <= 1 << 20 for c in chunks)
        else:
            ids = [i for c in chunks for i in c.ids]
        assert ids == [ext_id(i) for i in range(N) if i % 10]
