"""Keep credentials out of everything payerr prints, logs or pickles.

Two layers: names that are always secret (``access_token``, ``sign``, ...) are
masked wherever they appear as ``name=value`` or ``"name": "value"``; and the
exact secret values a request carried are scrubbed from provider text that may
echo them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
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
    )
)
"""Parameter, field and header names whose values are credentials (compared lower-case)."""

SECRET_SUFFIXES = ("token", "secret", "password", "ticket", "_key", "sign", "signature")
"""Any name ending so is a credential too: every ``*_token`` (``component_access_token``,
``authorizer_access_token``, ``accessToken``, ``purchaseToken``…), ``jsapi_ticket``,
``session_key``, ``paySign``."""

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

_extra_names: set[str] = set()
_QUOTED: re.Pattern[str] | None = None
_SECRET: re.Pattern[str] | None = None


def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The masking patterns, compiled on first need (importing payerr stays cheap)."""
    if _SECRET is None or _QUOTED is None:
        _compile()
    assert _SECRET is not None and _QUOTED is not None
    return _SECRET, _QUOTED


def _name_pattern() -> str:
    """A secret name, matched in time linear in the text: a whole word (``[\\w-]``) that
    is a listed name, ends with ``-<listed name>`` or ends with a secret suffix.

    The word is taken possessively from its first character only, and what it
    ends with is checked by fixed-width look-behinds: no start inside a word,
    no backtracking into it, so a megabyte-long word costs one pass.
    """
    every = SECRET_NAMES | _extra_names
    listed = sorted((n for n in every if not n.endswith(SECRET_SUFFIXES)), key=len, reverse=True)
    exact = "|".join(re.escape(name) for name in listed)  # the suffixes cover the others
    ends = [*SECRET_SUFFIXES, *(f"-{name}" for name in listed if "-" not in name)]
    behind = "|".join(f"(?<={re.escape(end)})" for end in ends)
    return rf"(?<![\w-])(?:[\w-]*+(?:{behind})|(?:{exact})(?![\w-]))"


