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

The rule: a request that failed on its token compares the token it carried
with the one in storage now. Different: someone already fetched, it is resent
with the current one. The same: exactly one worker fetches, under a lock kept
in the storage's own Redis when the storage is wechatpy's ``RedisStorage``
(every process and client sharing it), else by the coordinator.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

try:
    from wechatpy.exceptions import APILimitedException, WeChatClientException
except ImportError as exc:  # pragma: no cover - the test extra installs wechatpy
    raise ImportError("payerr.integrations.wechatpy needs wechatpy: pip install wechatpy") from exc

from .._catalog import catalog
from .._coordinator import Coordinator, LocalCoordinator
from .._credentials import QueryParamToken, gate_for
from .._errors import PayError, TransportError, as_client_error
from .._policy import RetryPolicy
from .._requests import RequestsAdapter
from ._sdk import installed, refuse_settings_beside_adapter, remember

__all__ = ["WeChatPyToken", "as_wechatpy_error", "install"]

C = TypeVar("C")
R = TypeVar("R")

RATE_LIMITED = "45009"
"""The code wechatpy raises as ``APILimitedException``."""

EARLY = 60.0
"""Seconds before expiry wechatpy already treats a token as stale."""

LOCK_TTL = 10.0
"""Seconds a crashed fetcher can hold the storage's refresh lock."""
LOCK_WAIT = 15.0
"""Seconds a worker waits for another's fetch before fetching itself."""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_COORDINATORS: weakref.WeakKeyDictionary[Any, LocalCoordinator] = weakref.WeakKeyDictionary()
"""One coordinator per session storage: clients built per request share their token."""


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


class RedisStoredToken(WeChatPyToken):
    """wechatpy's token in its ``RedisStorage``: every process and client sharing that
    storage shares the token, so the refresh lock lives there too (``refresh_shared``)."""

    def refresh_shared(self, carried: str | None, error: PayError | None) -> bool:
        """Fetch unless the stored token is no longer ``carried``; True when fetched here.

        One fetcher at a time across every process: the lock is a key next to the
        token, taken with ``SET NX PX`` and released only by its holder.
        """
        storage = self.client.session
        lock = storage.key_name(f"{self.key}:payerr-refresh")
        owner = secrets.token_hex(8)
        give_up_at = time.monotonic() + LOCK_WAIT
        while True:
            if self.token != carried:
                self.client.expires_at = None  # the fetcher's expiry; 40001/42001 say when
                return False  # someone fetched: the caller resends with the stored one
            if storage.redis.set(lock, owner, nx=True, px=int(LOCK_TTL * 1000)):
                break
            if time.monotonic() > give_up_at:  # the holder is stuck: its lock lapses anyway
                break
            time.sleep(0.02)
        try:
            if self.token != carried:
                return False
            self.refresh(error)
            return True
        finally:
            storage.redis.eval(_RELEASE, 1, lock, owner)


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
    and the token is wired into it here. Without a coordinator, clients sharing
    one session storage share one (a client built per request fetches nothing
    another already fetched). A second ``install()`` of the same client changes
    nothing; an adapter the app mounted on a longer URL prefix, which requests
    would pick over payerr's, is refused with a ``ValueError``.
    """
    wechat: Any = client
    if not isinstance(getattr(wechat, "_http", None), requests.Session):
        raise TypeError(f"{type(client).__name__} is not a wechatpy client or component")
    if installed(wechat):
        return client
    _refuse_longer_mounts(wechat._http)
    auto_retry = getattr(wechat, "auto_retry", True)
    kind = RedisStoredToken if _redis_storage(wechat.session) else WeChatPyToken
    token = kind(wechat, _raising_wechatpy_errors(wechat, wechat.fetch_access_token))
    if adapter is None:
        if coordinator is None:
            coordinator = _coordinator_of(wechat.session)
        adapter = RequestsAdapter(
            policy=policy,
            provider=_provider(wechat),
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
    wechat.__reduce_ex__ = functools.partial(_reduce_installed, wechat, auto_retry, policy)
    remember(wechat, adapter)
    return client


def _refuse_longer_mounts(session: requests.Session) -> None:
    """requests sends through the adapter of the longest matching prefix: one the app
    mounted on ``https://api.weixin.qq.com/`` would silently bypass payerr."""
    longer = [
        prefix
        for prefix, mounted in session.adapters.items()
        if prefix not in ("https://", "http://") and not isinstance(mounted, RequestsAdapter)
    ]
    if longer:
        raise ValueError(
            f"this client's session has its own adapter mounted on {', '.join(longer)}: "
            "requests would send those URLs past payerr. Unmount it, or pass it "
            "as the inner adapter of a payerr.RequestsAdapter given as adapter="
        )


