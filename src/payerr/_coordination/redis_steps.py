"""What ``RedisCoordinator`` (``redis``) says to Redis, without doing I/O: its Lua scripts,
the shape of an exchange (``Steps``), and how replies and stored values are read.

An exchange is a generator that yields commands (``("pttl", key)``,
``("script", name, keys, args)``, ...) and receives their replies: the sync and
the asyncio client run the same description, so nothing is written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

_WITHDRAW = """
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[2])
local cost = tonumber(ARGV[1])
if tokens < cost then return 0 end
redis.call('SET', KEYS[1], tokens - cost, 'EX', 86400)
return 1
"""
_DEPOSIT = """
local capacity = tonumber(ARGV[2])
local tokens = tonumber(redis.call('GET', KEYS[1]) or capacity)
if tokens >= capacity then return tokens end
tokens = math.min(capacity, tokens + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], tokens, 'EX', 86400)
return tokens
"""
_COOLDOWN = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1]) end
return 1
"""
_LOOK = """
local found = {}
for _, key in ipairs(KEYS) do
  found[#found + 1] = redis.call('PTTL', key)
  found[#found + 1] = redis.call('GET', key) or ''
end
return found
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_STORE_TOKEN = """
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'generation', ARGV[2])
return 1
"""

SOURCES = {
    "withdraw": _WITHDRAW,
    "deposit": _DEPOSIT,
    "cooldown": _COOLDOWN,
    "look": _LOOK,
    "release": _RELEASE,
    "store": _STORE_TOKEN,
}

T = TypeVar("T")
Command = tuple[Any, ...]
Steps = Generator[Command, Any, T]
"""An exchange with Redis: yields commands, receives their replies, returns a result."""


AGAIN = object()
"""A look-up's asker was cancelled before the answer: its waiters ask again."""


def merge(scopes: tuple[str, ...], known: list[float | None], found: Any) -> list[float]:
    """Seconds left per scope: what memory knew, else what the look-up found."""
    answers = found if isinstance(found, dict) else {}
    return [
        left if left is not None else answers.get(scope, 0.0)
        for scope, left in zip(scopes, known, strict=True)
    ]


def as_list(
    look: Callable[[tuple[str, ...]], dict[str, float]], scopes: tuple[str, ...]
) -> list[float]:
    found = look(scopes)
    return [found[scope] for scope in scopes]


REASON_FIELD_LIMIT = 512
"""Characters kept of each field of a cooldown's reason in Redis (the message, mostly): every
look of every worker reads it back, so a huge or hostile message must not ride along."""


def stored_reason(reason: str) -> str:
    """``reason`` as a cooldown stores it in Redis: each tab-separated field bounded."""
    if not reason:
        return "-"
    return "\t".join(field[:REASON_FIELD_LIMIT] for field in reason.split("\t"))


def reason_text(value: Any) -> str:
    """A stored reason as text ("" for none)."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
    return "" if text in ("-", "1", "None") else text


def token_of(values: Any) -> tuple[str | None, int]:
    token, generation = values
    if token is None:
        return None, int(generation or 0)
    text = token.decode() if isinstance(token, bytes) else str(token)
    return text, int(generation or 0)
