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
in the storage itself when it can hold one (wechatpy's ``RedisStorage``, or its
``MemcachedStorage``: every process and client sharing it), else by the
coordinator. Clients on wechatpy's default in-memory storage share one storage
per process and app, so a client built per request fetches nothing another did.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

try:
    from wechatpy.exceptions import APILimitedException, WeChatClientException
    from wechatpy.session.memorystorage import MemoryStorage
except ImportError as exc:  # pragma: no cover - the test extra installs wechatpy
    raise ImportError("payerr.integrations.wechatpy needs wechatpy: pip install wechatpy") from exc

from .._catalog.registry import catalog
from .._clients.requests_adapter import RequestsAdapter
from .._coordination.local import Coordinator, LocalCoordinator
from .._engine.credentials import QueryParamToken, gate_for
from .._errors import PayError, TransportError, as_client_error
from .._retry.policy import RetryPolicy
from ._sdk import installed, reduction, refuse_settings_beside_adapter, remember

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

_MEMORY: dict[tuple[str, ...], Any] = {}
"""wechatpy's in-memory storage, one per process and app (provider, appid, token key and
a hash of the secret): every client built per request reads and refreshes one token."""
_MEMORY_LOCK = threading.Lock()

_LOCAL_LOCKS: weakref.WeakKeyDictionary[Any, _LocalLock] = weakref.WeakKeyDictionary()
"""The refresh lock of a storage no lock can be kept in: shared by this process's clients."""

_WARNED: set[type] = set()
"""Storage kinds already warned about (once each)."""


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


class _RedisLock:
    """The refresh lock as a Redis key next to the token: ``SET NX PX``, released only by
    its holder (a script compares before deleting)."""

    def __init__(self, redis: Any, key_name: Callable[[str], str]) -> None:
        self.redis = redis
        self.key_name = key_name

    def acquire(self, name: str, owner: str) -> bool:
        return bool(self.redis.set(self.key_name(name), owner, nx=True, px=int(LOCK_TTL * 1000)))

    def release(self, name: str, owner: str) -> None:
        self.redis.eval(_RELEASE, 1, self.key_name(name), owner)


class _MemcachedLock:
    """The refresh lock as a memcached key next to the token: ``add`` stores only a key
    that is absent, atomically (pymemcache, python-memcached and pylibmc alike)."""

    def __init__(self, client: Any, key_name: Callable[[str], str]) -> None:
        self.client = client
        self.key_name = key_name

    def acquire(self, name: str, owner: str) -> bool:
        key = self.key_name(name)
        try:  # pymemcache answers True without waiting unless asked not to
            return bool(self.client.add(key, owner, int(LOCK_TTL), noreply=False))
        except TypeError:  # a client without noreply always waits for the answer
            return bool(self.client.add(key, owner, int(LOCK_TTL)))

    def release(self, name: str, owner: str) -> None:
        key = self.key_name(name)
        held = self.client.get(key)
        if (held.decode() if isinstance(held, bytes) else held) == owner:
            self.client.delete(key)  # another's lock only if ours lapsed just now


