"""Per-field differences between old and new versions of many records, gathered column-wise."""

from __future__ import annotations

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
