"""Testing helpers: make payerr's retry sleeps instant and see what they would have been.

with payerr.testing.instant_sleeps() as sleeps:
    client.get(...)
assert sleeps == [0.2]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_recorders: list[list[float]] = []


def _record(seconds: float) -> bool:
    with _lock:
        if not _recorders:
            return False
        for recorder in _recorders:
            recorder.append(seconds)
        return True


def sleep(seconds: float) -> None:
    """The sleep payerr's sync loops use: instant while a test asks for it."""
    if not _record(seconds):
        time.sleep(seconds)


async def asleep(seconds: float) -> None:
    """The sleep payerr's async loop uses: instant while a test asks for it."""
    if not _record(seconds):
        from ._aio import sleep as aio_sleep  # asyncio or trio, imported only when async runs

        await aio_sleep(seconds)


@contextmanager
def instant_sleeps() -> Iterator[list[float]]:
    """Within this block, payerr never sleeps; the delays it chose are collected."""
    recorder: list[float] = []
    with _lock:
        _recorders.append(recorder)
    try:
        yield recorder
    finally:
        with _lock:
            _recorders.remove(recorder)


def set_testing(on: bool) -> None:
    """Turn instant sleeps on or off for the whole process (an autouse fixture's switch)."""
    global _global
    with _lock:
        if on and _global is None:
            _global = []
            _recorders.append(_global)
        elif not on and _global is not None:
            _recorders.remove(_global)
            _global = None


_global: list[float] | None = None