def _redis_storage(storage: Any) -> bool:
    """wechatpy's ``RedisStorage`` (or one like it): a Redis client and key names."""
    redis = getattr(storage, "redis", None)
    return callable(getattr(storage, "key_name", None)) and callable(getattr(redis, "eval", None))


def _coordinator_of(storage: Any) -> LocalCoordinator:
    try:
        return _COORDINATORS.setdefault(storage, LocalCoordinator())
    except TypeError:  # a storage that cannot be weakly referenced: its own coordinator
        return LocalCoordinator()


_INSTALLED = frozenset({"fetch_access_token", "_request", "__reduce_ex__", "_payerr_views"})
"""What ``install`` puts on a client: left out of its pickle."""


def _reduce_installed(
    client: Any, auto_retry: bool, policy: RetryPolicy | None, protocol: int = 2
) -> tuple[Any, ...]:
    """An installed client pickles as the plain one it was, and is installed again on
    load with its policy. A coordinator or adapter given to ``install`` stays behind
    (it holds connections and locks): the copy gets the default, as a new worker would.
    Adapters the app mounted on the session are not carried either."""
    state = {k: v for k, v in client.__dict__.items() if k not in _INSTALLED}
    state["auto_retry"] = auto_retry
    state["_http"] = requests.Session()
    return (_blank, (type(client),), (state, policy), None, None, _reinstall)


def _blank(kind: type) -> Any:
    return object.__new__(kind)


def _reinstall(client: Any, state: tuple[dict[str, Any], RetryPolicy | None]) -> None:
    fields, policy = state
    client.__dict__.update(fields)
    install(client, policy=policy)


def _single_flight_fetch(token: WeChatPyToken, adapter: RequestsAdapter) -> Callable[[], Any]:
    """wechatpy's ``fetch_access_token``, fetching only when nobody fetched meanwhile."""
    engine = adapter._engine
    gate = gate_for(token, engine.coordinator)
    # The scope the client's own requests refresh under: WeCom's client is read as WeCom.
    scope = f"{engine.provider or _provider(token.client)}:{engine.app}"

    def fetch_access_token() -> dict[str, Any]:
        seen = gate.generation  # before the look, so a fetch landing in between is noticed
        if not token.fresh():  # stale or missing: one other than it, fetched once
            gate.refresh(scope, seen, None, token.token)
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
    """The app scope: the appid; where one appid has a token per secret (WeCom's corp_id),
    the appid and a hash of the secret, which itself never leaves the client."""
    appid = str(getattr(client, "appid", None) or getattr(client, "component_appid", "default"))
    secret = getattr(client, "secret", None)
    if secret and str(getattr(client, "access_token_key", "")) not in ("", f"{appid}_access_token"):
        return f"{appid}:{hashlib.sha256(str(secret).encode()).hexdigest()[:12]}"
    return appid


def _provider(client: Any) -> str:
    """The provider of the client's API host (WeCom for wechatpy's WeCom client)."""
    host = urlsplit(str(getattr(client, "API_BASE_URL", ""))).hostname or ""
    return catalog().provider_for_host(host) or "wechat"
