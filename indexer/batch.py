"""Parsing one ingest batch into typed operations, streamed in chunks.

A batch is files (JSON Lines / CSV, one entity kind per file) plus loose records
(from the gRPC stream) plus custom field declarations. `iter_chunks` yields chunks
of typed operations, companies before contacts (so a contact always sees its
company's final fields). The writer applies them inside ONE write transaction, so
the first bad record (RecordError naming its file and line) aborts the whole batch
and nothing of it is applied, while memory stays bounded by the chunk size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from bitseg.errors import InvalidArgument, RecordError
from bitseg.schema import CAMPAIGN_FIELDS, CUSTOM_TYPES, DEAL_FIELDS, FieldType, OrgSchema
from indexer import records as rec
from indexer.columns import ContactColumns, contact_columns
from indexer.eventscan import EventColumns, columns_of, scan_events
from indexer.prefetch import Prefetch, prefetchable
from indexer.sources import RawRecord, read_csv, read_jsonl

KINDS = ("contacts", "companies", "deals", "campaigns", "events")
APPLY_ORDER = ("companies", "campaigns", "contacts", "deals", "events")
CHUNK = 50_000
COLUMNAR = True  # contacts files column-wise where they allow it (indexer.columns)


class Operation(NamedTuple):
    """One parsed record. A named tuple: a bulk load makes millions, and builds them again
    from the parse process's plain tuples (a frozen dataclass costs ~1 µs each)."""

    op: rec.Op
    id: str
    fields: rec.Fields  # typed; in a patch, None means "remove this field"


@dataclass(frozen=True)
class FileInput:
    kind: str
    name: str
    fmt: str
    data: bytes | BinaryIO


def declare(schema: OrgSchema, declared: Mapping[str, str] | None) -> OrgSchema:
    """The schema with custom field declarations added; a type change is refused."""
    if not declared:
        return schema
    new: dict[str, FieldType] = {}
    for name, type_name in declared.items():
        bare = name.removeprefix("custom.")
        if not bare or "\x00" in bare:
            raise InvalidArgument(f'schema: "{name}" is not a valid custom field name')
        kind = FieldType(type_name) if type_name in FieldType._value2member_map_ else None
        if kind not in CUSTOM_TYPES:
            allowed = ", ".join(sorted(t.value for t in CUSTOM_TYPES))
            raise InvalidArgument(f'schema.{bare}: unknown type "{type_name}" (use {allowed})')
        old = schema.custom.get(bare)
        if old is not None and old != kind:
            raise InvalidArgument(
                f"schema.{bare}: custom.{bare} is declared as {old}; it cannot become {kind}"
            )
        new[bare] = kind  # type: ignore[assignment]
    return schema.with_custom(new)


def check_inputs(
    files: Iterable[FileInput], records: Iterable[tuple[str, str, Mapping[str, object]]]
) -> None:
    """Refuse unknown kinds and formats before anything is read."""
    for f in files:
        _check_kind(f.kind, f.name)
        if f.fmt not in ("jsonl", "csv"):
            raise InvalidArgument(f'{f.name}: unknown format "{f.fmt}" (use jsonl or csv)')
        if f.fmt == "csv" and f.kind != "contacts":
            raise InvalidArgument(f"{f.name}: CSV is accepted for contacts only; use JSON Lines")
    for kind, _, _ in records:
        _check_kind(kind, "records")


def iter_chunks(
    schema: OrgSchema,
    files: list[FileInput],
    records: list[tuple[str, str, Mapping[str, object]]],
    chunk: int | None = None,
) -> Iterator[tuple[str, list[Operation] | EventColumns | ContactColumns]]:
    """(kind, operations) chunks of `chunk` records (default CHUNK) in apply order;
    raises RecordError at the first bad record.

    Large files are parsed by a second process (`prefetch`) from the start, so parsing
    overlaps the writing of what came before; loose records are parsed here, after the
    files of their kind, as in process.
    """
    chunk = chunk or CHUNK
    located = prefetchable(files)
    parser = Prefetch(schema, located, chunk) if located is not None else None
    try:
        for kind in APPLY_ORDER:
            if parser is None:
                yield from kind_chunks(kind, schema, files, records, chunk)
            else:
                yield from parser.chunks(kind)  # type: ignore[misc]
                yield from kind_chunks(kind, schema, [], records, chunk)
    finally:
        if parser is not None:
            parser.close()


