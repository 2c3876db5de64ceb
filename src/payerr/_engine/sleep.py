"""The engine's sleeps, and the switch that makes them instant.

Retry loops and cooldown waits sleep here, never in the public ``payerr.testing``
module: tests switch recording on through ``payerr.testing``, production code
only ever sleeps.
"""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_recorders: list[list[float]] = []
"""While a test records, every sleep is appended to each recorder instead of slept."""


def _record(seconds: float) -> bool:
    if not _recorders:  # the common case, read without the lock
        return False
    with _lock:
        if not _recorders:
            return False
        for recorder in _recorders:
            recorder.append(seconds)
        return True


def record_into(recorder: list[float]) -> None:
    """Sleeps become instant and are appended to ``recorder`` until ``stop_recording``."""
    with _lock:
        _recorders.append(recorder)


def stop_recording(recorder: list[float]) -> None:
    with _lock:
        _recorders.remove(recorder)


def sleep(seconds: float) -> None:
    """The sleep of the sync loop: instant while a test records."""
    if not _record(seconds):
        time.sleep(seconds)


async def asleep(seconds: float) -> None:
    """The sleep of the async loop, asyncio or trio: instant while a test records."""
    if not _record(seconds):
        from .._coordination.aio import sleep as aio_sleep  # only when async runs

        await aio_sleep(seconds)
