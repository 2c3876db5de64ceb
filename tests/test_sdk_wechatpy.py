"""wechatpy with payerr installed, against the sandbox over real sockets.

wechatpy's token URL is fixed, so the sandbox adapter sends every request to
127.0.0.1 while payerr reads it as sent to api.weixin.qq.com.
"""

from __future__ import annotations

import copy
import itertools
import pickle
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from wechatpy import WeChatClient, WeChatComponent
from wechatpy.client import base as wechatpy_base
from wechatpy.exceptions import APILimitedException, WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

import payerr
from payerr._clients.handover import offer
from payerr.integrations import wechatpy as payerr_wechatpy
from payerr.sandbox import Sandbox
from payerr.testing import instant_sleeps


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running, instant_sleeps():
        yield running


def installed(sandbox: Sandbox, **options: object) -> WeChatClient:
    client = WeChatClient("wx-sandbox", "secret")
    return payerr_wechatpy.install(client, adapter=sandbox.requests_adapter(**options))


def in_threads(count: int, call: object) -> list[BaseException]:
    """Run ``call`` in ``count`` threads released together; the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            call()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


class WorkerMemory(MemoryStorage):
    """In-memory storage of one worker's own: one process here stands in for two, which
    wechatpy's default storage (shared per process and app once installed) cannot."""


def test_success_is_what_wechatpy_returns(sandbox: Sandbox) -> None:
    assert installed(sandbox).user.get("o-1") == {
        "subscribe": 1,
        "openid": "o-1",
        "language": "zh_CN",
    }


