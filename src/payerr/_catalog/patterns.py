"""The patterns adapter files write: shell globs for paths, nodes and API names, and
regexes for a request id glued to a message.

Globs that use only ``*`` (every shipped one) are matched piece by piece, never
compiled: compiling a regex costs about a millisecond, and a process's first
request would pay it for every envelope it chooses among. A glob with ``?`` or
``[...]`` (an adapter file of the user's own) is compiled as ``fnmatch`` would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import translate
from typing import Any


class Globs:
    """A set of shell-style patterns (case-sensitive, as ``fnmatchcase``); ``match`` is
    whether any matches the whole text."""

    __slots__ = ("_pieces", "_regex")

    def __init__(self, patterns: Iterable[str]) -> None:
        starred: list[str] = []
        other: list[str] = []
        for pattern in patterns:
            (other if "?" in pattern or "[" in pattern else starred).append(pattern)
        self._pieces = tuple(tuple(pattern.split("*")) for pattern in starred)
        self._regex = re.compile("|".join(translate(p) for p in other)) if other else None

    def match(self, text: str) -> bool:
        if any(_matches(pieces, text) for pieces in self._pieces):
            return True
        return self._regex is not None and self._regex.match(text) is not None


def _matches(pieces: tuple[str, ...], text: str) -> bool:
    """Whether ``text`` matches a glob split at its ``*``: the first piece leads, the
    last ends it, the ones between appear in order (the leftmost place is always safe)."""
    if len(pieces) == 1:
        return text == pieces[0]
    first, *middle, last = pieces
    if len(text) < len(first) + len(last) or not text.startswith(first):
        return False
    end = len(text) - len(last)
    if not text.endswith(last):
        return False
    at = len(first)
    for piece in middle:
        at = text.find(piece, at, end)
        if at < 0:
            return False
        at += len(piece)
    return True


_CACHE: dict[tuple[str, ...], Globs] = {}


def globs(patterns: tuple[str, ...]) -> Globs:
    """The matcher for a set of globs, made once and shared by every user of the same set:
    loading a thousand codes with per-API rules makes only the few distinct sets."""
    found = _CACHE.get(patterns)
    if found is None:
        found = _CACHE[patterns] = Globs(patterns)
    return found


def safe_pattern(pattern: str) -> re.Pattern[str]:
    """A message pattern from an adapter file, compiled; ValueError when it could take
    exponential time (a repeat inside a repeat, or alternatives repeated), which even a
    bounded window would not save."""
    from re import _parser  # type: ignore[attr-defined]

    compiled = re.compile(pattern)

    def walk(items: Any, repeated: bool) -> None:
        for op, value in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT"):
                _low, high, inner = value
                unbounded = high == _parser.MAXREPEAT or high > 64
                if repeated and unbounded:
                    raise ValueError(f"{pattern!r}: a repeat inside a repeat can take forever")
                walk(inner, repeated or unbounded)
            elif name == "BRANCH":
                if repeated:
                    raise ValueError(f"{pattern!r}: repeated alternatives can take forever")
                for branch in value[1]:
                    walk(branch, repeated)
            elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT"):
                walk(value[-1], repeated)
            elif name in ("ATOMIC_GROUP", "POSSESSIVE_REPEAT"):
                pass  # never backtracked into
            elif name == "GROUPREF_EXISTS":
                for branch in value[1:]:
                    if branch is not None:
                        walk(branch, repeated)

    walk(_parser.parse(pattern), False)
    return compiled
