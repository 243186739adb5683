"""The fixed vocabulary of the rule language, shared by every rules stage.

Owns: operator names (in one canonical order), which operators take no value or a list,
the text spelling of each operator, the count-comparison keys, the 64-bit integer range
every rule integer must fit, and `show()`, the one way error messages quote a value.
Nothing here knows about an org's schema (that is `bitseg.schema`).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

OP_NAMES: tuple[str, ...] = (
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in",
    "has", "not_has", "has_any", "has_all", "has_none",
    "exists", "not_exists", "contains", "starts_with", "ends_with",
    "between", "within_last", "older_than",
)  # fmt: skip
"""Every operator of SPEC.md, in the order error messages list them."""

VALUE_FREE_OPS: frozenset[str] = frozenset({"exists", "not_exists"})
LIST_OPS: frozenset[str] = frozenset({"in", "not_in", "has_any", "has_all", "has_none"})

OP_TEXT: Mapping[str, str] = {
    "eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
    "in": "in", "not_in": "not in",
    "has": "has", "not_has": "not has", "has_any": "has any", "has_all": "has all",
    "has_none": "has none", "exists": "exists", "not_exists": "not exists",
    "contains": "contains", "starts_with": "starts with", "ends_with": "ends with",
    "between": "between", "within_last": "within last", "older_than": "older than",
}  # fmt: skip
"""How the canonical text form spells each operator."""

CMP_KEYS: tuple[str, ...] = ("eq", "gt", "gte", "lt", "lte")
"""Count-comparison keys, in the order the JSON and text forms print them."""

CMP_TEXT: Mapping[str, str] = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

ROOT_NAMES: tuple[str, ...] = ("all", "any", "not", "field", "has", "event", "segment")
"""The JSON keys that say which kind of rule an object is."""


def is_int(value: object) -> bool:
    """True for a Python int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def in_int_range(value: int) -> bool:
    """True if `value` fits a signed 64-bit integer."""
    return INT_MIN <= value <= INT_MAX


def show(value: object, limit: int = 60) -> str:
    """A value as error messages quote it: JSON where possible, shortened.

    >>> show("eighty")
    '"eighty"'
    >>> show((1, True))
    '[1,true]'
    """
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def sub(path: str, key: str) -> str:
    """The path of `key` inside the part at `path` ("" is the root).

    >>> sub("all[2]", "op")
    'all[2].op'
    """
    return f"{path}.{key}" if path else key


def at(path: str, index: int) -> str:
    """The path of element `index` of the list at `path`."""
    return f"{path}[{index}]"


def where(path: str) -> str:
    """`path` for the start of a message: the root part is called "rule"."""
    return path or "rule"
