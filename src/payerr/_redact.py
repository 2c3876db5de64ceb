"""Keep credentials out of everything payerr prints, logs or pickles.

Two layers: names that are always secret (``access_token``, ``sign``, ...) are
masked wherever they appear as ``name=value`` or ``"name": "value"``; and the
exact secret values a request carried are scrubbed from provider text that may
echo them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

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

_NAMES = "|".join(sorted((re.escape(n) for n in SECRET_NAMES), key=len, reverse=True))
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
)
"""Every secret name contains one of these: texts without any skip the masking pattern."""
_AFTER_NAME = re.compile(r'[\w-]*"?\s*[=:]')
_QUOTED = re.compile(rf'\b(?:{_NAMES})\s*=\s*"([^"]*)"', re.IGNORECASE)
_SECRET = re.compile(
    # "name": "value"  (JSON)
    rf'(?P<json>"(?:{_NAMES})"\s*:\s*")(?:[^"\\]|\\.)*(?=")'
    # name="value"  (WSSE header parameters)
    rf'|(?P<quoted>\b(?:{_NAMES})\s*=\s*")[^"]*(?=")'
    # name=value  (query strings, forms)
    rf"|(?P<pair>(?:^|(?<=[?&;,\s]))(?:{_NAMES})=)[^&\s\"',;]+"
    # Name: value  (header lines)
    rf"|(?P<header>\b(?:{_NAMES}):[ \t]*)[^\r\n]+",
    re.IGNORECASE,
)
"""Every place a secret-named value can sit, in one pattern: one pass over the text."""


def is_secret_name(name: str) -> bool:
    """Whether a parameter, field or header of this name carries a credential."""
    return name.lower() in SECRET_NAMES


def redact_text(text: str, values: Iterable[str] = ()) -> str:
    """Mask secret-named values and the given exact secret values in free text."""
    for value in values:
        if len(value) >= 4 and value in text:
            text = text.replace(value, MASK)
    if not _may_hold_named_secret(text):
        return text
    return _SECRET.sub(_mask, text)


def _may_hold_named_secret(text: str) -> bool:
    """A cheap look before the full pattern: a name core, the rest of a name, then = or :.

    Every place the pattern masks has this shape, so a text without it has
    nothing to mask. ``casefold`` matches at least what IGNORECASE does.
    """
    folded = text.casefold()
    for core in NAME_CORES:
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
        found += [v for k, v in parse_qsl(urlsplit(url).query) if is_secret_name(k) and v]
    except ValueError:
        pass
    for name, value in headers.items():
        if is_secret_name(name) and value:
            found.append(value)
            found += _QUOTED.findall(value)
            scheme, _, credential = value.partition(" ")
            if credential and scheme.isalpha():
                found.append(credential)
    if form:
        found += [str(v) for k, v in form.items() if is_secret_name(k) and isinstance(v, str) and v]
    return tuple(sorted(set(found), key=len, reverse=True))
