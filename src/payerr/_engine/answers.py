"""``Answers``: what a client shows ``Call.settle`` of one answer, asked only when needed.

For type checkers only: ``call`` imports it under ``TYPE_CHECKING``, so a Protocol is
not built on every start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .._reading.outcome import Outcome
    from .._reading.raw import RawResponse
    from .._reading.request import RequestFacts
    from .call import Call


class Answers(Protocol):
    """What a client shows ``Call.settle`` of one answer, asked only when needed."""

    def path_of(self, sent: Any) -> str:
        """The URL path of the request sent."""
        ...

    def details(
        self, call: Call, sent: Any, response: Any, body: bytes
    ) -> tuple[RawResponse, RequestFacts]:
        """The full response and request view, for an answer that is not a success."""
        ...

    def answered(self, response: Any, outcome: Outcome) -> None:
        """A success read: attach ``outcome`` (and hand its parse to the client's json())."""
        ...
