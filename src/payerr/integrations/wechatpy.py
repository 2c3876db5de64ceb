"""payerr inside wechatpy: one call, and wechatpy's own handlers keep working.

    from wechatpy import WeChatClient
    from payerr.integrations import wechatpy as payerr_wechatpy

    client = payerr_wechatpy.install(WeChatClient(appid, secret))
    client.message.send_text(openid, "hi")  # retried, typed, still a WeChatClientException

One owner for the token: wechatpy keeps fetching and storing it (its own
``fetch_access_token`` and session storage, Redis included); payerr decides
when, and makes every fetch single-flight, because WeChat voids the old token
on each fetch. wechatpy's own resend on 40001/40014/42001 is turned off, since
payerr refreshes and resends, bounded by its policy.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

try:
    from wechatpy.exceptions import APILimitedException, WeChatClientException
except ImportError as exc:  # pragma: no cover - the test extra installs wechatpy
    raise ImportError("payerr.integrations.wechatpy needs wechatpy: pip install wechatpy") from exc

from .._coordinator import Coordinator
from .._credentials import QueryParamToken, gate_for
from .._errors import PayError, TransportError, as_client_error
from .._policy import RetryPolicy
from .._requests import RequestsAdapter
from ._sdk import refuse_settings_beside_adapter

__all__ = ["WeChatPyToken", "as_wechatpy_error", "install"]

C = TypeVar("C")
R = TypeVar("R")

RATE_LIMITED = "45009"
"""The code wechatpy raises as ``APILimitedException``."""

EARLY = 60.0
"""Seconds before expiry wechatpy already treats a token as stale."""


class WeChatPyToken(QueryParamToken):
    """wechatpy's token, read from and written to wechatpy's own session storage.

    payerr only puts it on resends and asks wechatpy's fetch for a new one,
    through the single-flight gate; the token never lives in two places.
    """

    def __init__(self, client: Any, fetch: Callable[[], Any]) -> None:
        param, key = _token_names(client)
        super().__init__(lambda: "", param)
        self.client = client
        self.key = key
        self._wechatpy_fetch = fetch

    @property
    def token(self) -> str | None:
        value = self.client.session.get(self.key)
        return str(value) if value else None

    @token.setter
    def token(self, value: str | None) -> None:
        """A token another worker fetched (shared through a ``RedisCoordinator``)."""
        if value and value != self.token:
            self.client.session.set(self.key, value, 7200)
            self.client.expires_at = None  # its expiry is the fetcher's; 40001/42001 say when

    @property
    def ready(self) -> bool:
        return True  # wechatpy puts the token on every request itself

    def refresh(self, error: PayError | None) -> None:
        self._wechatpy_fetch()

    def fresh(self) -> bool:
        """Whether wechatpy would use the stored token as it is (same rule as wechatpy)."""
        if not self.token:
            return False
        expires_at = self.client.expires_at
        return not expires_at or expires_at - time.time() > EARLY

    def _apply_requests(self, request: Any) -> Any:
        if f"{self.param}=" not in (request.url or ""):
            return request  # a call wechatpy sent without the token: leave it so
        return super()._apply_requests(request)

    def __repr__(self) -> str:
        return f"WeChatPyToken(param={self.param!r}, ready=True)"


def install(
    client: C,
    *,
    policy: RetryPolicy | None = None,
    coordinator: Coordinator | None = None,
    app: str | None = None,
    adapter: RequestsAdapter | None = None,
) -> C:
    """Send ``client``'s requests through payerr and return the same client.

    ``adapter`` is a ready ``RequestsAdapter`` to use instead (such as
    ``sandbox.requests_adapter()``); it brings its own policy and coordinator,
    and the token is wired into it here.
    """
    wechat: Any = client
    if not isinstance(getattr(wechat, "_http", None), requests.Session):
        raise TypeError(f"{type(client).__name__} is not a wechatpy client or component")
    token = WeChatPyToken(wechat, _raising_wechatpy_errors(wechat, wechat.fetch_access_token))
    if adapter is None:
        adapter = RequestsAdapter(
            policy=policy,
            provider="wechat",
            credentials=token,
            coordinator=coordinator,
            app=app or str(_appid(wechat)),
        )
    else:
        refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
        engine = adapter._engine
        engine.gate = gate_for(token, engine.coordinator)
    wechat._http.mount("https://", adapter)
    wechat._http.mount("http://", adapter)
    wechat.auto_retry = False
    wechat.fetch_access_token = _single_flight_fetch(token, adapter)
    wechat._request = _raising_wechatpy_errors(wechat, wechat._request)
    return client


def _single_flight_fetch(token: WeChatPyToken, adapter: RequestsAdapter) -> Callable[[], Any]:
    """wechatpy's ``fetch_access_token``, fetching only when nobody fetched meanwhile."""
    engine = adapter._engine
    gate = gate_for(token, engine.coordinator)

    def fetch_access_token() -> dict[str, Any]:
        seen = gate.generation  # before the look, so a fetch landing in between is noticed
        if not token.fresh():
            gate.refresh(f"wechat:{engine.app}", seen, None)
        expires_at = token.client.expires_at
        result: dict[str, Any] = {"access_token": token.token}
        if expires_at:
            result["expires_in"] = max(0, int(expires_at - time.time()))
        return result

    return fetch_access_token


def _raising_wechatpy_errors(client: Any, function: Callable[..., R]) -> Callable[..., R]:
    """``function`` whose payerr errors are also wechatpy's, so old handlers still catch."""

    @functools.wraps(function)
    def raising(*args: Any, **kwargs: Any) -> R:
        try:
            return function(*args, **kwargs)
        except TransportError:
            raise  # already requests' own exception kind, as wechatpy lets them through
        except PayError as error:
            raise as_wechatpy_error(error, client) from error.__cause__

    return raising


def as_wechatpy_error(error: PayError, client: Any = None) -> PayError:
    """``error``, also a wechatpy ``WeChatClientException`` (``APILimitedException``
    for 45009), with the ``errcode``/``errmsg``/``request``/``response`` wechatpy sets."""
    kind = APILimitedException if error.code == RATE_LIMITED else WeChatClientException
    twin = as_client_error(error, kind, None)
    code = error.code
    twin.errcode = int(code) if code and code.lstrip("-").isdigit() else code  # type: ignore[attr-defined]
    twin.errmsg = error.message  # type: ignore[attr-defined]
    twin.client = client  # type: ignore[attr-defined]
    response = error.response
    twin.request = getattr(response, "request", None)  # type: ignore[attr-defined]
    twin.response = response
    return twin


def _token_names(client: Any) -> tuple[str, str]:
    """(query parameter, storage key) of the token this kind of client uses."""
    if hasattr(client, "component_appid") and not hasattr(client, "appid"):
        return "component_access_token", "component_access_token"
    return "access_token", str(client.access_token_key)


def _appid(client: Any) -> str:
    return str(getattr(client, "appid", None) or getattr(client, "component_appid", "default"))
