"""Packaging checks: lint is clean, and the Dockerfile's command really starts a server.

The image cannot be built here (no registry), so the test runs the Dockerfile's CMD
itself — on loopback and port 0 instead of 0.0.0.0:50051 — and queries it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)
    assert match, "the Dockerfile has an exec-form CMD"
    return json.loads(match.group(1))


def test_dockerfile_cmd_serves(tmp_path: Path) -> None:
    cmd = dockerfile_cmd()
    assert cmd[:2] == ["bitseg", "serve"]
    args = cmd[2:]
    args[args.index("--data") + 1] = str(tmp_path / "data")
    args[args.index("--host") + 1] = "127.0.0.1"  # tests touch loopback only
    args[args.index("--port") + 1] = "0"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bitseg.cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.match(r"bitseg listening on (127\.0\.0\.1):(\d+)", line)
        assert match, line
        from bitseg.client import Client

        with Client(f"127.0.0.1:{match.group(2)}") as client:
            client.ingest("docker", [{"id": "a", "country": "DE"}, {"id": "b"}])
            assert client.count("docker", 'country = "DE"') == 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def test_dockerfile_copies_every_package() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("bitseg", "indexer"):
        assert f"COPY {package} " in text