class _LocalLock:
    """The refresh lock of a storage only this process shares: one lock per name."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def acquire(self, name: str, owner: str) -> bool:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        return lock.acquire(timeout=0.05)

    def release(self, name: str, owner: str) -> None:
        self._locks[name].release()


_Lock = _RedisLock | _MemcachedLock | _LocalLock


class SharedStoredToken(WeChatPyToken):
    """wechatpy's token in a storage several clients (or processes) share: the refresh
    lock lives beside it, so ``refresh_shared`` fetches once for all of them."""

    def __init__(self, client: Any, fetch: Callable[[], Any], lock: _Lock) -> None:
        super().__init__(client, fetch)
        self.lock = lock

    def refresh_shared(self, carried: str | None, error: PayError | None) -> bool:
        """Fetch unless the stored token is no longer ``carried``; True when fetched here.

        One fetcher at a time among everyone sharing the storage; a holder that
        crashed loses the lock after ``LOCK_TTL``, one stuck past ``LOCK_WAIT`` is
        fetched past (its token will be voided, but nobody waits forever).
        """
        name = f"{self.key}:payerr-refresh"
        owner = secrets.token_hex(8)
        give_up_at = time.monotonic() + LOCK_WAIT
        held = False
        while not held:
            if self.token != carried:
                self.client.expires_at = None  # the fetcher's expiry; 40001/42001 say when
                return False  # someone fetched: the caller resends with the stored one
            held = self.lock.acquire(name, owner)
            if not held and time.monotonic() > give_up_at:
                break
            if not held and not isinstance(self.lock, _LocalLock):
                time.sleep(0.02)  # the local lock already waited
        try:
            if self.token != carried:
                return False
            self.refresh(error)
            return True
        finally:
            if held:
                self.lock.release(name, owner)


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
    another already fetched); clients on wechatpy's default in-memory storage
    get one storage per process and app. A storage that can hold no refresh lock
    (not Redis, not memcached) warns once: processes sharing it need a
    ``RedisCoordinator``. A second ``install()`` of the same client changes
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
    _share_memory_storage(wechat)
    if adapter is not None:
        refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
        coordinator = adapter._engine.coordinator
    elif coordinator is None:
        coordinator = _coordinator_of(wechat.session)
    token = _token_for(wechat, coordinator)
    if adapter is None:
        adapter = RequestsAdapter(
            policy=policy,
            provider=_provider(wechat),
            credentials=token,
            coordinator=coordinator,
            app=app or str(_appid(wechat)),
        )
    else:
        adapter._engine.gate = gate_for(token, coordinator)
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


def _token_for(client: Any, coordinator: Coordinator) -> WeChatPyToken:
    """The token as the storage lets it be shared: locked in the storage when it can hold
    a lock, in this process for an in-process coordinator, else by the coordinator."""
    fetch = _raising_wechatpy_errors(client, client.fetch_access_token)
    lock = _storage_lock(client.session)
    if lock is None and isinstance(coordinator, LocalCoordinator):
        _warn_unlockable(client.session)
        lock = _local_lock(client.session)
    if lock is None:
        return WeChatPyToken(client, fetch)  # the coordinator compares and locks
    return SharedStoredToken(client, fetch, lock)


def _storage_lock(storage: Any) -> _Lock | None:
    """A lock kept in the storage's own server: Redis (wechatpy's ``RedisStorage``, or any
    storage over a Redis client) or memcached (``MemcachedStorage``: ``add``)."""
    key_name = getattr(storage, "key_name", None)
    if not callable(key_name):
        return None
    for name in ("redis", "mc"):
        backend = getattr(storage, name, None)
        if callable(getattr(backend, "eval", None)):
            return _RedisLock(backend, key_name)
        if callable(getattr(backend, "add", None)):
            return _MemcachedLock(backend, key_name)
    return None


def _local_lock(storage: Any) -> _LocalLock:
    try:
        return _LOCAL_LOCKS.setdefault(storage, _LocalLock())
    except TypeError:  # a storage that cannot be weakly referenced: its own lock
        return _LocalLock()


def _warn_unlockable(storage: Any) -> None:
    """A storage other than wechatpy's in-memory one, which holds no lock, may be shared by
    processes that would each fetch (voiding each other's token): say so, once per kind."""
    kind = type(storage)
    if kind is MemoryStorage or kind in _WARNED:
        return
    _WARNED.add(kind)
    warnings.warn(
        f"payerr cannot keep a refresh lock in {kind.__name__}: processes sharing it may "
        "each fetch a token and void the others'. Give every process the same "
        "payerr.RedisCoordinator (install(client, coordinator=...)).",
        RuntimeWarning,
        stacklevel=4,
    )


def _share_memory_storage(client: Any) -> None:
    """A client on wechatpy's in-memory storage gets this process's one for its app, so
    clients built per request share the token and its refresh; entries the client's own
    storage already held are kept where the shared one has none."""
    own = client.session
    if type(own) is not MemoryStorage:
        return
    token_key = _token_names(client)[1]
    appid = str(getattr(client, "appid", None) or getattr(client, "component_appid", ""))
    secret = str(getattr(client, "secret", None) or getattr(client, "component_secret", ""))
    digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
    key = (_provider(client), appid, token_key, digest)
    with _MEMORY_LOCK:
        shared = _MEMORY.setdefault(key, own)
        if shared is not own:
            for name, value in list(own._data.items()):
                if shared.get(name) is None:
                    shared.set(name, value)
    client.session = shared


def _coordinator_of(storage: Any) -> LocalCoordinator:
    try:
        return _COORDINATORS.setdefault(storage, LocalCoordinator())
    except TypeError:  # a storage that cannot be weakly referenced: its own coordinator
        return LocalCoordinator()


_INSTALLED = frozenset({"fetch_access_token", "_request", "__reduce_ex__", "_payerr_views"})
"""What ``install`` puts on a client: left out of its pickle."""


def _reduce_installed(
    client: Any, auto_retry: bool, policy: RetryPolicy | None, protocol: int = 2
) -> Any:
    """An installed client pickles and copies as the plain one it was, and is installed
    again on load (or as a copy) with its policy, with a transport of its own. A
    coordinator or adapter given to ``install`` stays behind (it holds connections and
    locks): the copy gets the default, as a new worker would.
    Adapters the app mounted on the session are not carried either."""
    state = {k: v for k, v in client.__dict__.items() if k not in _INSTALLED}
    state["auto_retry"] = auto_retry
    state["_http"] = requests.Session()
    return reduction(client, state, functools.partial(install, policy=policy))


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
