"""payerr inside wechatpayv3, sync and async, without patching ``requests`` for everyone.

    from wechatpayv3 import WeChatPay
    from payerr.integrations import wechatpayv3 as payerr_wechatpay

    pay = payerr_wechatpay.install(WeChatPay(...))
    code, text = pay.pay(...)        # the SDK's (status, text), retried when safe

    async with AsyncWeChatPay(...) as pay:
        payerr_wechatpay.install(pay)

The SDK keeps signing requests and verifying answers, and keeps its contract:
every call still returns ``(status, text)``, only fewer of them fail, because
payerr resends what is safe to resend. ``raise_errors=True`` opts into payerr's
typed errors for failed calls. payerr reads a 2xx answer only after the SDK's
own signature check of it passed; an answer that fails the check reaches the
SDK untouched, which raises as it always did.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import types
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .._clients.requests_adapter import RequestsAdapter
from .._coordination.local import Coordinator, LocalCoordinator
from .._engine.engine import Engine, EngineViews
from .._errors import PayError
from .._retry.policy import RetryPolicy
from . import _sdk
from ._sdk import Check

__all__ = ["install"]

P = TypeVar("P")

TAKES = "wechatpayv3's WeChatPay or AsyncWeChatPay (or their core)"


def install(
    pay: P,
    *,
    raise_errors: bool = False,
    policy: RetryPolicy | None = None,
    coordinator: Coordinator | None = None,
    app: str | None = None,
    adapter: RequestsAdapter | None = None,
) -> P:
    """Send ``pay``'s requests through payerr; returns ``pay``.

    By default calls return the SDK's ``(status, text)`` as before, after payerr's
    safe retries; ``raise_errors=True`` raises payerr's typed error instead of
    returning a failed call. ``adapter`` (sync only) is a ready ``RequestsAdapter``
    to use instead, such as ``sandbox.requests_adapter()``, one per client; it
    brings its own policy and coordinator. A second ``install()`` changes nothing.
    """
    core: Any = getattr(pay, "_core", pay)
    request = getattr(type(core), "request", None)
    if not callable(request) or not hasattr(type(core), "_verify_signature"):
        raise _sdk.refuse(pay, TAKES)
    if _sdk.installed(core):
        return pay
    asynchronous = inspect.iscoroutinefunction(request)
    if adapter is not None:
        if asynchronous:
            raise TypeError("adapter= is a requests adapter; the async client takes options")
        _sdk.refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
        _install_sync(core, adapter, raise_errors)
    else:
        _install_own(core, asynchronous, raise_errors, policy, coordinator, app)
    again = functools.partial(install, raise_errors=raise_errors, policy=policy, app=app)
    _sdk.pickles_as_plain(core, ["request", "__aenter__", *_check_once(core)], again)
    return pay


def _names_called(function: Any) -> tuple[str, ...]:
    code = getattr(function, "__code__", None)
    return code.co_names if code is not None else ()


_CHECKS = ("_verify_signature", "_verify_signature_async")
"""The SDK's signature checks of an answer (the async core has both)."""


def _check_once(core: Any) -> list[str]:
    """One RSA operation per answer: payerr's check and the SDK's own check of the same
    answer share the memory of the last one (``_sdk.remembering``). A version of the SDK
    whose checks call no ``rsa_verify`` keeps checking twice. Returns what it replaced."""
    kind = type(core)
    replaced = [
        name for name in _CHECKS if "rsa_verify" in _names_called(getattr(kind, name, None))
    ]
    if replaced:
        verify = _sdk.remembering(getattr(kind, replaced[0]).__globals__["rsa_verify"])
        for name in replaced:
            setattr(core, name, _sdk.rebind(getattr(kind, name), core, rsa_verify=verify))
    return replaced


def _install_own(
    core: Any,
    asynchronous: bool,
    raise_errors: bool,
    policy: RetryPolicy | None,
    coordinator: Coordinator | None,
    app: str | None,
) -> None:
    """payerr's own transport for ``core``, built from the options ``install`` took."""
    options: dict[str, Any] = {
        "policy": (policy or RetryPolicy()).replace(raise_errors=raise_errors),
        "provider": "wechat",
        "coordinator": coordinator or LocalCoordinator(),
        "app": app or str(getattr(core, "_mchid", "default")),
    }
    if asynchronous:
        _install_async(core, options)
    else:
        _install_sync(core, RequestsAdapter(**options), raise_errors)


_UNVERIFIED: contextvars.ContextVar[bool] = contextvars.ContextVar("_UNVERIFIED", default=False)
"""True inside a ``request(..., skip_verify=True)``: the SDK will not verify that answer
(its own ``/v3/certificates`` download), so payerr does not either."""
_CHECKING: contextvars.ContextVar[bool] = contextvars.ContextVar("_CHECKING", default=False)
"""True while payerr's check runs the SDK's verification."""


