"""What every SDK integration shares: the install record, the views, a function rebound.

The SDKs call module-level functions (``requests.get``, ``urlopen``,
``do_post``) that no option reaches. Rather than patch those modules for the
whole process, one client's method is rebuilt over a copy of its module's
globals in which only that name is ours: the SDK's signing and verification
run unchanged, for that client alone.

Every ``install()`` follows one lifecycle, kept here so all integrations agree:
it refuses a wrong object with a ``TypeError`` naming what it takes (``refuse``);
a second ``install()`` of the same client changes nothing (``installed``); it
records what it installed (``remember``; ``views(client)`` reads it back); and
the client pickles as the plain one it was, installed again on load
(``pickles_as_plain``).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterable
from typing import Any

from .._engine.engine import EngineViews
from .._errors import PayError, compatible_class

__all__ = ["Installed", "views"]

MARK = "_payerr_views"
"""The instance attribute an installed client carries: its views (see ``views``)."""


class Installed:
    """What ``install()`` leaves on a client: its views (see ``views``).

    A client pickles as the plain one it was (``pickles_as_plain``), without
    this mark; pickled alone it refuses, since a live transport cannot travel.
    """

    __slots__ = ("views",)

    def __init__(self, found: EngineViews) -> None:
        self.views = found

    def __reduce__(self) -> Any:
        raise TypeError(
            "payerr's transport of an installed client does not pickle: pickle the client, "
            "which is installed again when loaded"
        )


def views(client: object) -> EngineViews:
    """The payerr transport behind an installed SDK client: its ``policy``,
    ``cooldowns()``, ``clear_cooldown()`` and ``budget_left()``.

    Works for every client an ``install()`` of ``payerr.integrations`` accepted
    (for wechatpayv3, the ``WeChatPay`` or its core). Raises ``TypeError`` for a
    client nobody installed, so a missing ``install()`` shows at once.
    """
    found = getattr(client, MARK, None)
    if found is None:
        found = getattr(getattr(client, "_core", None), MARK, None)
    if not isinstance(found, Installed):
        raise TypeError(
            f"{type(client).__name__} has no payerr installed: "
            "call payerr.integrations.<sdk>.install(client) first"
        )
    return found.views


def installed(client: object) -> bool:
    """Whether ``install()`` already ran on ``client``: a second one changes nothing."""
    return isinstance(getattr(client, MARK, None), Installed)


def remember(client: object, found: EngineViews) -> None:
    """Record what ``install()`` put on ``client``, for ``views`` and for a second install."""
    setattr(client, MARK, Installed(found))


def refuse(client: object, takes: str) -> TypeError:
    """The error for an object an ``install()`` cannot work with, naming what it takes."""
    return TypeError(
        f"install() takes {takes}, not {type(client).__module__}.{type(client).__name__}"
    )


def pickles_as_plain(client: Any, replaced: Iterable[str], reinstall: Callable[[Any], Any]) -> None:
    """``client`` pickles and copies as the plain client it was (what ``install`` put on
    it left out), and ``reinstall(copy)`` installs the copy again when it is loaded or
    made. The SDK's own state pickles and copies as it always did, or fails as it always
    did (keys that do not pickle). A coordinator or adapter given to ``install`` stays
    behind: ``reinstall`` carries only settings, as a new worker would have them."""
    left_out = frozenset({*replaced, "__reduce_ex__", MARK})
    client.__reduce_ex__ = functools.partial(_reduce_plain, client, left_out, reinstall)


def _reduce_plain(
    client: Any, left_out: frozenset[str], reinstall: Callable[[Any], Any], protocol: int = 2
) -> Any:
    state = {k: v for k, v in client.__dict__.items() if k not in left_out}
    return reduction(client, state, reinstall)


def reduction(client: Any, state: dict[str, Any], reinstall: Callable[[Any], Any]) -> Any:
    """What ``__reduce_ex__`` returns for an installed ``client``: a blank one of its
    class, given ``state``, then ``reinstall``-ed. Three items, so ``copy`` and
    ``deepcopy`` take it as ``pickle`` does (they do not know a ``state_setter``)."""
    return (_blank, (type(client), reinstall), state)


def _blank(kind: type, reinstall: Callable[[Any], Any]) -> Any:
    """A blank ``kind`` whose own ``__setstate__`` (found on the instance by pickle and
    copy alike) fills it in and installs it again; it leaves no trace."""
    made: Any = object.__new__(kind)
    made.__dict__["__setstate__"] = functools.partial(_loaded, made, reinstall)
    return made


def _loaded(client: Any, reinstall: Callable[[Any], Any], state: dict[str, Any]) -> None:
    del client.__dict__["__setstate__"]
    client.__dict__.update(state)
    reinstall(client)


def remembering(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, a pure check (its answer depends on its arguments alone), answering a
    repeat of its last call from memory.

    payerr reads an answer only after the SDK's own signature check passed, and the SDK
    then checks the same answer again: the second check, asked exactly what the first
    was, gets the first's answer without a second RSA operation. Arguments count as
    the same only when they are the same object, or equal ``str`` or ``bytes``: a key
    object built anew, or other bytes, runs the check.
    """
    last: list[tuple[tuple[Any, ...], Any] | None] = [None]

    def remembered(*args: Any) -> Any:
        seen = last[0]  # one read: another thread may replace it, never half of it
        if seen is not None and _same(args, seen[0]):
            return seen[1]
        answer = function(*args)
        last[0] = (args, answer)
        return answer

    return remembered


