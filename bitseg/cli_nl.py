"""`bitseg translate --org ORG "SENTENCE"`: natural-language mode from the command line.

Prints the rule (text and JSON), its live count, the phrases not understood, the
ambiguous phrases with the readings considered, and notes; `--format json` prints all
of it as one JSON object, `--format text` only the rule text (for scripts). Exits 1 when
nothing in the sentence was understood.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from bitseg.cli_common import clean_errors, millis, now_option, org_option, out, server_option
from bitseg.client import Client, Translation


@click.command()
@org_option
@click.argument("sentence")
@now_option
@click.option("--offline", is_flag=True, help="Do not use the server's language model.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["human", "json", "text"]),
    default="human",
    show_default=True,
)
@server_option
@clean_errors
def translate(
    org: str, sentence: str, now: str | None, offline: bool, fmt: str, server: str
) -> None:
    """Translate SENTENCE into a rule to review, with its live count."""
    with Client(server) as client:
        result = client.translate(org, sentence, now=now, offline=offline)
    if fmt == "json":
        click.echo(orjson.dumps(as_json(result), option=orjson.OPT_INDENT_2).decode())
    elif fmt == "text":
        click.echo(result.text)
    else:
        report(result)
    if result.rule is None:
        sys.exit(1)


def report(result: Translation) -> None:
    """The human-readable report."""
    if result.rule is None:
        out.print("[bold red]nothing in the sentence was understood[/bold red]")
    else:
        out.print(f"[bold]rule[/bold]   {_escape(result.text)}")
        out.print(f"[bold]json[/bold]   {_escape(orjson.dumps(result.rule).decode())}")
        counted = f"{result.count:,} contacts" if result.count is not None else "not counted"
        out.print(f"[bold]count[/bold]  {counted} ({millis(result.eval_micros)} server-side, "
                  f"{result.translator} translator)")  # fmt: skip
    for phrase in result.not_understood:
        out.print(f'[yellow]not understood[/yellow]  "{_escape(phrase.text)}"')
    for part in result.rejected:
        out.print(f"[yellow]left out[/yellow]  {_escape(part)}")
    for amb in result.ambiguities:
        others = " | ".join(_escape(a) for a in amb.alternatives)
        out.print(f'[cyan]ambiguous[/cyan]  "{_escape(amb.phrase.text)}": '
                  f"{_escape(amb.chosen)}  [dim](or: {others})[/dim]")  # fmt: skip
    for note in result.notes:
        out.print(f"[dim]note  {_escape(note)}[/dim]")


def as_json(result: Translation) -> dict[str, Any]:
    return {
        "rule": result.rule,
        "text": result.text,
        "count": result.count,
        "not_understood": [vars(p) for p in result.not_understood],
        "ambiguities": [
            {"phrase": vars(a.phrase), "chosen": a.chosen, "alternatives": list(a.alternatives)}
            for a in result.ambiguities
        ],
        "notes": list(result.notes),
        "rejected": list(result.rejected),
        "translator": result.translator,
        "eval_micros": result.eval_micros,
    }


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
