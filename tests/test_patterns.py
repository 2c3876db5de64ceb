"""Adapter globs match exactly as ``fnmatchcase`` does, whichever way they are matched:
piece by piece (a glob or two of ``*`` only) or compiled (longer sets, ``?`` and ``[...]``)."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payerr._catalog.patterns import PIECEWISE, Globs

ALPHABET = "ab_.*/"
GLOB = st.text(alphabet=ALPHABET, max_size=8)
TEXT = st.text(alphabet=ALPHABET.replace("*", ""), max_size=10)


@given(patterns=st.lists(GLOB, max_size=PIECEWISE + 2), text=TEXT)
def test_any_star_globs_match_as_fnmatchcase(patterns: list[str], text: str) -> None:
    assert Globs(patterns).match(text) == any(fnmatchcase(text, p) for p in patterns)


@given(
    patterns=st.lists(st.text(alphabet="ab?[]!*", max_size=6), min_size=1, max_size=3),
    text=st.text(alphabet="ab[]!", max_size=6),
)
def test_globs_with_other_wildcards_match_as_fnmatchcase(patterns: list[str], text: str) -> None:
    assert Globs(patterns).match(text) == any(fnmatchcase(text, p) for p in patterns)


@pytest.mark.parametrize(
    ("patterns", "text", "expected"),
    [
        (["*_response"], "alipay_trade_query_response", True),
        (["*_response"], "error_response_x", False),
        (["*/v3/*"], "/v3/pay/transactions/id/42", True),  # a star matches nothing too
        (["/v3/*"], "/v3/pay/transactions/id/42", True),
        (["*query*", "*get*", "*list*"], "alipay.trade.query", True),  # compiled: 3 globs
        ([], "anything", False),
    ],
)
def test_shipped_shapes(patterns: list[str], text: str, expected: bool) -> None:
    assert Globs(patterns).match(text) is expected
