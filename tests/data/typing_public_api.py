"""How payerr's public API is meant to be used, as a type checker sees it.

tests/test_typing.py runs ``mypy --strict`` over this file: every ``assert_type`` must
hold, and every line marked ``# type: ignore[code]`` must be an error of that code
(``warn_unused_ignores``: a mistake the API stops accepting is no longer caught).
Nothing here is run.
"""

from __future__ import annotations

from typing import Any, assert_type

import httpx
import requests

import payerr
from payerr import testing

RAW = payerr.RawResponse(200, {"content-type": "application/json"}, b"{}", "https://x.test/")


# --- reading a response ---------------------------------------------------------------------


def read_a_response(response: httpx.Response) -> None:
    outcome = payerr.inspect(response, provider="wechat")
    assert_type(outcome, payerr.Outcome)
    assert_type(outcome.ok, bool)
    assert_type(outcome.data, dict[str, Any] | None)
    assert_type(outcome.error, payerr.PayError | None)
    assert_type(outcome.provider, str | None)
    assert_type(outcome.unwrap(), dict[str, Any])
    assert_type(payerr.raise_for_response(RAW), dict[str, Any])
    assert_type(payerr.inspect(RAW).error, payerr.PayError | None)


def a_raw_response() -> None:
    raw = payerr.RawResponse(
        status_code=429,
        headers={"retry-after": "2"},
        body=b"{}",
        url="https://api.weixin.qq.com/cgi-bin/token",
        method="GET",
    )
    assert_type(raw.status_code, int)
    assert_type(raw.body, bytes)
    payerr.RawResponse(200, {}, "text", "https://x.test/")  # type: ignore[arg-type]
    raw.status_code = 200  # type: ignore[misc]


def explain_a_code() -> None:
    info = payerr.explain("alipay", "40004", "ACQ.TRADE_NOT_EXIST")
    assert_type(info, payerr.CodeInfo)
    assert_type(payerr.explain("wechat", 40001), payerr.CodeInfo)
    assert_type(info.category, payerr.Category | None)
    assert_type(info.retry, payerr.RetryHint)
    assert_type(info.processed, payerr.Processed)
    assert_type(info.solution_en, str)
    assert_type(info.sub_code, str | None)
    payerr.explain("alipay")  # type: ignore[call-arg]
    payerr.explain("alipay", 40004.0)  # type: ignore[arg-type]


# --- the errors -----------------------------------------------------------------------------


def handle_errors() -> None:
    try:
        payerr.raise_for_response(RAW)
    except payerr.RateLimitError as e:
        assert_type(e.retry_after, float | None)
        assert_type(e.server_retry_after, float | None)
        assert_type(e.retry, payerr.RetryHint)
        assert_type(e.retryable, bool)
        e.retryable = False  # type: ignore[misc]
    except payerr.PendingError as e:
        assert_type(e.processed, payerr.Processed)
        assert_type(e.api_method, str | None)
    except payerr.OutcomeUnknownError as e:
        assert_type(e.history, tuple[payerr.PayError, ...])
        assert_type(e.delays, tuple[float, ...])
        assert_type(e.attempts, int)
    except payerr.AlipayError as e:
        # A provider class is mixed into every error of its provider: the category
        # classes and the provider classes are both PayErrors.
        assert_type(e, payerr.AlipayError)
        assert_type(e.code, str | None)
        assert_type(e.sub_code, str | None)
        assert_type(e.http_status, int | None)
        assert_type(e.request_id, str | None)
        assert_type(e.raw, bytes)
        assert_type(e.body, dict[str, Any] | None)
        print(e.nonexistent)  # type: ignore[attr-defined]
    except payerr.PayError as e:
        assert_type(e.provider, str | None)
        assert_type(e.known, bool)
        assert_type(e.solution_zh, str | None)
        assert_type(e.category, payerr.Category)


def errors_are_a_tree() -> None:
    category_classes: list[type[payerr.ProviderError]] = [
        payerr.AuthError,
        payerr.ForbiddenError,
        payerr.InvalidRequestError,
        payerr.NotFoundError,
        payerr.ConflictError,
        payerr.RateLimitError,
        payerr.ServiceUnavailableError,
        payerr.BusinessError,
        payerr.RiskControlError,
        payerr.ConfigurationError,
        payerr.PendingError,
        payerr.UnknownCodeError,
    ]
    transport_classes: list[type[payerr.TransportError]] = [
        payerr.NetworkError,
        payerr.OutcomeUnknownError,
        payerr.MalformedResponseError,
        payerr.CoordinatorUnavailableError,
    ]
    provider_classes: list[type[payerr.PayError]] = [
        payerr.AlipayError,
        payerr.WeChatError,
        payerr.HuaweiError,
        payerr.CMIError,
        payerr.UnionPayError,
        payerr.WeComError,
    ]
    bad: list[type[payerr.ProviderError]] = [payerr.NetworkError]  # type: ignore[list-item]
    assert category_classes and transport_classes and provider_classes and bad


def make_an_error() -> payerr.PayError:
    payerr.RateLimitError("slow down", retry_after="2")  # type: ignore[arg-type]
    payerr.PayError("x", provider="wechat", colour="red")  # type: ignore[call-arg]
    return payerr.RateLimitError("slow down", provider="wechat", code="45009", retry_after=2.0)


