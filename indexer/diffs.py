"""Per-field differences between old and new versions of many records, gathered column-wise,
and the runs of them held until the bitmaps are written."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from bitseg.schema import FieldType

Fields = dict[str, object]


class FieldDiffs:
    """Changed fields of many records, gathered per field as (cols, values) to remove / add."""

    def __init__(self) -> None:
        self.by_field: dict[str, tuple[list[int], list[object], list[int], list[object]]] = {}

    def add(self, col: int, old: Fields, new: Fields) -> None:
        by_field = self.by_field
        for name, value in old.items():
            if new.get(name) != value:
                entry = by_field.get(name)
                if entry is None:
                    entry = by_field[name] = ([], [], [], [])
                entry[0].append(col)
                entry[1].append(value)
        for name, value in new.items():
            if not old or old.get(name) != value:
                entry = by_field.get(name)
                if entry is None:
                    entry = by_field[name] = ([], [], [], [])
                entry[2].append(col)
                entry[3].append(value)


class ValueRuns:
    """Per (entity, field): the columns and values removed and added since the bitmaps
    were last written, as runs in the order they arose (consecutive additions, or
    removals, of one field form one run).

    Values are turned into postings only when the bitmaps are written, a run at a time:
    a bulk load's chunks of one field then become one encoding over every column, each
    bitmap key appearing once, instead of one small posting per key and chunk (a time
    field has ~100k range-index keys at 1M contacts, each touched by every chunk).
    """

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], tuple[FieldType, list[_Run]]] = {}
        self.size = 0  # values held

    def add(
        self, entity: str, field: str, kind: FieldType, remove: bool, cols: list[int],
        values: list[object],
    ) -> None:
        entry = self._runs.get((entity, field))
        if entry is None:
            entry = self._runs[(entity, field)] = (kind, [])
        runs = entry[1]
        col_array = np.asarray(cols, dtype=np.uint32)
        # ints and times are held as int64 (8 bytes, not a Python int each)
        held: np.ndarray | list[object] = (
            np.asarray(values, dtype=np.int64) if kind in _NUMERIC else values
        )
        if runs and runs[-1].remove == remove:
            runs[-1].cols.append(col_array)
            runs[-1].values.append(held)
        else:
            runs.append(_Run(remove, [col_array], [held]))
        self.size += len(cols)

    def drain(self) -> Iterator[tuple[str, str, FieldType, bool, np.ndarray, Sequence[object]]]:
        """(entity, field, kind, remove, cols, values) of every run, in order per field;
        empties the runs."""
        runs, self._runs, self.size = self._runs, {}, 0
        for (entity, field), (kind, field_runs) in runs.items():
            for run in field_runs:
                cols = run.cols[0] if len(run.cols) == 1 else np.concatenate(run.cols)
                values: Sequence[object]
                if kind in _NUMERIC:
                    values = run.values[0] if len(run.values) == 1 else np.concatenate(run.values)  # type: ignore[arg-type]
                else:
                    values = list(itertools.chain.from_iterable(run.values))
                yield entity, field, kind, run.remove, cols, values


@dataclass
class _Run:
    remove: bool
    cols: list[np.ndarray]
    values: list[np.ndarray | list[object]]


_NUMERIC = (FieldType.INT, FieldType.TIME)
