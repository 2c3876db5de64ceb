"""What every SDK integration needs: a function of the SDK run with its HTTP call swapped.

The SDKs call module-level functions (``requests.get``, ``urlopen``,
``do_post``) that no option reaches. Rather than patch those modules for the
whole process, one client's method is rebuilt over a copy of its module's
globals in which only that name is ours: the SDK's signing and verification
run unchanged, for that client alone.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any


def rebind(function: Callable[..., Any], owner: object, **names: object) -> types.MethodType:
    """``function`` bound to ``owner``, seeing ``names`` instead of its module's globals."""
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