def the_vocabularies() -> None:
    assert_type(payerr.Category("rate_limited"), payerr.Category)
    assert_type(payerr.RetryHint("query_first"), payerr.RetryHint)
    assert_type(payerr.Processed("maybe"), payerr.Processed)
    hint: str = payerr.RetryHint.BACKOFF  # a StrEnum is a str
    category: payerr.Category = "auth"  # type: ignore[assignment]
    assert hint and category
    print(payerr.RetryHint.SOMETIMES)  # type: ignore[attr-defined]


# --- retrying -------------------------------------------------------------------------------


def on_retry(attempt: payerr.Attempt) -> None:
    assert_type(attempt.number, int)
    assert_type(attempt.delay, float)
    assert_type(attempt.error, payerr.PayError)
    assert_type(attempt.hint, payerr.RetryHint)


def is_idempotent(facts: payerr.RequestFacts) -> bool | None:
    assert_type(facts.http_method, str)
    assert_type(facts.body, bytes)
    return None


def a_policy() -> payerr.RetryPolicy:
    policy = payerr.RetryPolicy(
        max_attempts=5,
        deadline=10.0,
        budget=None,
        jitter=False,
        raise_errors=True,
        is_idempotent=is_idempotent,
        on_retry=on_retry,
    )
    assert_type(policy.backoff(1), float)
    policy.max_attempts = 2  # type: ignore[misc]
    payerr.RetryPolicy(max_attempts="5")  # type: ignore[arg-type]
    payerr.RetryPolicy(max_retries=5)  # type: ignore[call-arg]
    payerr.RetryPolicy(on_retry=print_number)  # type: ignore[arg-type]
    return policy


def print_number(n: int) -> None:
    print(n)


# --- the clients ----------------------------------------------------------------------------


def fetch_token() -> str:
    return "token"


async def fetch_token_async() -> str:
    return "token"


def httpx_clients(policy: payerr.RetryPolicy) -> None:
    credentials = payerr.QueryParamToken(fetch_token)
    transport = payerr.Transport(
        httpx.HTTPTransport(retries=0),
        policy=policy,
        provider="wechat",
        credentials=credentials,
        coordinator=payerr.LocalCoordinator(),
        app="wx-main",
    )
    with httpx.Client(transport=transport) as client:
        client.get("https://api.weixin.qq.com/cgi-bin/token")
    assert_type(transport.policy, payerr.RetryPolicy)
    assert_type(transport.budget_left(), int | None)
    assert_type(transport.cooldowns(), list[payerr.Cooldown])
    transport.clear_cooldown()
    payerr.Transport(httpx.AsyncHTTPTransport())  # type: ignore[arg-type]
    payerr.Transport(policy=policy, retries=3)  # type: ignore[call-arg]


async def async_httpx_client() -> None:
    transport = payerr.AsyncTransport(
        provider="huawei", credentials=payerr.HeaderToken.huawei(fetch_token_async)
    )
    async with httpx.AsyncClient(transport=transport) as client:
        await client.post("https://orders-drcn.iap.hicloud.com/applications/purchases/tokens")
    payerr.AsyncTransport(httpx.HTTPTransport())  # type: ignore[arg-type]
    payerr.AsyncTransport(provider=1)  # type: ignore[arg-type]


def requests_session(policy: payerr.RetryPolicy) -> None:
    adapter = payerr.RequestsAdapter(
        policy=policy, provider="cmi", credentials=payerr.JsonBodyToken(fetch_token)
    )
    session = requests.Session()
    session.mount("https://", adapter)
    assert_type(adapter.policy, payerr.RetryPolicy)
    assert_type(adapter.cooldowns()[0].remaining, float)
    payerr.RequestsAdapter(policy="fast")  # type: ignore[arg-type]


def a_cooldown(cooldown: payerr.Cooldown) -> None:
    assert_type(cooldown.scope, str)
    assert_type(cooldown.code, str)


# --- the catalog ----------------------------------------------------------------------------


def extend_the_catalog() -> None:
    payerr.register_host("pay-gw.internal.example", "alipay")
    payerr.add_secret_names("x_session_token")
    payerr.override_code("wechat", "45009", retry=payerr.RetryHint.AFTER_RESET)
    payerr.override_code("wechat", "45009", retry="after_reset")  # type: ignore[arg-type]
    payerr.load_adapter("adapters/acme.toml")
    assert_type(payerr.PROVIDERS, tuple[str, ...])
    try:
        payerr.explain("acme", "1")
    except payerr.UnknownProviderError as e:
        assert_type(e, payerr.UnknownProviderError)


# --- payerr.testing -------------------------------------------------------------------------


def testing_helpers() -> None:
    with testing.instant_sleeps() as sleeps:
        assert_type(sleeps, list[float])
    answer = testing.provider_answer("alipay", "40004", sub_code="ACQ.TRADE_NOT_EXIST")
    assert_type(answer, tuple[int, dict[str, str], bytes])
    status, headers, body = answer
    assert_type(testing.responses_reply("wechat", 40001), dict[str, Any])
    testing.provider_answer("alipay", "40004", "ACQ.TRADE_NOT_EXIST")  # type: ignore[call-arg]
    testing.provider_answer("wechat", 40001, status="500")  # type: ignore[arg-type]
    assert status and headers and body
