"""A local fake of the four providers, with scripted faults and an idempotency ledger.

Real HTTP on 127.0.0.1: point a payerr-wrapped client (pinned to a provider) at
``Sandbox().url`` and script what each route answers.
"""

from ._routes import CMI_APP_KEY, CMI_APP_SECRET, wsse_digest
from ._server import Sandbox
from ._state import Ledger

__all__ = ["CMI_APP_KEY", "CMI_APP_SECRET", "Ledger", "Sandbox", "wsse_digest"]
