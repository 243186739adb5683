"""An events file scanned by both bulk-load processes: blocks claimed from either end.

On a bulk load the parse process scans the events (the longest file) while the writer
only counts them, and the writer used to wait for blocks several seconds of the events
phase. With a shared file the parse process claims fixed blocks of it from the front and
the writer, whenever no parsed block is waiting for it, claims blocks from the back and
scans them itself. The two meet somewhere in the middle; the claims live in a small
file both processes lock (`BlockClaims`), so no block is scanned twice or left out.

Block k holds the lines that start in bytes [k * size, (k + 1) * size) of the file (from
its start offset), so both processes cut the same blocks without talking. The writer
holds the blocks it scanned and applies them after the parse process's last block of
the file, in file order: events then come in exactly the order of the lines (contacts
that only appear in events are numbered as they come), and the store is the same as
with one scanning process.

Errors stay those of a sequential scan: the parse process's blocks come first in the
file, so its error (if any) is the one reported; an error in a block the writer scanned
is kept and raised once the parse process has scanned all its blocks without one, with
its line number counted then (the writer does not know how many lines precede a block
from the back until it needs to).
"""

from __future__ import annotations

import fcntl
import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bitseg.errors import RecordError
from indexer.eventscan import EventColumns, scan_block

SHARED_BLOCK_BYTES = 8 << 20
_STATE = struct.Struct("<qq")  # the next block from the front, one past the last unclaimed
_READ = 1 << 16


class BlockClaims:
    """Blocks 0..count-1 claimed from the front or the back, across processes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR)

    @classmethod
    def create(cls, count: int) -> BlockClaims:
        fd, path = tempfile.mkstemp(prefix="bitseg-claims-")
        try:
            os.write(fd, _STATE.pack(0, count))
        finally:
            os.close(fd)
        return cls(path)

    def front(self) -> int | None:
        """The next block from the front, or None when every block is claimed."""
        return self._claim(True)

    def back(self) -> int | None:
        """The last unclaimed block, or None when every block is claimed."""
        return self._claim(False)

    def _claim(self, from_front: bool) -> int | None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            front, back = _STATE.unpack(os.pread(self._fd, _STATE.size, 0))
            if front >= back:
                return None
            if from_front:
                block, front = front, front + 1
            else:
                block = back = back - 1
            os.pwrite(self._fd, _STATE.pack(front, back), 0)
            return block
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self, remove: bool = False) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if remove:
            Path(self.path).unlink(missing_ok=True)


def block_count(path: str, offset: int, size: int = SHARED_BLOCK_BYTES) -> int:
    return max(0, -(-(os.path.getsize(path) - offset) // size))


class BlockReader:
    """Block k of a file (see the module doc) as bytes of whole lines."""

    def __init__(self, path: str, offset: int, size: int = SHARED_BLOCK_BYTES) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self.offset = offset
        self.size = size
        self.end = os.fstat(self._fd).st_size

    def bounds(self, block: int) -> tuple[int, int]:
        """Byte range [start, stop) of block `block`."""
        return self._line_start(self.offset + block * self.size), self._line_start(
            self.offset + (block + 1) * self.size
        )

    def read(self, block: int) -> tuple[int, bytes]:
        start, stop = self.bounds(block)
        return start, os.pread(self._fd, max(0, stop - start), start)

    def lines_before(self, position: int) -> int:
        """Newlines in [offset, position): the line number of `position` minus one."""
        count, at = 0, self.offset
        while at < position:
            piece = os.pread(self._fd, min(16 << 20, position - at), at)
            if not piece:
                break
            count += piece.count(b"\n")
            at += len(piece)
        return count

    def _line_start(self, position: int) -> int:
        """The first line start at or after `position` (the file's end if none)."""
        if position <= self.offset:
            return self.offset
        at = position - 1  # a line starts at `position` when the byte before is "\n"
        while at < self.end:
            piece = os.pread(self._fd, _READ, at)
            if not piece:
                break
            cut = piece.find(b"\n")
            if cut >= 0:
                return min(at + cut + 1, self.end)
            at += len(piece)
        return self.end

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def front_blocks(
    reader: BlockReader, claims: BlockClaims, source: str
) -> Iterator[EventColumns]:
    """The parse process's part: blocks from the front, in order, with their line numbers
    (its blocks are contiguous from the file's start, so lines are counted as it goes)."""
    line = 1
    while (block := claims.front()) is not None:
        _, data = reader.read(block)
        columns = scan_block(data, source, line)
        line += data.count(b"\n")
        if len(columns):
            yield columns


class BackScanner:
    """The writer's part of one shared file: blocks from the back, held until the parse
    process's last block of the file has been applied (`take`)."""

    def __init__(self, reader: BlockReader, claims: BlockClaims, source: str) -> None:
        self.reader = reader
        self.claims = claims
        self.source = source
        self.held: list[EventColumns] = []  # in claim order: from the back of the file
        self.error: RecordError | None = None
        self.blocks = 0
        self.held_bytes = 0

    def scan_one(self) -> bool:
        """Claim and scan one block from the back; False when none is left (or after an
        error, which stops the writer's part)."""
        if self.error is not None:
            return False
        block = self.claims.back()
        if block is None:
            return False
        start, data = self.reader.read(block)
        self.blocks += 1
        try:
            columns = scan_block(data, self.source, 1)
        except RecordError as e:  # line counted now: the lines before the block
            line = self.reader.lines_before(start) + e.line
            self.error = RecordError(e.source, line, e.detail)
            return False
        if len(columns):
            self.held.append(columns)
            self.held_bytes += sum(
                a.nbytes for a in (columns.contacts, columns.types, columns.campaigns,
                                   columns.times)
            ) + 64 * len(columns.contact_ids)
        return True

    def take(self) -> list[EventColumns]:
        """The held blocks in file order, or the error of one of them."""
        if self.error is not None:
            raise self.error
        held, self.held = self.held[::-1], []
        self.held_bytes = 0
        return held

    def close(self) -> None:
        self.reader.close()
        self.claims.close(remove=True)
