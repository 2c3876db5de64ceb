"""``Outcome``: what a response means, success with its data or an error built on demand;
``Failure``: an answer that is not a success, ruled for its request, its error made later.

What a retry decision reads (category, hint, wait) is ruled when the answer comes; the
typed ``PayError`` is made when someone will see it: the caller, ``on_retry``, a log
line, telemetry, a credentials refresh, a cooldown's reason, the history of a final
error. A retried attempt that a later success makes moot never needs one, so the retry
loop decides from the ``Failure``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._enums import Category, RetryHint
from .._errors import PayError

if TYPE_CHECKING:
    from .._catalog.envelopes import Reading
    from .._catalog.model import CodeInfo, ProviderSpec
    from .build import _Ruling
    from .raw import RawResponse
    from .request import RequestFacts


class Outcome:
    """What a response means: ``ok`` with ``data``, or an ``error`` (never raised here).

    The error is built when first asked for: a caller who only wants ``ok`` and
    ``data`` pays for reading the envelope, not for the exception.
    """

    __slots__ = ("_build", "_error", "data", "ok", "provider")

    def __init__(
        self,
        ok: bool,
        data: dict[str, Any] | None,
        error: PayError | None = None,
        provider: str | None = None,
        *,
        build: Callable[[], PayError] | None = None,
    ) -> None:
        self.ok = ok
        self.data = data
        self.provider = provider
        self._error = error
        self._build = build

    @property
    def error(self) -> PayError | None:
        """The typed error, or None on success; the same object on every access."""
        if self._build is not None:
            with _BUILDING:
                if self._build is not None:
                    self._error = self._build()
                    self._build = None  # only once built: a failed build is not a success
        return self._error

    def unwrap(self) -> dict[str, Any]:
        """The data on success; the error raised otherwise."""
        error = self.error
        if error is not None:
            raise error
        return self.data if self.data is not None else {}

    def __repr__(self) -> str:
        shown = "ok" if self.ok else repr(self.error)
        return f"Outcome({shown}, provider={self.provider!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Outcome, (self.ok, self.data, self.error, self.provider))


_BUILDING = threading.Lock()
"""Two threads asking for one outcome's error get the same object."""


class Failure:
    """An answer that is not a success: what it was ruled to mean, and how its error is made.

    ``coded``: the table entry is the one for the reading's code, looked up when ruled
    (``info`` is otherwise the entry the status or the shape of the answer chose).
    """

    __slots__ = (
        "_error",
        "category",
        "coded",
        "data",
        "defer",
        "facts",
        "info",
        "now",
        "raw",
        "reading",
        "response",
        "retry",
        "retry_after",
        "ruling",
        "server_retry_after",
        "spec",
    )

    category: Category
    retry: RetryHint
    retry_after: float | None
    """What the loop honours: a server's wait is capped by the policy before the error
    is made (``Call.cooldown_due``), and the error carries the capped value."""
    server_retry_after: float | None
    ruling: _Ruling | None

    def __init__(
        self,
        raw: RawResponse,
        spec: ProviderSpec | None,
        info: CodeInfo | None,
        reading: Reading,
        data: Any,
        facts: RequestFacts | None,
        now: float | None,
        defer: bool = False,
        coded: bool = False,
    ) -> None:
        self.raw = raw
        self.spec = spec
        self.info = info
        self.reading = reading
        self.data = data
        self.facts = facts
        self.now = now
        self.defer = defer
        self.coded = coded
        self.ruling = None
        self.response: Any = None
        self._error: PayError | None = None

    @property
    def code(self) -> str | None:
        return self.reading.code

    @property
    def sub_code(self) -> str | None:
        return self.reading.sub_code

    @property
    def provider(self) -> str | None:
        return None if self.spec is None else self.spec.name

    def rule(self) -> Failure:
        """Rule what the answer means for this request (``category``, ``retry``, the waits)."""
        if self.ruling is None:
            build_module().rule(self)
        return self

    def error(self) -> PayError:
        """The typed error, made on the first call; the same object after."""
        error = self._error
        if error is None:
            error = self._error = build_module().make(self)
        return error

    __call__ = error  # an ``Outcome`` makes its error by calling its builder

    def outcome(self) -> Outcome:
        """The ``Outcome`` ``inspect`` gives for this answer: its error made when asked for."""
        data = self.data
        shown = data if self.coded or isinstance(data, dict) else None
        return Outcome(False, shown, None, self.provider, build=self)

    def __repr__(self) -> str:
        return f"<Failure {self.provider} {self.raw.status_code} {self.code!r}>"


Failed = PayError | Failure
"""What ended an attempt: an error raised (no answer, a broken one) or an answer's failure."""


def made(failed: Failed) -> PayError:
    """The typed error of a failed attempt, made now if it was not."""
    return failed.error() if isinstance(failed, Failure) else failed


_BUILD: Any = None


def build_module() -> Any:
    """The ``build`` module, imported with the first error (a success never needs it) and
    kept: an import statement on every failed attempt costs more than this call."""
    global _BUILD
    if _BUILD is None:
        from . import build

        _BUILD = build
    return _BUILD
