"""Linear time on any body: a megabyte of hostile message text, in every envelope of every
provider, is classified (masked, request id looked for, error built and printed) within
a budget proportional to its size. Data-driven over the adapter files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import payerr
from payerr import testing
from payerr._catalog.envelopes import Envelope
from payerr._catalog.model import ProviderSpec
from payerr._catalog.registry import catalog

MiB = 1024 * 1024
EXAMPLE = Path(__file__).parent.parent / "examples" / "adapters" / "stripe.toml"
BUDGET = 0.1
"""Seconds per MiB: what classifying a megabyte may take on a busy two-core machine."""


def _repeat(piece: str, size: int, tail: str = "") -> str:
    return piece * (size // len(piece)) + tail


HOSTILE: dict[str, Callable[[int], str]] = {
    # one long word that contains secret names, with and without a delimiter after it
    "secret-word": lambda n: _repeat("access_token", n),
    "secret-word-then-value": lambda n: _repeat("tokensign", n, "=x"),
    "dashed-word-then-value": lambda n: _repeat("x-", n, "nonce=1"),
    # repeated prefixes of the patterns that look for request ids and secrets
    "hint-prefix": lambda n: _repeat("hint: [", n),
    "rid-prefix": lambda n: _repeat("rid: ", n),
    "quoted-prefix": lambda n: _repeat('sign="', n),
    "json-prefix": lambda n: _repeat('"sign":"', n),
    # many = and &, secret and not
    "secret-pairs": lambda n: _repeat("access_token=a&", n),
    "plain-pairs": lambda n: _repeat("a=b&", n),
    "header-lines": lambda n: _repeat("Authorization: x\n", n),
    # deep nesting written into the message
    "nesting": lambda n: _repeat('{"a":[', n),
    "words": lambda n: _repeat("secret ", n),
}


def _api(envelope: Envelope) -> str | None:
    """An API an answer in this envelope is for: a path it covers, or a method name."""
    if envelope.node:
        return "payerr.fake.call"
    if envelope.paths:
        return "/" + envelope.paths[0].lstrip("*/").replace("*", "x")
    return "/x" if envelope.format != "json" else None


def _code(spec: ProviderSpec) -> str:
    """An error code the adapter knows (the first of its table)."""
    return next(iter(spec.codes))


def answers(
    provider: str, kind: str, size: int
) -> Iterator[tuple[str, str | None, tuple[int, dict[str, str], bytes]]]:
    """The hostile message of ``kind`` in every envelope of ``provider``."""
    spec = catalog().spec(provider)
    message = HOSTILE[kind](size)
    for envelope in spec.envelopes:
        api = _api(envelope)
        sub = next(iter(spec.sub_codes), None) if envelope.sub_code else None
        answer = testing.provider_answer(
            provider, _code(spec), sub_code=sub, api=api, message=message
        )
        yield envelope.name, api, answer


def _classify(provider: str, api: str | None, answer: tuple[int, dict[str, str], bytes]) -> float:
    """Seconds to read an answer into its error and print it; the best of three when the
    first is over budget (another process may have had the CPU)."""
    path = api if api and api.startswith("/") else "/gateway"
    raw = payerr.RawResponse(*answer, "https://provider.invalid" + path)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        outcome = payerr.inspect(raw, provider=provider)
        if outcome.error is not None:
            str(outcome.error), repr(outcome.error)
        best = min(best, time.perf_counter() - started)
        if best < BUDGET:
            break
    return best


def _check(provider: str, kind: str, size: int) -> None:
    slow = []
    for envelope, api, answer in answers(provider, kind, size):
        seconds = _classify(provider, api, answer)
        if seconds > BUDGET * size / MiB:
            slow.append(f"{provider}/{envelope}/{kind}: {seconds * 1000:.0f} ms")
    assert not slow, "\n".join(slow)


CASES = [
    pytest.param(provider, kind, id=f"{provider}-{kind}")
    for provider in payerr.PROVIDERS
    for kind in HOSTILE
]


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_one_mebibyte_of_hostile_text_is_classified_within_100_ms(provider: str, kind: str) -> None:
    """Each hostile message kind, in every envelope of every provider: < 100 ms each."""
    _check(provider, kind, MiB)


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_four_mebibytes_of_hostile_text_are_classified_within_400_ms(
    provider: str, kind: str
) -> None:
    """Four times the text, four times the budget: the work is linear, not quadratic."""
    _check(provider, kind, 4 * MiB)


def test_hostile_text_is_classified_within_budget() -> None:
    """The fast check: 64 KiB of each kind through WeChat's server envelope (the request-id
    pattern), each within the budget of a megabyte."""
    spec = catalog().spec("wechat")
    envelope = next(e for e in spec.envelopes if e.message_request_id)
    for kind, make in HOSTILE.items():
        answer = testing.provider_answer("wechat", "-1", api="/cgi-bin/x", message=make(MiB // 16))
        seconds = _classify("wechat", "/cgi-bin/x", answer)
        assert seconds < BUDGET, f"{kind} in {envelope.name}: {seconds * 1000:.0f} ms"


def test_message_request_id_is_still_cut_off() -> None:
    """The bounded search still finds WeChat's ``rid:`` suffix at the end of a long message."""
    message = "x" * MiB + " rid: 6612f0a1-2f3c"
    answer = testing.provider_answer("wechat", "-1", api="/cgi-bin/x", message=message)
    raw = payerr.RawResponse(*answer, "https://api.weixin.qq.com/cgi-bin/x")
    error = payerr.inspect(raw).error
    assert error is not None
    assert error.request_id == "6612f0a1-2f3c"
    assert error.message.startswith("x" * 100)
    assert "rid:" not in error.message


@pytest.mark.parametrize("pattern", [r"(\w+\s?)+$", r"(?:a|ab)*c", r"(x+x+)+y"])
def test_an_adapter_pattern_that_could_take_forever_is_refused_at_load(
    pattern: str, tmp_path: Path
) -> None:
    """A user's ``message_request_id`` with a repeat inside a repeat (or repeated
    alternatives) fails to load, naming the file and the key."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "status_decides = true", f"status_decides = true\nmessage_request_id = '{pattern}'", 1
    )
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(payerr.AdapterFileError, match="message_request_id"):
        payerr.load_adapter(path, replace_existing=True)


def test_a_safe_adapter_pattern_loads(tmp_path: Path, fresh_catalog: object) -> None:
    """WeChat's own kind of pattern (alternatives, each a plain run) loads and is used."""
    pattern = r"(?:req:\s*([\w.-]+))\s*$"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "status_decides = true", f"status_decides = true\nmessage_request_id = '{pattern}'", 1
    )
    path = tmp_path / "safe.toml"
    path.write_text(text, encoding="utf-8")
    spec = payerr.load_adapter(path, replace_existing=True)
    assert spec.envelope.split_message("card declined req: r-1") == ("card declined", "r-1")
