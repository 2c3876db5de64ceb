"""payerr inside wechatpy: one call, and wechatpy's own handlers keep working.

    from wechatpy import WeChatClient
    from payerr.integrations import wechatpy as payerr_wechatpy

    client = payerr_wechatpy.install(WeChatClient(appid, secret))
    client.message.send_text(openid, "hi")  # retried, typed, still a WeChatClientException

One owner for the token: wechatpy keeps fetching and storing it (its own
``fetch_access_token`` and session storage, Redis included); payerr decides
when, and makes every fetch single-flight, because WeChat voids the old token
on each fetch. wechatpy's own resend on 40001/40014/42001 is turned off, since
payerr refreshes and resends, bounded by its policy.

The rule: a request that failed on its token compares the token it carried
with the one in storage now. Different: someone already fetched, it is resent
with the current one. The same: exactly one worker fetches, under a lock kept
in the storage itself when it can hold one (wechatpy's ``RedisStorage``, or its
``MemcachedStorage``: every process and client sharing it), else by the
coordinator. Clients on wechatpy's default in-memory storage share one storage
per process and app, so a client built per request fetches nothing another did.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

try:
    from wechatpy.exceptions import APILimitedException, WeChatClientException
    from wechatpy.session.memorystorage import MemoryStorage
except ImportError as exc:  # pragma: no cover - the test extra installs wechatpy
    raise ImportError("payerr.integrations.wechatpy needs wechatpy: pip install wechatpy") from exc

from .._catalog.registry import catalog
from .._clients.handover import MISSING, take
from .._clients.requests_adapter import RequestsAdapter
from .._coordination.local import Coordinator, LocalCoordinator
from .._engine.credentials import gate_for
from .._errors import PayError, TransportError, as_client_error
from .._retry.policy import RetryPolicy
from ._sdk import installed, reduction, refuse_settings_beside_adapter, remember
from ._wechatpy_token import WeChatPyToken, token_for, token_names

__all__ = ["WeChatPyToken", "as_wechatpy_error", "install"]

C = TypeVar("C")
R = TypeVar("R")

RATE_LIMITED = "45009"
"""The code wechatpy raises as ``APILimitedException``."""


_COORDINATORS: weakref.WeakKeyDictionary[Any, LocalCoordinator] = weakref.WeakKeyDictionary()
"""One coordinator per session storage: clients built per request share their token."""

_MEMORY: dict[tuple[str, ...], Any] = {}
"""wechatpy's in-memory storage, one per process and app (provider, appid, token key and
a hash of the secret): every client built per request reads and refreshes one token."""
_MEMORY_LOCK = threading.Lock()


def install(
    client: C,
    *,
    policy: RetryPolicy | None = None,
    coordinator: Coordinator | None = None,
    app: str | None = None,
    adapter: RequestsAdapter | None = None,
) -> C:
    """Send ``client``'s requests through payerr and return the same client.

    ``adapter`` is a ready ``RequestsAdapter`` to use instead (such as
    ``sandbox.requests_adapter()``); it brings its own policy and coordinator,
    and the token is wired into it here. Without a coordinator, clients sharing
    one session storage share one (a client built per request fetches nothing
    another already fetched); clients on wechatpy's default in-memory storage
    get one storage per process and app. A storage that can hold no refresh lock
    (not Redis, not memcached) warns once: processes sharing it need a
    ``RedisCoordinator``. A second ``install()`` of the same client changes
    nothing; an adapter the app mounted on a longer URL prefix, which requests
    would pick over payerr's, is refused with a ``ValueError``.
    """
    wechat: Any = client
    if not isinstance(getattr(wechat, "_http", None), requests.Session):
        raise TypeError(f"{type(client).__name__} is not a wechatpy client or component")
    if installed(wechat):
        return client
    _refuse_longer_mounts(wechat._http)
    auto_retry = getattr(wechat, "auto_retry", True)
    _share_memory_storage(wechat)
    coordinator = _coordinator_for(wechat, adapter, policy, coordinator, app)
    token = token_for(
        wechat, coordinator, _raising_wechatpy_errors(wechat, wechat.fetch_access_token)
    )
    adapter = _adapter_for(wechat, token, adapter, policy, coordinator, app)
    _send_through(wechat, token, adapter, auto_retry, policy)
    return client


def _coordinator_for(
    wechat: Any,
    adapter: RequestsAdapter | None,
    policy: RetryPolicy | None,
    coordinator: Coordinator | None,
    app: str | None,
) -> Coordinator:
    """The adapter's coordinator, the one given, or the one of the client's storage."""
    if adapter is not None:
        refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
        return adapter._engine.coordinator
    return coordinator if coordinator is not None else _coordinator_of(wechat.session)


def _adapter_for(
    wechat: Any,
    token: WeChatPyToken,
    adapter: RequestsAdapter | None,
    policy: RetryPolicy | None,
    coordinator: Coordinator,
    app: str | None,
) -> RequestsAdapter:
    """The given adapter, its gate now on the client's token; else one of the client's own."""
    if adapter is None:
        return RequestsAdapter(
            policy=policy,
            provider=_provider(wechat),
            credentials=token,
            coordinator=coordinator,
            app=app or str(_appid(wechat)),
        )
    adapter._engine.gate = gate_for(token, coordinator)
    return adapter


def _send_through(
    wechat: Any,
    token: WeChatPyToken,
    adapter: RequestsAdapter,
    auto_retry: bool,
    policy: RetryPolicy | None,
) -> None:
    """Mount the adapter, hand wechatpy's token fetch and resend to payerr, keep pickling."""
    wechat._http.mount("https://", adapter)
    wechat._http.mount("http://", adapter)
    wechat.auto_retry = False
    wechat.fetch_access_token = _single_flight_fetch(token, adapter)
    wechat._request = _raising_wechatpy_errors(wechat, wechat._request)
    decode = getattr(wechat, "_decode_result", None)
    if decode is not None:  # a component parses in its own handler: nothing to hand it
        wechat._decode_result = functools.partial(_decode_parsed, decode)
    wechat.__reduce_ex__ = functools.partial(_reduce_installed, wechat, auto_retry, policy)
    remember(wechat, adapter)