def _compile() -> None:
    """(Re)build the patterns from the built-in names, the suffixes and any added names.

    Every value part is possessive and stops at a character its own prefix
    cannot contain, so each character of a text is looked at a bounded number
    of times: masking is linear in the size of the text.
    """
    global _QUOTED, _SECRET
    name = _name_pattern()
    _QUOTED = re.compile(rf'{name}\s*+=\s*+"([^"]*+)"', re.IGNORECASE)
    _SECRET = re.compile(
        # "name": "value"  (JSON)
        rf'(?P<json>"{name}"\s*+:\s*+")(?:[^"\\]++|\\.)*+(?=")'
        # name="value"  (WSSE header parameters)
        rf'|(?P<quoted>{name}\s*+=\s*+")[^"]*+(?=")'
        # name=value  (query strings, forms)
        rf"|(?P<pair>(?:^|(?<=[?&;,\s])){name}=)[^&\s\"',;]++"
        # Name: value  (header lines)
        rf"|(?P<header>{name}:[ \t]*+)[^\r\n]++",
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
        global _SECRET, _QUOTED, _CORES
        _extra_names.update(fresh)
        _SECRET = _QUOTED = _CORES = None  # rebuilt with the new names on next use


def is_secret_name(name: str) -> bool:
    """Whether a parameter, field or header of this name carries a credential."""
    lowered = name.lower()
    return lowered in SECRET_NAMES or lowered.endswith(SECRET_SUFFIXES) or lowered in _extra_names


TEXT_CAP = 32 * 1024
"""Characters of one provider text (a message, a sub-message) kept: a megabyte of
``token=x&`` is a megabyte of matches, and nobody reads past the first screens."""
CUT = "…"


def redact_text(text: str, values: Iterable[str] = ()) -> str:
    """Mask secret-named values and the given exact secret values in free text.

    A text longer than ``TEXT_CAP`` is cut first, never inside one of ``values``
    (a cut secret would not be recognised), and marked with an ellipsis.
    Everything after the cut is linear: every pattern here is.
    """
    values = tuple(values)
    cut = len(text) > TEXT_CAP
    if cut:
        text = _cut(text, values)
    for value in values:
        if len(value) >= 4 and value in text:
            text = text.replace(value, MASK)
    if _may_hold_named_secret(text):
        text = _patterns()[0].sub(_MASKED, text)
    return text + CUT if cut else text


def _cut(text: str, values: tuple[str, ...]) -> str:
    """The first ``TEXT_CAP`` characters, moved back before any secret the cut would split."""
    end, moved = TEXT_CAP, True
    while moved:  # a move can make another value straddle the new end: until none does
        moved = False
        for value in values:
            if len(value) < 4:
                continue
            start = text.find(value, max(0, end - len(value) + 1), end + len(value) - 1)
            if 0 <= start < end:
                end, moved = start, True
    return text[:end]


_NOT_ALNUM = re.compile(r"[\W_]")
"""What ``str.isalnum`` refuses (``\\w`` is exactly it plus the underscore)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.~-]+")
"""What ``urllib.parse.quote(value, safe="")`` percent-encodes."""


def _percent(value: str, plus: bool) -> str:
    """``quote(value, safe="")`` (``quote_plus`` when ``plus``), a run at a time instead of
    a byte at a time: a signature or an Authorization header is mostly safe characters."""
    if plus and " " in value:
        return "+".join(_percent(part, False) for part in value.split(" "))
    return _UNSAFE.sub(lambda run: "".join([f"%{b:02X}" for b in run[0].encode()]), value)


def _u_escaped(value: str, form: str) -> str:
    """Every character ``isalnum`` refuses as ``form`` (``\\u{:04x}`` or upper case)."""
    return _NOT_ALNUM.sub(lambda one: form.format(ord(one[0])), value)


def spellings(value: str) -> tuple[str, ...]:
    """A secret as it may be echoed back: plain, URL-encoded (``%2B``, ``+``), JSON-escaped
    (``\\/``, ``\\u002b``) and base64url."""
    import json

    found = {
        value,
        _percent(value, False),
        _percent(value, True),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        value.replace("/", "\\/"),
        _u_escaped(value, "\\u{:04x}"),
        _u_escaped(value, "\\u{:04X}"),
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
    """A cheap look before the full pattern: a word holding a name core, then = or :.

    Every place the pattern masks has this shape, so a text without it has
    nothing to mask. ``casefold`` matches at least what IGNORECASE does. Words
    followed by = or : are found in one pass (each taken whole, possessively, from
    its first character), and only those are searched for a core.
    """
    global _CORES
    if _CORES is None:
        _CORES = re.compile("|".join(map(re.escape, (*NAME_CORES, *sorted(_extra_names)))))
    search = _CORES.search
    return any(search(word) for word in _NAMED_WORD.findall(text.casefold()))


_NAMED_WORD = re.compile(r'(?<![\w-])[\w-]++(?="?\s*+[=:])')
"""A whole word followed by = or : (a quote between, as JSON has it)."""
_CORES: re.Pattern[str] | None = None
"""Any name core or added name: made on first need, and again when names are added."""


_MASKED = rf"\g<json>\g<quoted>\g<pair>\g<header>{MASK}"
"""What a match becomes: its name part (one group matched, the others are empty), then the
mask; a template, so the substitution never calls back into Python."""


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
    url: str,
    headers: Mapping[str, str],
    form: Mapping[str, object] | None = None,
    within: Sequence[str | bytes] | None = None,
) -> tuple[str, ...]:
    """The credential values a request carried, so echoes of them can be scrubbed;
    given ``within`` (the texts to scrub), only those that may appear in one of them."""
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
    values = dict.fromkeys(found)
    if within is not None:
        values = dict.fromkeys(value for value in values if _may_appear(value, within))
    every = {spelled for value in values for spelled in spellings(value)}
    return tuple(sorted(every, key=len, reverse=True))


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]+")


def _may_appear(value: str, texts: Sequence[str | bytes]) -> bool:
    """Whether any spelling of ``value`` may be in one of ``texts``: every spelling keeps
    the value's ASCII letters and digits as they are, so a text without its longest run
    of them holds none. Spelling out a 300-character signature (percent, JSON and
    ``\\u`` escapes) costs more than the rest of an error; most answers echo nothing."""
    if "\\" in value:
        return True  # a value holding escapes may be echoed decoded: spell it out
    core = max(_ASCII_ALNUM.findall(value), key=len, default="")
    if len(core) < 4:
        return True  # too short to tell anything by
    raw = core.encode()
    return any(core in text if isinstance(text, str) else raw in text for text in texts)
