"""The one switch the retry loop reads for metrics: None (off) unless ``payerr.otel`` set it.

Kept free of imports so that payerr never loads OpenTelemetry on its own: the
engine looks at ``hook`` once per event and does nothing more while it is None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # a Protocol is for type checkers: not built on every start
    from .._errors import PayError
    from .._retry.policy import Attempt

    class Hook(Protocol):
        """What the engine reports, each event from one place shared by every client."""

        def answered(self, provider: str) -> None:
            """A request was sent and the provider answered with a success."""
            ...

        def failed(self, error: PayError, retry: Attempt | None, sent: bool) -> None:
            """An attempt failed; ``retry`` is set when it will be retried, ``sent`` is False
            when nothing reached the provider (a cooldown held it, a refresh failed)."""
            ...

        def waited(self, provider: str, seconds: float) -> None:
            """A request is about to sit out a cooldown another request started."""
            ...

        def refreshed(self, provider: str, error: PayError | None) -> None:
            """A token was fetched (``error`` is what asked for it; None for the first one)."""
            ...


hook: Hook | None = None
"""Set by ``payerr.otel.instrument()``, cleared by ``payerr.otel.uninstrument()``."""
