"""Records are ``payerr._values`` values: they compare, hash, print, copy, pickle and
``replace`` as the dataclasses they replaced did, and the frozen ones refuse assignment."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

import payerr
from payerr._catalog.registry import catalog
from payerr._reading.raw import answer_of
from payerr._retry.policy import Decision, Stop, _retrying
from payerr._values import Frozen, FrozenInstanceError, Value, unfrozen

URL = "https://api.weixin.qq.com/cgi-bin/user/info"


def _records() -> list[Any]:
    wechat = catalog().spec("wechat")
    return [
        payerr.explain("wechat", "45009"),
        catalog().spec("alipay").sub_codes["isp.unknow-error"],  # with per-API rules
        wechat.envelopes[0],
        payerr.RetryPolicy(max_attempts=5, deadline=9.0),
        payerr.RawResponse(200, {"X-Request-Id": "r1"}, b'{"errcode":0}', URL, method="get"),
        Decision(retry=False, reason=Stop.MAX_ATTEMPTS, detail="3 of 3"),
        payerr.RequestFacts("POST", URL, b'{"openid":"o1"}', {"content-type": "application/json"}),
    ]


RECORDS = _records()
IDS = [type(record).__name__ for record in RECORDS]


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_a_pickle_and_a_copy_are_equal(record: Value) -> None:
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.copy(record) == record
    assert copy.deepcopy(record) == record


CHANGES = {
    "CodeInfo": ("message_en", "said otherwise"),
    "Envelope": ("name", "another"),
    "RetryPolicy": ("max_attempts", 7),
    "RawResponse": ("url", URL + "?lang=en"),
    "Decision": ("detail", "changed"),
    "RequestFacts": ("url", URL + "?lang=en"),
}


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_replace_changes_only_what_it_names(record: Value) -> None:
    name, value = CHANGES[type(record).__name__]
    assert record.replace() == record
    changed = record.replace(**{name: value})
    assert getattr(changed, name) == value and changed != record
    assert all(getattr(changed, n) == getattr(record, n) for n in record._fields if n != name)


@pytest.mark.parametrize("record", [r for r in RECORDS if isinstance(r, Frozen)], ids=str)
def test_frozen_records_refuse_assignment_and_hash_by_value(record: Frozen) -> None:
    name = record._fields[0]
    with pytest.raises(AttributeError):
        setattr(record, name, None)
    with pytest.raises(AttributeError):
        delattr(record, name)
    if any(isinstance(value, dict) for value in _leaves(record)):  # as the dataclass was
        with pytest.raises(TypeError, match="dict"):
            hash(record)
    else:
        assert hash(copy.deepcopy(record)) == hash(record)


def _leaves(value: Any) -> list[Any]:
    """Every value a record's hash would reach: its compared fields, through tuples and
    other records."""
    if isinstance(value, Value):
        return [leaf for n in value._compared for leaf in _leaves(getattr(value, n))]
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_repr_names_the_class_and_its_fields(record: Value) -> None:
    shown = repr(record)
    assert shown.startswith(type(record).__qualname__ + "(")
    assert all(f"{name}=" in shown for name in record._fields)


def test_a_record_of_another_class_is_never_equal() -> None:
    decision = Decision(retry=True)
    assert decision != payerr.RetryPolicy()
    assert decision != (True, 0.0, False, None, "")


def test_policies_differing_only_in_callbacks_are_equal() -> None:
    """As the dataclass declared them: the callbacks are not compared."""
    plain = payerr.RetryPolicy()
    hooked = payerr.RetryPolicy(on_retry=print, is_idempotent=lambda facts: None)
    assert plain == hooked and hash(plain) == hash(hooked)
    assert plain != plain.replace(max_attempts=4)


def test_a_policy_checks_its_settings_when_replaced() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        payerr.RetryPolicy().replace(max_attempts=0)


def test_raw_response_normalises_what_it_is_given() -> None:
    raw = payerr.RawResponse("404", {"X-Request-Id": "r1"}, "页面", URL, method="get")  # type: ignore[arg-type]
    assert (raw.status_code, raw.method, raw.body) == (404, "GET", "页面".encode())
    assert raw.headers["x-request-id"] == "r1"
    assert (raw.host, raw.path) == ("api.weixin.qq.com", "/cgi-bin/user/info")


def _made_by_plain_stores() -> list[tuple[Any, Any]]:
    """(made by plain stores, made by ``__init__``): the values made once per failed attempt."""
    headers = {"x-request-id": "r1"}
    sent = {"content-type": "application/json"}
    return [
        (
            answer_of(503, headers, b"<html>503</html>", URL, "GET", b"{}", sent),
            payerr.RawResponse(503, headers, b"<html>503</html>", URL, "GET", b"{}", sent),
        ),
        (_retrying(0.25, True), Decision(retry=True, delay=0.25, refresh=True)),
    ]


@pytest.mark.parametrize(("made", "expected"), _made_by_plain_stores(), ids=["raw", "decision"])
def test_a_value_made_by_plain_stores_is_the_one_init_makes(made: Frozen, expected: Frozen) -> None:
    assert type(made) is type(expected) and made == expected and repr(made) == repr(expected)
    assert pickle.loads(pickle.dumps(made)) == expected
    try:
        hashed = hash(expected)
    except TypeError:  # a dict among its fields, as the dataclass was
        with pytest.raises(TypeError):
            hash(made)
    else:
        assert hash(made) == hashed
    with pytest.raises(FrozenInstanceError):
        setattr(made, made._fields[0], None)
    with pytest.raises(FrozenInstanceError):
        delattr(made, made._fields[0])


def test_an_unfrozen_class_shares_the_layout_and_stores_plainly() -> None:
    """What makes its values cheap: the generic attribute store, not a Python-level one."""
    open_kind = unfrozen(Decision)
    assert open_kind.__setattr__ is object.__setattr__
    assert open_kind.__delattr__ is object.__delattr__
    assert open_kind.__slots__ == () and issubclass(open_kind, Decision)
    # what equality compares is the frozen class's, not derived again from its fields
    assert unfrozen(payerr.RetryPolicy)._compared == payerr.RetryPolicy._compared
