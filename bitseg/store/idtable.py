"""Column id -> external id for a whole entity, kept in memory for bulk translation.

Column ids are assigned densely and never change their external id, so the table is
append-only: a reader extends it from the `cols` database when the entity's next
column counter has moved, and never has to revalidate what it already holds.
"""

from __future__ import annotations

import itertools
import threading

import lmdb
import numpy as np

from bitseg.store import keys


class IdTable:
    def __init__(self, entity: str) -> None:
        self.entity = entity
        self._ids = np.empty(0, dtype=object)
        self._lock = threading.Lock()

    def ids(self, txn: lmdb.Transaction, cols_db: lmdb._Database, next_col: int) -> np.ndarray:
        """The table covering columns [0, next_col) as a numpy object array (None = unused)."""
        if len(self._ids) >= next_col:
            return self._ids
        with self._lock:
            have = len(self._ids)
            if have >= next_col:
                return self._ids
            grown = np.empty(next_col, dtype=object)
            grown[:have] = self._ids
            # Every assigned column has its entry and keys sort by column, so the values
            # from `have` on are the ids of columns have, have + 1, ... in order.
            cursor = txn.cursor(db=cols_db)
            if cursor.set_range(keys.col_key(self.entity, have)):
                values = itertools.islice(cursor.iternext(keys=False), next_col - have)
                fresh = [bytes(v).decode() for v in values]
                grown[have : have + len(fresh)] = fresh
            self._ids = grown
            return grown
