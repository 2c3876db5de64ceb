"""The payments-safety rule, checked over every adapter entry, API and caller's mark.

``safe_to_resend`` and ``resolve_hint`` are pure: these tests state the rule in
plain terms and let hypothesis look for a counter-example across the catalog.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import payerr
from payerr import Processed
from payerr import RetryHint as H
from payerr._catalog.registry import catalog
from payerr._retry.safety import IDEMPOTENT_HTTP_METHODS, parse_mark, resolve_hint, safe_to_resend

ENTRIES = [(spec, info) for spec in catalog() for info in spec.all_codes() if not info.ok]
APIS = {
    spec.name: sorted(
        {*spec.money_methods, *spec.idempotent_methods, *spec.idempotency_keys, "/x/other"}
        | {m for info in spec.all_codes() for rule in info.rules for m in rule.methods}
    )
    for spec in catalog()
}
METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"])
MARKS = st.sampled_from([None, True, False])
# Built once: hypothesis hashes every element to label a strategy, ~3,000 entries per draw.
ENTRY = st.sampled_from(ENTRIES)
API = {name: st.sampled_from(apis) for name, apis in APIS.items()}


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    spec, info = draw(ENTRY)
    api = draw(API[spec.name]).replace("*", "x")
    keys = [key for pattern, key in spec.idempotency_keys.items()]
    fields = {key: "K1" for key in keys if draw(st.booleans())}
    return spec, info.on(api), api, draw(METHODS), fields, draw(MARKS)


@given(cases())
def test_money_never_resent_without_its_key_or_a_yes(case: tuple) -> None:
    """A call that moves money, after an uncertain outcome, is resent only with the key the
    provider deduplicates on, or the caller's yes; never because of its HTTP method."""
    spec, info, api, method, fields, mark = case
    resendable = safe_to_resend(spec, method, api, fields, mark)
    hint = resolve_hint(info.retry, info.processed, resendable)
    if mark is not None:
        assert resendable is mark
    elif spec.moves_money(api):
        assert resendable == spec.has_dedup_key(api, fields)
    else:
        assert resendable == (method in IDEMPOTENT_HTTP_METHODS or spec.is_idempotent(api, fields))
    if hint is H.BACKOFF and info.processed is not Processed.NO:
        assert resendable, "a may-have-run answer is resent only when that is safe"
    if info.retry is not H.BACKOFF:
        assert hint is info.retry, "only a backoff hint is ever changed"


@given(cases())
def test_a_no_mark_always_wins(case: tuple) -> None:
    """Marked not idempotent: nothing that may have run is resent, whatever else is true."""
    spec, info, api, method, fields, _ = case
    hint = resolve_hint(
        info.retry, info.processed, safe_to_resend(spec, method, api, fields, False)
    )
    if info.processed is not Processed.NO:
        assert hint is not H.BACKOFF


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (None, None), ("1", True), ("yes", True), ("On", True),
     ("0", False), ("false", False), ("no", False), ("off", False), ("", False), (b"true", True)],
)  # fmt: skip
def test_marks_read_strictly(value: object, expected: bool | None) -> None:
    assert parse_mark(value, source="test") is expected


@given(st.text().filter(lambda t: t.strip().lower() not in
                        {"1", "true", "yes", "on", "0", "false", "no", "off", ""}))  # fmt: skip
def test_anything_else_is_refused(value: str) -> None:
    """Never a silent yes."""
    with pytest.raises(ValueError, match="yes/no"):
        parse_mark(value, source="test")


def test_every_provider_lists_what_moves_money() -> None:
    """The adapters that carry payments name the calls that do."""
    for name in ("alipay", "wechat", "cmi"):
        assert catalog().spec(name).money_methods, name
    assert payerr.explain("alipay", "20000").on("alipay.trade.pay").retry is H.QUERY_FIRST