class _Deferred(Exception):
    """The SDK's verification wanted to send a request (a certificate download) from
    inside payerr's check: the check gives up and the SDK verifies the answer itself,
    so certificates are downloaded once, by the SDK, as without payerr."""


def _verified_by(core: Any) -> Check:
    """The SDK's own check of a 2xx answer, for what the SDK verifies: never the answers
    it asked for with ``skip_verify=True``, never other statuses."""

    def check(sent: Any, response: Any, body: bytes) -> bool:
        if not 200 <= response.status_code < 300 or _UNVERIFIED.get():
            return True
        if _CHECKING.get():
            return False  # never re-entered: the SDK verifies this one itself
        token = _CHECKING.set(True)
        try:
            return bool(core._verify_signature(response.headers, body.decode("utf-8")))
        except Exception:  # the SDK refuses it, or would fetch: it will do so itself
            return False
        finally:
            _CHECKING.reset(token)

    return check


def _marked(request: Callable[..., Any]) -> Callable[..., Any]:
    """``request``, telling the check whether the SDK will verify this call's answer
    (its ``skip_verify``), and refusing to send from inside the check (``_Deferred``)."""
    names = list(inspect.signature(request).parameters)
    position = names.index("skip_verify") if "skip_verify" in names else len(names)

    @contextlib.contextmanager
    def told(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[None]:
        if _CHECKING.get():
            raise _Deferred
        skip = kwargs.get("skip_verify", len(args) > position and args[position])
        token = _UNVERIFIED.set(bool(skip))
        try:
            yield
        finally:
            _UNVERIFIED.reset(token)

    if inspect.iscoroutinefunction(request):

        async def arequest(*args: Any, **kwargs: Any) -> Any:
            with told(args, kwargs):
                return await request(*args, **kwargs)

        return arequest

    def srequest(*args: Any, **kwargs: Any) -> Any:
        with told(args, kwargs):
            return request(*args, **kwargs)

    return srequest


def _install_sync(core: Any, adapter: RequestsAdapter, raise_errors: bool) -> None:
    """``Core.request`` calls ``requests.get/post/...``: this core's calls use a payerr session."""
    _sdk.verify_first(adapter, _verified_by(core))
    calls = _Requests(_sdk.mounted_session(adapter), raise_errors)
    core.request = _marked(_sdk.rebind(type(core).request, core, requests=calls))
    _sdk.remember(core, adapter)


class _Requests:
    """The ``requests.get/post/patch/put/delete`` that ``Core.request`` calls, sent by a
    payerr session. A failed answer comes back as a response, as ``requests`` returns it,
    unless the app asked for typed errors (even when a caller's adapter raises)."""

    def __init__(self, session: Any, raise_errors: bool) -> None:
        self.session = session
        self.raise_errors = raise_errors

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            return self.session.request(method, url, **kwargs)
        except PayError as error:
            if self.raise_errors or error.response is None:
                raise
            return error.response

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._send("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._send("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self._send("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self._send("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self._send("DELETE", url, **kwargs)


class _SharedViews(EngineViews):
    """The views of an async core: one engine behind every client it builds."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine


def _install_async(core: Any, options: dict[str, Any]) -> None:
    """The async core builds its ``httpx.AsyncClient`` on entry: wrap it there, and now if
    built. Every client it builds shares one engine: one budget, one set of cooldowns."""
    import httpx

    engine = Engine(options["policy"], "wechat", None, options["coordinator"], options["app"])
    shared = _SharedViews(engine)
    check = _verified_by(core)
    if core._client is not None:
        _wrap_client(core._client, options, shared, check)

    def client(**kwargs: Any) -> Any:
        return _wrap_client(httpx.AsyncClient(**kwargs), options, shared, check)

    shim = types.SimpleNamespace(**{**vars(httpx), "AsyncClient": client})
    core.__aenter__ = _sdk.rebind(type(core).__aenter__, core, httpx=shim)
    core.request = _marked(core.request)
    _sdk.remember(core, shared)


def _wrap_client(client: Any, options: dict[str, Any], shared: _SharedViews, check: Check) -> Any:
    """payerr around the client's own transports (its proxy mounts included), so the
    client's settings (proxy, TLS, limits) keep applying underneath."""
    from .._clients.httpx_transport import AsyncTransport

    def wrapped(inner: Any) -> AsyncTransport:
        transport = AsyncTransport(inner, **options)
        transport._engine = shared._engine
        _sdk.verify_first(transport, check)
        return transport

    client._transport = wrapped(client._transport)
    client._mounts = {
        pattern: wrapped(transport) if transport is not None else None
        for pattern, transport in client._mounts.items()
    }
    return client
