"""Fake providers declared as data: the ``[sandbox]`` table of an adapter file.

A provider whose adapter has one is served with no Python of its own: routes
matched by path (and request fields), token routes, token checks, answers
written from templates, duplicate keys counted in the ledger. The format is
documented in docs/adapters.md.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .._catalog.file_format import validated_model
from .._catalog.model import ProviderSpec
from .._catalog.registry import catalog
from . import _unionpay as unionpay
from ._signing import Signer
from ._state import Ledger, Tokens
from ._wire import Incoming, Reply

SIGNERS: dict[str, Callable[[dict[str, Any], Signer], dict[str, Any]]] = {
    "unionpay": unionpay.sign,
}
"""Signing schemes a ``[sandbox] sign`` may name: (answer fields, signer) -> signed fields."""

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][\w.-]*)(\|int)?\}")
CONTENT_TYPES = {
    "json": "application/json;charset=utf-8",
    "form": "text/plain;charset=UTF-8",
    "xml": "text/xml;charset=utf-8",
}
"""The type each answer format is labelled with (UTF-8, as ``write`` writes them)."""
_BEIJING = 8 * 3600  # ${time} is written as the Chinese gateways write theirs


def request_fields(request: Incoming) -> dict[str, Any]:
    """The request's fields: query, then form, then JSON body."""
    return {**request.query, **request.form, **request.json}


def render(template: Any, context: Mapping[str, Any]) -> Any:
    """A template table with its ``${name}`` placeholders filled (types kept where whole)."""
    if isinstance(template, dict):
        return {key: render(value, context) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, context) for value in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template)
    if whole is not None:
        value = _lookup(context, whole.group(1))
        if whole.group(2) and str(value).lstrip("-").isdigit():
            return int(value)
        return value
    return _PLACEHOLDER.sub(lambda m: str(_lookup(context, m.group(1))), template)


def _lookup(context: Mapping[str, Any], name: str) -> Any:
    if name.startswith("field."):
        value = context["fields"].get(name[6:], "")
        return value if value is not None else ""
    return context.get(name, "")


def write(data: dict[str, Any], body_format: str) -> bytes:
    """An answer in the provider's format (form values are not URL-encoded, as gateways send)."""
    if body_format == "form":
        return "&".join(f"{key}={value}" for key, value in data.items()).encode("utf-8")
    if body_format == "xml":
        inner = "".join(f"<{key}><![CDATA[{value}]]></{key}>" for key, value in data.items())
        return f"<xml>{inner}</xml>".encode()
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


