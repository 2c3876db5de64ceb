"""Microseconds per KiB of body: normal and hostile error answers, and compression bombs.

    python bench/hostile.py

Each row reads one answer into its typed error (``payerr.inspect(...).error``, then
``str`` of it) at 64 KiB, 1 MiB and 4 MiB, the best of five runs, and prints µs per
KiB: a flat row is linear work. The last rows decode bodies (gzip, br, zstd) that
inflate to 128 MiB with ``body_cap`` = 1 MiB, and show the traced peak.
"""

from __future__ import annotations

import gzip
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

import payerr
from payerr import testing
from payerr._clients.inflate import decode_bounded

KiB = 1024
MiB = 1024 * KiB
SIZES = (64 * KiB, MiB, 4 * MiB)


def _repeat(piece: str, size: int, tail: str = "") -> str:
    return piece * (size // len(piece)) + tail


KINDS: dict[str, Callable[[int], str]] = {
    "normal message": lambda n: _repeat("The system is busy, please retry later. ", n),
    "secret-named word": lambda n: _repeat("access_token", n),
    "word then value": lambda n: _repeat("tokensign", n, "=x"),
    "'hint: [' repeated": lambda n: _repeat("hint: [", n),
    "'rid: ' repeated": lambda n: _repeat("rid: ", n),
    "secret pairs (= &)": lambda n: _repeat("access_token=a&", n),
    "plain pairs (= &)": lambda n: _repeat("a=b&", n),
    "quoted secrets": lambda n: _repeat('sign="', n),
    "nesting in text": lambda n: _repeat('{"a":[', n),
}
ANSWERS = {
    "wechat": ("-1", "/cgi-bin/message/custom/send"),
    "alipay": ("40004", "alipay.trade.pay"),
}


def _best(run: Callable[[], object], times: int = 5) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def classify_rows() -> list[tuple[str, list[float]]]:
    rows = []
    for provider, (code, api) in ANSWERS.items():
        path = api if api.startswith("/") else "/gateway.do"
        for kind, make in KINDS.items():
            per_kib = []
            for size in SIZES:
                answer = testing.provider_answer(provider, code, api=api, message=make(size))
                raw = payerr.RawResponse(*answer, "https://provider.invalid" + path)

                def run(raw: payerr.RawResponse = raw, name: str = provider) -> object:
                    return str(payerr.inspect(raw, provider=name).error)

                per_kib.append(_best(run) * 1e6 / (size / KiB))
            rows.append((f"{provider}: {kind}", per_kib))
    return rows


def bomb_rows() -> list[tuple[str, float, float]]:
    """(encoding, ms to give up, traced peak MiB) for 128 MiB of zeros."""
    import brotli  # type: ignore[import-not-found]
    from backports import zstd  # type: ignore[import-not-found]

    zeros = bytes(128 * MiB)
    bodies = {
        "gzip": gzip.compress(zeros, 9),
        "br": brotli.compress(zeros, quality=5),
        "zstd": zstd.compress(zeros),
        "gzip, br": brotli.compress(gzip.compress(zeros, 9), quality=5),
    }
    del zeros
    rows = []
    for encoding, body in bodies.items():
        tracemalloc.start()
        seconds = _best(lambda e=encoding, b=body: decode_bounded(e, b, MiB), times=1)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((f"{encoding} ({len(body):,} B)", seconds * 1000, peak / MiB))
    return rows


def main() -> None:
    print(f"{'answer':40} " + " ".join(f"{s // KiB:>7} KiB" for s in SIZES) + "   (µs/KiB)")
    for name, per_kib in classify_rows():
        print(f"{name:40} " + " ".join(f"{v:11.2f}" for v in per_kib))
    print()
    print(f"{'bomb, decoded to 128 MiB, cap 1 MiB':40} {'ms':>8} {'peak MiB':>9}")
    for name, ms, peak in bomb_rows():
        print(f"{name:40} {ms:8.1f} {peak:9.2f}")


if __name__ == "__main__":
    main()
