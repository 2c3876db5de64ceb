"""A local fake of the four providers, with scripted faults and an idempotency ledger.

Real HTTP on 127.0.0.1: point a payerr-wrapped client (pinned to a provider) at
``Sandbox().url`` and script what each route answers.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .._engine.wsse import wsse_digest, wsse_headers
from ._routes import CMI_APP_KEY, CMI_APP_SECRET
from ._server import Sandbox
from ._state import Ledger

__all__ = [
    "CMI_APP_KEY",
    "CMI_APP_SECRET",
    "Ledger",
    "Sandbox",
    "sandbox_url",
    "wsse_digest",
    "wsse_headers",
]


@contextmanager
def sandbox_url() -> Iterator[str]:
    """``PAYERR_SANDBOX_URL`` when it is set, else a sandbox started for the block."""
    url = os.environ.get("PAYERR_SANDBOX_URL")
    if url:
        yield url.rstrip("/")
        return
    with Sandbox() as sandbox:
        yield sandbox.url
