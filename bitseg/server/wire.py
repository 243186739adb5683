"""Request decoding shared by every RPC: rules in their three wire forms, `now`, timings."""

from __future__ import annotations

import functools
import time

from bitseg.errors import InvalidArgument
from bitseg.rules import parse_text, rule_from_json_text
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule
from bitseg.server import rule_proto
from bitseg.timeutil import parse_instant
from bitseg.v1 import bitseg_pb2 as pb


def decode_rule(rule: pb.Rule, limits: Limits) -> Rule:
    """The model tree of a wire rule in any of its three forms (shape checked, not schema)."""
    form = rule.WhichOneof("form")
    if form == "json":
        return rule_from_json_text(rule.json, limits)
    if form == "text":
        return parse_text(rule.text, limits)
    if form == "node":
        return rule_proto.from_proto(rule.node, limits)
    raise InvalidArgument("rule: missing (set one of json, text or node)")


def parse_now(now: str) -> int:
    """Epoch seconds of a request's `now`; empty means the server clock."""
    if not now:
        return int(time.time())
    return _instant(now)


@functools.lru_cache(maxsize=256)  # clients repeat their `now`; errors are not cached
def _instant(now: str) -> int:
    try:
        return parse_instant(now)
    except InvalidArgument as e:
        raise InvalidArgument(f"now: {e.message}") from None


def micros(seconds: float) -> int:
    return max(0, round(seconds * 1_000_000))
