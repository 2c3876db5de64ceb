"""memcached clients as wechatpy's ``MemcachedStorage`` drives them (pymemcache's calls:
``get``, ``set``, ``add``, ``delete``), for tests without a memcached server: one kept in
this process, one over Redis that several processes share."""

from __future__ import annotations

import threading
from typing import Any


class InMemoryMemcache:
    """A memcached of one process; ``add`` stores only an absent key, atomically."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        return self._data.get(key)

    def set(self, key: str, value: Any, expire: int = 0, noreply: bool | None = None) -> bool:
        self._data[key] = str(value).encode()
        return True

    def add(self, key: str, value: Any, expire: int = 0, noreply: bool | None = None) -> bool:
        with self._lock:
            if key in self._data:
                return noreply is not False  # pymemcache's noreply answers True regardless
            self._data[key] = str(value).encode()
            return True

    def delete(self, key: str, noreply: bool | None = None) -> bool:
        return self._data.pop(key, None) is not None


class RedisMemcache:
    """memcached's calls over a Redis every process reaches (no ``eval``: only what a
    memcached client offers)."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self._redis.get(key)
        return value

    def set(self, key: str, value: Any, expire: int = 0, noreply: bool | None = None) -> bool:
        return bool(self._redis.set(key, str(value), ex=expire or None))

    def add(self, key: str, value: Any, expire: int = 0, noreply: bool | None = None) -> bool:
        stored = bool(self._redis.set(key, str(value), ex=expire or None, nx=True))
        return stored or noreply is not False

    def delete(self, key: str, noreply: bool | None = None) -> bool:
        return bool(self._redis.delete(key))

    def close(self) -> None:
        self._redis.close()
