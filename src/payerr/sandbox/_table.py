"""Every route the sandbox serves, read from its routing tables.

``Sandbox.script`` checks route names against this list, and the docs page
"Testing and the sandbox" prints it (a test keeps the page current).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ._alipay import ALIPAY_METHODS
from ._routes import _FIXED_ROUTES, _SUFFIX_ROUTES
from ._wechatpay import PAY_ORDER_PATHS, PAY_PATHS


@dataclass(frozen=True)
class Route:
    name: str
    provider: str
    where: str
    """The HTTP method and path that reach it, as a person would type them."""


@cache
def routes() -> tuple[Route, ...]:
    """Every route name with its provider and path, in a stable order."""
    found = [
        Route(
            method,
            "alipay",
            f"POST /gateway.do (method={method}), POST /v3/{method.replace('.', '/')}",
        )
        for method in ALIPAY_METHODS
    ]
    found += [Route(name, provider, path) for path, (provider, name, _) in _FIXED_ROUTES.items()]
    found += [Route(name, "wechat", f"POST {path}") for path, (name, _) in PAY_PATHS.items()]
    found += [Route(name, "wechat", path) for path, name in PAY_ORDER_PATHS.items()]
    found += [
        Route(name, provider, f"POST …{suffix}")
        for suffix, (provider, name, _) in _SUFFIX_ROUTES.items()
    ]
    return tuple(found)


def providers_by_route() -> dict[str, str]:
    """Route name → the provider whose envelope its errors come in."""
    return {route.name: route.provider for route in routes()}


def all_routes() -> tuple[Route, ...]:
    """``routes()`` and every route an adapter file declares in its ``[sandbox]`` table."""
    from ._declared import declared_providers
    from ._state import Ledger, Tokens

    declared = [
        Route(route.name, provider.name, route.path)
        for provider in declared_providers(Ledger(), Tokens()).values()
        for route in provider.table.route
    ]
    return routes() + tuple(declared)
