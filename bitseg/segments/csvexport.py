"""Members as CSV: `id,name,email,company` (RFC 4180: quoted as needed, CRLF line ends).

`CsvExport` holds the read transaction the member set was computed in, so every row
comes from the same snapshot, and yields the file in chunks of `rows_per_chunk`
rows; it closes the transaction when exhausted or closed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import ExitStack

from pyroaring import BitMap, FrozenBitMap

from bitseg.store.keys import COMPANY, CONTACT
from bitseg.store.readview import ReadView

HEADER = ("id", "name", "email", "company")
ROWS_PER_CHUNK = 10_000


class CsvExport:
    """The CSV of one member set; iterate once for its bytes, in chunks."""

    def __init__(
        self,
        stack: ExitStack,
        view: ReadView,
        members: BitMap | FrozenBitMap,
        rows_per_chunk: int = ROWS_PER_CHUNK,
    ) -> None:
        self._stack = stack
        self._view = view
        self._members = members
        self.total = len(members)
        self.rows_per_chunk = max(1, rows_per_chunk)

    def close(self) -> None:
        self._stack.close()

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks()
        finally:
            self.close()

    def _chunks(self) -> Iterator[bytes]:
        view = self._view
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        companies: dict[str, str] = {}
        ids = view.external_ids_bulk(CONTACT, self._members)
        for n, (col, ext_id) in enumerate(zip(self._members, ids, strict=True), start=1):
            record = view.record(CONTACT, col) or {}
            writer.writerow(
                (ext_id, _text(record.get("name")), _text(record.get("email")),
                 _company_name(view, record.get("company_id"), companies))
            )
            if n % self.rows_per_chunk == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        tail = buffer.getvalue()
        if tail:
            yield tail.encode()


def _company_name(view: ReadView, company_id: object, memo: dict[str, str]) -> str:
    if not isinstance(company_id, str):
        return ""
    name = memo.get(company_id)
    if name is None:
        col = view.column_of(COMPANY, company_id)
        company = view.record(COMPANY, col) if col is not None else None
        name = _text(company.get("name")) if company else ""
        memo[company_id] = name
    return name


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
