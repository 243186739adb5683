"""New contacts column-wise: a chunk of upserts regrouped per field in the parse process.

A bulk load's contacts are mostly upserts of ids the store has not seen. The writer
indexes them field by field (every value of a field encoded at once), so the records,
once normalised (`batch._operation`, the same per-record path as always), are
regrouped per field; doing that, the stored JSON and the lower-cased text values in the
parse process takes that work off the writer, which is the bulk load's busier process.

`ContactColumns` carries what the writer needs for new contacts: the ids, the stored
record JSON, the effective fields (what the index holds: no False, email_domain
derived; see `records.derive_contact`) as (rows, values) per field, and the lower-cased
bytes of the text fields. When the writer finds the ids are not new after all,
`operations()` gives the per-record form back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import orjson

from bitseg.schema import FieldType

if TYPE_CHECKING:
    from indexer.batch import Operation

Column = tuple[np.ndarray, list[object] | np.ndarray]  # (row numbers, values)
_NUMERIC = (FieldType.INT, FieldType.TIME)


@dataclass(eq=False)
class ContactColumns:
    """New-contact upserts of one chunk, per field (see the module doc)."""

    ids: list[str]
    records: list[bytes]  # stored JSON per row: {"id": ..., normalised flat fields}
    fields: dict[str, Column] = field(default_factory=dict)  # effective fields
    texts: dict[str, list[bytes]] = field(default_factory=dict)  # lower(value) per text row

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContactColumns):
            return NotImplemented
        return (
            (self.ids, self.records, self.texts) == (other.ids, other.records, other.texts)
            and self.fields.keys() == other.fields.keys()
            and all(
                np.array_equal(rows, other.fields[name][0])
                and list(values) == list(other.fields[name][1])
                for name, (rows, values) in self.fields.items()
            )
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def operations(self) -> list[Operation]:
        """The same chunk as per-record upserts (sets as tuples, as the parser gives)."""
        from indexer.batch import Operation

        ops = []
        for ext_id, record in zip(self.ids, self.records, strict=True):
            fields = orjson.loads(record)
            del fields["id"]
            for name, value in fields.items():
                if type(value) is list:
                    fields[name] = tuple(value)
            ops.append(Operation("upsert", ext_id, fields))
        return ops


def contact_columns(
    ops: list[Operation], type_of: Callable[[str], FieldType | None]
) -> ContactColumns | None:
    """The chunk column-wise, when it is upserts of distinct ids; else None."""
    if any(op.op != "upsert" for op in ops):
        return None
    ids = [op.id for op in ops]
    if len(set(ids)) != len(ids):
        return None
    dumps = orjson.dumps
    records = [dumps({"id": op.id, **op.fields}) for op in ops]
    by_field: dict[str, tuple[list[int], list[object]]] = {}
    for row, op in enumerate(ops):
        for name, value in op.fields.items():
            entry = by_field.get(name)
            if entry is None:
                entry = by_field[name] = ([], [])
            entry[0].append(row)
            entry[1].append(value)
    out = ContactColumns(ids, records)
    for name, (row_list, values) in by_field.items():
        kind = type_of(name)
        rows = np.asarray(row_list, dtype=np.uint32)
        if kind == FieldType.BOOL:  # the index keeps true values only (derive_contact)
            kept = np.fromiter(values, dtype=bool, count=len(values))  # type: ignore[arg-type]
            if kept.any():
                out.fields[name] = (rows[kept], [True] * int(kept.sum()))
        elif kind in _NUMERIC:
            out.fields[name] = (rows, np.asarray(values, dtype=np.int64))
        else:
            out.fields[name] = (rows, values)
            if kind == FieldType.TEXT:
                out.texts[name] = _lowered(values)  # type: ignore[arg-type]
    email = by_field.get("email")
    if email is not None:
        _derive_domain(out, np.asarray(email[0], dtype=np.uint32), email[1])
    return out


def _lowered(values: list[str]) -> list[bytes]:
    joined = "\x00".join(values)  # text values hold no NUL (the coercers refuse it)
    if joined.isascii():
        return joined.lower().encode().split(b"\x00")
    return [v.lower().encode() for v in values]


def _derive_domain(out: ContactColumns, rows: np.ndarray, emails: list[object]) -> None:
    """email_domain as `records.derive_contact` derives it."""
    parts = [str(e).rpartition("@") for e in emails]
    domains = [tail.strip().lower() if at else "" for _, at, tail in parts]
    keep = np.fromiter(map(bool, domains), dtype=bool, count=len(domains))
    if keep.any():
        out.fields["email_domain"] = (rows[keep], list(itertools.compress(domains, keep)))
