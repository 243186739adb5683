"""Parsing one ingest batch into typed operations, all-or-nothing.

A batch is files (JSON Lines / CSV, one entity kind per file) plus loose records
(from the gRPC stream) plus custom field declarations. Every record is parsed and
normalised before anything is written; the first bad one raises RecordError naming
its file and line, so nothing of the batch is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bitseg.errors import InvalidArgument, RecordError
from bitseg.schema import CUSTOM_TYPES, FieldType, OrgSchema
from indexer import records as rec
from indexer.sources import RawRecord, read_csv, read_jsonl

KINDS = ("contacts", "companies", "deals", "campaigns", "events")
SUPPORTED_KINDS = ("contacts", "companies")


@dataclass(frozen=True)
class Operation:
    op: rec.Op
    id: str
    fields: rec.Fields  # typed; in a patch, None means "remove this field"


@dataclass
class ParsedBatch:
    schema: OrgSchema
    ops: dict[str, list[Operation]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def count(self) -> int:
        return sum(len(v) for v in self.ops.values())


@dataclass(frozen=True)
class FileInput:
    kind: str
    name: str
    fmt: str
    data: bytes


def declare(schema: OrgSchema, declared: Mapping[str, str] | None) -> OrgSchema:
    """The schema with custom field declarations added; a type change is refused."""
    if not declared:
        return schema
    new: dict[str, FieldType] = {}
    for name, type_name in declared.items():
        bare = name.removeprefix("custom.")
        if not bare or "\x00" in bare:
            raise InvalidArgument(f'schema: "{name}" is not a valid custom field name')
        try:
            kind = FieldType(type_name)
        except ValueError:
            kind = None
        if kind not in CUSTOM_TYPES:
            allowed = ", ".join(sorted(t.value for t in CUSTOM_TYPES))
            raise InvalidArgument(f'schema.{bare}: unknown type "{type_name}" (use {allowed})')
        old = schema.custom.get(bare)
        if old is not None and old != kind:
            raise InvalidArgument(
                f"schema.{bare}: custom.{bare} is already declared as {old}; it cannot become {kind}"
            )
        new[bare] = kind  # type: ignore[assignment]
    return schema.with_custom(new)


def parse_batch(
    schema: OrgSchema,
    files: Iterable[FileInput],
    records: Iterable[tuple[str, str, Mapping[str, object]]] = (),
    declared: Mapping[str, str] | None = None,
) -> ParsedBatch:
    batch = ParsedBatch(schema=declare(schema, declared))
    for f in files:
        _check_kind(f.kind, f.name)
        type_of = _type_of(f.kind, batch.schema)
        if f.fmt == "jsonl":
            rows = read_jsonl(f.data, f.name)
        elif f.fmt == "csv":
            rows = read_csv(f.data, f.name, type_of)
        else:
            raise InvalidArgument(f'{f.name}: unknown format "{f.fmt}" (use jsonl or csv)')
        for line, raw in rows:
            batch.ops[f.kind].append(_operation(f.kind, raw, type_of, f.name, line))
    for index, (kind, op, raw) in enumerate(records, start=1):
        _check_kind(kind, "records")
        merged = dict(raw)
        merged.setdefault("op", op)
        batch.ops[kind].append(
            _operation(kind, merged, _type_of(kind, batch.schema), "records", index)
        )
    return batch


def _check_kind(kind: str, source: str) -> None:
    if kind not in KINDS:
        raise InvalidArgument(f'{source}: unknown record kind "{kind}" (use {", ".join(KINDS)})')
    if kind not in SUPPORTED_KINDS:
        raise InvalidArgument(
            f"{source}: {kind} are not indexed by this version yet (contacts and companies are)"
        )


def _type_of(kind: str, schema: OrgSchema) -> Callable[[str], FieldType | None]:
    return rec.contact_type(schema) if kind == "contacts" else rec.company_type


def _operation(
    kind: str,
    raw: RawRecord | Mapping[str, object],
    type_of: Callable[[str], FieldType | None],
    source: str,
    line: int,
) -> Operation:
    try:
        ext_id = rec.record_id(raw)
        op = rec.record_op(raw)
        if op == "delete":
            return Operation("delete", ext_id, {})
        fields = rec.normalise_fields(rec.flatten(raw), type_of)
        if op == "upsert":
            fields = {k: v for k, v in fields.items() if v is not None}
        return Operation(op, ext_id, fields)
    except ValueError as exc:
        raise RecordError(source, line, str(exc)) from None