class DeclaredProvider:
    """One provider's ``[sandbox]`` table, answering requests."""

    def __init__(self, spec: ProviderSpec, table: Any, ledger: Ledger, tokens: Tokens) -> None:
        self.spec = spec
        self.table = table
        self.ledger = ledger
        self.tokens = tokens
        self.signer: Signer | None = None
        self._lock = threading.Lock()
        self._done: dict[tuple[str, str], Reply] = {}
        self._routes = {route.name: route for route in table.route}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def route_names(self) -> tuple[str, ...]:
        return tuple(self._routes)

    def route(self, request: Incoming) -> tuple[str, Callable[[Incoming], Reply]] | None:
        """(route name, handler) of the first route that matches the request."""
        fields: dict[str, Any] | None = None
        for route in self.table.route:
            if not fnmatchcase(request.path, route.path):
                continue
            if route.http_method and route.http_method.upper() != request.method:
                continue
            if route.when:
                fields = fields if fields is not None else request_fields(request)
                if any(str(fields.get(k, "")) != v for k, v in route.when.items()):
                    continue
            return route.name, lambda incoming, name=route.name: self.answer(name, incoming)
        return None

    def keys(self, route_name: str, request: Incoming) -> list[tuple[str, str]]:
        route = self._routes.get(route_name)
        if route is None or route.key is None:
            return []
        return [(route.key, str(request_fields(request).get(route.key, "")))]

    def answer(self, route_name: str, request: Incoming) -> Reply:
        """A route's happy path: the token check, the duplicate key, then the success."""
        route = self._routes[route_name]
        fields = request_fields(request)
        context: dict[str, Any] = self._context(fields)
        if route.auth is not None:
            denied = self._denied(route.auth, request, fields)
            if denied is not None:
                return self.error(denied, request)
        if route.token == "issue":
            context["token"] = self.tokens.issue(self.name, rotate=route.rotate)
        if route.key is None:
            return self._reply(route.status, route.success, context)
        key = str(fields.get(route.key, ""))
        with self._lock:
            done = self._done.get((route.name, key))
            if done is not None:
                return done if route.duplicate is None else self.error(route.duplicate, request)
            reply = self._done[route.name, key] = self._reply(route.status, route.success, context)
            self.ledger.executed(route.key, key)
        return reply

    def error(self, code: str, request: Incoming) -> Reply:
        """The provider's answer carrying ``code``, as ``[sandbox.error]`` writes it."""
        spec, answer = self.spec, self.table.error
        info = spec.sub_codes.get(code) or spec.codes.get(code)
        context = self._context(request_fields(request))
        context["code"] = code
        context["message"] = (
            (info.provider_message or info.message_en) if info is not None else "sandbox error"
        )
        if info is None and code.isdigit() and len(code) == 3 and 100 <= int(code) <= 599:
            return self._reply(int(code), answer.http_body, context, empty=not answer.http_body)
        return self._reply(answer.status, answer.body, context)

    def _context(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        now = time.time()
        return {
            "fields": fields,
            "rid": secrets.token_hex(6),
            "id": secrets.token_hex(6),
            "now": int(now),
            "time": time.strftime("%Y%m%d%H%M%S", time.gmtime(now + _BEIJING)),
        }

    def _denied(self, auth: Any, request: Incoming, fields: Mapping[str, Any]) -> str | None:
        """The code a request without a valid token is answered with, or None."""
        if auth.in_ == "header":
            value = request.headers.get(auth.name.lower())
            pattern = re.escape(auth.template).replace(re.escape("${token}"), "(.+)")
            found = re.fullmatch(pattern, value or "")
            token = found.group(1) if found else None
        elif auth.in_ == "query":
            token = request.query.get(auth.name)
        else:  # a form or JSON body field
            token = fields.get(auth.name)
        if not token:
            return str(auth.missing)
        if not self.tokens.valid(self.name, str(token)):
            return str(auth.invalid)
        return None

    def _reply(
        self,
        status: int,
        template: Mapping[str, Any],
        context: Mapping[str, Any],
        *,
        empty: bool = False,
    ) -> Reply:
        body_format = self.table.format
        data = render(dict(template), context)
        if self.signer is not None and self.table.sign:
            data = SIGNERS[self.table.sign](data, self.signer)
        headers = {
            "Content-Type": CONTENT_TYPES[body_format],
            **render(self.table.headers, context),
        }
        return Reply(status, b"" if empty else write(data, body_format), headers)


_TABLES: dict[tuple[str, int], Any] = {}
_TABLES_LOCK = threading.Lock()


def _table(source: str) -> Any:
    """The validated ``[sandbox]`` table of an adapter file (None without one), kept per
    version of the file: the shipped files are read once per process."""
    path = Path(source)
    try:
        stamp = path.stat().st_mtime_ns
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if "[sandbox" not in text:
        return None
    with _TABLES_LOCK:
        if (source, stamp) not in _TABLES:
            _TABLES[source, stamp] = validated_model(path, part="sandbox")
        return _TABLES[source, stamp]


def declared_providers(ledger: Ledger, tokens: Tokens) -> dict[str, DeclaredProvider]:
    """Every provider of the catalog whose adapter file declares sandbox routes."""
    found = {}
    for name in catalog().names:
        spec = catalog().spec(name)
        table = _table(spec.source)
        if table is not None:
            found[name] = DeclaredProvider(spec, table, ledger, tokens)
    return found
