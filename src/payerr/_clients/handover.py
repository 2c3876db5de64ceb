"""One parse per body: a client's ``json()`` gets the object payerr already parsed.

The middleware parses every body it reads. Without this a caller's
``response.json()`` parses the same bytes again (+30 k instructions on a
small body, +40 % CPU on a 500 KiB one). The parse is handed over once, to
the first ``json()`` called without arguments; every later call parses again
and returns a fresh object, as the clients do. It is handed over only when
the client would have produced the very same value: a JSON object or array
that is valid UTF-8, decoded by the client as UTF-8 (or as an
ASCII-compatible charset when the body is ASCII). Otherwise — keyword
arguments to ``json.loads``, another charset, a BOM, an XML or form body —
the client parses as it always did.

The object handed over is the one ``payerr.inspect(response).data`` returns:
a caller who changes the first ``json()``'s result sees the change there.

Client-neutral: ``offer`` after a success is read, ``take`` inside the
client's ``json()`` with the charset the client would decode with. For
aiohttp's ``await response.json(encoding=, loads=, content_type=)``: after its
content-type check, and only when ``loads is json.loads``, ``take(response,
body, encoding or response.get_encoding())``; MISSING means parse as aiohttp does.
"""

from __future__ import annotations

import codecs
from typing import Any, Final

_SLOT: Final = "_payerr_parse"
"""The instance attribute holding the parse until it is handed over."""

MISSING: Final[Any] = object()
"""``take``'s answer when the client must parse the body itself."""

_OPENERS: dict[type, int] = {dict: 0x7B, list: 0x5B}  # "{" and "["
_SPACE = b" \t\r\n"
_ASCII_SUPERSETS = frozenset(
    {"utf-8", "ascii", "iso8859-1", "cp1252", "gbk", "gb2312", "gb18030", "big5"}
)
"""Charsets that decode every ASCII byte as ASCII: an ASCII body reads the same in each."""


def offer(response: Any, data: Any) -> None:
    """Keep ``data`` (payerr's parse of the body) for the response's first ``json()``."""
    if type(data) in _OPENERS and data:  # "{}" and "[]" cost nothing to parse again
        # an attribute, not ``__dict__[...]``: asking for an instance's ``__dict__`` turns
        # its attributes into a dict, and every later look-up on it takes the slow path
        setattr(response, _SLOT, data)


def take(response: Any, body: bytes, charset: str | None) -> Any:
    """The parse, once, if the client would get the same value from ``body``; else MISSING.

    ``charset`` is what the client decodes the bytes with before ``json.loads``
    (None: it hands ``json.loads`` the bytes, which reads UTF-8 JSON as UTF-8).
    """
    data = getattr(response, _SLOT, MISSING)
    if data is MISSING:
        return MISSING
    delattr(response, _SLOT)  # handed over once: a second caller parses
    return data if same_value(data, body, charset) else MISSING


def same_value(data: Any, body: bytes, charset: str | None) -> bool:
    """Whether ``json.loads(body decoded with charset)`` is ``data``'s value.

    payerr's parse of a valid UTF-8 body is orjson's or ``json.loads``'s, both the
    value ``json.loads`` gives; only a body that is not UTF-8 (decoded by payerr
    as GB18030) or not JSON (XML, a form) may have been read differently.
    """
    opener = _OPENERS.get(type(data))
    if opener is None or not body:
        return False
    if body[0] != opener:  # white space first (rare): look past it, copying the body once
        stripped = body.lstrip(_SPACE)
        if not stripped or stripped[0] != opener:
            return False  # another kind of body
    if body.find(0, 0, 4) >= 0:
        return False  # UTF-16/32 (a NUL in the first bytes)
    if body.isascii():  # a charset spelled as the registry does is known without a look-up
        return (
            charset is None or charset in _ASCII_SUPERSETS or _normal(charset) in _ASCII_SUPERSETS
        )
    if charset is not None and _normal(charset) != "utf-8":
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_NORMALS: dict[str, str] = {}
"""Charset names as the codecs registry spells them, looked up once per name."""


def _normal(charset: str) -> str:
    found = _NORMALS.get(charset)
    if found is None:
        try:
            found = codecs.lookup(charset).name
        except LookupError:
            found = ""
        if len(_NORMALS) < 256:  # a server may name any charset: the memory stays bounded
            _NORMALS[charset] = found
    return found
