"""The `bitseg` command line: `parse` offline, the server-backed commands against a real
server subprocess, and `bitseg demo` end to end in a subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from serverproc import ROOT, ServerProcess, start_server, subprocess_env

from bitseg.cli import cli

ORG = "cliorg"
NOW = "2026-11-20T12:00:00Z"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def assert_clean_failure(result: Result) -> None:
    """Exit code 1 and one "Error: ..." message (a rule text error may add its caret snippet)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error:")
    assert result.stderr.count("Error:") == 1


# ---------------------------------------------------------------------------- parse (offline)


def test_parse_text_prints_json_and_text() -> None:
    result = run("parse", 'country = "DE" and lead_score > 80')
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    assert orjson.loads(lines["json"]) == {
        "all": [
            {"field": "country", "op": "eq", "value": "DE"},
            {"field": "lead_score", "op": "gt", "value": 80},
        ]
    }
    assert lines["text"] == 'country = "DE" and lead_score > 80'


def test_parse_json_round_trips_through_text() -> None:
    rule = {"any": [{"field": "tags", "op": "has", "value": "vip"},
                    {"not": {"field": "country", "op": "in", "value": ["DE", "FR"]}}]}
    text = run("parse", "--format", "text", orjson.dumps(rule).decode())
    assert text.exit_code == 0, text.output
    back = run("parse", "--format", "json", text.stdout.strip())
    assert back.exit_code == 0, back.output
    assert orjson.loads(back.stdout) == rule


@pytest.mark.parametrize("rule", ["country = ", "{not json", '{"field": "x"}', "(((("])
def test_parse_errors_are_one_clean_line(rule: str) -> None:
    assert_clean_failure(run("parse", rule))


# ---------------------------------------------------------------------------- against a server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("data")) as proc:
        yield proc


@pytest.fixture(scope="module")
def loaded(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("source")
    contacts = [
        {"id": "a", "name": "Ada", "email": "ada@x.de", "country": "DE", "company_id": "k1"},
        {"id": "b", "name": "Ben", "email": "ben@y.fr", "country": "FR", "company_id": "k1"},
        {"id": "c", "name": "Cem", "email": "cem@z.de", "country": "DE", "tags": ["vip"]},
    ]
    (folder / "contacts.jsonl").write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in contacts))
    (folder / "companies.jsonl").write_bytes(orjson.dumps({"id": "k1", "name": "Kilo"}) + b"\n")
    result = run("load", "--org", ORG, str(folder), "--server", server.address)
    assert result.exit_code == 0, result.output
    assert "contacts" in result.stdout and "3" in result.stdout
    return server.address


def test_count(loaded: str) -> None:
    result = run("count", "--org", ORG, 'country = "DE"', "--now", NOW, "--server", loaded)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2"
    assert "ms" in result.stderr  # the server-side time


def test_count_json_rule_and_env_server(loaded: str) -> None:
    rule = orjson.dumps({"field": "tags", "op": "has", "value": "vip"}).decode()
    result = run("count", "--org", ORG, rule, env={"BITSEG_SERVER": loaded})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1"


def test_resolve_prints_ids(loaded: str) -> None:
    result = run("resolve", "--org", ORG, 'country = "DE"', "--server", loaded)
    assert result.exit_code == 0, result.output
    assert sorted(result.stdout.split()) == ["a", "c"]


def test_preview_table(loaded: str) -> None:
    result = run("preview", "--org", ORG, 'country = "FR"', "--server", loaded)
    assert result.exit_code == 0, result.output
    assert "Ben" in result.stdout and "ben@y.fr" in result.stdout and "Kilo" in result.stdout
    assert "1 members" in result.stdout


def test_server_errors_are_one_clean_line(loaded: str) -> None:
    bad_rule = run("count", "--org", ORG, '{"field": "nope", "op": "eq", "value": 1}',
                   "--server", loaded)
    assert_clean_failure(bad_rule)
    assert "INVALID_ARGUMENT" in bad_rule.stderr and "nope" in bad_rule.stderr
    unknown = run("count", "--org", "no-such-org", 'country = "DE"', "--server", loaded)
    assert_clean_failure(unknown)
    assert "NOT_FOUND" in unknown.stderr


def test_unreachable_server_is_one_clean_line(tmp_path: Path) -> None:
    result = run("count", "--org", ORG, 'country = "DE"', "--server", "127.0.0.1:9")
    assert_clean_failure(result)
    assert "cannot reach" in result.stderr


def test_load_missing_folder_is_clean(loaded: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_failure(run("load", "--org", ORG, str(empty), "--server", loaded))


# ---------------------------------------------------------------------------- serve, demo


def test_serve_binds_and_stops_on_sigterm(tmp_path: Path) -> None:
    with start_server(tmp_path / "data") as proc:
        assert proc.address.startswith("127.0.0.1:")
        assert int(proc.address.rsplit(":", 1)[1]) > 0
    assert proc.process.returncode == 0


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "bitseg.cli", "demo", "--contacts", "2000", "--exit",
            "--port", "0", "--data", str(tmp_path / "demo")]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=600, env=subprocess_env(), cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Traceback" not in out + done.stderr
    assert 'country = "DE"' in out
    assert "server time" in out
    assert "members" in out  # the preview
    assert (tmp_path / "demo" / "_demo" / "contacts.jsonl").is_file()


def test_demo_stops_on_sigterm_and_removes_its_folder(tmp_path: Path) -> None:
    """Without --data the demo serves from a temporary folder; SIGTERM stops it cleanly and
    the folder (the generated files and the LMDB data) is removed."""
    args = [sys.executable, "-m", "bitseg.cli", "demo", "--contacts", "2000", "--no-activity",
            "--port", "0"]
    env = {**subprocess_env(), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "Ctrl-C to stop" in line or time.monotonic() > deadline:
                break
        assert any("Ctrl-C to stop" in line for line in seen), "".join(seen)
        assert list(tmp_path.glob("bitseg-demo-*")), "the demo's folder is not under TMPDIR"
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(seen) + rest
    assert "Traceback" not in rest
    assert not list(tmp_path.glob("bitseg-demo-*"))
