"""Change detection: every segment's current members, and the joined/left log entries.

For each segment the store keeps the member set as last logged (`$current.<id>`) and
everyone who ever joined it (`$ever.<id>`). `Tracker.detect` runs inside the write
transaction of the change that may move contacts (a batch, a segment save, a member
change, or the passage of time): it evaluates each segment at `now` on that
transaction's view, restricted to the dirty contacts when they are known, and
appends one `segment.joined` / `segment.left` entry per (segment, contact) to the
change log in the same transaction — so an entry exists if and only if its cause was
committed. Dynamic references are inlined by expansion, so segments never depend on
another segment's logged state, and their order does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import lmdb
from pyroaring import BitMap

from bitseg.engine import Executor, plan
from bitseg.engine.bsi import AnyBitMap
from bitseg.rules import normalise
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule, SegmentRef
from bitseg.schema import OrgSchema
from bitseg.segments.catalog import DYNAMIC, Catalog, SegmentRecord
from bitseg.segments.expand import expanded_limits
from bitseg.segments.layout import ever_field, tracked_field
from bitseg.segments.membership import Members
from bitseg.store import OrgStore, keys
from bitseg.store.changelog import JOINED, LEFT, append
from bitseg.store.readview import WriteView
from bitseg.timeutil import format_time


@dataclass(frozen=True)
class Detected:
    joined: int
    left: int


class Tracker:
    """Change detection inside one write transaction of one org."""

    def __init__(self, store: OrgStore, txn: lmdb.Transaction, limits: Limits) -> None:
        from bitseg.segments.ops import SegmentOps  # ops imports this module too

        self.store = store
        self.txn = txn
        self.limits = limits
        self.ops = SegmentOps(store, limits)
        self.view = WriteView(store, txn)
        self.current = Members(store, txn, tracked_field)
        self.ever = Members(store, txn, ever_field)

    def detect(
        self,
        now: int,
        cause: str,
        dirty: AnyBitMap | None = None,
        only: SegmentRecord | None = None,
    ) -> Detected:
        """Re-evaluate every segment (or `only` one) on `dirty` (None: on everyone) and log
        the difference from its logged members."""
        catalog = Catalog(self.store, self.txn)
        records = [only] if only is not None else catalog.all(include_archived=True)
        if dirty is not None and not dirty:
            return Detected(0, 0)
        schema = self.view.schema
        entries: list[dict[str, object]] = []
        joined = left = 0
        stamp = format_time(now)
        for record in records:
            new = self._evaluate(record, schema, now)
            stored = self.current.read(record.id)
            old = stored
            if dirty is not None:
                new = new & dirty
                old = stored & dirty
            entered = new - old
            exited = old - new
            if not entered and not exited:
                continue
            self._store_set(self.current, record.id, (stored - exited) | entered)
            if entered:
                self._store_set(self.ever, record.id, self.ever.read(record.id) | entered)
            joined += len(entered)
            left += len(exited)
            for kind, cols in ((JOINED, entered), (LEFT, exited)):
                for contact_id in self.view.external_ids(keys.CONTACT, cols):
                    entries.append(
                        {
                            "type": kind,
                            "segment_id": record.id,
                            "segment": record.name,
                            "contact_id": contact_id,
                            "at": stamp,
                            "cause": cause,
                        }
                    )
        if entries:
            append(self.store, self.txn, entries)
        return Detected(joined, left)

    def forget(self, segment_id: str) -> None:
        """Drop a deleted segment's tracked sets (no entries: deletion is not a leave)."""
        self.current.delete(segment_id)
        self.ever.delete(segment_id)

    def _evaluate(self, record: SegmentRecord, schema: OrgSchema, now: int) -> AnyBitMap:
        rule: Rule
        if record.type == DYNAMIC:
            rule = self.ops.expander(self.txn, schema).expand(self.ops.stored_rule(record, schema))
        else:
            rule = SegmentRef(record.id)
        normal = normalise(rule, schema, now, expanded_limits(self.limits))
        return Executor(self.view, now=now).members(plan(normal))

    def _store_set(self, members: Members, segment_id: str, cols: AnyBitMap) -> None:
        members.replace(segment_id, BitMap(cols))
