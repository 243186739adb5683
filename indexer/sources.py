"""Reading ingest files: JSON Lines and CSV into (line number, raw record) pairs.

Errors name the file and the 1-based line. CSV cells are strings; `typed_csv_row`
converts them by the field types of the org schema (ints, bools, `;`-separated
sets), and an empty cell means "no value".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

import orjson

from bitseg.errors import RecordError
from bitseg.schema import FieldType

RawRecord = dict[str, object]


def read_jsonl(data: bytes | BinaryIO, source: str) -> Iterator[tuple[int, RawRecord]]:
    """Records of JSON Lines held in memory, or read line by line from a binary file."""
    lines = io.BytesIO(data) if isinstance(data, bytes | bytearray) else iter(data.readline, b"")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise RecordError(source, number, f"malformed JSON: {exc}") from None
        if not isinstance(record, dict):
            raise RecordError(source, number, "expected a JSON object")
        yield number, record


def read_csv(
    data: bytes | BinaryIO, source: str, type_of: Callable[[str], FieldType | None]
) -> Iterator[tuple[int, RawRecord]]:
    if not isinstance(data, bytes | bytearray):
        data = data.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(source, 1, f"not UTF-8: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise RecordError(source, 1, f"malformed CSV: {exc}") from None
    header = [h.strip() for h in header]
    if "id" not in header:
        raise RecordError(source, 1, 'the header has no "id" column')
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise RecordError(
                    source, number, f"expected {len(header)} cells as in the header, got {len(row)}"
                )
            try:
                yield number, typed_csv_row(header, row, type_of)
            except ValueError as exc:
                raise RecordError(source, number, str(exc)) from None
    except csv.Error as exc:
        raise RecordError(source, reader.line_num, f"malformed CSV: {exc}") from None


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def typed_csv_row(
    header: list[str], row: list[str], type_of: Callable[[str], FieldType | None]
) -> RawRecord:
    record: RawRecord = {}
    for name, cell in zip(header, row, strict=True):
        cell = cell.strip()
        if cell == "":
            continue
        if name in ("id", "op"):
            record[name] = cell
            continue
        if name == "deleted":
            record[name] = _csv_bool(name, cell)
            continue
        kind = type_of(name)
        if kind == FieldType.INT:
            try:
                record[name] = int(cell)
            except ValueError:
                raise ValueError(f'{name}: expected an integer, got "{cell}"') from None
        elif kind == FieldType.BOOL:
            record[name] = _csv_bool(name, cell)
        elif kind == FieldType.SET:
            record[name] = [part.strip() for part in cell.split(";") if part.strip()]
        else:
            record[name] = cell
    return record


def _csv_bool(name: str, cell: str) -> bool:
    low = cell.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f'{name}: expected true or false, got "{cell}"')
