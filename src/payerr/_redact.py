"""Keep credentials out of everything payerr prints, logs or pickles.

Two layers: names that are always secret (``access_token``, ``sign``, ...) are
masked wherever they appear as ``name=value`` or ``"name": "value"``; and the
exact secret values a request carried are scrubbed from provider text that may
echo them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

MASK = "***"

SECRET_NAMES: frozenset[str] = frozenset(
    name.lower()
    for name in (
        "access_token",
        "accessToken",
        "app_auth_token",
        "auth_token",
        "refresh_token",
        "sign",
        "signature",
        "paySign",
        "Authorization",
        "Proxy-Authorization",
        "X-WSSE",
        "PasswordDigest",
        "Nonce",
        "appsecret",
        "app_secret",
        "secret",
        "client_secret",
        "appkey",
        "app_key",
        "api_key",
        "private_key",
        "password",
        "Cookie",
        "alipay-signature",
        "Wechatpay-Signature",
    )
)
"""Parameter, field and header names whose values are credentials (compared lower-case)."""

SECRET_SUFFIXES = ("token", "secret", "password", "ticket", "_key", "sign", "signature")
"""Any name ending so is a credential too: every ``*_token`` (``component_access_token``,
``authorizer_access_token``, ``accessToken``, ``purchaseToken``…), ``jsapi_ticket``,
``session_key``, ``paySign``."""

_SUFFIX_NAMES = r"[\w-]*(?:token|secret|password|ticket|_key|sign|signature)"
NAME_CORES = (
    "token",
    "sign",
    "secret",
    "key",
    "authorization",
    "wsse",
    "password",
    "nonce",
    "cookie",
    "ticket",
)
"""Every secret name contains one of these: texts without any skip the masking pattern."""
_AFTER_NAME = re.compile(r'[\w-]*"?\s*[=:]')

_extra_names: set[str] = set()
_QUOTED: re.Pattern[str] | None = None
_SECRET: re.Pattern[str] | None = None


def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The masking patterns, compiled on first need (importing payerr stays cheap)."""
    if _SECRET is None or _QUOTED is None:
        _compile()
    assert _SECRET is not None and _QUOTED is not None
    return _SECRET, _QUOTED


def _compile() -> None:
    """(Re)build the patterns from the built-in names, the suffixes and any added names."""
    global _QUOTED, _SECRET
    names = sorted((re.escape(n) for n in SECRET_NAMES | _extra_names), key=len, reverse=True)
    alternatives = "|".join([*names, _SUFFIX_NAMES])
    _QUOTED = re.compile(rf'\b(?:{alternatives})\s*=\s*"([^"]*)"', re.IGNORECASE)
    _SECRET = re.compile(
        # "name": "value"  (JSON)
        rf'(?P<json>"(?:{alternatives})"\s*:\s*")(?:[^"\\]|\\.)*(?=")'
        # name="value"  (WSSE header parameters)
        rf'|(?P<quoted>\b(?:{alternatives})\s*=\s*")[^"]*(?=")'
        # name=value  (query strings, forms)
        rf"|(?P<pair>(?:^|(?<=[?&;,\s]))(?:{alternatives})=)[^&\s\"',;]+"
        # Name: value  (header lines)
        rf"|(?P<header>\b(?:{alternatives}):[ \t]*)[^\r\n]+",
        re.IGNORECASE,
    )
    """Every place a secret-named value can sit, in one pattern: one pass over the text."""


def add_secret_names(*names: str) -> None:
    """Treat more parameter, field or header names as credentials (an adapter's, or yours).

    A name must contain one of ``NAME_CORES`` (token, sign, secret, key, ...) or
    be listed here; names are compared case-insensitively.
    """
    fresh = {name.lower() for name in names if name} - SECRET_NAMES - _extra_names
    if fresh:
        global _SECRET, _QUOTED
        _extra_names.update(fresh)
        _SECRET = _QUOTED = None  # rebuilt with the new names on next use


def is_secret_name(name: str) -> bool:
    """Whether a parameter, field or header of this name carries a credential."""
    lowered = name.lower()
    return lowered in SECRET_NAMES or lowered.endswith(SECRET_SUFFIXES) or lowered in _extra_names


def redact_text(text: str, values: Iterable[str] = ()) -> str:
    """Mask secret-named values and the given exact secret values in free text."""
    for value in values:
        if len(value) >= 4 and value in text:
            text = text.replace(value, MASK)
    if not _may_hold_named_secret(text):
        return text
    return _patterns()[0].sub(_mask, text)


def spellings(value: str) -> tuple[str, ...]:
    """A secret as it may be echoed back: plain, URL-encoded (``%2B``, ``+``), JSON-escaped
    (``\\/``, ``\\u002b``) and base64url."""
    import json
    from urllib.parse import quote, quote_plus

    found = {
        value,
        quote(value, safe=""),
        quote_plus(value, safe=""),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        value.replace("/", "\\/"),
        "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in value),
        "".join(c if c.isalnum() else f"\\u{ord(c):04X}" for c in value),
        value.replace("+", "-").replace("/", "_").rstrip("="),
    }
    pending = [s for s in found if "\\" in s]
    for _ in range(4):  # echoed unescaped into JSON, a form reads back as its escapes decode
        decoded = set()
        for spelled in pending:
            try:
                decoded.add(json.loads(f'"{spelled}"'))
            except ValueError:
                pass
        pending = [s for s in decoded - found if "\\" in s]
        found |= decoded
        if not pending:
            break
    found |= {spelled.strip() for spelled in found}  # messages are stripped when read
    return tuple(sorted((s for s in found if len(s) >= 4), key=len, reverse=True))


def _may_hold_named_secret(text: str) -> bool:
    """A cheap look before the full pattern: a name core, the rest of a name, then = or :.

    Every place the pattern masks has this shape, so a text without it has
    nothing to mask. ``casefold`` matches at least what IGNORECASE does.
    """
    folded = text.casefold()
    for core in (*NAME_CORES, *_extra_names):
        start = folded.find(core)
        while start >= 0:
            if _AFTER_NAME.match(folded, start + len(core)):
                return True
            start = folded.find(core, start + 1)
    return False


def _mask(match: re.Match[str]) -> str:
    kept = match.group("json") or match.group("quoted") or match.group("pair")
    return (kept or match.group("header")) + MASK


def redact_url(url: str) -> str:
    """The URL with secret query parameters and any user:password masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(k) for k, _ in pairs):
            query = "&".join(f"{k}={MASK}" if is_secret_name(k) else f"{k}={v}" for k, v in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secret_values(
    url: str, headers: Mapping[str, str], form: Mapping[str, object] | None = None
) -> tuple[str, ...]:
    """The credential values a request carried, so echoes of them can be scrubbed."""
    found: list[str] = []
    try:
        query = urlsplit(url).query
        found += [v for k, v in parse_qsl(query) if is_secret_name(k) and v]
        for pair in query.split("&"):  # as written, too: "+" and "%2B" left alone
            name, _, value = pair.partition("=")
            if value and is_secret_name(unquote(name)):
                found.append(value)
    except ValueError:
        pass
    for name, value in headers.items():
        if is_secret_name(name) and value:
            found.append(value)
            found += _patterns()[1].findall(value)
            scheme, _, credential = value.partition(" ")
            if credential and scheme.isalpha():
                found.append(credential)
    if form:
        found += [str(v) for k, v in form.items() if is_secret_name(k) and isinstance(v, str) and v]
    every = {spelled for value in found for spelled in spellings(value)}
    return tuple(sorted(every, key=len, reverse=True))
