"""The adapter files: complete, bilingual, validated, and overridable in code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import payerr
from payerr._catalog.file_format import AdapterFileError
from payerr._catalog.loader import adapter_dir, load_adapter_file
from payerr._catalog.registry import catalog

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
ALL = [info for spec in catalog() for info in spec.all_codes()]


def test_every_shipped_provider_loads() -> None:
    """One adapter file per provider, all of them valid."""
    assert set(payerr.PROVIDERS) <= set(catalog().names)


def test_every_code_is_bilingual_and_maps_to_a_class() -> None:
    """Each entry explains itself in Chinese and English and names a class."""
    for info in ALL:
        assert info.message_zh.strip() and info.message_en.strip(), info
        assert info.solution_zh.strip() and info.solution_en.strip(), info
        assert re.search(r"[\u4e00-\u9fff]", info.message_zh), info
        if not info.ok:
            assert info.error_class is not None
            assert issubclass(info.error_class, payerr.ProviderError)


SEED_COPY = json.loads((Path(__file__).parent / "data" / "seed_codes.json").read_text("utf-8"))


def _seed_codes(name: str) -> set[str]:
    text = (SEEDS / name).read_text(encoding="utf-8")
    return set(re.findall(r"(?<![\w.])\d{5,10}(?![\w.])", text))


@pytest.mark.parametrize("provider", ["huawei", "wechat", "cmi"])
def test_every_seed_code_is_in_the_adapter(provider: str) -> None:
    """Nothing the seed documents list is missing from the adapter file."""
    spec = catalog().spec(provider)
    known = set(spec.codes) | set(spec.success)
    assert set(SEED_COPY[provider]["codes"]) - known == set()


def test_every_alipay_seed_code_and_sub_code_is_in_the_adapter() -> None:
    """All gateway codes and sub_codes of the Alipay seed are in alipay.toml."""
    spec = catalog().spec("alipay")
    codes, subs = set(SEED_COPY["alipay"]["codes"]), set(SEED_COPY["alipay"]["sub_codes"])
    assert subs and codes
    assert subs <= set(spec.sub_codes)
    assert codes <= set(spec.codes) | set(spec.success)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not beside the repo")
@pytest.mark.parametrize("provider", ["huawei", "wechat", "cmi"])
def test_seed_copy_matches_the_documents(provider: str) -> None:
    """tests/data/seed_codes.json is an exact copy of what the documents list."""
    entry = SEED_COPY[provider]
    assert sorted(_seed_codes(entry["file"])) == entry["codes"]


@pytest.mark.parametrize(
    ("provider", "code", "sub_code", "category", "retry"),
    [
        ("alipay", "isv.invalid-signature", None, payerr.Category.AUTH, payerr.RetryHint.NEVER),
        ("huawei", "1001880010", None, payerr.Category.RISK, payerr.RetryHint.NEVER),
        (
            "alipay",
            "40004",
            "ACQ.TRADE_NOT_EXIST",
            payerr.Category.NOT_FOUND,
            payerr.RetryHint.NEVER,
        ),
        ("wechat", "45011", None, payerr.Category.RATE_LIMITED, payerr.RetryHint.BACKOFF),
        ("cmi", "1000154", None, payerr.Category.PENDING, payerr.RetryHint.QUERY_FIRST),
        ("wechat", -1, None, payerr.Category.UNAVAILABLE, payerr.RetryHint.BACKOFF),
    ],
)
def test_explain(
    provider: str,
    code: str,
    sub_code: str | None,
    category: payerr.Category,
    retry: payerr.RetryHint,
) -> None:
    """explain answers category, hint and both languages for a code."""
    info = payerr.explain(provider, code, sub_code) if sub_code else payerr.explain(provider, code)
    assert info.category is category
    assert info.retry is retry
    assert info.message_zh and info.message_en and info.solution_zh and info.solution_en


def test_explain_success_code() -> None:
    """Success codes are explained too, as success."""
    info = payerr.explain("alipay", "10000")
    assert info.ok
    assert info.category is None


def test_explain_unknown_code_is_a_key_error() -> None:
    """Asking for a code the catalog lacks raises KeyError naming it."""
    with pytest.raises(KeyError, match="nope"):
        payerr.explain("wechat", "nope")


def test_method_rule_changes_the_hint() -> None:
    """Alipay ACQ.SYSTEM_ERROR means 'query first' on pay and 'retry' on refund."""
    info = payerr.explain("alipay", "40004", "ACQ.SYSTEM_ERROR")
    assert info.on("alipay.trade.pay").retry is payerr.RetryHint.QUERY_FIRST
    assert info.on("alipay.trade.refund").retry is payerr.RetryHint.BACKOFF
    assert info.on("alipay.trade.query").retry is payerr.RetryHint.BACKOFF


def test_sub_code_inherits_parent_method_rules() -> None:
    """isp.unknow-error (under 20000) follows 20000's pay rule."""
    info = payerr.explain("alipay", "isp.unknow-error")
    assert info.on("alipay.trade.pay").retry is payerr.RetryHint.QUERY_FIRST


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "[provider]\nname='x'\ndisplay='X'\n[[envelope]]\nname='e'\ncode=['errcode']\n[success.'0']\nzh='成功'\nen='ok'\n"
            "[codes.'1']\ncategory='bogus'\nzh='a'\nen='b'\nfix_zh='c'\nfix_en='d'\n",
            "codes.1.category",
        ),
        (
            "[provider]\nname='x'\ndisplay='X'\n[[envelope]]\nname='e'\ncode=['errcode']\n[success.'0']\nzh='成功'\nen='ok'\n"
            "[codes.'1']\ncategory='auth'\nzh='a'\nen='b'\nfix_zh='c'\n",
            "codes.1.fix_en",
        ),
        (
            "[provider]\nname='x'\ndisplay='X'\n[[envelope]]\nname='e'\nformat='yaml'\n"
            "code=['c']\n[success.'0']\nzh='成功'\nen='ok'\n",
            "envelope.0.format",
        ),
        ("[provider\nname='x'", "cannot read"),
        (
            "[provider]\nname='x'\ndisplay='X'\n[[envelope]]\nname='e'\ncode=['errcode']\n[success.'0']\nzh='成功'\nen='ok'\n"
            "[statuses.'999']\ncategory='auth'\nzh='a'\nen='b'\nfix_zh='c'\nfix_en='d'\n",
            "statuses",
        ),
    ],
)
def test_broken_file_names_file_and_key(tmp_path: Path, content: str, expected: str) -> None:
    """A broken adapter file fails with its path and the offending key."""
    path = tmp_path / "broken.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AdapterFileError) as info:
        load_adapter_file(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_register_host_claims_a_private_gateway(fresh_catalog: object) -> None:
    """A host registered in code is read with that provider's adapter."""
    payerr.register_host("cmi-proxy.internal.example", "cmi")
    raw = payerr.RawResponse(200, {}, b'{"code":"9000004"}', "https://cmi-proxy.internal.example/x")
    assert isinstance(payerr.inspect(raw).error, payerr.CMIError)


def test_override_code_changes_meaning_for_this_process(fresh_catalog: object) -> None:
    """Users can re-categorise a code without editing the shipped file."""
    payerr.override_code("cmi", "1000176", retry=payerr.RetryHint.NEVER)
    assert payerr.explain("cmi", "1000176").retry is payerr.RetryHint.NEVER


def test_override_can_add_a_code(fresh_catalog: object) -> None:
    """A code the catalog lacks can be added with a category."""
    payerr.override_code("wechat", "61999", category=payerr.Category.CONFIGURATION)
    raw = payerr.RawResponse(
        200, {}, b'{"errcode":61999,"errmsg":"x"}', "https://api.weixin.qq.com/a"
    )
    assert isinstance(payerr.inspect(raw).error, payerr.ConfigurationError)


def test_load_adapter_adds_a_provider(tmp_path: Path, fresh_catalog: object) -> None:
    """A new provider is a new TOML file."""
    path = tmp_path / "acme.toml"
    path.write_text(
        "[provider]\nname='acme'\ndisplay='Acme'\nhosts=['api.acme.example']\n"
        "[[envelope]]\nname='json'\ncode=['errcode']\nmessage=['errmsg']\n"
        "[success.'0']\nzh='成功'\nen='ok'\n"
        "[codes.'7']\ncategory='rate_limited'\nzh='太快'\nen='too fast'\n"
        "fix_zh='慢'\nfix_en='slow'\n",
        encoding="utf-8",
    )
    payerr.load_adapter(path)
    raw = payerr.RawResponse(200, {}, b'{"errcode":7}', "https://api.acme.example/v1")
    error = payerr.inspect(raw).error
    assert isinstance(error, payerr.RateLimitError)
    assert type(error).__name__ == "AcmeRateLimitError"


def test_adapter_files_are_found() -> None:
    """The adapter directory is found from a source checkout or an installed wheel."""
    assert sorted(p.stem for p in adapter_dir().glob("*.toml")) == sorted(payerr.PROVIDERS)


def test_an_override_reaches_a_host_already_looked_up(fresh_catalog: object) -> None:
    """inspect remembers which adapter a host maps to, but not past a change to the catalog."""
    body = b'{"errcode":40013,"errmsg":"invalid appid"}'
    raw = payerr.RawResponse(200, {}, body, "https://api.weixin.qq.com/cgi-bin/token", "GET")
    assert isinstance(payerr.inspect(raw).error, payerr.ConfigurationError)
    payerr.override_code("wechat", "40013", category=payerr.Category.INVALID_REQUEST)
    assert isinstance(payerr.inspect(raw).error, payerr.InvalidRequestError)
