"""Decoded rules by their wire form: a segment builder sends the same rule again and again.

Decoding (JSON or text parsing, shape checks, the proto tree walk) is a pure function
of the wire bytes and the server's limits, and the model tree it builds is immutable,
so one decoded tree serves every later request with the same bytes. The wire form is
also the key `Service` caches plans under (bitseg.plancache). Only rules of at most
MAX_KEY_BYTES are kept (a UI's rules are far smaller), at most MAX_ENTRIES of them,
least recently used first out; a rule that fails to decode is not kept (its error is
raised again on every request).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule
from bitseg.server.wire import decode_rule
from bitseg.v1 import bitseg_pb2 as pb

MAX_KEY_BYTES = 8 << 10
MAX_ENTRIES = 512


def wire_key(rule: pb.Rule) -> Hashable | None:
    """A hashable key for the rule's wire form (None: too large to keep)."""
    form = rule.WhichOneof("form")
    if form == "json":
        text = rule.json
    elif form == "text":
        text = rule.text
    elif form == "node":
        data = rule.node.SerializeToString(deterministic=True)
        return ("node", data) if len(data) <= MAX_KEY_BYTES else None
    else:
        return None
    return (form, text) if len(text) <= MAX_KEY_BYTES else None


class RuleCache:
    """wire form -> decoded rule, an LRU (see the module docstring)."""

    def __init__(self, limits: Limits, max_entries: int = MAX_ENTRIES) -> None:
        self.limits = limits
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Rule] = OrderedDict()
        self._lock = threading.Lock()

    def decode(self, rule: pb.Rule) -> tuple[Rule, Hashable | None]:
        """(the decoded rule, its key for plan caches, None when not cacheable)."""
        key = wire_key(rule)
        if key is None:
            return decode_rule(rule, self.limits), None
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit, key
        decoded = decode_rule(rule, self.limits)  # raises on a bad rule: nothing kept
        with self._lock:
            self._entries[key] = decoded
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return decoded, key
