"""Time passing: re-evaluate segments whose answer can change with the clock.

Rules with relative dates (`within_last`, `older_than`, event windows, "the last N
campaigns") change membership without any write. Once per interval (default 60 s,
`BITSEG_REEVALUATE_SECONDS`) every org's segments are re-evaluated at the current
time on the writer thread; joins and leaves are logged with cause "time", and an org
where nobody moved is left untouched (no write, caches stay warm).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from bitseg.service import Service

log = logging.getLogger("bitseg.scheduler")

DEFAULT_INTERVAL = 60.0


def interval_from_env() -> float:
    raw = os.environ.get("BITSEG_REEVALUATE_SECONDS", "")
    try:
        return max(0.05, float(raw)) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


async def reevaluate_forever(
    service: Service, writer: ThreadPoolExecutor, interval: float
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        try:
            moved = await loop.run_in_executor(writer, service.reevaluate_all)
        except Exception:  # one bad org must not stop the clock for the others
            log.exception("time-based re-evaluation failed")
            continue
        if any(moved.values()):
            log.info("time-based re-evaluation: %s", moved)
