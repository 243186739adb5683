"""Column id -> external id for a whole entity, kept in memory for bulk translation.

Column ids are assigned densely and never change their external id, so the table is
append-only: a reader extends it from the `cols` database when the entity's next
column counter has moved, and never has to revalidate what it already holds.
"""

from __future__ import annotations

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
            prefix = self.entity.encode()
            cursor = txn.cursor(db=cols_db)
            if cursor.set_range(keys.col_key(self.entity, have)):
                for key, value in cursor.iternext():
                    key = bytes(key)
                    if not key.startswith(prefix) or len(key) != len(prefix) + 4:
                        break
                    col = keys.unpack_col(key[len(prefix) :])
                    if col >= next_col:
                        break
                    grown[col] = bytes(value).decode()
            self._ids = grown
            return grown
