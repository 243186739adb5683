"""Reading the change log: live followers (the Watch RPC) and signed webhooks.

The producer side (the writer appending `segment.joined` / `segment.left` entries in
the same transaction as each change) lives in bitseg.store.changelog and its callers;
this package only consumes the log:
- `watch`: per-org wake-ups fired by the service's commit listener, and `follow_log`,
  the async reader behind the server-streaming Watch RPC;
- `webhooks`: the per-org endpoint registry in LMDB (with each endpoint's durable
  cursor) and one in-order, retrying delivery worker per endpoint;
- `hub`: `ChangeHub`, which the server starts and stops and the RPCs call.
"""

from __future__ import annotations

from bitseg.changes.hub import ChangeHub
from bitseg.changes.webhooks import sign, verify

__all__ = ["ChangeHub", "sign", "verify"]