def _refuse_longer_mounts(session: requests.Session) -> None:
    """requests sends through the adapter of the longest matching prefix: one the app
    mounted on ``https://api.weixin.qq.com/`` would silently bypass payerr."""
    longer = [
        prefix
        for prefix, mounted in session.adapters.items()
        if prefix not in ("https://", "http://") and not isinstance(mounted, RequestsAdapter)
    ]
    if longer:
        raise ValueError(
            f"this client's session has its own adapter mounted on {', '.join(longer)}: "
            "requests would send those URLs past payerr. Unmount it, or pass it "
            "as the inner adapter of a payerr.RequestsAdapter given as adapter="
        )


def _share_memory_storage(client: Any) -> None:
    """A client on wechatpy's in-memory storage gets this process's one for its app, so
    clients built per request share the token and its refresh; entries the client's own
    storage already held are kept where the shared one has none."""
    own = client.session
    if type(own) is not MemoryStorage:
        return
    token_key = token_names(client)[1]
    appid = str(getattr(client, "appid", None) or getattr(client, "component_appid", ""))
    secret = str(getattr(client, "secret", None) or getattr(client, "component_secret", ""))
    digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
    key = (_provider(client), appid, token_key, digest)
    with _MEMORY_LOCK:
        shared = _MEMORY.setdefault(key, own)
        if shared is not own:
            for name, value in list(own._data.items()):
                if shared.get(name) is None:
                    shared.set(name, value)
    client.session = shared


def _coordinator_of(storage: Any) -> LocalCoordinator:
    try:
        return _COORDINATORS.setdefault(storage, LocalCoordinator())
    except TypeError:  # a storage that cannot be weakly referenced: its own coordinator
        return LocalCoordinator()


def _decode_parsed(decode: Callable[[Any], Any], response: requests.Response) -> Any:
    """wechatpy's ``_decode_result``, given payerr's parse of the body where wechatpy's own
    ``json.loads`` of it would read the same (``handover``): the body is parsed once."""
    data = take(response, response.content, "utf-8")
    return decode(response) if data is MISSING else data


