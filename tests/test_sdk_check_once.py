"""An SDK's signature check answered from memory only when asked exactly what it was asked
last (``integrations._sdk.remembering``): it never answers for other bytes or another key."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from payerr.integrations._sdk import remembering


class Key:
    """A public key as the SDKs hold one: equal to any other, yet checking with its own."""

    def __init__(self, trusted: bool) -> None:
        self.trusted = trusted

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key)

    __hash__ = object.__hash__


KEYS = (Key(True), Key(False), Key(True))
TEXTS = st.sampled_from(["", "signed", "signed ", "签名", "forged"])
BYTES = st.sampled_from([b"", b"signed", b"forged"]).map(bytes)  # equal, not always the same
CALL = st.tuples(TEXTS, BYTES, st.sampled_from(KEYS))


def check(text: str, body: bytes, key: Key) -> tuple[str, bytes, bool]:
    """A pure check: what it answers depends on the key it is given, not on ``==``."""
    return (text, body, key.trusted and text == "signed")


@given(st.lists(CALL, min_size=1, max_size=30))
def test_every_answer_is_the_checks_own(calls: list[tuple[str, bytes, Key]]) -> None:
    remembered = remembering(check)
    for call in calls:
        assert remembered(*call) == check(*call)


@given(CALL)
def test_the_same_question_twice_is_checked_once(call: tuple[str, bytes, Key]) -> None:
    asked: list[Any] = []

    def counted(*args: Any) -> Any:
        asked.append(args)
        return check(*args)

    remembered = remembering(counted)
    text, body, key = call
    first = remembered(*call)
    again = remembered(text[:], bytes(bytearray(body)), key)  # equal text and bytes, new objects
    assert first == again
    assert len(asked) == 1


def test_a_key_built_anew_is_checked_again() -> None:
    asked: list[Any] = []

    def counted(*args: Any) -> Any:
        asked.append(args)
        return check(*args)

    remembered = remembering(counted)
    remembered("signed", b"x", KEYS[0])
    assert remembered("signed", b"x", KEYS[1]) == ("signed", b"x", False)
    assert len(asked) == 2
