"""The Alipay SDKs' HTTP calls, sent through payerr's session instead.

python-alipay-sdk's ``urlopen`` and the official SDK's ``do_post`` and
``do_multipart_post``, each returning or raising what the SDK expects of the original.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from .._errors import PayError
from ._alipay_flavour import Flavour
from ._sdk import outcome_error


def _answer(flavour: Flavour, raise_errors: bool, send: Callable[[], Any]) -> Any:
    """The response the SDK reads next, or the error it would raise, also payerr's."""
    found: PayError | None
    try:
        response = send()  # an answer the SDK did not verify comes back as it came
    except PayError as error:  # an adapter that raises, or nothing came back
        if error.response is None:
            raise flavour.error(error) from error.__cause__
        response, found = error.response, error
    else:
        found = outcome_error(response)
    if found is not None:
        body = response.content
        if response.status_code >= 400 or flavour.sdk_raises(body) or raise_errors:
            raise flavour.error(found, response) from found.__cause__
    return response


def urlopen_through(session: Any, flavour: Flavour, raise_errors: bool) -> Any:
    """python-alipay-sdk's ``urlopen(url, timeout=...)``, through payerr."""

    def urlopen(url: str, timeout: float | None = None) -> io.BytesIO:
        response = _answer(flavour, raise_errors, lambda: session.get(url, timeout=timeout))
        if response.status_code >= 400:  # what urllib raises for it
            from urllib.error import HTTPError

            content = io.BytesIO(response.content)
            raise HTTPError(url, response.status_code, response.reason, response.headers, content)
        return io.BytesIO(response.content)

    return urlopen


def _official_body(response: Any) -> bytes:
    """What the official ``do_post`` returns, or its ``ResponseException`` for a non-200."""
    if response.status_code != 200:
        from alipay.aop.api.exception.Exception import ResponseException

        raise ResponseException(
            f"invalid http status {response.status_code},detail body:{response.text}"
        )
    return bytes(response.content)


def do_post_through(session: Any, flavour: Flavour, raise_errors: bool) -> Any:
    """The official SDK's ``do_post``: the form posted to ``url?query_string``."""

    def do_post(
        url: str,
        query_string: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        charset: str = "utf-8",
        timeout: float = 15,
    ) -> bytes:
        body = _form(params, charset) if params else None
        return _post(session, flavour, raise_errors, (url, query_string), body, headers, timeout)

    return do_post


def do_multipart_post_through(
    session: Any, flavour: Flavour, raise_errors: bool, multipart_form: Any
) -> Any:
    """The official SDK's ``do_multipart_post``, its own multipart encoder reused."""

    def do_multipart_post(
        url: str,
        query_string: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        multipart_params: Mapping[str, Any] | None = None,
        charset: str = "utf-8",
        timeout: float = 30,
    ) -> bytes:
        form = multipart_form(charset)
        for key, value in (params or {}).items():
            form.add_field(key, value)
        for key, item in (multipart_params or {}).items():
            if item is not None:
                form.add_file(
                    key, item.get_file_name(), item.get_file_content(), item.get_mime_type()
                )
        sent = {**(headers or {}), "Content-type": form.get_content_type()}
        data = form.build_body()
        return _post(session, flavour, raise_errors, (url, query_string), data, sent, timeout)

    return do_multipart_post


def _post(
    session: Any,
    flavour: Flavour,
    raise_errors: bool,
    where: tuple[str, str | None],
    data: bytes | None,
    headers: Mapping[str, str] | None,
    timeout: float,
) -> bytes:
    """Both official calls' POST to ``url?query_string``, answered as ``do_post`` answers."""
    url, query_string = where
    target = f"{url}?{query_string}" if query_string else url

    def send() -> Any:
        return session.post(target, data=data, headers=headers, timeout=timeout)

    return _official_body(_answer(flavour, raise_errors, send))


def _form(params: Mapping[str, Any], charset: str) -> bytes:
    """The official SDK's form encoding: non-strings as JSON, in ``charset``."""
    pairs = {
        key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in params.items()
    }
    return urlencode(pairs, encoding=charset).encode("ascii")
