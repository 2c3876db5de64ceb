"""wechatpy's WeCom client with payerr installed, against the sandbox over real sockets.

The client is ``wechatpy.work.WeChatClient`` (wechatpy 2) or, in wechatpy 1.8,
the same class under ``wechatpy.enterprise``: one token per corpsecret, fetched
from ``/cgi-bin/gettoken`` and sent as ``access_token``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from wechatpy.exceptions import APILimitedException, WeChatClientException

import payerr
from payerr.integrations import wechatpy as payerr_wechatpy
from payerr.sandbox import Sandbox
from payerr.testing import instant_sleeps

try:
    from wechatpy.work import WeChatClient as WeComClient
except ImportError:  # wechatpy 1.8: the same client before its rename
    from wechatpy.enterprise import WeChatClient as WeComClient


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running, instant_sleeps():
        yield running


def installed(sandbox: Sandbox, secret: str = "app-secret", **options: Any) -> Any:
    client = WeComClient("ww-sandbox", secret)
    return payerr_wechatpy.install(client, adapter=sandbox.requests_adapter(**options))


def in_threads(count: int, call: Callable[[], object]) -> list[BaseException]:
    """Run ``call`` in ``count`` threads released together; the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_success_is_what_wechatpy_returns(sandbox: Sandbox) -> None:
    user = installed(sandbox).user.get("zhangsan")
    assert (user["errcode"], user["userid"]) == (0, "zhangsan")


