"""Bytes to JSON without ever raising: UTF-8 first, then the declared charset, then GB18030.

orjson reads the common case (valid UTF-8 JSON) several times faster than the
standard library; anything it refuses (other encodings, NaN, nesting past 1024)
goes through ``json`` as before, and so does a body holding an integer past 64
bits (which orjson would read as a float): what is accepted and how it reads is
``json.loads``'s.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_FALLBACK_CHARSETS = ("gb18030",)


def charset_of(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a Content-Type header, lower-cased."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'").lower() or None
    return None


def parse_json(body: bytes, content_type: str | None = None) -> tuple[Any, str | None]:
    """``(value, None)`` when the body is JSON, ``(None, why)`` when it is not.

    Alipay answers in GBK even when the request asked for UTF-8, so a body that
    is not UTF-8 is decoded with the declared charset and then as GB18030 (a
    superset of GBK) before giving up.
    """
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return parse_json_slowly(body, content_type)
    if wide_integer(body, value):
        return parse_json_slowly(body, content_type)  # an integer past 64 bits, kept exact
    return value, None


def wide_integer(body: bytes, value: Any) -> bool:
    """Whether orjson's ``value`` of ``body`` read an integer past 64 bits (as a float).

    A run of nineteen digits is looked for first, in C: most bodies have none (about
    10 instructions a byte: 5 M on a 500 KiB answer, 0.8 k on a small one)."""
    return body.translate(_DIGITS_ONLY).find(_NINETEEN_DIGITS) >= 0 and _has_wide_float(value)


_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
"""Every digit stays a digit (as "0"), every other byte a space: digit runs, found in C."""
_NINETEEN_DIGITS = b"0" * 19
"""The shortest integer that may not fit in 64 bits (below -9223372036854775808)."""
_WIDE = float(2**63)


def _has_wide_float(value: Any) -> bool:
    """Whether a parse holds a float of integer size past 64 bits (orjson's reading of one)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if abs(item) >= _WIDE:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json_slowly(body: bytes, content_type: str | None = None) -> tuple[Any, str | None]:
    """``parse_json`` for a body orjson has already refused."""
    try:
        return json.loads(body), None
    except UnicodeDecodeError:
        pass
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:
        if not body.strip():
            return None, "empty body"
        return None, f"not JSON ({_short(exc)})"
    declared = charset_of(content_type)
    for charset in (declared, *_FALLBACK_CHARSETS):
        if not charset or charset in ("utf-8", "utf8"):
            continue
        try:
            text = body.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
        try:
            return json.loads(text), None
        except RecursionError:
            return None, "JSON nested too deeply"
        except ValueError as exc:
            return None, f"not JSON ({_short(exc)})"
    return None, "body is in no known text encoding"


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."
