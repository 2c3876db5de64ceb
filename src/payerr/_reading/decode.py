"""Bytes to JSON without ever raising: UTF-8 first, then the declared charset, then GB18030.

orjson reads the common case (valid UTF-8 JSON) several times faster than the
standard library; anything it refuses (other encodings, NaN, integers past 64
bits, nesting past 1024) goes through ``json`` as before, so what is accepted
and how it reads is unchanged.
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
        return orjson.loads(body), None
    except orjson.JSONDecodeError:
        return parse_json_slowly(body, content_type)


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
