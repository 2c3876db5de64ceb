"""``Outcome``: what a response means, success with its data or an error built on demand."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .._errors import PayError


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
