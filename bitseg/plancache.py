"""Plans of recent rules per org, valid for one data generation at a time.

Between decoding and execution a query is validated against the org's schema, its
campaign references checked, its segment references expanded, normalised against
`now` and planned: tens of microseconds of pure Python for a plan the executor then
runs in a few. All of it is a function of the rule, `now` (relative times), the
server's limits and the org's committed state, which the generation read from LMDB
identifies (the same in every process over the data folder). So a plan is kept under
(the rule's wire form, `now`) for the generation it was made at, and every entry of
an org is dropped as soon as a newer generation is seen. Errors are never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MAX_PER_ORG = 256


class _OrgPlans:
    __slots__ = ("gen", "entries")

    def __init__(self, gen: int) -> None:
        self.gen = gen
        self.entries: OrderedDict[tuple[Hashable, int], Any] = OrderedDict()


class PlanCache:
    """org -> LRU of (rule key, now) -> plan, for the org's newest generation seen."""

    def __init__(self, max_per_org: int = MAX_PER_ORG) -> None:
        self.max_per_org = max_per_org
        self._orgs: dict[str, _OrgPlans] = {}
        self._lock = threading.Lock()

    def get_or_plan(
        self, org: str, gen: int, key: Hashable, now: int, make: Callable[[], Any]
    ) -> Any:
        """The plan of `key` at `now` and generation `gen`, made with `make()` if needed."""
        entry_key = (key, now)
        with self._lock:
            plans = self._orgs.get(org)
            if plans is None or plans.gen < gen:
                plans = self._orgs[org] = _OrgPlans(gen)
            elif plans.gen > gen:  # an older snapshot than the cache's: do not mix
                plans = None
            else:
                hit = plans.entries.get(entry_key)
                if hit is not None:
                    plans.entries.move_to_end(entry_key)
                    return hit
        made = make()
        if plans is not None:
            with self._lock:
                if self._orgs.get(org) is plans:
                    plans.entries[entry_key] = made
                    while len(plans.entries) > self.max_per_org:
                        plans.entries.popitem(last=False)
        return made

    def forget(self, org: str) -> None:
        with self._lock:
            self._orgs.pop(org, None)
