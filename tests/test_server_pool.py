"""bitseg.server.pool.ActivePool: few calls at once, none stuck behind long ones."""

from __future__ import annotations

import threading
import time

import pytest

from bitseg.server.pool import ActivePool

WAIT = 10.0


def test_results_and_errors_reach_the_futures() -> None:
    pool = ActivePool(8, active=2)
    try:
        assert pool.submit(lambda a, b=0: a + b, 2, b=3).result(WAIT) == 5
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 // 0).result(WAIT)
        done: list[object] = []
        future = pool.submit(lambda: "x")
        future.result(WAIT)
        future.add_done_callback(done.append)  # already done: called at once
        assert done == [future]
    finally:
        pool.shutdown()


def test_at_most_active_calls_run_at_once_and_the_rest_in_order() -> None:
    pool = ActivePool(16, active=2, overflow=WAIT * 3)  # nothing ages out here
    gate = threading.Event()
    lock = threading.Lock()
    running = peak = 0
    order: list[int] = []

    def call(i: int) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            order.append(i)
        gate.wait(WAIT)
        with lock:
            running -= 1

    try:
        futures = [pool.submit(call, i) for i in range(10)]
        time.sleep(0.2)
        assert len(order) == 2  # the others wait for a slot
        gate.set()
        for f in futures:
            f.result(WAIT)
        assert peak == 2
        assert order[:2] == [0, 1] and sorted(order) == list(range(10))
        assert order[2:] == sorted(order[2:])  # first come, first served
    finally:
        gate.set()
        pool.shutdown()


def test_a_long_call_stops_counting_after_overflow() -> None:
    pool = ActivePool(8, active=1, overflow=0.05)
    release = threading.Event()
    try:
        long = pool.submit(release.wait, WAIT)
        time.sleep(0.01)
        started = time.monotonic()
        assert pool.submit(lambda: "quick").result(WAIT) == "quick"  # while `long` runs
        assert time.monotonic() - started < 2.0
        assert not long.done()
    finally:
        release.set()
        pool.shutdown()


def test_queued_calls_move_on_without_new_arrivals() -> None:
    """The monitor alone frees the slots of calls that run on and on (live streams)."""
    pool = ActivePool(8, active=2, overflow=0.05)
    release = threading.Event()
    try:
        streams = [pool.submit(release.wait, WAIT) for _ in range(2)]
        queued = [pool.submit(lambda i=i: i) for i in range(3)]
        assert [f.result(WAIT) for f in queued] == [0, 1, 2]
        assert not any(s.done() for s in streams)
    finally:
        release.set()
        pool.shutdown()


def test_threads_are_reused_and_bounded() -> None:
    pool = ActivePool(3, active=8, overflow=0.05)
    release = threading.Event()
    try:
        for _ in range(50):
            pool.submit(lambda: None).result(WAIT)
        assert len(pool._threads) == 1  # one call at a time: one thread, reused
        blocked = [pool.submit(release.wait, WAIT) for _ in range(3)]
        extra = pool.submit(lambda: "later")
        time.sleep(0.2)
        assert len(pool._threads) == 3 and not extra.done()  # every thread is busy
        release.set()
        assert extra.result(WAIT) == "later"
        assert all(b.result(WAIT) for b in blocked)
    finally:
        release.set()
        pool.shutdown()


def test_shutdown_runs_what_is_queued_then_refuses() -> None:
    pool = ActivePool(4, active=1, overflow=WAIT * 3)
    gate = threading.Event()
    first = pool.submit(gate.wait, WAIT)
    queued = [pool.submit(lambda i=i: i) for i in range(3)]
    threading.Timer(0.1, gate.set).start()
    pool.shutdown(wait=True)
    assert first.result(0) is True
    assert [f.result(0) for f in queued] == [0, 1, 2]
    assert not any(t.is_alive() for t in pool._threads)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def test_shutdown_can_cancel_what_is_queued() -> None:
    pool = ActivePool(4, active=1, overflow=WAIT * 3)
    gate = threading.Event()
    first = pool.submit(gate.wait, WAIT)
    queued = pool.submit(lambda: "never")
    threading.Timer(0.1, gate.set).start()
    pool.shutdown(wait=True, cancel_futures=True)
    assert first.result(0) is True
    assert queued.cancelled()


def test_many_threads_submitting_at_once() -> None:
    pool = ActivePool(32, active=2, overflow=0.01)
    results: list[int] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(200):
            value = pool.submit(lambda i=i: i * k).result(WAIT)
            with lock:
                results.append(value)

    try:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT * 3)
        assert len(results) == 8 * 200
        assert sum(results) == sum(i * k for k in range(8) for i in range(200))
    finally:
        pool.shutdown()


def test_a_call_that_steps_aside_lets_queued_calls_start_at_once() -> None:
    pool = ActivePool(8, active=1, overflow=WAIT * 3)  # nothing ages out here
    release = threading.Event()
    stepped = threading.Event()

    def held_stream() -> None:
        pool.step_aside()  # as a held stream does when it starts
        stepped.set()
        release.wait(WAIT)

    try:
        long = pool.submit(held_stream)
        assert stepped.wait(WAIT)
        started = time.monotonic()
        assert pool.submit(lambda: "quick").result(WAIT) == "quick"  # its slot is free
        assert time.monotonic() - started < 2.0
        assert not long.done()
        pool.step_aside()  # off the pool's threads: nothing to do
    finally:
        release.set()
        pool.shutdown()
