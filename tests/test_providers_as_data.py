"""Providers are data: PROVIDERS, the provider error classes, token placement, day resets,
nested request fields and sandbox routes all come from the adapter files."""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
from pathlib import Path

import httpx
import pytest
import requests

import payerr
from payerr import _errors
from payerr._catalog import loader as _loader
from payerr._catalog import registry as _catalog
from payerr._catalog.file_format import AdapterFileError, part_of
from payerr._catalog.loader import adapter_files, load_adapter_file
from payerr._engine.credentials import token_for
from payerr._reading.request import RequestFacts
from payerr._reading.retry_after import window_wait
from payerr._tools import codegen as _codegen
from payerr.sandbox import Sandbox
from payerr.sandbox._declared import render, write
from support import provider_workers

ROOT = Path(__file__).resolve().parents[1]
STRIPE = ROOT / "examples" / "adapters" / "stripe.toml"

ACME = """
[provider]
name = "acme"
display = "Acme Pay"
order = 90
error_class = "AcmePayError"
hosts = ["api.acme.test"]
token_paths = ["/token"]
token = { in = "query", name = "access_token" }
day_reset = "00:00+08:00"

[[envelope]]
name = "api"
code = ["errcode"]
message = ["errmsg"]

[idempotency]
keys = { "/pay" = "order_id" }
money = ["/pay"]

[success."0"]
message = "ok"
zh = "成功。"
en = "Success."

[codes."40014"]
category = "auth"
message = "invalid access_token"
zh = "访问令牌无效。"
en = "The access token is invalid."
fix_zh = "重新获取访问令牌后重试。"
fix_en = "Fetch a new access token and send again."

[codes."41001"]
category = "auth"
message = "access_token missing"
zh = "缺少访问令牌。"
en = "The access token is missing."
fix_zh = "在请求中带上访问令牌。"
fix_en = "Send the access token with the request."

[codes."45009"]
category = "rate_limited"
retry = "after_reset"
window = "day"
message = "reach max api daily quota limit"
zh = "接口调用超过每日限额。"
en = "The API's daily quota is used up."
fix_zh = "等到次日零点（北京时间）限额重置。"
fix_en = "Wait for the quota to reset at midnight Beijing time."

[codes."60001"]
category = "conflict"
message = "order already paid"
zh = "订单已支付。"
en = "The order was already paid."
fix_zh = "查询订单，不要重复支付。"
fix_en = "Query the order; do not pay again."

[codes."-1"]
category = "unavailable"
message = "system busy"
zh = "系统繁忙。"
en = "The system is busy."
fix_zh = "稍后重试。"
fix_en = "Retry later."

[sandbox]
transient = "-1"

[sandbox.error]
body = { errcode = "${code|int}", errmsg = "${message}, rid: ${rid}" }

[[sandbox.route]]
name = "acme.token"
path = "/token"
token = "issue"
success = { errcode = 0, errmsg = "ok", access_token = "${token}", expires_in = 7200 }

[[sandbox.route]]
name = "acme.pay"
path = "/pay"
http_method = "POST"
auth = { in = "query", name = "access_token", missing = "41001", invalid = "40014" }
key = "order_id"
duplicate = "60001"
success = { errcode = 0, errmsg = "ok", order_id = "${field.order_id}", paid = true }

[[sandbox.route]]
name = "acme.query"
path = "/query"
success = { errcode = 0, errmsg = "ok", order_id = "${field.order_id}" }

[sandbox.route.auth]
in = "header"
name = "Authorization"
template = "Bearer ${token}"
missing = "41001"
invalid = "40014"
"""


def _declared_providers() -> list[tuple[int, str, str]]:
    found = []
    for path in adapter_files():
        provider = part_of(path.read_text(encoding="utf-8"), "provider")["provider"]
        found.append((provider.get("order", 1000), provider["name"], provider["error_class"]))
    return sorted(found)


# --- the shipped providers ----------------------------------------------------------