def _same(args: tuple[Any, ...], seen: tuple[Any, ...]) -> bool:
    return len(args) == len(seen) and all(
        now is then or (type(now) is type(then) and type(now) in (str, bytes) and now == then)
        for now, then in zip(args, seen, strict=True)
    )


Check = Callable[[Any, Any, bytes], bool]
"""``check(sent_request, response, body)``: whether payerr may read this answer."""


def verify_first(adapter: Any, check: Check) -> None:
    """Before ``adapter`` (a ``RequestsAdapter`` or an httpx transport) reads an answer,
    and so before it retries or raises on it, the SDK's own check must pass; otherwise
    the answer goes back to the SDK untouched, as if payerr were not there, and the SDK
    raises its own validation error.

    An adapter verifies for one client: a second client's check is refused.
    """
    if getattr(adapter, "_payerr_check", check) is not check:
        raise TypeError("this adapter already verifies answers for another client: one each")
    if getattr(adapter, "_payerr_check", None) is check:
        return
    settle = adapter._settle

    def checked_settle(call: Any, sent: Any, response: Any, body: bytes | None, *more: Any) -> Any:
        if not check(sent, response, body or b""):
            return response  # no outcome attached: nothing read, retried or raised
        return settle(call, sent, response, body, *more)

    adapter._payerr_check = check
    adapter._settle = checked_settle


def outcome_error(response: Any) -> PayError | None:
    """The typed error payerr read from a response it handed back, or None for a success."""
    outcome = getattr(response, "_payerr_outcome", None)
    return None if outcome is None or outcome.ok else outcome.error


def also(error: PayError, kind: type[BaseException], *args: Any, **fields: Any) -> PayError:
    """``error``, also an instance of the SDK's ``kind`` built from ``args``, with ``fields``
    set: the app's old ``except kind`` catches it, and it still pickles as payerr's."""
    base = type(error).__dict__.get("_payerr_compatible", (type(error),))[0]
    twin = compatible_class(base, kind)
    made = twin.__new__(twin)
    try:
        kind.__init__(made, *args)
    except TypeError:
        Exception.__init__(made, error.message)
    Exception.__init__(made, error.message)  # str() and args stay payerr's
    made.__dict__.update(error.__dict__)
    made.__dict__.update(fields)
    made.__cause__ = error.__cause__
    return made


def rebind(function: Callable[..., Any], owner: object, **names: object) -> types.MethodType:
    """``function`` bound to ``owner``, seeing ``names`` instead of its module's globals.

    The globals are copied now: a later patch of the SDK's module (a test's
    ``mock.patch``) does not reach a client installed before it.
    """
    code = function.__code__
    missing = sorted(name for name in names if name not in code.co_names)
    if missing:
        raise RuntimeError(
            f"{function.__module__}.{function.__qualname__} no longer calls "
            f"{', '.join(missing)}: this version of the SDK is not supported by payerr"
        )
    copied = types.FunctionType(
        code,
        {**function.__globals__, **names},
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copied.__kwdefaults__ = function.__kwdefaults__
    copied.__qualname__ = function.__qualname__
    copied.__doc__ = function.__doc__
    return types.MethodType(copied, owner)


def mounted_session(adapter: Any) -> Any:
    """A ``requests.Session`` that sends everything through ``adapter``."""
    import requests

    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def refuse_settings_beside_adapter(**settings: Any) -> None:
    """A caller's adapter brings its own policy and coordinator: settings given as well
    would be silently unused, so they are refused."""
    given = sorted(name for name, value in settings.items() if value is not None)
    if given:
        raise TypeError(f"adapter= brings its own settings: drop {', '.join(given)}")
