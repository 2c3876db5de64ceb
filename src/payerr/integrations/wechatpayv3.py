"""payerr inside wechatpayv3, sync and async, without patching ``requests`` for everyone.

    from wechatpayv3 import WeChatPay
    from payerr.integrations import wechatpayv3 as payerr_wechatpay

    pay = payerr_wechatpay.install(WeChatPay(...))
    code, text = pay.pay(...)        # retried when safe; a typed error when it fails

    async with AsyncWeChatPay(...) as pay:
        payerr_wechatpay.install(pay)

The SDK keeps signing requests and verifying answers. ``raise_errors=False``
keeps its ``(status, text)`` contract: payerr retries what is safe, then hands
back the provider's last answer instead of raising.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, TypeVar

from .._coordinator import Coordinator, LocalCoordinator
from .._policy import RetryPolicy
from .._requests import RequestsAdapter
from ._sdk import mounted_session, rebind, refuse_settings_beside_adapter

__all__ = ["install"]

P = TypeVar("P")


def install(
    pay: P,
    *,
    raise_errors: bool = True,
    policy: RetryPolicy | None = None,
    coordinator: Coordinator | None = None,
    app: str | None = None,
    adapter: RequestsAdapter | None = None,
) -> P:
    """Send ``pay``'s requests (a ``WeChatPay`` or ``AsyncWeChatPay``, or their core)
    through payerr; returns ``pay``.

    ``adapter`` (sync only) is a ready ``RequestsAdapter`` to use instead, such
    as ``sandbox.requests_adapter()``; it brings its own policy and coordinator.
    """
    core: Any = getattr(pay, "_core", pay)
    if adapter is not None:
        if _is_async(core):
            raise TypeError("adapter= is a requests adapter; the async client takes options")
        refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
        _install_sync(core, adapter)
        return pay
    options: dict[str, Any] = {
        "policy": dataclasses.replace(policy or RetryPolicy(), raise_errors=raise_errors),
        "provider": "wechat",
        "coordinator": coordinator or LocalCoordinator(),
        "app": app or str(getattr(core, "_mchid", "default")),
    }
    if _is_async(core):
        _install_async(core, options)
    else:
        _install_sync(core, RequestsAdapter(**options))
    return pay


def _is_async(core: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(type(core).request)


def _install_sync(core: Any, adapter: RequestsAdapter) -> None:
    """``Core.request`` calls ``requests.get/post/...``: this core's calls use a payerr session."""
    core.request = rebind(type(core).request, core, requests=mounted_session(adapter))


def _install_async(core: Any, options: dict[str, Any]) -> None:
    """The async core builds its ``httpx.AsyncClient`` on entry: wrap it there, and now if built."""
    import httpx

    if core._client is not None:
        _wrap_client(core._client, options)

    def client(**kwargs: Any) -> Any:
        return _wrap_client(httpx.AsyncClient(**kwargs), options)

    shim = types.SimpleNamespace(**{**vars(httpx), "AsyncClient": client})
    core.__aenter__ = rebind(type(core).__aenter__, core, httpx=shim)


def _wrap_client(client: Any, options: dict[str, Any]) -> Any:
    """payerr around the client's own transports (its proxy mounts included), so the
    client's settings (proxy, TLS, limits) keep applying underneath."""
    from .._httpx import AsyncTransport

    if isinstance(client._transport, AsyncTransport):
        return client  # installed already
    client._transport = AsyncTransport(client._transport, **options)
    client._mounts = {
        pattern: AsyncTransport(transport, **options) if transport is not None else None
        for pattern, transport in client._mounts.items()
    }
    return client
