"""Every catalog entry is complete and agrees with the error model's rules.

DESIGN's categories say what the caller must do next; the retry hint of every
entry, and of every per-API rule, has to fit its category.
"""

from __future__ import annotations

import re

import pytest

import payerr
from payerr import Category as C
from payerr import RetryHint as H
from payerr._catalog.model import CodeInfo
from payerr._catalog.registry import catalog

ALLOWED: dict[C, set[H]] = {
    C.AUTH: {H.REFRESH_CREDENTIALS, H.NEVER},  # never: a wrong secret no refresh fixes
    C.FORBIDDEN: {H.NEVER},
    C.INVALID_REQUEST: {H.NEVER},
    C.NOT_FOUND: {H.NEVER, H.QUERY_FIRST},
    C.CONFIGURATION: {H.NEVER},
    C.RISK: {H.NEVER},
    C.BUSINESS: {H.NEVER, H.QUERY_FIRST},  # query first: the state is not what was assumed
    C.CONFLICT: {H.NEVER, H.QUERY_FIRST},
    C.RATE_LIMITED: {H.BACKOFF, H.AFTER_RESET},
    C.UNAVAILABLE: {H.BACKOFF, H.QUERY_FIRST},
    C.PENDING: {H.QUERY_FIRST},
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def entries() -> list[tuple[str, CodeInfo]]:
    found = []
    for spec in catalog():
        for info in spec.all_codes():
            if not info.ok:
                found.append((f"{spec.name}:{info.code}/{info.sub_code or ''}", info))
    return found


ENTRIES = entries()


def _applied(info: CodeInfo) -> list[CodeInfo]:
    """The entry, and the entry as each of its per-API rules changes it."""
    return [info, *(info.on(rule.methods[0]) for rule in info.rules)]


def test_catalog_is_broad() -> None:
    """Counts a production integration needs (issue targets)."""
    wechat = catalog().spec("wechat")
    named = [c for c in wechat.codes if not c.lstrip("-").isdigit()]
    numeric = [c for c in wechat.codes if c.lstrip("-").isdigit()]
    assert len(numeric) >= 400
    assert len(named) >= 80  # WeChat Pay v3 + v2
    assert len(catalog().spec("alipay").sub_codes) >= 200
    assert len(catalog().spec("unionpay").codes) >= 60  # the 5.x respCode table


def test_every_entry_is_bilingual() -> None:
    """Meaning and fix in Chinese and in English, none left empty."""
    bad = [
        key
        for key, info in ENTRIES
        if not (CJK.search(info.message_zh) and CJK.search(info.solution_zh))
        or not (info.message_en.strip() and info.solution_en.strip())
        or CJK.search(info.message_en + info.solution_en)
    ]
    assert bad == []


def test_every_hint_fits_its_category() -> None:
    """Each hint is one the category allows, per-API rules included."""
    bad = [
        (key, applied.category, applied.retry)
        for key, info in ENTRIES
        for applied in _applied(info)
        if applied.category is None or applied.retry not in ALLOWED[applied.category]
    ]
    assert bad == []


def test_retry_later_means_nothing_ran() -> None:
    """A rate limit never ran; a pending call did (or may have)."""
    bad = [
        key
        for key, info in ENTRIES
        for applied in _applied(info)
        if (
            applied.category is C.RATE_LIMITED
            and applied.retry is H.BACKOFF
            and applied.processed is payerr.Processed.YES
        )
        or (applied.category is C.PENDING and applied.processed is payerr.Processed.NO)
    ]
    assert bad == []


@pytest.mark.parametrize("provider", payerr.PROVIDERS)
def test_no_code_means_two_things(provider: str) -> None:
    """A key in both the code and sub-code tables of one adapter means the same there."""
    spec = catalog().spec(provider)
    for key in set(spec.codes) & set(spec.sub_codes):
        assert spec.codes[key].category == spec.sub_codes[key].category, key


@pytest.mark.parametrize("provider", payerr.PROVIDERS)
def test_every_group_cites_its_source(provider: str) -> None:
    """Adapter files say where their codes come from."""
    from payerr._catalog.loader import adapter_dir

    text = (adapter_dir() / f"{provider}.toml").read_text(encoding="utf-8")
    assert re.search(r"#.*(https?://|Source)", text), provider


def test_stats_command_counts_per_provider_and_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    """payerr codes --stats prints each adapter's counts and envelopes."""
    from payerr._tools.cli import main

    assert main(["codes", "--stats"]) == 0
    out = capsys.readouterr().out
    for provider in payerr.PROVIDERS:
        assert f"{provider}:" in out
    assert "pay-v2 (xml)" in out
