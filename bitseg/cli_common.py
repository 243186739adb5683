"""What every `bitseg` command shares: the consoles, the --server/--org/--now options,
clean one-line errors and the RULE argument (text, or JSON when it starts with "{")."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
import grpc
import orjson
from rich.console import Console

from bitseg.client import DEFAULT_ADDRESS, BitsegClientError
from bitseg.errors import BitsegError

F = TypeVar("F", bound=Callable[..., Any])

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

server_option = click.option(
    "--server",
    envvar="BITSEG_SERVER",
    default=DEFAULT_ADDRESS,
    show_default=True,
    help="Server address (env BITSEG_SERVER).",
)
org_option = click.option("--org", required=True, help="The organisation.")
now_option = click.option("--now", default=None, help="ISO-8601 instant (default: server clock).")


def clean_errors(fn: F) -> F:
    """Turn expected failures into one clean line (click prints "Error: ...", exit 1)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BitsegClientError as e:
            if e.code == grpc.StatusCode.UNAVAILABLE:
                raise click.ClickException(f"cannot reach the bitseg server: {e}") from None
            raise click.ClickException(f"{e.code.name}: {e}") from None
        except BitsegError as e:
            raise click.ClickException(e.message) from None
        except (OSError, ValueError) as e:
            raise click.ClickException(str(e)) from None

    return wrapper  # type: ignore[return-value]


def parse_rule_arg(rule: str) -> str | dict[str, Any]:
    """A RULE argument: JSON (a dict) when it starts with "{", else the text form."""
    if not rule.lstrip().startswith("{"):
        return rule
    try:
        value = orjson.loads(rule)
    except orjson.JSONDecodeError as e:
        raise click.ClickException(f"RULE is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise click.ClickException("RULE: a JSON rule is an object")
    return value


def millis(micros: int) -> str:
    return f"{micros / 1000:.3f} ms"
