"""`bitseg segments ...` against a real server subprocess: every command through click's
runner, and `export` once as a real process writing CSV to its stdout."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from serverproc import ROOT, ServerProcess, start_server, subprocess_env

from bitseg.cli import cli
from bitseg.client import Client

ORG = "segcli"
CONTACTS = [
    {"id": "c1", "name": "Anna Adler", "email": "anna@adler.de", "country": "DE",
     "lead_score": 90, "company_id": "co1"},
    {"id": "c2", "name": "Bruno Blanc", "email": "bruno@blanc.fr", "country": "FR",
     "lead_score": 40},
    {"id": "c3", "name": "Clara Chen", "email": "clara@chen.de", "country": "DE",
     "lead_score": 70},
    {"id": "c4", "name": "Dan Doe", "email": "dan@doe.us", "country": "US", "lead_score": 99},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("data")) as proc, Client(proc.address) as c:
        c.ingest(ORG, [{"id": "co1", "name": "Acme"}], kind="companies")
        c.ingest(ORG, CONTACTS)
        yield proc


def run(server: ServerProcess, *args: str, stdin: str | None = None) -> Result:
    command, *rest = args
    return CliRunner().invoke(
        cli, ["segments", command, "--org", ORG, "--server", server.address, *rest],
        input=stdin, catch_exceptions=False,
    )


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def failed(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error:") and result.stderr.count("Error:") == 1
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr


def test_create_show_list(server: ServerProcess) -> None:
    made = ok(run(server, "create", "Germans", "--rule", 'country = "DE"',
                  "--description", "all of DE"))
    seg_id = made.stdout.strip()
    assert seg_id.startswith("seg_") and "created dynamic segment Germans" in made.stderr
    shown = ok(run(server, "show", "germans"))
    for text in (seg_id, "dynamic", 'country = "DE"', "all of DE", "2 (", "Anna Adler", "Acme"):
        assert text in shown.stdout
    listed = ok(run(server, "list"))
    assert "Germans" in listed.stdout and "dynamic" in listed.stdout


def test_static_create_add_remove(server: ServerProcess) -> None:
    made = ok(run(server, "create", "Picked", "--member", "c1", "--member", "ghost"))
    assert "created static segment Picked" in made.stderr and "ghost" in made.stderr
    added = ok(run(server, "add", "Picked", "c2", "nobody"))
    assert "1 added" in added.stderr and "1 unknown ids" in added.stderr
    added = ok(run(server, "add", "Picked", "--file", "-", stdin="c3\n\nc4\nc1\n"))
    assert "2 added, 1 already in" in added.stderr
    removed = ok(run(server, "remove", "Picked", "c2", "c9"))
    assert "1 removed" in removed.stderr
    exported = ok(run(server, "export", "Picked"))
    assert exported.stdout.splitlines() == [
        "id,name,email,company", "c1,Anna Adler,anna@adler.de,Acme",
        "c3,Clara Chen,clara@chen.de,", "c4,Dan Doe,dan@doe.us,",
    ]


def test_update_duplicate_archive_delete(server: ServerProcess) -> None:
    ok(run(server, "create", "Hot", "--rule", '{"field": "lead_score", "op": "gt", "value": 80}'))
    updated = ok(run(server, "update", "Hot", "--rule", "lead_score > 60", "--name", "Warm"))
    assert "updated dynamic segment Warm" in updated.stderr
    copy = ok(run(server, "duplicate", "Warm"))
    assert "Warm (copy)" in copy.stderr
    ok(run(server, "archive", "Warm (copy)"))
    assert "Warm (copy)" not in ok(run(server, "list", "--no-counts")).stdout
    assert "Warm (copy)" in ok(run(server, "list", "--archived")).stdout
    ok(run(server, "archive", "--unarchive", "Warm (copy)"))
    assert "Warm (copy)" in ok(run(server, "list")).stdout
    deleted = ok(run(server, "delete", "Warm (copy)"))
    assert "deleted segment Warm (copy)" in deleted.stderr
    failed(run(server, "show", "Warm (copy)"), "NOT_FOUND")
    usage = run(server, "update", "Warm")  # nothing to change: a usage error (exit 2)
    assert usage.exit_code == 2 and "nothing to change" in usage.stderr
    ok(run(server, "create", "Uses warm", "--rule", 'in segment "Warm" and country = "DE"'))
    failed(run(server, "delete", "Warm"), "FAILED_PRECONDITION", "Uses warm")
    failed(run(server, "update", "Warm", "--rule", 'in segment "Uses warm"'),
           "INVALID_ARGUMENT", "segment cycle: Warm -> Uses warm -> Warm")


def test_errors_are_one_clean_line(server: ServerProcess) -> None:
    failed(run(server, "create", "germans", "--rule", "lead_score > 1"), "ALREADY_EXISTS")
    failed(run(server, "add", "Germans", "c1"), "FAILED_PRECONDITION", "dynamic")
    failed(run(server, "create", "Bad", "--rule", "contry = 1"), "INVALID_ARGUMENT", "contry")
    failed(run(server, "export", "no such segment"), "NOT_FOUND")


def test_export_to_list_and_export_to_file(server: ServerProcess, tmp_path: Path) -> None:
    made = ok(run(server, "export-to-list", "Germans", "--name", "Germans frozen"))
    assert made.stdout.strip().startswith("seg_") and "2 members" in made.stderr
    out = tmp_path / "frozen.csv"
    ok(run(server, "export", "Germans frozen", "--out", str(out)))
    assert out.read_bytes() == (
        b"id,name,email,company\r\nc1,Anna Adler,anna@adler.de,Acme\r\n"
        b"c3,Clara Chen,clara@chen.de,\r\n"
    )


def test_export_as_a_real_process_writes_csv_to_stdout(server: ServerProcess) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bitseg.cli", "segments", "export", "Germans", "--org", ORG,
         "--server", server.address],
        capture_output=True, env=subprocess_env(), cwd=ROOT, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"id,name,email,company\r\nc1,Anna Adler")
    assert b"2 members" in result.stderr
