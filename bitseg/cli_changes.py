"""`bitseg watch` and `bitseg webhooks ...`: read the change log and manage webhooks.

`watch` prints one line per `segment.joined` / `segment.left` entry as it arrives:
tab-separated seq, at, type, segment id, segment name, contact id, cause, or with
--json one JSON object per line (the same fields). It follows live until Ctrl-C
unless --no-follow; resume later with --since <the last seq printed>.

`webhooks add` prints the new endpoint's id on stdout; `list` prints a table (or JSON
lines with --json); `delete` removes one.
"""

from __future__ import annotations

import sys

import click
import orjson
from rich.table import Table

from bitseg.cli_common import clean_errors, err, org_option, out, server_option
from bitseg.client import ChangeEvent, Client


def _line(event: ChangeEvent) -> str:
    return "\t".join(
        (str(event.seq), event.at, event.type, event.segment_id, event.segment,
         event.contact_id, event.cause)
    )


@click.command()
@org_option
@click.option(
    "--since",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Print the entries after this sequence number (0: from the beginning).",
)
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="Keep printing new entries live, or stop at the current end of the log.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--reconnect", is_flag=True, help="Resume after a lost connection or a server restart."
)
@server_option
@clean_errors
def watch(org: str, since: int, follow: bool, as_json: bool, reconnect: bool, server: str) -> None:
    """Print the org's segment.joined / segment.left change log, following it live."""
    count = 0
    try:
        with Client(server) as client:
            for event in client.watch(org, since=since, follow=follow, reconnect=reconnect):
                click.echo(orjson.dumps(event.to_dict()).decode() if as_json else _line(event))
                count += 1
    except KeyboardInterrupt:
        sys.exit(130)
    err.print(f"[dim]{count:,} entries[/dim]")


@click.group()
def webhooks() -> None:
    """Signed HTTP deliveries of the change log, per org."""


@webhooks.command("add")
@org_option
@click.argument("url")
@click.option(
    "--secret",
    envvar="BITSEG_WEBHOOK_SECRET",
    prompt=True,
    hide_input=True,
    help="The HMAC-SHA256 signing key (env BITSEG_WEBHOOK_SECRET; prompted if absent).",
)
@click.option(
    "--segment",
    "segments",
    multiple=True,
    help="Only entries of this segment (id or name); repeatable. Default: every segment.",
)
@click.option(
    "--since",
    default=None,
    type=click.IntRange(0),
    help="Deliver the entries after this seq (default: only what happens from now on).",
)
@server_option
@clean_errors
def add(
    org: str, url: str, secret: str, segments: tuple[str, ...], since: int | None, server: str
) -> None:
    """Register URL to receive the org's change log."""
    with Client(server) as client:
        webhook_id = client.add_webhook(org, url, secret, list(segments) or None, since)
    click.echo(webhook_id)
    err.print(f"webhook {webhook_id} -> {url}")


@webhooks.command("list")
@org_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@server_option
@clean_errors
def list_(org: str, as_json: bool, server: str) -> None:
    """The org's webhooks and their delivery state."""
    with Client(server) as client:
        hooks = client.list_webhooks(org)
    if as_json:
        for hook in hooks:
            data = {
                "id": hook.id, "url": hook.url, "segment_ids": list(hook.segment_ids),
                "segment_names": list(hook.segment_names), "created_at": hook.created_at,
                "delivered_seq": hook.delivered_seq, "last_seq": hook.last_seq,
                "last_error": hook.last_error, "failures": hook.failures,
            }
            click.echo(orjson.dumps(data).decode())
        return
    table = Table(title=f"{len(hooks)} webhooks")
    table.add_column("id", no_wrap=True, min_width=15)  # "wh_" + 12 hex digits, never cut
    table.add_column("url", overflow="fold")
    table.add_column("segments")
    table.add_column("delivered", justify="right")
    table.add_column("pending", justify="right")
    table.add_column("last error")
    for hook in hooks:
        names = ", ".join(n or i for i, n in zip(hook.segment_ids, hook.segment_names, strict=True))
        table.add_row(
            hook.id,
            hook.url,
            names or "(all)",
            f"{hook.delivered_seq:,}",
            f"{max(0, hook.last_seq - hook.delivered_seq):,}",
            f"{hook.last_error} ({hook.failures} attempts)" if hook.last_error else "",
        )
    out.print(table)


@webhooks.command("delete")
@org_option
@click.argument("webhook_id")
@server_option
@clean_errors
def delete(org: str, webhook_id: str, server: str) -> None:
    """Remove a webhook (its deliveries stop)."""
    with Client(server) as client:
        client.delete_webhook(org, webhook_id)
    err.print(f"deleted webhook {webhook_id}")