def test_generated_provider_classes_match_the_adapter_files() -> None:
    """The class block in _errors.py and the exports in __init__.py are what the adapter
    files declare: a new or changed file fails here until the block is regenerated."""
    for path, text in _codegen.expected().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale for adapters/*.toml: run `python -m payerr._tools.codegen`"
        )


@pytest.mark.parametrize(("order", "provider", "class_name"), _declared_providers())
def test_every_provider_has_its_declared_class(order: int, provider: str, class_name: str) -> None:
    """Each shipped provider's class is exported, listed in _errors' docstring, and mixed
    into every error payerr makes for that provider."""
    cls = getattr(payerr, class_name)
    assert class_name in payerr.__all__
    assert cls is _errors.PROVIDER_CLASSES[provider]
    assert cls.__module__ == "payerr._errors"
    assert class_name in (_errors.__doc__ or "")
    for category in payerr.Category:
        combined = _errors.error_class(category, provider)
        assert issubclass(combined, cls)
        assert getattr(_errors, combined.__name__) is combined


def test_providers_follow_the_declared_order() -> None:
    assert tuple(name for _, name, _ in _declared_providers()) == payerr.PROVIDERS


# --- the category default rule ------------------------------------------------------


@pytest.mark.parametrize("category", list(payerr.Category))
def test_a_code_without_hint_takes_its_category_defaults(category: payerr.Category) -> None:
    """Adapter entries, generic entries and override_code all default by category alike."""
    cls = _errors.CATEGORY_CLASSES[category]
    assert _errors.category_defaults(category) == (cls.default_retry, cls.default_processed)
    assert _errors.category_defaults(
        category, payerr.RetryHint.AFTER_RESET, payerr.Processed.MAYBE
    ) == (payerr.RetryHint.AFTER_RESET, payerr.Processed.MAYBE)


# --- provider knowledge that used to be Python ---------------------------------------


def test_huawei_token_placement_is_the_adapters() -> None:
    """HeaderToken.huawei writes what huawei.toml's [provider] token declares."""
    placement = payerr._catalog.registry.catalog().spec("huawei").token
    assert placement is not None
    credentials = payerr.HeaderToken.huawei(lambda: "AT1")
    assert credentials.header == placement.name == "Authorization"
    assert credentials.template("AT1") == "Basic QVBQQVQ6QVQx"  # base64("APPAT:AT1")


def test_wechat_day_quota_resets_at_beijing_midnight() -> None:
    """45009's day window ends at 16:00 UTC, as wechat.toml's day_reset says."""
    spec = payerr._catalog.registry.catalog().spec("wechat")
    now = 1_767_225_600.0 - 9 * 3600  # 2025-12-31 15:00 UTC, 23:00 in Beijing
    assert window_wait("day", now, spec.day_reset) == pytest.approx(3600.0)
    assert window_wait("day", now, 0) == pytest.approx(9 * 3600.0)  # UTC midnight


def test_alipay_biz_content_fields_come_from_the_adapter() -> None:
    """The fields inside biz_content count as request fields because alipay.toml says so."""
    body = b'method=alipay.trade.refund&biz_content={"out_request_no":"R1"}'
    facts = RequestFacts("POST", "https://openapi.alipay.com/gateway.do", body, {})
    spec = payerr._catalog.registry.catalog().spec("alipay")
    assert facts.fields(spec.nested_fields)["out_request_no"] == "R1"
    assert "out_request_no" not in facts.fields()


@pytest.mark.parametrize(
    ("value", "problem"),
    [("24:00+08:00", "not a time of day"), ("midnight", "HH:MM"), ("00:00+15:00", "UTC offset")],
)
def test_a_bad_day_reset_names_file_and_key(tmp_path: Path, value: str, problem: str) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(ACME.replace('day_reset = "00:00+08:00"', f'day_reset = "{value}"'), "utf-8")
    with pytest.raises(AdapterFileError, match=rf"acme\.toml: provider\.day_reset: .*{problem}"):
        load_adapter_file(path)


def test_a_bad_sandbox_route_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(ACME.replace('token = "issue"', 'token = "steal"'), "utf-8")
    with pytest.raises(AdapterFileError, match=r"acme\.toml: sandbox\.route\.0\.token"):
        load_adapter_file(path)


# --- a provider added at run time ----------------------------------------------------


def test_a_loaded_provider_gets_its_class(fresh_catalog) -> None:
    """examples/adapters/stripe.toml: StripeError, mixed into what inspect raises."""
    payerr.load_adapter(STRIPE)
    error = payerr.inspect(
        payerr.RawResponse(402, {}, b'{"error":{"code":"card_declined"}}', "https://api.stripe.com")
    ).error
    assert isinstance(error, payerr.BusinessError)
    assert type(error).__name__ == "StripeBusinessError"
    assert isinstance(error, payerr.StripeError)  # type: ignore[attr-defined]


def _forget(provider: str) -> None:
    """Make this process look like one that never loaded ``provider``."""
    cls = _errors.PROVIDER_CLASSES.pop(provider)
    vars(_errors).pop(cls.__name__, None)
    for key in [key for key in _errors._COMBINED if key[0] == provider]:
        made = _errors._COMBINED.pop(key)
        _errors._MADE_FOR.pop(made, None)
        vars(_errors).pop(made.__name__, None)
    _catalog._catalog = None


def test_loaded_provider_errors_unpickle_where_it_is_unknown(fresh_catalog) -> None:
    """Every kind, the client-compatible network and outcome-unknown ones included,
    comes back in a process without the provider: same class name, category, fields."""
    errors = provider_workers.errors_of_loaded_provider(str(STRIPE))
    before = provider_workers.describe(errors)
    blobs = [pickle.dumps(error) for error in errors]
    restored = []
    for blob in blobs:  # each alone: no earlier error may have made its class already
        _forget("stripe")
        restored.append(pickle.loads(blob))
    assert provider_workers.describe(restored) == before
    assert "stripe" not in payerr._catalog.registry.catalog().names
    assert isinstance(restored[15], httpx.ConnectError)
    assert isinstance(restored[16], httpx.ReadTimeout)
    assert isinstance(restored[18], requests.ConnectionError)


@pytest.mark.slow
def test_loaded_provider_errors_cross_a_spawned_pool() -> None:
    """Returned and raised through multiprocessing.Pool, into a process that never loaded
    the provider, with no hang (every wait has a timeout)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as loaded:
        errors = loaded.apply_async(provider_workers.errors_of_loaded_provider, (str(STRIPE),)).get(
            timeout=120
        )
        with pytest.raises(payerr.NetworkError) as raised:
            loaded.apply_async(
                provider_workers.raise_error_of_loaded_provider, (str(STRIPE), -6)
            ).get(timeout=120)
    assert isinstance(raised.value, httpx.ConnectError)
    assert raised.value.provider == "stripe"
    errors = errors[15:] + errors[:15]  # the client-compatible kinds first: none made yet
    with context.Pool(1) as fresh:
        seen = fresh.apply_async(provider_workers.describe, (errors,)).get(timeout=120)
    assert seen == provider_workers.describe(errors)
    assert {row[1] for row in seen} == {category.value for category in payerr.Category}


# --- a shipped fifth provider is one file --------------------------------------------


@pytest.fixture
def adapters_with_acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A shipped adapters directory holding huawei.toml and a new acme.toml, nothing else."""
    shutil.copy(ROOT / "adapters" / "huawei.toml", tmp_path / "huawei.toml")
    (tmp_path / "acme.toml").write_text(ACME, encoding="utf-8")
    monkeypatch.setattr(_loader, "_adapter_dirs", lambda: iter([tmp_path]))
    _catalog._catalog = None
    yield tmp_path
    if "acme" in _errors.PROVIDER_CLASSES:  # other tests load an "acme" of their own
        _forget("acme")
    _catalog._catalog = None


def test_a_new_adapter_file_is_a_new_provider(adapters_with_acme: Path) -> None:
    """PROVIDERS, the class, explain and inspect, from the file alone."""
    assert payerr.PROVIDERS == ("huawei", "acme")
    assert payerr.AcmePayError.__name__ == "AcmePayError"  # type: ignore[attr-defined]
    assert payerr.explain("acme", 45009).retry is payerr.RetryHint.AFTER_RESET
    answer = b'{"errcode":45009,"errmsg":"reach max api daily quota limit"}'
    raw = payerr.RawResponse(200, {}, answer, "https://api.acme.test/pay?access_token=t")
    error = payerr.inspect(raw).error
    assert isinstance(error, payerr.RateLimitError)
    assert isinstance(error, payerr.AcmePayError)  # type: ignore[attr-defined]
    assert error.retry_after is not None and 0 < error.retry_after <= 86400
    credentials = token_for("acme", lambda: "t")
    assert isinstance(credentials, payerr.QueryParamToken)
    assert credentials.param == "access_token"


def test_a_new_adapter_file_asks_for_regeneration(adapters_with_acme: Path) -> None:
    """Type checkers only see the new class after `python -m payerr._tools.codegen`."""
    expected = _codegen.expected()
    assert any(path.read_text(encoding="utf-8") != text for path, text in expected.items())
    assert all("AcmePayError" in text for text in expected.values())


def test_a_new_adapter_file_is_served_by_the_sandbox(adapters_with_acme: Path) -> None:
    """Its [sandbox] routes answer: token, token check, duplicate key, scripted faults."""
    with Sandbox() as sandbox, httpx.Client(base_url=sandbox.url) as client:
        assert client.post("/pay", data={"order_id": "A1"}).json()["errcode"] == 41001
        token = client.get("/token").json()["access_token"]
        assert (
            client.post(f"/pay?access_token=x{token}", data={"order_id": "A1"}).json()["errcode"]
            == 40014
        )
        paid = client.post(f"/pay?access_token={token}", data={"order_id": "A1"}).json()
        assert paid == {"errcode": 0, "errmsg": "ok", "order_id": "A1", "paid": True}
        again = client.post(f"/pay?access_token={token}", data={"order_id": "A1"})
        assert again.json()["errcode"] == 60001
        sandbox.script("acme.pay", ["transient", "45009"])
        busy = client.post(f"/pay?access_token={token}", data={"order_id": "A2"}).json()
        assert busy["errcode"] == -1 and busy["errmsg"].startswith("system busy, rid: ")
        limited = client.post(f"/pay?access_token={token}", data={"order_id": "A2"}).json()
        assert limited["errcode"] == 45009
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/query", params={"order_id": "A1"}).json()["errcode"] == 41001
        found = client.get("/query", params={"order_id": "A1"}, headers=bearer).json()
        assert found == {"errcode": 0, "errmsg": "ok", "order_id": "A1"}
        assert sandbox.ledger.executions("order_id", "A1") == 1
        assert sandbox.ledger.requests("order_id", "A1") == 4


# --- the sandbox's answer templates ------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ({"errcode": "${code|int}"}, {"errcode": 45009}),
        ({"errcode": "${code}"}, {"errcode": "45009"}),
        ({"errmsg": "${message}, rid: ${rid}"}, {"errmsg": "quota, rid: r1"}),
        (
            {"orderId": "${field.orderId}", "gone": "${field.missing}"},
            {"orderId": "O1", "gone": ""},
        ),
        ({"list": [{"id": "${code|int}"}], "flag": True}, {"list": [{"id": 45009}], "flag": True}),
    ],
)
def test_templates_fill_placeholders_and_keep_types(template: dict, expected: dict) -> None:
    context = {"code": "45009", "message": "quota", "rid": "r1", "fields": {"orderId": "O1"}}
    assert render(template, context) == expected


@pytest.mark.parametrize(
    ("body_format", "expected"),
    [
        ("form", "respCode=00&respMsg=成功[0000000]&signature=a+b/c=".encode()),
        ("json", '{"respCode": "00", "respMsg": "成功[0000000]", "signature": "a+b/c="}'.encode()),
        (
            "xml",
            "<xml><respCode><![CDATA[00]]></respCode><respMsg><![CDATA[成功[0000000]]]></respMsg>"
            "<signature><![CDATA[a+b/c=]]></signature></xml>".encode(),
        ),
    ],
)
def test_answers_are_written_in_the_declared_format(body_format: str, expected: bytes) -> None:
    """Form answers are not URL-encoded, as the payment gateways write them."""
    data = {"respCode": "00", "respMsg": "成功[0000000]", "signature": "a+b/c="}
    assert write(data, body_format) == expected


def test_a_provider_reloaded_under_another_class_name_gets_it(
    tmp_path: Path, fresh_catalog
) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(ACME.replace('error_class = "AcmePayError"\n', ""), encoding="utf-8")
    payerr.load_adapter(path)
    assert _errors.error_class(payerr.Category.AUTH, "acme").__name__ == "AcmeAuthError"
    path.write_text(ACME, encoding="utf-8")
    payerr.load_adapter(path, replace_existing=True)
    assert _errors.error_class(payerr.Category.AUTH, "acme").__name__ == "AcmePayAuthError"
    _forget("acme")
