"""Regenerate the committed gRPC stubs (bitseg/v1/*_pb2*) from proto/bitseg/v1/*.proto.

`python -m bitseg.codegen` rewrites them in place; `generate(out_dir)` writes them
elsewhere (tests/test_proto_current.py compares the two). Needs grpcio-tools, which
is a development dependency: it is imported only when called.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
PROTO_FILES: tuple[str, ...] = ("bitseg/v1/bitseg.proto",)
STUB_SUFFIXES: tuple[str, ...] = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def stub_paths(proto_file: str) -> list[str]:
    """Paths (relative to the output root) of the stubs generated for one .proto file."""
    stem = proto_file.removesuffix(".proto")
    return [stem + suffix for suffix in STUB_SUFFIXES]


def generate(out_dir: Path, proto_dir: Path = PROTO_DIR) -> list[Path]:
    """Run protoc (grpc_tools) for every proto file; return the stub files written."""
    from grpc_tools import protoc  # development dependency

    out_dir.mkdir(parents=True, exist_ok=True)
    include = _well_known_include()
    written: list[Path] = []
    for proto_file in PROTO_FILES:
        args = [
            "grpc_tools.protoc",
            f"-I{proto_dir}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            proto_file,
        ]
        code = protoc.main(args)
        if code != 0:
            raise RuntimeError(f"protoc failed on {proto_file} (exit code {code})")
        written.extend(out_dir / p for p in stub_paths(proto_file))
    return written


def generator_version() -> str:
    """The installed grpcio-tools version (the stubs embed it)."""
    from importlib.metadata import version

    return version("grpcio-tools")


def _well_known_include() -> str:
    from importlib.resources import files

    return str(files("grpc_tools") / "_proto")


def main() -> int:
    """Regenerate the stubs in place under the repository root."""
    for path in generate(ROOT):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
