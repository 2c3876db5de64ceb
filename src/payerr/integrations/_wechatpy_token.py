"""wechatpy's token, kept in wechatpy's own storage, and the lock its refresh takes.

``WeChatPyToken`` reads and writes the token where wechatpy keeps it; where the storage
can hold a lock (Redis, memcached) or only this process shares it, ``SharedStoredToken``
fetches once for everyone behind that lock (``token_for`` picks).
"""

from __future__ import annotations

import secrets
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote_plus

from wechatpy.session.memorystorage import MemoryStorage

from .._coordination.local import Coordinator, LocalCoordinator
from .._engine.credentials import QueryParamToken
from .._errors import PayError

R = TypeVar("R")

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
        param, key = token_names(client)
        super().__init__(lambda: "", param)
        self.client = client
        self.key = key
        self._wechatpy_fetch = fetch
        self._quoted = ("", "")
        """The last token seen, and its query encoding."""

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

    def apply(self, request: R) -> R:
        if self.carries_current(request, self.token):
            return request
        return super().apply(request)

    def carries_current(self, request: Any, token: str | None) -> bool:
        """Nothing to rewrite: a call wechatpy sent without the token (leave it so), or
        one carrying ``token`` as wechatpy put it. The engine asks before copying."""
        url = str(getattr(request, "url", None) or "")
        if f"{self.param}=" not in url:
            return True
        return self._carries(url, token)

    def _carries(self, url: str, token: str | None) -> bool:
        """Whether ``url`` carries ``token`` as its one ``param``, encoded as wechatpy
        (requests' ``params=``) encodes it."""
        if not token:
            return False
        if self._quoted[0] != token:  # encoded once per token, not once per request
            self._quoted = (token, quote_plus(token))
        prefix = f"{self.param}="
        query = url.partition("?")[2].partition("#")[0]
        return [pair for pair in query.split("&") if pair.startswith(prefix)] == [
            prefix + self._quoted[1]
        ]

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


def token_for(client: Any, coordinator: Coordinator, fetch: Callable[[], Any]) -> WeChatPyToken:
    """The token as the storage lets it be shared: locked in the storage when it can hold
    a lock, in this process for an in-process coordinator, else by the coordinator."""
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


def token_names(client: Any) -> tuple[str, str]:
    """(query parameter, storage key) of the token this kind of client uses."""
    if hasattr(client, "component_appid") and not hasattr(client, "appid"):
        return "component_access_token", "component_access_token"
    return "access_token", str(client.access_token_key)
