"""`bitseg segments ...`: manage an org's segments and read their members.

create | list | show | update | duplicate | archive | delete | add | remove | export |
export-to-list. A SEGMENT argument is a segment id or name. Commands that make or
change a segment print its id on stdout (for scripts) and a summary on stderr;
`list` and `show` print tables; `export` writes CSV to stdout or --out FILE.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click
from rich.table import Table

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
from bitseg.client import Client, MembersResult, Segment

segment_argument = click.argument("segment")


@click.group()
def segments() -> None:
    """Dynamic segments (a rule) and static segments (lists of contacts)."""


def _announce(verb: str, segment: Segment) -> None:
    click.echo(segment.id)
    err.print(f"{verb} {segment.type} segment [bold]{segment.name}[/bold] ({segment.id})")


def _read_ids(args: tuple[str, ...], source: IO[str] | None) -> list[str]:
    ids = list(args)
    if source is not None:
        ids += [line.strip() for line in source if line.strip()]
    return ids


def _report_members(result: MembersResult, verb: str) -> None:
    already = "already in" if verb == "added" else "not in"
    err.print(f"{result.changed:,} {verb}, {result.unchanged:,} {already} the segment")
    if result.unknown_count:
        shown = ", ".join(result.unknown[:20])
        more = " ..." if result.unknown_count > 20 else ""
        err.print(
            f"[yellow]{result.unknown_count:,} unknown ids (no such contact): {shown}{more}"
        )


members_file_option = click.option(
    "--file",
    "members_file",
    type=click.File("r"),
    default=None,
    help="Read contact ids from FILE, one per line ('-' for stdin).",
)


@segments.command()
@org_option
@click.argument("name")
@click.option("--rule", default=None, help="The rule of a dynamic segment (text, or JSON).")
@click.option("--member", "members", multiple=True, help="A contact id (static segment).")
@members_file_option
@click.option("--description", default="", help="What the segment is for.")
@server_option
@clean_errors
def create(
    org: str,
    name: str,
    rule: str | None,
    members: tuple[str, ...],
    members_file: IO[str] | None,
    description: str,
    server: str,
) -> None:
    """Create segment NAME: dynamic with --rule, else static (with --member / --file ids)."""
    ids = _read_ids(members, members_file)
    if rule is not None and ids:
        raise click.UsageError("give --rule (dynamic) or members (static), not both")
    with Client(server) as client:
        segment = client.create_segment(
            org,
            name,
            rule=parse_rule_arg(rule) if rule is not None else None,
            members=ids if rule is None else None,
            description=description,
        )
    _announce("created", segment)
    if segment.unknown_members:
        shown = ", ".join(segment.unknown_members[:20])
        err.print(f"[yellow]unknown ids (no such contact), not added: {shown}")


@segments.command(name="list")
@org_option
@click.option("--archived", is_flag=True, help="Include archived segments.")
@click.option("--counts/--no-counts", default=True, show_default=True, help="Count members.")
@server_option
@clean_errors
def list_(org: str, archived: bool, counts: bool, server: str) -> None:
    """List the org's segments by name."""
    with Client(server) as client:
        found = client.list_segments(org, include_archived=archived)
        sizes = {s.id: client.count_segment(org, s.id) for s in found} if counts else {}
    table = Table(title=f"{len(found)} segments in {org}")
    table.add_column("id", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("type")
    table.add_column("members", justify="right")
    table.add_column("rule")
    table.add_column("updated")
    for s in found:
        name = s.name + (" [dim](archived)[/dim]" if s.archived else "")
        size = f"{sizes[s.id]:,}" if s.id in sizes else ""
        table.add_row(s.id, name, s.type, size, _short(s.rule_text), s.updated_at[:10])
    out.print(table)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@segments.command()
@org_option
@segment_argument
@click.option("--limit", default=10, show_default=True, type=click.IntRange(0, 1000))
@now_option
@server_option
@clean_errors
def show(org: str, segment: str, limit: int, now: str | None, server: str) -> None:
    """Show a segment, its member count and its first members."""
    with Client(server) as client:
        s = client.get_segment(org, segment)
        preview = client.preview_segment(org, s.id, limit=limit, now=now)
    table = Table(show_header=False, title=s.name)
    table.add_column("key", style="bold")
    table.add_column("value")
    for key, value in (
        ("id", s.id), ("type", s.type), ("description", s.description),
        ("rule", s.rule_text), ("archived", "yes" if s.archived else "no"),
        ("created", s.created_at), ("updated", s.updated_at),
        ("members", f"{preview.count:,} ({millis(preview.eval_micros)} server-side)"),
    ):
        if value:
            table.add_row(key, value)
    out.print(table)
    if preview.members:
        members = Table(title=f"first {len(preview.members)} members")
        for column in ("id", "name", "email", "company"):
            members.add_column(column)
        for m in preview.members:
            members.add_row(m.id, m.name or "", m.email or "", m.company or "")
        out.print(members)


@segments.command()
@org_option
@segment_argument
@click.option("--name", default=None, help="A new name.")
@click.option("--description", default=None, help="A new description.")
@click.option("--rule", default=None, help="A new rule (dynamic segments; text, or JSON).")
@server_option
@clean_errors
def update(
    org: str,
    segment: str,
    name: str | None,
    description: str | None,
    rule: str | None,
    server: str,
) -> None:
    """Change a segment's name, description or rule."""
    if name is None and description is None and rule is None:
        raise click.UsageError("nothing to change: give --name, --description or --rule")
    with Client(server) as client:
        updated = client.update_segment(
            org,
            segment,
            name=name,
            description=description,
            rule=parse_rule_arg(rule) if rule is not None else None,
        )
    _announce("updated", updated)


@segments.command()
@org_option
@segment_argument
@click.option("--name", default=None, help='The copy\'s name (default "<name> (copy)").')
@server_option
@clean_errors
def duplicate(org: str, segment: str, name: str | None, server: str) -> None:
    """Copy a segment (its rule, or its members)."""
    with Client(server) as client:
        _announce("created", client.duplicate_segment(org, segment, name))


@segments.command()
@org_option
@segment_argument
@click.option("--unarchive", is_flag=True, help="Bring an archived segment back.")
@server_option
@clean_errors
def archive(org: str, segment: str, unarchive: bool, server: str) -> None:
    """Archive a segment (hidden from `list`, still usable), or --unarchive it."""
    with Client(server) as client:
        result = client.archive_segment(org, segment, unarchive=unarchive)
    _announce("unarchived" if unarchive else "archived", result)


@segments.command()
@org_option
@segment_argument
@server_option
@clean_errors
def delete(org: str, segment: str, server: str) -> None:
    """Delete a segment (refused while other segments reference it)."""
    with Client(server) as client:
        found = client.get_segment(org, segment)
        client.delete_segment(org, found.id)
    err.print(f"deleted segment [bold]{found.name}[/bold] ({found.id})")


@segments.command()
@org_option
@segment_argument
@click.argument("ids", nargs=-1)
@members_file_option
@server_option
@clean_errors
def add(
    org: str, segment: str, ids: tuple[str, ...], members_file: IO[str] | None, server: str
) -> None:
    """Add contacts (IDS, or --file) to a static segment."""
    with Client(server) as client:
        _report_members(client.add_members(org, segment, _read_ids(ids, members_file)), "added")


@segments.command()
@org_option
@segment_argument
@click.argument("ids", nargs=-1)
@members_file_option
@server_option
@clean_errors
def remove(
    org: str, segment: str, ids: tuple[str, ...], members_file: IO[str] | None, server: str
) -> None:
    """Remove contacts (IDS, or --file) from a static segment."""
    with Client(server) as client:
        result = client.remove_members(org, segment, _read_ids(ids, members_file))
    _report_members(result, "removed")


@segments.command()
@org_option
@segment_argument
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write the CSV to FILE (default: stdout).",
)
@now_option
@server_option
@clean_errors
def export(org: str, segment: str, out_path: Path | None, now: str | None, server: str) -> None:
    """Write a segment's members as CSV: id,name,email,company."""
    with Client(server) as client:
        if out_path is not None:
            total = client.export_csv(org, segment, out_path, now=now)
        else:
            stdout = sys.stdout.buffer
            total = client.export_csv(org, segment, stdout, now=now)
            stdout.flush()
        micros = client.last_eval_micros
    err.print(f"[dim]{total:,} members, {millis(micros)} server-side[/dim]")


@segments.command(name="export-to-list")
@org_option
@segment_argument
@click.option("--name", default=None, help='The list\'s name (default "<name> (list DATE)").')
@now_option
@server_option
@clean_errors
def export_to_list(org: str, segment: str, name: str | None, now: str | None, server: str) -> None:
    """Freeze a segment's current members into a new static segment."""
    with Client(server) as client:
        created = client.export_to_list(org, segment, name=name, now=now)
        size = client.count_segment(org, created.id)
    _announce("created", created)
    err.print(f"{size:,} members")
