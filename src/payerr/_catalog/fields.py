"""Fields out of a parsed body: values at dotted paths, read as text or as a code.

Reading never raises: a body of any shape gives a value, ``MISSING``, or None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def text(value: Any) -> str:
    """A message field as text, whatever JSON type it arrived as."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return ""


def code_text(value: Any) -> str | None:
    """A code as a canonical string: 40001, "40001", " 40001 " and 40001.0 are one code."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.strip()
    return None


MISSING = object()


def lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a dotted path, or ``MISSING``; never raises."""
    value: Any = data
    for part in path:
        if type(value) is not dict:
            return MISSING
        value = value.get(part, MISSING)
        if value is MISSING:
            return MISSING
    return value


def first(data: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> Any:
    """The first present, non-empty value among ``paths`` (or ``MISSING``)."""
    for path in paths:
        value = data.get(path[0], MISSING)
        if value is MISSING:
            continue  # the common case for all but one path: decided at once
        if len(path) > 1:  # a dotted path is walked only when its first key is there
            value = lookup(data, path)
        if value is not MISSING and value is not None and value != "":
            return value
    return MISSING


def dotted(paths: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """``("a.b", "c")`` as ``(("a", "b"), ("c",))``: split once, when the envelope is made."""
    return tuple(tuple(path.split(".")) for path in paths)
