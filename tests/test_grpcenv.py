"""`import bitseg` sets GRPC_EXPERIMENTS before grpc is imported (bitseg.grpcenv)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bitseg import grpcenv

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if k != grpcenv.VARIABLE}
    child["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), child.get("PYTHONPATH")) if p)
    child.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=child, timeout=60, check=True)


def test_set_before_grpc_is_imported() -> None:
    out = _run("import os, bitseg; print(os.environ['GRPC_EXPERIMENTS'])")
    assert out.stdout.strip() == grpcenv.EXPERIMENTS


def test_an_explicit_setting_is_kept() -> None:
    out = _run("import os, bitseg; print(repr(os.environ['GRPC_EXPERIMENTS']))",
               GRPC_EXPERIMENTS="")
    assert out.stdout.strip() == "''"


def test_not_set_once_grpc_is_imported() -> None:
    out = _run("import grpc, os, bitseg; print(os.environ.get('GRPC_EXPERIMENTS'))")
    assert out.stdout.strip() == "None"


def test_the_installed_grpc_knows_the_experiments() -> None:
    """A grpcio that dropped one only logs "Unknown experiment": then remove it here."""
    code = (
        "import grpc\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "server = grpc.server(ThreadPoolExecutor(1))\n"
        "port = server.add_insecure_port('127.0.0.1:0')\n"
        "server.start()\n"
        "channel = grpc.insecure_channel(f'127.0.0.1:{port}')\n"
        "grpc.channel_ready_future(channel).result(timeout=20)\n"
        "channel.close()\n"
        "server.stop(None).wait()\n"
    )
    out = _run(code, GRPC_EXPERIMENTS=grpcenv.EXPERIMENTS)
    assert "experiment" not in out.stderr.lower(), out.stderr