_INSTALLED = frozenset(
    {"fetch_access_token", "_request", "_decode_result", "__reduce_ex__", "_payerr_views"}
)
"""What ``install`` puts on a client: left out of its pickle."""


def _reduce_installed(
    client: Any, auto_retry: bool, policy: RetryPolicy | None, protocol: int = 2
) -> Any:
    """An installed client pickles and copies as the plain one it was, and is installed
    again on load (or as a copy) with its policy, with a transport of its own. A
    coordinator or adapter given to ``install`` stays behind (it holds connections and
    locks): the copy gets the default, as a new worker would.
    Adapters the app mounted on the session are not carried either."""
    state = {k: v for k, v in client.__dict__.items() if k not in _INSTALLED}
    state["auto_retry"] = auto_retry
    state["_http"] = requests.Session()
    return reduction(client, state, functools.partial(install, policy=policy))


def _single_flight_fetch(token: WeChatPyToken, adapter: RequestsAdapter) -> Callable[[], Any]:
    """wechatpy's ``fetch_access_token``, fetching only when nobody fetched meanwhile."""
    engine = adapter._engine
    gate = gate_for(token, engine.coordinator)
    # The scope the client's own requests refresh under: WeCom's client is read as WeCom.
    scope = f"{engine.provider or _provider(token.client)}:{engine.app}"

    def fetch_access_token() -> dict[str, Any]:
        seen = gate.generation  # before the look, so a fetch landing in between is noticed
        if not token.fresh():  # stale or missing: one other than it, fetched once
            gate.refresh(scope, seen, None, token.token)
        expires_at = token.client.expires_at
        result: dict[str, Any] = {"access_token": token.token}
        if expires_at:
            result["expires_in"] = max(0, int(expires_at - time.time()))
        return result

    return fetch_access_token


def _raising_wechatpy_errors(client: Any, function: Callable[..., R]) -> Callable[..., R]:
    """``function`` whose payerr errors are also wechatpy's, so old handlers still catch."""

    @functools.wraps(function)
    def raising(*args: Any, **kwargs: Any) -> R:
        try:
            return function(*args, **kwargs)
        except TransportError:
            raise  # already requests' own exception kind, as wechatpy lets them through
        except PayError as error:
            raise as_wechatpy_error(error, client) from error.__cause__

    return raising


def as_wechatpy_error(error: PayError, client: Any = None) -> PayError:
    """``error``, also a wechatpy ``WeChatClientException`` (``APILimitedException``
    for 45009), with the ``errcode``/``errmsg``/``request``/``response`` wechatpy sets."""
    kind = APILimitedException if error.code == RATE_LIMITED else WeChatClientException
    twin = as_client_error(error, kind, None)
    code = error.code
    twin.errcode = int(code) if code and code.lstrip("-").isdigit() else code  # type: ignore[attr-defined]
    twin.errmsg = error.message  # type: ignore[attr-defined]
    twin.client = client  # type: ignore[attr-defined]
    response = error.response
    twin.request = getattr(response, "request", None)  # type: ignore[attr-defined]
    twin.response = response
    return twin


def _appid(client: Any) -> str:
    """The app scope: the appid; where one appid has a token per secret (WeCom's corp_id),
    the appid and a hash of the secret, which itself never leaves the client."""
    appid = str(getattr(client, "appid", None) or getattr(client, "component_appid", "default"))
    secret = getattr(client, "secret", None)
    if secret and str(getattr(client, "access_token_key", "")) not in ("", f"{appid}_access_token"):
        return f"{appid}:{hashlib.sha256(str(secret).encode()).hexdigest()[:12]}"
    return appid


def _provider(client: Any) -> str:
    """The provider of the client's API host (WeCom for wechatpy's WeCom client)."""
    host = urlsplit(str(getattr(client, "API_BASE_URL", ""))).hostname or ""
    return catalog().provider_for_host(host) or "wechat"
