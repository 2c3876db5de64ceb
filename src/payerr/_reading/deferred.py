"""An error's details, deferred: what the answer said is built when someone reads it.

A retried attempt's error needs only its verdict (category, hint, wait): its message,
body and request id, every secret masked out, are made by ``complete`` when the error
reaches the caller, a log line or a hook. Kept apart from ``build`` so that the retry
loop completes errors without loading what builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import RAW_CAP, PayError

if TYPE_CHECKING:
    from .build import _Said

_PENDING = "_payerr_said"
"""Where a deferred error keeps how to build what the answer said, until ``complete``."""


def defer_details(error: PayError, said: Callable[[], _Said]) -> None:
    """Keep how to build what the answer said, for ``complete``."""
    error.__dict__[_PENDING] = said


def complete(error: PayError) -> PayError:
    """Fill in what the answer said (masked), if it was deferred; at most once."""
    said = error.__dict__.pop(_PENDING, None)
    if said is not None:
        fill(error, said())
    return error


def fill(error: PayError, said: _Said) -> None:
    """Set what the answer said on the error, as its constructor would have."""
    error.args = (said.message,)
    error.message = said.message
    error.sub_message = said.sub_message
    error.request_id = said.request_id
    error.body = dict(said.body) if said.body is not None else None
    error.raw = bytes(said.raw[:RAW_CAP])
    error.url = said.url
