"""A batch's files parsed in a second process while the writer applies what came before.

Parsing (JSON, record normalisation, the events scan) and writing (diffs, encoding,
bitmaps) each take a core's worth of time on a bulk load. `Prefetch` starts a child
process — a fresh interpreter running `python -m indexer.prefetch`, so nothing of the
parent (threads, LMDB handles, its `__main__`) is inherited or re-run — that parses
every file of the batch in apply order with the same code as in process
(`batch.kind_chunks`) and sends the chunks back over a pipe. A thread of the parent
receives them (as bytes, up to `MAX_QUEUED_BYTES` ahead of the writer), and the writer
takes them kind by kind: the same chunks, in the same order, as parsing in process,
and a bad line is the same `RecordError` (`file:line: message`), raised when the
writer reaches it. `close` ends the child, so an aborted batch does not leave it running.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import orjson

from bitseg.errors import RecordError
from bitseg.schema import OrgSchema

if TYPE_CHECKING:
    from indexer.batch import FileInput

MIN_BYTES = 64 << 20  # smaller batches are parsed in process (a child costs ~0.5 s to start)
MAX_QUEUED_BYTES = 384 << 20  # parsed chunks received ahead of the writer, pickled


def prefetchable(files: Sequence[FileInput]) -> list[tuple[str, str, str, str, int]] | None:
    """(kind, name, fmt, path, offset) of every file, when all are regular files (opened
    streams the child can re-open) holding at least `MIN_BYTES` together; else None."""
    out = []
    total = 0
    for f in files:
        data: bytes | BinaryIO = f.data
        name = getattr(data, "name", None)
        if isinstance(data, bytes | bytearray) or not isinstance(name, str):
            return None
        try:
            if not data.seekable() or not os.path.isfile(name):
                return None
            offset = data.tell()
            total += os.path.getsize(name) - offset
        except (OSError, ValueError):
            return None
        out.append((f.kind, f.name, f.fmt, name, offset))
    return out if out and total >= MIN_BYTES else None


class Prefetch:
    """The chunks of a batch's files, parsed by a child process; see the module doc."""

    def __init__(
        self, schema: OrgSchema, files: list[tuple[str, str, str, str, int]], chunk: int
    ) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)  # where `indexer` is importable
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        job = orjson.dumps({"schema": schema.to_json(), "files": files, "chunk": chunk})
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "indexer.prefetch", str(write_fd)],
                stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        assert self._process.stdin is not None
        with self._process.stdin as stdin:
            stdin.write(job)
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(
            target=self._receive, args=(Connection(read_fd, writable=False),), daemon=True,
            name="bitseg-prefetch-receiver",
        )
        self._thread.start()

    def _receive(self, receiver: Connection) -> None:
        """Receive until the child closes the pipe (after its last message, or dying)."""
        with receiver:
            while True:
                try:
                    message = receiver.recv_bytes()
                except (EOFError, OSError):
                    self._put(_message("failed", None, "the parser process ended unexpectedly"))
                    return
                if not self._put(message):
                    return

    def _put(self, message: bytes) -> bool:
        """Queue one message, waiting while too much is queued; False once closed."""
        with self._ready:
            while self._queued > MAX_QUEUED_BYTES and not self._closed:
                self._ready.wait()
            if self._closed:
                return False
            self._queue.append(message)
            self._queued += len(message)
            self._ready.notify_all()
            return True

    def _next(self) -> tuple[str, object, object]:
        with self._ready:
            while not self._queue:
                self._ready.wait()
            message = self._queue.popleft()
            self._queued -= len(message)
            self._ready.notify_all()
        # A chunk of contacts is a million objects: unpickled with the collector paused,
        # which would otherwise walk the writer's whole heap several times meanwhile.
        paused = gc.isenabled()
        gc.disable()
        try:
            return pickle.loads(message)  # type: ignore[no-any-return]
        finally:
            if paused:
                gc.enable()

    def chunks(self, kind: str) -> Iterator[tuple[str, object]]:
        """The chunks of `kind` (kinds must be asked for in apply order)."""
        from indexer.batch import Operation

        while True:
            tag, got, payload = self._next()
            if tag == "chunk":
                if isinstance(payload, list):  # operations, sent as plain tuples
                    yield got, list(map(Operation._make, payload))  # type: ignore[arg-type]
                else:  # event or contact columns
                    yield got, payload
            elif tag == "end" and got == kind:
                return
            elif tag == "error":
                source, line, message = payload  # type: ignore[misc]
                raise RecordError(source, line, message)
            else:
                raise RuntimeError(f"bulk-load parser: {payload}")

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()
        self._thread.join()


def _message(*parts: object) -> bytes:
    # Without the memo ("fast" mode: nothing sent refers to itself) pickling a chunk
    # takes a third of the time, for a quarter more bytes through a local pipe.
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(parts)
    return out.getvalue()


def _parse(job: dict[str, object], sender: Connection) -> None:
    """The child: every file's chunks in apply order, each kind closed by an "end"."""
    from indexer.batch import APPLY_ORDER, FileInput, kind_chunks

    # Nothing parsed here outlives its chunk, and chunks are freed by reference counting:
    # the cyclic collector would only walk each chunk's million objects again and again.
    gc.disable()
    schema = OrgSchema.from_json(job["schema"])  # type: ignore[arg-type]
    chunk = int(job["chunk"])  # type: ignore[call-overload]
    with contextlib.ExitStack() as stack:
        files = []
        for kind, name, fmt, path, offset in job["files"]:  # type: ignore[attr-defined]
            stream = stack.enter_context(open(path, "rb"))  # noqa: SIM115
            stream.seek(offset)
            files.append(FileInput(kind, name, fmt, stream))
        try:
            for kind in APPLY_ORDER:
                for got, payload in kind_chunks(kind, schema, files, [], chunk):
                    if isinstance(payload, list):  # plain tuples: smaller, faster to pickle
                        payload = list(map(tuple, payload))
                    sender.send_bytes(_message("chunk", got, payload))
                sender.send_bytes(_message("end", kind, None))
        except RecordError as exc:
            sender.send_bytes(_message("error", None, (exc.source, exc.line, exc.detail)))
        except BrokenPipeError:
            pass  # the parent has gone (or closed the batch): nothing left to do
        except BaseException as exc:  # reported to the parent, which aborts the batch
            sender.send_bytes(_message("failed", None, f"{type(exc).__name__}: {exc}"))


if __name__ == "__main__":
    _job = orjson.loads(sys.stdin.buffer.read())
    with Connection(int(sys.argv[1]), readable=False) as _sender:
        _parse(_job, _sender)