def test_one_token_fetch_for_twenty_first_calls(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    assert in_threads(20, lambda: client.user.get("o-1")) == []
    assert sandbox.route_hits["wechat.token"] == 1


def test_one_token_fetch_for_twenty_calls_that_meet_a_voided_token(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    client.user.get("o-1")
    sandbox.revoke_tokens("wechat")
    assert in_threads(20, lambda: client.user.get("o-2")) == []
    assert sandbox.route_hits["wechat.token"] == 2
    # a call that starts once the new token is in sends once; the others twice
    assert 1 + 20 < sandbox.route_hits["wechat.userinfo"] <= 1 + 20 + 20


def test_one_token_fetch_when_twenty_calls_see_it_expire(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    client.user.get("o-1")
    client.expires_at = 1  # long past: wechatpy itself asks for a new token before sending
    assert in_threads(20, lambda: client.user.get("o-2")) == []
    assert sandbox.route_hits["wechat.token"] == 2


def test_wechatpy_no_longer_resends_on_its_own(sandbox: Sandbox) -> None:
    client = installed(sandbox, policy=payerr.RetryPolicy(max_attempts=2))
    client.user.get("o-1")
    sandbox.script("wechat.userinfo", ["40001", "40001", "40001"])
    with pytest.raises(WeChatClientException) as caught:
        client.user.get("o-2")
    assert client.auto_retry is False
    assert sandbox.route_hits["wechat.userinfo"] == 1 + 2
    assert caught.value.errcode == 40001


def test_old_handlers_still_catch_and_see_wechatpy_fields(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    sandbox.script("wechat.userinfo", ["40013"])
    with pytest.raises(WeChatClientException) as caught:
        client.user.get("o-1")
    error = caught.value
    assert isinstance(error, payerr.WeChatError)
    assert isinstance(error, payerr.ConfigurationError)
    assert (error.errcode, error.errmsg) == (40013, error.message)
    assert error.client is client
    assert error.response.status_code == 200
    assert error.request is error.response.request


def test_45009_is_wechatpys_api_limited_exception(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    sandbox.script("wechat.userinfo", ["45009"])
    with pytest.raises(APILimitedException) as caught:
        client.user.get("o-1")
    assert isinstance(caught.value, payerr.RateLimitError)


def test_token_errors_are_wechatpy_errors_too(sandbox: Sandbox) -> None:
    client = payerr_wechatpy.install(
        WeChatClient("wx-sandbox", "wrong"), adapter=sandbox.requests_adapter()
    )
    with pytest.raises(WeChatClientException) as caught:
        client.user.get("o-1")
    assert caught.value.errcode == 40125
    assert isinstance(caught.value, payerr.AuthError)


def test_transport_errors_stay_requests_exceptions(sandbox: Sandbox) -> None:
    import requests

    client = installed(sandbox)
    client.user.get("o-1")
    sandbox.script("wechat.userinfo", ["reset", "reset", "reset"])
    with pytest.raises(requests.ConnectionError) as caught:
        client.user.get("o-2")
    assert isinstance(caught.value, payerr.TransportError)


def test_the_error_pickles_without_the_client(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    sandbox.script("wechat.userinfo", ["40013"])
    with pytest.raises(WeChatClientException) as caught:
        client.user.get("o-1")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, WeChatClientException)
    assert isinstance(copy, payerr.WeChatError)
    assert copy.errcode == 40013
    assert getattr(copy, "client", None) is None
    assert "secret" not in repr(copy.__dict__)


def test_the_token_request_carries_no_token(sandbox: Sandbox) -> None:
    """payerr leaves wechatpy's own token fetch alone: no access_token stamped on it."""
    client = installed(sandbox)
    client.user.get("o-1")
    sandbox.revoke_tokens("wechat")
    client.user.get("o-2")
    sent = [r for r in sandbox.received if r.path == "/cgi-bin/token"]
    assert len(sent) == 2
    assert all("access_token" not in r.query for r in sent)


BASE = "https://api.weixin.qq.com/cgi-bin/user/info"


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("openid=o-1&lang=zh_CN&access_token=T%2Fnow%2B1", None),
        ("access_token=T-old&openid=o-1", "openid=o-1&access_token=T%2Fnow%2B1"),
        ("access_token=T%2Fnow%2B1&access_token=T-old", "access_token=T%2Fnow%2B1"),
    ],
    ids=["current: as wechatpy built it", "stale: replaced", "twice: one left"],
)
def test_a_request_is_rewritten_only_when_it_carries_another_token(
    query: str, sent: str | None
) -> None:
    client = WeChatClient("wx-rewrite", "secret")
    client.session.set(client.access_token_key, "T/now+1", 7200)
    token = payerr_wechatpy.WeChatPyToken(client, client.fetch_access_token)
    request = requests.Request("GET", f"{BASE}?{query}").prepare()
    built = request.url
    assert token.apply(request).url == (built if sent is None else f"{BASE}?{sent}")


def test_wechatpy_reads_payerrs_parse_of_the_body(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One parse per answer: wechatpy's ``_decode_result`` gets payerr's, its json.loads
    never runs for a body payerr read; what it returns is unchanged."""
    client = installed(sandbox)
    client.user.get("o-1")  # the token is fetched: the next call is one request
    parses: list[object] = []
    loads = wechatpy_base.json.loads

    def counted(*args: Any, **kwargs: Any) -> Any:
        parses.append(args[0])
        return loads(*args, **kwargs)

    monkeypatch.setattr(wechatpy_base.json, "loads", counted)
    assert client.user.get("o-2") == {"subscribe": 1, "openid": "o-2", "language": "zh_CN"}
    assert parses == []


HANDED_OVER = b'{"errcode": 0, "name": "\\u4e2d"}'


@pytest.mark.parametrize(
    "body",
    [HANDED_OVER, b'{"errcode":0,"x":"\x01"}', b"\xff{}", b'{"errcode":0}\xff'],
    ids=["handed over", "a control character", "not JSON", "not UTF-8"],
)
def test_wechatpy_decodes_what_payerr_cannot_hand_over_as_before(body: bytes) -> None:
    """The hand-over is once per answer, and only where wechatpy's own parse would give
    the same value; otherwise wechatpy parses as it always did."""
    client = payerr_wechatpy.install(WeChatClient("wx-decode", "secret"))
    response = requests.Response()
    response._content = body
    data = payerr.inspect(payerr.RawResponse(200, {}, body, BASE), provider="wechat").data
    offer(response, data)
    expected = WeChatClient("wx-plain", "secret")._decode_result(response)
    first, again = client._decode_result(response), client._decode_result(response)
    assert first == expected == again
    assert (first is data) is (body == HANDED_OVER)


def test_a_request_carrying_the_current_token_is_sent_as_it_is(sandbox: Sandbox) -> None:
    """No copy of wechatpy's request per call: it carries the token payerr would put on
    (the sandbox's own redirecting adapter still copies; payerr's engine does not)."""
    client = installed(sandbox)
    client.user.get("o-1")
    copied_by: list[str] = []
    real_copy = requests.PreparedRequest.copy

    def counted(self: requests.PreparedRequest) -> requests.PreparedRequest:
        copied_by.append(sys._getframe(1).f_code.co_filename)
        return real_copy(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests.PreparedRequest, "copy", counted)
        client.user.get("o-2")
        sandbox.revoke_tokens("wechat")
        client.user.get("o-3")  # a stale token: this resend is a rewritten copy
    engine = [path for path in copied_by if "payerr" in path and "_engine" in path]
    assert len(engine) == 1


def test_the_token_lives_in_wechatpys_storage(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    client.user.get("o-1")
    sandbox.revoke_tokens("wechat")
    client.user.get("o-2")
    assert sandbox.tokens.valid("wechat", client.session.get(client.access_token_key))


def test_a_component_refreshes_its_component_token_once(sandbox: Sandbox) -> None:
    component = WeChatComponent("wx-component", "secret", "token", "a" * 43)
    component.session.set("component_verify_ticket", "ticket@@@sandbox")
    payerr_wechatpy.install(component, adapter=sandbox.requests_adapter())
    component.create_preauthcode()
    sandbox.revoke_tokens("wechat_component")
    assert in_threads(10, component.create_preauthcode) == []
    assert sandbox.route_hits["wechat.component_token"] == 2


def test_install_refuses_what_is_not_a_wechatpy_client() -> None:
    with pytest.raises(TypeError, match="not a wechatpy client"):
        payerr_wechatpy.install(object())


def test_workers_sharing_redis_adopt_the_token_one_of_them_fetched(sandbox: Sandbox) -> None:
    """Two wechatpy clients (two workers) with their own storage and one RedisCoordinator:
    the second adopts the first one's fetch instead of voiding it with its own."""
    import redis

    from support.redis_server import redis_server

    with redis_server() as url:
        coordinator = payerr.RedisCoordinator(redis.Redis.from_url(url))
        first, second = (
            payerr_wechatpy.install(
                WeChatClient("wx-shared", "secret", session=WorkerMemory()),
                adapter=sandbox.requests_adapter(coordinator=coordinator, app="wx-shared"),
            )
            for _ in range(2)
        )
        first.user.get("o-1")  # fetches token 1
        first.session.set(first.access_token_key, None)
        sandbox.revoke_tokens("wechat")
        second_token = "stale-token-of-the-second-worker"
        second.session.set(second.access_token_key, second_token)
        first.user.get("o-2")  # meets no token: fetches token 2
        second.user.get("o-3")  # 40001 on its stale token: adopts token 2, no fetch
        assert sandbox.route_hits["wechat.token"] == 2
        assert second.session.get(second.access_token_key) == first.session.get(
            first.access_token_key
        )


# --- one token owner across clients, restarts and processes ---------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    from support.redis_server import redis_server

    with redis_server() as url:
        yield url


def _redis_client(redis_url: str, appid: str, sandbox: Sandbox) -> WeChatClient:
    import redis
    from wechatpy.session.redisstorage import RedisStorage

    storage = RedisStorage(redis.Redis.from_url(redis_url))
    client = WeChatClient(appid, "secret", session=storage)
    return payerr_wechatpy.install(client, adapter=sandbox.requests_adapter())


def test_install_twice_changes_nothing(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    adapter, fetch = client._http.get_adapter("https://x"), client.fetch_access_token
    assert payerr_wechatpy.install(client) is client
    assert client._http.get_adapter("https://x") is adapter
    assert client.fetch_access_token is fetch
    client.user.get("o-1")
    assert sandbox.route_hits["wechat.token"] == 1


def test_an_installed_client_pickles_as_a_plain_one_installed_again(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    copy = pickle.loads(pickle.dumps(client))
    assert type(copy) is WeChatClient and copy.appid == "wx-sandbox"
    assert copy.user._client is copy
    assert payerr.integrations.views(copy).cooldowns() == []
    assert copy.auto_retry is False


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_a_copy_is_installed_again_with_its_own_transport(
    sandbox: Sandbox, how: Callable[[Any], Any]
) -> None:
    client = installed(sandbox)
    twin = how(client)
    plain = how(WeChatClient("wx-sandbox", "secret"))
    assert type(twin) is WeChatClient and twin.appid == "wx-sandbox"
    assert (twin.user._client is twin) is (plain.user._client is plain)  # as the SDK copies
    assert payerr.integrations.views(twin) is not payerr.integrations.views(client)
    assert twin.auto_retry is False
    assert "fetch_access_token" in vars(twin)  # payerr's single fetch, installed again


def test_an_adapter_on_a_longer_prefix_is_refused_at_install() -> None:
    import requests

    client = WeChatClient("wx1", "secret")
    client._http.mount("https://api.weixin.qq.com/", requests.adapters.HTTPAdapter())
    with pytest.raises(ValueError, match=r"https://api\.weixin\.qq\.com/"):
        payerr_wechatpy.install(client)


def test_cooldown_views_of_an_installed_client(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    sandbox.script("wechat.userinfo", ["45009"])
    with pytest.raises(APILimitedException):
        client.user.get("o-1")
    [cooldown] = payerr.integrations.views(client).cooldowns()
    assert cooldown.code == "45009"
    payerr.integrations.views(client).clear_cooldown()
    assert payerr.integrations.views(client).cooldowns() == []


def test_a_client_built_per_request_over_shared_redis_storage_fetches_once(
    sandbox: Sandbox, redis_url: str
) -> None:
    """20 threads, each with a new client over one RedisStorage; the token voided: 1 fetch."""
    _redis_client(redis_url, "wx-per-request", sandbox).user.get("o-1")
    sandbox.revoke_tokens("wechat")
    errors = in_threads(
        20, lambda: _redis_client(redis_url, "wx-per-request", sandbox).user.get("o-2")
    )
    assert errors == []
    assert sandbox.route_hits["wechat.token"] == 2  # the first, and the one refresh


def test_clients_built_per_request_share_a_memory_storage_token(sandbox: Sandbox) -> None:
    """One in-process storage and one coordinator for 20 per-request clients: 1 fetch."""
    from wechatpy.session.memorystorage import MemoryStorage

    storage, shared = MemoryStorage(), payerr.LocalCoordinator()

    def call() -> None:
        client = WeChatClient("wx-mem", "secret", session=storage)
        adapter = sandbox.requests_adapter(coordinator=shared, app="wx-mem")
        payerr_wechatpy.install(client, adapter=adapter).user.get("o-1")

    call()
    sandbox.revoke_tokens("wechat")
    assert in_threads(20, call) == []
    assert sandbox.route_hits["wechat.token"] == 2


@pytest.mark.parametrize("storage", ["redis-storage", "own-memory"])
@pytest.mark.parametrize("shared_by", ["redis", "local"])
def test_restarted_workers_fetch_once_instead_of_taking_the_failed_token(
    sandbox: Sandbox, redis_url: str, shared_by: str, storage: str
) -> None:
    """The fleet's token was fetched, then voided; workers restarted after that (the same
    coordinator, and the same storage or an empty one of their own) fetch once between
    them instead of adopting the token that just failed, and every call succeeds."""
    import redis
    from wechatpy.session.redisstorage import RedisStorage

    appid = f"wx-restart-{shared_by}-{storage}"
    if shared_by == "redis":
        coordinator: payerr.Coordinator = payerr.RedisCoordinator(
            redis.Redis.from_url(redis_url), prefix=appid
        )
    else:
        coordinator = payerr.LocalCoordinator()

    def worker() -> WeChatClient:
        adapter = sandbox.requests_adapter(coordinator=coordinator, app=appid)
        session = (
            RedisStorage(redis.Redis.from_url(redis_url)) if storage == "redis-storage" else None
        )
        return payerr_wechatpy.install(
            WeChatClient(appid, "secret", session=session), adapter=adapter
        )

    worker().user.get("o-1")  # the fleet's token: fetch 1
    sandbox.revoke_tokens("wechat")
    restarted = [worker() for _ in range(2)]
    errors = in_threads(20, lambda: restarted[threading.get_ident() % 2].user.get("o-2"))
    assert errors == []
    assert sandbox.route_hits["wechat.token"] == 2


@pytest.mark.slow  # two OS processes, twenty rounds
@pytest.mark.parametrize("storage", ["redis", "memcached"])
def test_two_processes_over_a_shared_storage_fetch_once_every_round(
    sandbox: Sandbox, redis_url: str, storage: str
) -> None:
    """2 processes × 10 threads over wechatpy's RedisStorage or MemcachedStorage, install()
    alone, the token voided before each round: exactly 1 fetch and 20/20 calls ok, 20
    rounds in a row."""
    import multiprocessing

    import redis

    from support import workers

    shared = redis.Redis.from_url(redis_url)
    appid = f"wx-fleet-{storage}"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for round_ in range(20):
            shared.delete(f"{appid}:ready", f"{appid}:go")
            fetched = sandbox.route_hits["wechat.token"]
            sandbox.revoke_tokens("wechat")
            pending = pool.starmap_async(
                workers.wechatpy_round, [(redis_url, sandbox.url, appid, 10, storage)] * 2
            )
            while int(shared.get(f"{appid}:ready") or 0) < 2:
                time.sleep(0.01)
            shared.set(f"{appid}:go", 1)
            assert pending.get(timeout=60) == [10, 10], f"round {round_}"
            assert sandbox.route_hits["wechat.token"] - fetched == 1, f"round {round_}"
    shared.close()


# --- storages other than Redis, and wechatpy's default one ------------------------------


def test_clients_built_per_request_on_the_default_storage_fetch_once(sandbox: Sandbox) -> None:
    """20 threads each build and install a client on wechatpy's own in-memory storage, with
    an adapter of their own: 1 fetch and 20/20 ok; the token voided, 1 fetch more."""

    def call() -> None:
        client = WeChatClient("wx-per-request-default", "secret")
        payerr_wechatpy.install(client, adapter=sandbox.requests_adapter()).user.get("o-1")

    assert in_threads(20, call) == []
    assert sandbox.route_hits["wechat.token"] == 1
    sandbox.revoke_tokens("wechat")
    assert in_threads(20, call) == []
    assert sandbox.route_hits["wechat.token"] == 2


def test_the_default_storage_keeps_a_token_given_to_the_client(sandbox: Sandbox) -> None:
    """A client built with ``access_token=`` still sends it once installed."""
    client = WeChatClient("wx-given-token", "secret", access_token="given-token")
    payerr_wechatpy.install(client, adapter=sandbox.requests_adapter())
    assert client.access_token == "given-token"


def test_workers_over_one_memcached_storage_fetch_once(sandbox: Sandbox) -> None:
    """Two workers (a client, adapter and coordinator each) over one MemcachedStorage, the
    token voided: memcached's ``add`` keeps the refresh lock, so 20 calls make 1 fetch."""
    from wechatpy.session.memcachedstorage import MemcachedStorage

    from support.memcached_like import InMemoryMemcache

    cache = InMemoryMemcache()
    fleet = [
        payerr_wechatpy.install(
            WeChatClient("wx-memcached", "secret", session=MemcachedStorage(cache)),
            adapter=sandbox.requests_adapter(),
        )
        for _ in range(2)
    ]
    fleet[0].user.get("o-1")
    sandbox.revoke_tokens("wechat")
    turns = itertools.count()
    assert in_threads(20, lambda: fleet[next(turns) % 2].user.get("o-2")) == []
    assert sandbox.route_hits["wechat.token"] == 2
    assert not any(key.endswith("payerr-refresh") for key in cache._data)  # released


def test_a_storage_no_lock_can_be_kept_in_is_warned_about(redis_url: str) -> None:
    """A storage with only get/set/delete may be shared by processes payerr cannot keep
    apart: install() says to give them a RedisCoordinator; with one, it says nothing."""
    import redis

    class OnlyGetSet(SessionStorage):  # type: ignore[misc]
        def __init__(self) -> None:
            self.values: dict[str, object] = {}

        def get(self, key: str, default: object = None) -> object:
            return self.values.get(key, default)

        def set(self, key: str, value: object, ttl: int | None = None) -> None:
            self.values[key] = value

        def delete(self, key: str) -> None:
            self.values.pop(key, None)

    coordinator = payerr.RedisCoordinator(redis.Redis.from_url(redis_url), prefix="wx-warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        payerr_wechatpy.install(
            WeChatClient("wx-1", "s", session=OnlyGetSet()), coordinator=coordinator
        )
    with pytest.warns(RuntimeWarning, match="RedisCoordinator"):
        payerr_wechatpy.install(WeChatClient("wx-1", "s", session=OnlyGetSet()))
