"""The gRPC server's thread pool: few calls at once per process, none stuck behind a long one.

grpcio's threaded server hands every call to a pool thread, which then waits twice for
the poller thread (for the request message, for the answer to be sent) while other
threads take the GIL. With a thread per in-flight call (`ThreadPoolExecutor`), 8
concurrent Counts per process meant 8 threads waking up and contending for the GIL:
16 clients on a 2-worker server did 3,933 counts/s at 303 µs of server CPU per call.
Letting only 2 calls run at once per process, a thread that finishes one takes the next
queued one without sleeping: 5,164 counts/s at 221 µs (interleaved A/B on the 2-core
benchmark machine, load average 8-10 from other work); one client alone is unchanged.

`ActivePool(max_workers, active, overflow)`: calls start in arrival order while fewer
than `active` of them are running; a call that has been running for more than
`overflow` seconds stops counting (a live Watch stream, an Ingest, a cold count over
millions of contacts, a write waiting for the writer thread), so the queue moves on
without it and nothing waits much longer than `overflow` (plus half of it) behind long
calls. A monitor thread ages calls out while some wait (it sleeps otherwise); a call
that knows it will mostly wait (a held stream) steps aside at once (`step_aside`).
Threads start when needed, at most `max_workers`, and the most recently idle one is
reused.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _Worker:
    __slots__ = ("item", "wake", "started", "counted")

    def __init__(self) -> None:
        self.item: _Item | None = None
        self.wake = threading.Lock()  # held while idle: released to hand over an item
        self.wake.acquire()
        self.started = 0.0
        self.counted = False  # running an item that counts against `active`


class ActivePool(Executor):
    """See the module docstring."""

    def __init__(
        self,
        max_workers: int,
        active: int = 2,
        overflow: float = 0.01,
        thread_name_prefix: str = "pool",
    ) -> None:
        if max_workers < 1 or active < 1 or overflow <= 0:
            raise ValueError("max_workers and active: at least 1; overflow: above 0")
        self.max_workers = max_workers
        self.active = active
        self.overflow = overflow
        self._prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._queue: deque[_Item] = deque()
        self._idle: list[_Worker] = []  # the last one to go idle is woken first
        self._running: set[_Worker] = set()
        self._counted = 0  # running items that count against `active`
        self._threads: list[threading.Thread] = []
        self._shutdown = False
        self._monitor_wake = threading.Event()
        self._monitor_parked = False
        self._monitor: threading.Thread | None = None
        self._local = threading.local()  # .worker: the pool thread's own _Worker

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        item: _Item = (future, fn, args, kwargs)
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new calls after shutdown")
            self._queue.append(item)
            start = self._dispatch()
            if self._queue and self._monitor_parked:
                self._monitor_parked = False
                self._monitor_wake.set()
        for thread in start:
            thread.start()
        return future

    def _dispatch(self) -> list[threading.Thread]:
        """Start queued items while fewer than `active` count (under the lock); returns
        new threads to start once the lock is released."""
        start = []
        while self._queue and self._counted < self.active:
            if self._idle:
                worker = self._idle.pop()
                self._begin(worker, self._queue.popleft())
                worker.wake.release()
            elif len(self._threads) < self.max_workers:
                worker = _Worker()
                self._begin(worker, self._queue.popleft())
                thread = threading.Thread(
                    target=self._work, args=(worker,), daemon=True,
                    name=f"{self._prefix}_{len(self._threads)}",
                )
                self._threads.append(thread)
                start.append(thread)
            else:
                break  # every thread is busy: the first to finish takes the next item
        if self._queue and self._monitor is None and not self._shutdown:
            self._monitor = threading.Thread(
                target=self._age, daemon=True, name=f"{self._prefix}_monitor"
            )
            start.append(self._monitor)
        return start

    def _begin(self, worker: _Worker, item: _Item) -> None:
        worker.item = item
        worker.started = time.monotonic()
        worker.counted = True
        self._counted += 1
        self._running.add(worker)

    def step_aside(self) -> None:
        """From a running call that will mostly wait (a held stream): stop counting it
        against `active` now, rather than after `overflow`, so queued calls start.
        Nothing happens off the pool's threads."""
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None:
            return
        start: list[threading.Thread] = []
        with self._lock:
            if worker.counted:
                worker.counted = False
                self._counted -= 1
                start = self._dispatch()
        for thread in start:
            thread.start()

    def _work(self, worker: _Worker) -> None:
        self._local.worker = worker
        while True:
            item = worker.item
            if item is None:
                return  # shut down
            future, fn, args, kwargs = item
            worker.item = None
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as e:
                    future.set_exception(e)
                else:
                    future.set_result(result)
            del item, future, fn, args, kwargs
            start: list[threading.Thread] = []
            with self._lock:
                self._running.discard(worker)
                if worker.counted:
                    worker.counted = False
                    self._counted -= 1
                if self._queue and self._counted < self.active:
                    self._begin(worker, self._queue.popleft())  # no sleep in between
                    start = self._dispatch()  # more may be startable meanwhile
                    idle = False
                elif self._shutdown:
                    return
                else:
                    self._idle.append(worker)
                    idle = True
            for thread in start:
                thread.start()
            if idle:
                worker.wake.acquire()  # until handed an item (None: shut down)

    def _age(self) -> None:
        """While calls wait: stop counting the ones running longer than `overflow`."""
        while True:
            start: list[threading.Thread] = []
            with self._lock:
                if self._shutdown:
                    return
                self._monitor_wake.clear()  # set by shutdown, or by submit while parked
                self._monitor_parked = not self._queue
                if self._queue:
                    limit = time.monotonic() - self.overflow
                    for worker in self._running:
                        if worker.counted and worker.started < limit:
                            worker.counted = False
                            self._counted -= 1
                    start = self._dispatch()
            for thread in start:
                thread.start()
            self._monitor_wake.wait(None if self._monitor_parked else self.overflow / 2)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new calls; queued ones still run, without the `active` limit (unless
        `cancel_futures`); with `wait`, return once every thread has ended."""
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._queue:
                    self._queue.popleft()[0].cancel()
            self.active = self.max_workers
            start = self._dispatch()
            idle, self._idle = self._idle, []
            self._monitor_wake.set()
        for thread in start:
            thread.start()
        for worker in idle:
            worker.item = None
            worker.wake.release()
        if not wait:
            return
        joined = 0
        while True:
            with self._lock:
                threads = self._threads[joined:]
                monitor = self._monitor
            if not threads:
                break
            for thread in threads:
                thread.join()
            joined += len(threads)
        if monitor is not None and monitor.ident is not None:
            monitor.join()
