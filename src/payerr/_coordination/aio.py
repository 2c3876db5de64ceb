"""The two async primitives payerr needs, for asyncio and trio alike.

httpx runs on either; so must the retry sleep and the wait for a token refresh
that another thread or event loop is running. Nothing here is imported until
async code runs.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def _library() -> str:
    try:
        import sniffio

        return sniffio.current_async_library()
    except Exception:  # sniffio missing or undecided: httpx's default
        return "asyncio"


async def sleep(seconds: float) -> None:
    """Sleep on whichever event loop is running."""
    if _library() == "trio":
        import trio

        await trio.sleep(seconds)
    else:
        import asyncio

        await asyncio.sleep(seconds)


async def wait(future: Future[T]) -> T:
    """Wait for a ``concurrent.futures.Future`` another thread or loop will complete."""
    if future.done():
        return future.result()
    if _library() == "trio":
        import trio

        result: T = await trio.to_thread.run_sync(future.result)
        return result
    import asyncio

    # Shielded: a waiter that is cancelled leaves; the shared future stays for the others.
    return await asyncio.shield(asyncio.wrap_future(future))
