"""Assemble one Ingest client stream into one batch for `Service.ingest`.

The stream is one atomic batch: file chunks are joined per file name in arrival
order, single records are parsed from their JSON text, schema declarations are
merged. Only the wire-level shape is checked here (org, kind, op and format names,
a record being a JSON object); the records themselves are checked by the service,
which applies the whole batch or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from bitseg.errors import InvalidArgument, RecordError
from bitseg.service import SourceFile
from bitseg.v1 import bitseg_pb2 as pb

KINDS = ("contacts", "companies", "deals", "campaigns", "events")
OPS = ("upsert", "patch", "delete")
FORMATS = ("jsonl", "csv")


@dataclass
class _File:
    kind: str
    fmt: str
    parts: list[bytes] = field(default_factory=list)


@dataclass
class IngestBatch:
    """The batch being received; feed messages with `add`, then call `finish`."""

    org: str = ""
    files: dict[str, _File] = field(default_factory=dict)
    records: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)
    schema: dict[str, str] = field(default_factory=dict)
    messages: int = 0

    def add(self, msg: pb.IngestRequest) -> None:
        """Take one stream message."""
        self.messages += 1
        if msg.org:
            if self.org and msg.org != self.org:
                raise InvalidArgument(
                    f'org: one ingest stream is one org; got "{msg.org}" after "{self.org}"'
                )
            self.org = msg.org
        elif not self.org:
            raise InvalidArgument("org: the first ingest message must name the org")
        item = msg.WhichOneof("item")
        if item == "file":
            self._add_chunk(msg.file)
        elif item == "record":
            self._add_record(msg.record)
        elif item == "schema":
            self.schema.update(msg.schema.custom_fields)

    def _add_chunk(self, chunk: pb.FileChunk) -> None:
        name = chunk.name
        if not name:
            raise InvalidArgument("file.name: every file chunk needs the file's name")
        current = self.files.get(name)
        if current is None:
            kind = chunk.kind or _kind_from_name(name)
            fmt = chunk.format or _format_from_name(name)
            if kind not in KINDS:
                raise InvalidArgument(f"{name}: file.kind must be one of {', '.join(KINDS)}")
            if fmt not in FORMATS:
                raise InvalidArgument(f"{name}: file.format must be jsonl or csv, got \"{fmt}\"")
            current = self.files[name] = _File(kind, fmt)
        elif (chunk.kind and chunk.kind != current.kind) or (
            chunk.format and chunk.format != current.fmt
        ):
            raise InvalidArgument(f"{name}: a later chunk changes the file's kind or format")
        current.parts.append(chunk.data)

    def _add_record(self, record: pb.Record) -> None:
        index = len(self.records) + 1
        kind = record.kind or "contacts"
        op = record.op or "upsert"
        if kind not in KINDS:
            raise RecordError("records", index, f"kind must be one of {', '.join(KINDS)}")
        if op not in OPS:
            raise RecordError("records", index, f"op must be one of {', '.join(OPS)}")
        try:
            obj = orjson.loads(record.json)
        except orjson.JSONDecodeError as e:
            raise RecordError("records", index, f"malformed JSON: {e}") from None
        if not isinstance(obj, dict):
            raise RecordError("records", index, "a record is a JSON object")
        self.records.append((kind, op, obj))

    def finish(self) -> tuple[str, list[SourceFile], list[tuple[str, str, dict[str, object]]]]:
        """(org, files, records) once the stream has ended."""
        if not self.messages:
            raise InvalidArgument("ingest: the stream carried no messages")
        files = [
            SourceFile(kind=f.kind, name=name, fmt=f.fmt, data=b"".join(f.parts))
            for name, f in self.files.items()
        ]
        return self.org, files, self.records


def _kind_from_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0]
    return stem if stem in KINDS else ""


def _format_from_name(name: str) -> str:
    return "csv" if name.lower().endswith(".csv") else "jsonl"
