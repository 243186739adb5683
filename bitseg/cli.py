"""The `bitseg` command line: serve, load, count, resolve, preview, parse, demo, segments,
watch, webhooks.

Every server-backed command talks to `--server` (default $BITSEG_SERVER, else
127.0.0.1:50051) through `bitseg.client.Client`. A RULE argument is the text form,
or the JSON form when it starts with "{". Errors print one clean line and exit 1.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from bitseg import __version__
from bitseg.cli_changes import watch, webhooks
from bitseg.cli_common import (
    clean_errors,
    err,
    millis,
    now_option,
    org_option,
    out,
    parse_rule_arg,
    server_option,
)
from bitseg.cli_nl import translate
from bitseg.cli_segments import segments
from bitseg.client import Client

DEMO_ORG = "demo"
DEMO_NOW = "2026-11-20T12:00:00Z"
DEMO_RULES: tuple[dict[str, Any], ...] = (
    {"field": "country", "op": "eq", "value": "DE"},
    {
        "all": [
            {"field": "tags", "op": "has", "value": "vip"},
            {"field": "lead_score", "op": "gt", "value": 80},
        ]
    },
    {
        "all": [
            {"field": "company.size", "op": "gt", "value": 100},
            {"field": "company.country", "op": "eq", "value": "FR"},
        ]
    },
    {"field": "last_activity_at", "op": "older_than", "value": "60d"},
    {
        "all": [
            {"not": {"field": "tags", "op": "has", "value": "churned"}},
            {"field": "lifecycle_stage", "op": "in", "value": ["MQL", "SQL"]},
        ]
    },
)
# Shown when the demo org has deals, campaigns and events (the default).
DEMO_ACTIVITY_RULES: tuple[dict[str, Any], ...] = (
    {"event": "activity", "within": {"last": "30d"}, "count": {"gte": 5}},
    {"event": "email_opened", "campaign": {"last": 3, "match": "all"}},
    {
        "all": [
            {"field": "company.size", "op": "gte", "value": 1000},
            {"field": "company.country", "op": "eq", "value": "DE"},
            {"event": "email_opened", "campaign": {"last": 3, "match": "all"}},
            {
                "not": {
                    "has": "deals",
                    "where": {"field": "created_at", "op": "within_last", "value": "90d"},
                }
            },
        ]
    },
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bitseg")
def cli() -> None:
    """bitseg: CRM audience segments as roaring bitmaps, answered over gRPC."""


@cli.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Data folder (one LMDB environment per org).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=50051, show_default=True, type=click.IntRange(0, 65535))
@click.option("--grace", default=5.0, show_default=True, help="Seconds to finish calls on stop.")
@click.option("--log-level", default="INFO", show_default=True)
@click.option(
    "--workers",
    envvar="BITSEG_WORKERS",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (SO_REUSEPORT) over the same data folder "
    "(env BITSEG_WORKERS). Stopping this process stops them all.",
)
@clean_errors
def serve(data_dir: Path, host: str, port: int, grace: float, log_level: str, workers: int) -> None:
    """Run the gRPC server until Ctrl-C / SIGTERM."""
    from bitseg.server.app import serve as run_server

    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    run_server(data_dir, host=host, port=port, grace=grace, workers=workers)


def bytes_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def load_with_progress(
    client: Client,
    org: str,
    folder: Path,
    console: Console,
    schema: dict[str, str] | None = None,
) -> dict[str, Any]:
    """client.load with a rich progress bar over the bytes sent (shown once bytes flow)."""
    progress = bytes_progress(console)
    task: list[TaskID] = []

    def update(sent: int, total: int) -> None:
        if not task:
            progress.start()
            task.append(progress.add_task(f"loading {org}", total=total))
        progress.update(task[0], completed=sent, total=total)

    try:
        return client.load(org, folder, progress=update, schema=schema)
    finally:
        if task:
            progress.stop()


def print_applied(applied: dict[str, dict[str, int]], seconds: float, console: Console) -> None:
    table = Table(title=f"applied in {seconds:.2f} s")
    for column in ("kind", "upserted", "patched", "deleted"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, counts in applied.items():
        table.add_row(kind, *(f"{counts.get(k, 0):,}" for k in ("upserted", "patched", "deleted")))
    console.print(table)


@cli.command()
@org_option
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@server_option
@clean_errors
def load(org: str, folder: Path, server: str) -> None:
    """Ingest the contacts/companies/... .jsonl/.csv files of FOLDER as one batch."""
    with Client(server) as client:
        applied = load_with_progress(client, org, folder, err)
        print_applied(applied, client.last_ingest_seconds, out)


@cli.command()
@org_option
@click.argument("rule")
@now_option
@server_option
@clean_errors
def count(org: str, rule: str, now: str | None, server: str) -> None:
    """Print the number of contacts matching RULE."""
    with Client(server) as client:
        n, micros = client.count_with_time(org, parse_rule_arg(rule), now=now)
    click.echo(n)
    err.print(f"[dim]{n:,} contacts, {millis(micros)} server-side[/dim]")


@cli.command()
@org_option
@click.argument("rule")
@now_option
@server_option
@clean_errors
def resolve(org: str, rule: str, now: str | None, server: str) -> None:
    """Print every member id of RULE, one per line."""
    with Client(server) as client:
        ids = client.resolve(org, parse_rule_arg(rule), now=now)
        micros = client.last_eval_micros
    if ids:
        sys.stdout.write("\n".join(ids) + "\n")
        sys.stdout.flush()
    err.print(f"[dim]{len(ids):,} ids, {millis(micros)} server-side[/dim]")


@cli.command()
@org_option
@click.argument("rule")
@now_option
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@server_option
@clean_errors
def preview(org: str, rule: str, now: str | None, limit: int, server: str) -> None:
    """Print the count and the first members of RULE."""
    with Client(server) as client:
        result = client.preview(org, parse_rule_arg(rule), limit=limit, now=now)
    out.print(preview_table(result))


def preview_table(result: Any) -> Table:
    table = Table(title=f"{result.count:,} members ({millis(result.eval_micros)} server-side)")
    for column in ("id", "name", "email", "company"):
        table.add_column(column)
    for m in result.members:
        table.add_row(m.id, m.name or "", m.email or "", m.company or "")
    return table


@cli.command()
@click.argument("rule")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["both", "json", "text"]),
    default="both",
    show_default=True,
)
@clean_errors
def parse(rule: str, fmt: str) -> None:
    """Print RULE (text, or JSON if it starts with "{") as JSON and as text. Offline."""
    from bitseg.rules import parse_text, rule_from_json, rule_to_json_text, to_text
    from bitseg.rules.limits import Limits

    arg = parse_rule_arg(rule)
    limits = Limits()
    tree = rule_from_json(arg, limits) if isinstance(arg, dict) else parse_text(arg, limits)
    as_json, as_text = rule_to_json_text(tree), to_text(tree)
    if fmt == "json":
        click.echo(as_json)
    elif fmt == "text":
        click.echo(as_text)
    else:
        click.echo(f"json: {as_json}")
        click.echo(f"text: {as_text}")


@contextlib.contextmanager
def _demo_folder(data: Path | None) -> Iterator[Path]:
    if data is not None:
        data.mkdir(parents=True, exist_ok=True)
        yield data
        return
    with tempfile.TemporaryDirectory(prefix="bitseg-demo-") as tmp:
        yield Path(tmp)


@cli.command()
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder (default: a temporary one, removed on exit).",
)
@click.option("--contacts", default=100_000, show_default=True, type=click.IntRange(1))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=50051, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--activity/--no-activity",
    default=True,
    show_default=True,
    help="Also generate deals, campaigns and ~30 events per contact.",
)
@click.option("--exit", "exit_now", is_flag=True, help="Exit after printing the counts.")
@clean_errors
def demo(
    data: Path | None, contacts: int, host: str, port: int, activity: bool, exit_now: bool
) -> None:
    """Generate a demo org, serve it, load it and print a few real counts."""
    from bitseg.demo import demo_schema, generate_org
    from bitseg.server.app import ServerThread

    with _demo_folder(data) as root:
        source = root / "_demo"
        started = time.perf_counter()
        with out.status(f"generating {contacts:,} demo contacts into {source} ..."):
            generated = generate_org(source, contacts=contacts, now=DEMO_NOW, activity=activity)
        shown = ", ".join(f"{n:,} {kind}" for kind, n in generated.items())
        out.print(f"generated {shown} in {time.perf_counter() - started:.1f} s")
        with ServerThread(root, host=host, port=port) as server, Client(server.address) as client:
            out.print(f"server listening on {server.address} (data in {root})")
            started = time.perf_counter()
            applied = load_with_progress(client, DEMO_ORG, source, out, demo_schema())
            loaded = sum(c.get("upserted", 0) for c in applied.values())
            out.print(f"loaded {loaded:,} records in {time.perf_counter() - started:.1f} s")
            out.print(demo_counts(client, DEMO_RULES + (DEMO_ACTIVITY_RULES if activity else ())))
            out.print(preview_table(client.preview(DEMO_ORG, DEMO_RULES[1], now=DEMO_NOW)))
            if exit_now:
                return
            # SIGTERM ends the demo like Ctrl-C: the server stops and a temporary data
            # folder (hundreds of MB) is removed on the way out. Installed before the
            # prompt, so whoever reads it may already stop the demo.
            # (the handler only appends to a list: taking a lock there could deadlock
            # with the main thread it interrupts)
            stopped: list[int] = []
            signal.signal(signal.SIGTERM, lambda signum, frame: stopped.append(signum))
            with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C during the prompt too
                out.print(
                    f"serving org [bold]{DEMO_ORG}[/bold] on {server.address}; try\n"
                    f"  bitseg count --org {DEMO_ORG} --server {server.address} "
                    "'country = \"DE\"'\nCtrl-C to stop."
                )
                while not stopped:
                    time.sleep(0.2)


def demo_counts(client: Client, rules: tuple[dict[str, Any], ...] = DEMO_RULES) -> Table:
    """The demo's table: each rule's text form, its count and its server-side time."""
    from bitseg.rules import rule_from_json, to_text
    from bitseg.rules.limits import Limits

    table = Table(title=f"org {DEMO_ORG}, now = {DEMO_NOW}")
    table.add_column("rule")
    table.add_column("count", justify="right")
    table.add_column("server time", justify="right")
    for rule in rules:
        n, micros = client.count_with_time(DEMO_ORG, rule, now=DEMO_NOW)
        table.add_row(to_text(rule_from_json(rule, Limits())), f"{n:,}", millis(micros))
    return table


cli.add_command(segments)
cli.add_command(translate)
cli.add_command(watch)
cli.add_command(webhooks)


def main() -> None:
    """Console script entry point."""
    cli(prog_name="bitseg")


if __name__ == "__main__":
    main()