def test_one_token_fetch_for_twenty_first_calls(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    assert in_threads(20, lambda: client.user.get("u")) == []
    assert sandbox.route_hits["wecom.gettoken"] == 1


def test_twenty_threads_meeting_40014_fetch_one_token(sandbox: Sandbox) -> None:
    """The token is voided under 20 threads: those that meet 40014 share one fetch."""
    client = installed(sandbox)
    client.user.get("u")
    sandbox.revoke_tokens("wecom")
    assert in_threads(20, lambda: client.user.get("u")) == []
    assert sandbox.route_hits["wecom.gettoken"] == 2
    # each call went out once or twice (a thread late to start finds the new token)
    assert 1 + 20 < sandbox.route_hits["wecom.user_get"] <= 1 + 20 + 20


@pytest.mark.slow  # the token answer takes a second, so all 20 calls meet 42001 first
def test_twenty_threads_meeting_42001_fetch_one_token(sandbox: Sandbox) -> None:
    """WeCom says the token expired to 20 threads at once: one fetch, every call resent."""
    client = installed(sandbox)
    client.user.get("u")
    sandbox.script("wecom.gettoken", ["slow=1"])
    sandbox.script("wecom.user_get", ["42001"] * 20)
    assert in_threads(20, lambda: client.user.get("u")) == []
    assert sandbox.route_hits["wecom.gettoken"] == 2
    assert sandbox.route_hits["wecom.user_get"] == 1 + 20 + 20


def test_errors_stay_wechatpy_errors_and_are_wecoms(sandbox: Sandbox) -> None:
    client = installed(sandbox)
    sandbox.script("wecom.user_get", ["60111"])
    with pytest.raises(WeChatClientException) as caught:
        client.user.get("gone")
    error = caught.value
    assert isinstance(error, payerr.WeComError) and isinstance(error, payerr.NotFoundError)
    assert (error.errcode, error.errmsg) == (60111, error.message)
    assert error.client is client
    assert error.request_id  # WeCom's hint, cut off the message


def test_a_wrong_secret_is_a_wechatpy_error_and_not_refreshed_forever(sandbox: Sandbox) -> None:
    client = installed(sandbox, secret="wrong")
    with pytest.raises(WeChatClientException) as caught:
        client.user.get("u")
    assert caught.value.errcode == 40001
    assert isinstance(caught.value, payerr.AuthError)
    assert sandbox.route_hits["wecom.gettoken_wrong_secret"] <= 3


def test_wechatpy_no_longer_resends_on_its_own(sandbox: Sandbox) -> None:
    client = installed(sandbox, policy=payerr.RetryPolicy(max_attempts=2))
    client.user.get("u")
    sandbox.script("wecom.user_get", ["40014", "40014", "40014"])
    with pytest.raises(WeChatClientException) as caught:
        client.user.get("u")
    assert client.auto_retry is False
    assert caught.value.errcode == 40014
    assert sandbox.route_hits["wecom.user_get"] == 1 + 2


def test_45009_holds_that_api_only() -> None:
    """A per-API quota: user/get cools down, message/send and department/list go on at once."""
    with Sandbox() as sandbox, instant_sleeps() as slept:
        adapter = sandbox.requests_adapter(policy=payerr.RetryPolicy(max_attempts=1))
        client = payerr_wechatpy.install(WeComClient("ww-sandbox", "s"), adapter=adapter)
        client.user.get("u")
        sandbox.script("wecom.user_get", ["45009"])
        with pytest.raises(APILimitedException) as caught:
            client.user.get("u")
        assert isinstance(caught.value, payerr.RateLimitError)
        [cooldown] = adapter.cooldowns()
        assert cooldown.scope.endswith("@/cgi-bin/user/get") and cooldown.code == "45009"
        client.message.send_text(1000002, ["u"], "hi")
        assert client.department.get()[0]["id"] == 1
        assert slept == []  # nothing waited for user/get's quota
        assert sandbox.route_hits["wecom.message_send"] == 1


def test_45033_holds_that_api_only(sandbox: Sandbox) -> None:
    client = installed(sandbox, policy=payerr.RetryPolicy(max_attempts=1))
    sandbox.script("wecom.message_send", ["45033"])
    with pytest.raises(WeChatClientException) as caught:
        client.message.send_text(1000002, ["u"], "hi")
    assert caught.value.errcode == 45033
    assert client.user.get("u")["userid"] == "u"


def test_one_token_per_secret(sandbox: Sandbox) -> None:
    """Two secrets of one corp (an app and the contacts secret) keep two tokens."""
    app = installed(sandbox, secret="app-secret")
    contacts = installed(sandbox, secret="contacts-secret")
    app.user.get("u")
    contacts.user.get("u")
    assert sandbox.route_hits["wecom.gettoken"] == 2
    assert app.access_token != contacts.access_token


# --- installed with payerr's own adapter (no sandbox): the provider and the app scope ---

API = "https://qyapi.weixin.qq.com/cgi-bin"


def test_install_reads_the_answers_as_wecoms() -> None:
    """Without an adapter, install() picks the provider from the client's API host."""
    import responses

    with responses.RequestsMock() as mock, instant_sleeps():
        mock.add(
            responses.GET,
            f"{API}/gettoken",
            json={"errcode": 0, "errmsg": "ok", "access_token": "T1", "expires_in": 7200},
        )
        mock.add(responses.GET, f"{API}/user/get", json={"errcode": 60111, "errmsg": "x"})
        client = payerr_wechatpy.install(
            WeComClient("ww1", "s"), policy=payerr.RetryPolicy(max_attempts=1)
        )
        with pytest.raises(WeChatClientException) as caught:
            client.user.get("gone")
    assert isinstance(caught.value, payerr.WeComError)
    assert isinstance(caught.value, payerr.NotFoundError)


def test_each_secret_is_its_own_app_scope() -> None:
    """Two secrets of one corp sharing a coordinator: two scopes, neither naming the secret."""
    import responses

    coordinator = payerr.LocalCoordinator()
    scopes = []
    with responses.RequestsMock() as mock, instant_sleeps():
        mock.add(
            responses.GET,
            f"{API}/gettoken",
            json={"errcode": 0, "errmsg": "ok", "access_token": "T1", "expires_in": 7200},
        )
        mock.add(responses.GET, f"{API}/user/get", json={"errcode": 45009, "errmsg": "x"})
        for secret in ("app-secret-1", "contacts-secret-2"):
            client = payerr_wechatpy.install(
                WeComClient("ww1", secret),
                policy=payerr.RetryPolicy(max_attempts=1),
                coordinator=coordinator,
            )
            with pytest.raises(APILimitedException):
                client.user.get("u")
            scopes.append({c.scope for c in client._http.get_adapter(API).cooldowns()})
    assert scopes[0] < scopes[1]  # the second client's cooldown is its own, besides the first's
    assert all("secret" not in scope for scope in scopes[1])


def test_wecoms_own_token_fetch_is_counted_as_wecoms(monkeypatch: pytest.MonkeyPatch) -> None:
    """wechatpy's ``fetch_access_token`` on the WeCom client refreshes in WeCom's scope,
    the one its requests refresh in: metrics and the shared token name WeCom, not WeChat."""
    import responses

    from payerr._engine import telemetry as _telemetry

    refreshed: list[str] = []

    class Recorder:
        def refreshed(self, provider: str, error: object) -> None:
            refreshed.append(provider)

        def answered(self, provider: str) -> None:
            pass

    monkeypatch.setattr(_telemetry, "hook", Recorder())
    with responses.RequestsMock() as mock:
        mock.add(
            responses.GET,
            f"{API}/gettoken",
            json={"errcode": 0, "errmsg": "ok", "access_token": "T1", "expires_in": 7200},
        )
        client = payerr_wechatpy.install(WeComClient("ww1", "s"))
        assert client.fetch_access_token()["access_token"] == "T1"
    assert refreshed == ["wecom"]
