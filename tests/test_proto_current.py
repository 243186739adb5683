"""The committed gRPC stubs (bitseg/v1/*_pb2*) are exactly what the .proto generates."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bitseg import codegen

pytest.importorskip("grpc_tools")

_GRPC_VERSION = re.compile(r"^GRPC_GENERATED_VERSION = '([^']+)'$", re.M)
_DESCRIPTOR = re.compile(r"AddSerializedFile\((b'.*?')\)\n")


def _committed_generator_version() -> str:
    text = (codegen.ROOT / "bitseg/v1/bitseg_pb2_grpc.py").read_text()
    match = _GRPC_VERSION.search(text)
    assert match, "bitseg_pb2_grpc.py has no GRPC_GENERATED_VERSION"
    return match.group(1)


def _descriptor(path: Path) -> bytes:
    match = _DESCRIPTOR.search(path.read_text())
    assert match, f"{path}: no serialized descriptor"
    value = ast.literal_eval(match.group(1))
    assert isinstance(value, bytes)
    return value


def test_stubs_are_current(tmp_path: Path) -> None:
    fresh = codegen.generate(tmp_path)
    assert fresh, "nothing generated"
    same_generator = codegen.generator_version() == _committed_generator_version()
    for path in fresh:
        committed = codegen.ROOT / path.relative_to(tmp_path)
        assert committed.is_file(), f"{committed} is missing: run `python -m bitseg.codegen`"
        if same_generator:
            assert path.read_bytes() == committed.read_bytes(), (
                f"{committed.relative_to(codegen.ROOT)} is stale: run `python -m bitseg.codegen`"
            )
        elif path.name.endswith("_pb2.py"):
            # another grpcio-tools writes other version stamps; the schema must still match
            assert _descriptor(path) == _descriptor(committed), (
                f"{committed.relative_to(codegen.ROOT)} does not match the .proto"
            )


def test_no_stray_stubs() -> None:
    expected = {p for f in codegen.PROTO_FILES for p in codegen.stub_paths(f)}
    on_disk = {
        str(p.relative_to(codegen.ROOT))
        for p in (codegen.ROOT / "bitseg" / "v1").glob("*_pb2*")
        if p.suffix in (".py", ".pyi")
    }
    assert on_disk == expected


def test_generated_package_imports() -> None:
    from bitseg.v1 import bitseg_pb2, bitseg_pb2_grpc

    service = bitseg_pb2.DESCRIPTOR.services_by_name["Bitseg"]
    assert service.full_name == "bitseg.v1.Bitseg"
    assert {m.name for m in service.methods} >= {
        "Count", "Preview", "Resolve", "ListMembers", "Ingest", "ParseRule"
    }
    assert hasattr(bitseg_pb2_grpc, "BitsegStub")
