"""payerr inside the Alipay SDKs: python-alipay-sdk and Alipay's official alipay-sdk-python.

    from alipay import AliPay                      # python-alipay-sdk
    from payerr.integrations import alipay as payerr_alipay

    alipay = payerr_alipay.install(AliPay(appid=..., ...))
    alipay.api_alipay_trade_query(out_trade_no="A1")   # what the SDK returned, fewer failures

    client = payerr_alipay.install(DefaultAlipayClient(config))   # the official SDK

Both SDKs keep building, signing and verifying; only the HTTP call is payerr's
(python-alipay-sdk sends every call, payments included, as a GET: payerr
decides by the API in ``method``, so a charge is never sent twice).

Verify first: payerr reads an answer (to retry it or type it) only after the
SDK's own signature check of that answer passed. An answer that fails it goes
back to the SDK untouched, which raises its own validation error. The only
unsigned answers read are the gateway's public error codes (``PUBLIC_CODES``),
which Alipay sends before anything is signed, and HTTP errors; neither can be
read as a success or as "already paid". A body with more than one ``*_response``
node is never read: a signature covers one node, and the engine must read the
node the check approved, so such a body goes back to the SDK untouched.

Every error raised is also the SDK's own exception, so existing handlers keep
catching. With ``raise_errors=True`` a verified business failure (which the
SDKs return as a node) is raised as a typed error too. Without ``install``,
``alipay_result`` reads what either SDK returned.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from .._clients.requests_adapter import RequestsAdapter
from .._coordination.local import Coordinator
from .._retry.policy import RetryPolicy
from ._alipay_flavour import PUBLIC_CODES, Flavour, check_once, flavour_of, official_config
from ._alipay_http import do_multipart_post_through, do_post_through, urlopen_through
from ._alipay_result import alipay_result
from ._sdk import (
    installed,
    mounted_session,
    pickles_as_plain,
    rebind,
    refuse_settings_beside_adapter,
    remember,
    verify_first,
)

__all__ = ["PUBLIC_CODES", "alipay_result", "install"]

A = TypeVar("A")


def install(
    client: A,
    *,
    raise_errors: bool = False,
    policy: RetryPolicy | None = None,
    coordinator: Coordinator | None = None,
    app: str | None = None,
    adapter: RequestsAdapter | None = None,
) -> A:
    """Send ``client``'s calls through payerr; returns ``client``.

    By default the SDK's contract is kept: it returns what it returned (the
    verified node, failures included) and raises what it raised, each error
    also payerr's typed one. ``raise_errors=True`` raises a verified business
    failure as a typed error as well. ``adapter`` is a ready ``RequestsAdapter``
    to use instead (``sandbox.requests_adapter()``), one per client; it brings
    its own policy. A second ``install()`` of the same client changes nothing;
    the client pickles as the plain one and is installed again when loaded.
    """
    sdk: Any = client
    flavour = flavour_of(sdk)
    if installed(sdk):
        return client
    if adapter is not None:
        refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
    else:
        adapter = _own_adapter(sdk, policy, coordinator, app)
    verify_first(adapter, flavour.check)
    _send_through(sdk, flavour, mounted_session(adapter), raise_errors)
    remember(sdk, adapter)
    again = functools.partial(install, raise_errors=raise_errors, policy=policy, app=app)
    once = check_once(sdk, flavour.official)
    pickles_as_plain(sdk, ["execute", "verified_sync_response", *once], again)
    return client


def _own_adapter(
    sdk: Any, policy: RetryPolicy | None, coordinator: Coordinator | None, app: str | None
) -> RequestsAdapter:
    """The client's own adapter: it returns failures, and the SDK's wrapper raises them."""
    return RequestsAdapter(
        policy=(policy or RetryPolicy()).replace(raise_errors=False),
        provider="alipay",
        coordinator=coordinator,
        app=app or str(getattr(sdk, "appid", None) or official_config(sdk).app_id),
    )


def _send_through(sdk: Any, flavour: Flavour, session: Any, raise_errors: bool) -> None:
    """Bind the SDK's HTTP call, on this client only, to payerr's session."""
    kind = type(sdk)
    if flavour.official:
        form = kind.execute.__globals__["MultiPartForm"]
        sdk.execute = rebind(
            kind.execute,
            sdk,
            do_post=do_post_through(session, flavour, raise_errors),
            do_multipart_post=do_multipart_post_through(session, flavour, raise_errors, form),
        )
    else:
        sdk.verified_sync_response = rebind(
            kind.verified_sync_response,
            sdk,
            urlopen=urlopen_through(session, flavour, raise_errors),
        )