def kind_chunks(
    kind: str,
    schema: OrgSchema,
    files: list[FileInput],
    records: list[tuple[str, str, Mapping[str, object]]],
    chunk: int,
) -> Iterator[tuple[str, list[Operation] | EventColumns | ContactColumns]]:
    """The chunks of one kind: its files, then its loose records."""
    if kind == "events":
        yield from _event_chunks(files, records, chunk)
        return
    coercers = rec.Coercers(_type_of(kind, schema), "company." if kind == "companies" else "")
    ops: list[Operation] = []
    for f in files:
        if f.kind != kind:
            continue
        rows = (
            read_jsonl(f.data, f.name)
            if f.fmt == "jsonl"
            else read_csv(f.data, f.name, coercers.type_of)
        )
        for line, raw in rows:
            ops.append(_operation(raw, coercers, f.name, line))
            if len(ops) >= chunk:
                yield kind, _file_chunk(kind, ops, coercers)
                ops = []
    if ops:  # the files' last chunk (loose records come in chunks of their own)
        yield kind, _file_chunk(kind, ops, coercers)
        ops = []
    for index, (record_kind, op, raw) in enumerate(records, start=1):
        if record_kind != kind:
            continue
        merged = dict(raw)
        merged.setdefault("op", op)
        ops.append(_operation(merged, coercers, "records", index))
        if len(ops) >= chunk:
            yield kind, ops
            ops = []
    if ops:
        yield kind, ops


def _file_chunk(
    kind: str, ops: list[Operation], coercers: rec.Coercers
) -> list[Operation] | ContactColumns:
    """A chunk of a file's records; new contacts column-wise where they allow it."""
    if kind == "contacts" and COLUMNAR:
        columns = contact_columns(ops, coercers.type_of)
        if columns is not None:
            return columns
    return ops


def _check_kind(kind: str, source: str) -> None:
    if kind not in KINDS:
        raise InvalidArgument(f'{source}: unknown record kind "{kind}" (use {", ".join(KINDS)})')


def _type_of(kind: str, schema: OrgSchema) -> Callable[[str], FieldType | None]:
    if kind == "contacts":
        return rec.contact_type(schema)
    return {
        "companies": rec.company_type,
        "deals": DEAL_FIELDS.get,
        "campaigns": CAMPAIGN_FIELDS.get,
    }[kind]


def _event_chunks(
    files: list[FileInput], records: list[tuple[str, str, Mapping[str, object]]], chunk: int
) -> Iterator[tuple[str, EventColumns]]:
    """Events column-wise: files a block of lines at a time (`eventscan`), loose records
    `chunk` at a time."""
    for f in files:
        if f.kind == "events":
            for block in scan_events(f.data, f.name):
                yield "events", block
    rows: list[tuple[str, str, int, str | None]] = []
    for index, (kind, _, raw) in enumerate(records, start=1):
        if kind != "events":
            continue
        try:
            rows.append(rec.event_fields(raw))
        except ValueError as exc:
            raise RecordError("records", index, str(exc)) from None
        if len(rows) >= chunk:
            yield "events", columns_of(rows)
            rows = []
    if rows:
        yield "events", columns_of(rows)


def _operation(
    raw: RawRecord | Mapping[str, object], coercers: rec.Coercers, source: str, line: int
) -> Operation:
    try:
        ext_id = rec.record_id(raw)
        op = rec.record_op(raw)
        if op == "delete":
            return Operation("delete", ext_id, {})
        if op == "upsert":
            fields = rec.upsert_fields(raw, coercers)
            if fields is None:
                normal = rec.normalise_fields(rec.flatten(raw), coercers)
                fields = {k: v for k, v in normal.items() if v is not None}
            return Operation(op, ext_id, fields)
        return Operation(op, ext_id, rec.normalise_fields(rec.flatten(raw), coercers))
    except ValueError as exc:
        raise RecordError(source, line, str(exc)) from None
