"""Every realistic payload becomes the right success or typed error."""

from __future__ import annotations

import pytest

import payerr
from support.payloads import ALL_CASES, Case

CASES = [pytest.param(p, c, id=f"{p}-{c.id}") for p, cases in ALL_CASES.items() for c in cases]
ERROR_CASES = [
    pytest.param(p, c, id=f"{p}-{c.id}")
    for p, cases in ALL_CASES.items()
    for c in cases
    if c.expect is not None
]


@pytest.mark.parametrize("count", [len(cases) for cases in ALL_CASES.values()])
def test_at_least_twelve_payloads_per_provider(count: int) -> None:
    """The suite covers each provider with a dozen or more real-shaped payloads."""
    assert count >= 12


@pytest.mark.parametrize(("provider", "case"), CASES)
def test_payload_is_classified(provider: str, case: Case) -> None:
    """The class, codes, hint and request id match what the provider meant."""
    outcome = payerr.inspect(case.raw())
    if case.expect is None:
        assert outcome.ok, outcome.error
        assert outcome.error is None
        assert isinstance(outcome.data, dict)
        return
    error = outcome.error
    assert not outcome.ok
    assert isinstance(error, case.expect)
    assert isinstance(error, payerr.PayError)
    assert error.provider == provider
    assert error.code == case.code
    assert error.sub_code == case.sub_code
    assert error.retry is case.retry
    assert error.http_status == case.status
    if case.request_id is not None:
        assert error.request_id == case.request_id
    if case.message is not None:
        assert error.message == case.message


@pytest.mark.parametrize(("provider", "case"), CASES)
def test_provider_is_found_by_host(provider: str, case: Case) -> None:
    """provider=None and the provider's name give the same reading."""
    by_host = payerr.inspect(case.raw())
    pinned = payerr.inspect(case.raw(), provider=provider)
    assert by_host.provider == provider
    assert type(by_host.error) is type(pinned.error)


@pytest.mark.parametrize(("provider", "case"), ERROR_CASES)
def test_error_class_is_also_the_provider_class(provider: str, case: Case) -> None:
    """Every error can be caught by category and by provider."""
    error = payerr.inspect(case.raw()).error
    assert error is not None
    provider_cls = {
        "alipay": payerr.AlipayError,
        "wechat": payerr.WeChatError,
        "huawei": payerr.HuaweiError,
        "cmi": payerr.CMIError,
    }[provider]
    assert isinstance(error, provider_cls)


@pytest.mark.parametrize(("provider", "case"), CASES)
def test_raise_for_response_matches_inspect(provider: str, case: Case) -> None:
    """raise_for_response returns the data or raises exactly inspect's error."""
    outcome = payerr.inspect(case.raw())
    if outcome.ok:
        assert payerr.raise_for_response(case.raw()) == outcome.data
    else:
        with pytest.raises(type(outcome.error)):
            payerr.raise_for_response(case.raw())


@pytest.mark.parametrize(("provider", "case"), ERROR_CASES)
def test_error_keeps_raw_body_and_parsed_body(provider: str, case: Case) -> None:
    """The raw bytes ride on the error; a JSON body is parsed too."""
    error = payerr.inspect(case.raw()).error
    assert error is not None
    assert error.raw == case.raw().body
    if case.raw().body.lstrip().startswith(b"{"):
        assert isinstance(error.body, dict)
