"""The patterns adapter files write: shell globs for paths, nodes and API names, and
regexes for a request id glued to a message.

A glob or two that use only ``*`` (every shipped envelope's) are matched piece
by piece, never compiled: compiling a regex costs about a millisecond, and a
process's first request would pay it for every envelope it chooses among.
Longer sets, and globs with ``?`` or ``[...]`` (an adapter file of the user's
own), are compiled as ``fnmatch`` would, when first matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import translate
from typing import Any


class Globs:
    """A set of shell-style patterns (case-sensitive, as ``fnmatchcase``); ``match`` is
    whether any matches the whole text.

    Up to ``PIECEWISE`` globs that use only ``*`` (an envelope's paths, Alipay's node)
    are matched piece by piece: no regex is compiled on a process's first request. A
    longer set (the APIs that move money) is compiled once, when first matched: one
    match in C then beats a Python loop over twenty globs on every error.
    """

    __slots__ = ("_patterns", "_pieces", "_regex")

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = tuple(patterns)
        starred = not any("?" in p or "[" in p for p in self._patterns)
        piecewise = starred and len(self._patterns) <= PIECEWISE
        self._pieces = tuple(tuple(p.split("*")) for p in self._patterns) if piecewise else None
        self._regex: re.Pattern[str] | None = None

    def match(self, text: str) -> bool:
        pieces = self._pieces
        if pieces is not None:
            for glob in pieces:
                if len(glob) == 2:  # ``head*tail``, Alipay's ``*_response``: on every answer
                    head, tail = glob
                    if (
                        len(text) >= len(head) + len(tail)
                        and text.startswith(head)
                        and text.endswith(tail)
                    ):
                        return True
                elif _matches(glob, text):
                    return True
            return False
        regex = self._regex
        if regex is None:
            regex = self._regex = re.compile("|".join(translate(p) for p in self._patterns))
        return regex.match(text) is not None


PIECEWISE = 2


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
