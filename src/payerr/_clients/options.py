"""The keywords every client's middleware is made with, declared once, and the engine's
arguments made of them.

``Transport``, ``AsyncTransport``, ``RequestsAdapter`` and ``AiohttpMiddleware`` take the
same five keywords: one ``TypedDict`` says so to type checkers, one function to the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:  # types only: credentials are loaded when a transport is given some
    from .._coordination.local import Coordinator
    from .._engine.credentials import Credentials
    from .._retry.policy import RetryPolicy

    EngineArgs = tuple[RetryPolicy | None, str | None, Credentials | None, Coordinator | None, str]


class Options(TypedDict, total=False):
    """``policy``, ``provider``, ``credentials``, ``coordinator``, ``app``: what each one
    means is said once, on ``payerr.Transport``."""

    policy: RetryPolicy | None
    provider: str | None
    credentials: Credentials | None
    coordinator: Coordinator | None
    app: str


OPTION_NAMES = Options.__optional_keys__


def engine_args(options: Mapping[str, Any], maker: str) -> EngineArgs:
    """The engine's arguments, in its order; a keyword no one knows is refused, as a plain
    signature would refuse it."""
    unknown = options.keys() - OPTION_NAMES
    if unknown:
        raise TypeError(f"{maker}() got unexpected keywords: {sorted(unknown)}")
    return (
        options.get("policy"),
        options.get("provider"),
        options.get("credentials"),
        options.get("coordinator"),
        options.get("app", "default"),
    )
