"""The sandbox's memory: what was executed, which tokens are valid, which faults are due."""

from __future__ import annotations

import random
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TRANSIENT = {"alipay": "20000", "wechat": "-1", "huawei": "html503", "cmi": "9000003"}
"""What a random fault looks like on each provider."""

STEPS = {
    "ok": "the route's normal answer",
    "CODE": "an error answer carrying one of the provider's codes, in its own envelope "
    "(`20000`, `ACQ.SYSTEM_ERROR`, `45009`, `SYSTEM_ERROR`, `9000004`, an HTTP status "
    "such as `503`)",
    "CODE!": "carry the request out first, then answer with the code (the provider did it "
    "but failed to say so)",
    "transient": "the provider's usual transient failure (Alipay 20000, WeChat -1, "
    "Huawei html503, CMI 9000003)",
    "reset": "drop the connection without an answer (`reset!`: after carrying it out)",
    "html502": "a 502 nginx HTML page",
    "html503": "a 503 nginx HTML page",
    "retry_after=N": "429 with `Retry-After: N`",
    "slow=S": "answer normally after S seconds (at most 10)",
    "hang": "answer after 10 seconds (for client timeouts)",
    "truncated": "the normal answer cut in half",
    "gbk": "the normal answer re-encoded as GBK but labelled UTF-8",
    "empty": "the normal status with an empty body",
    "big=N": "the normal answer padded to N bytes",
    "deep": "a 200 of 100,000 nested JSON arrays",
    "unsigned:CODE": "Alipay only: the code in an `error_response` with an empty `sign`, as "
    "the gateway answers before signing",
}
"""Every step a script may hold, with what the sandbox answers (docs/testing.md lists it)."""

_PLAIN_STEPS = ("ok", "transient", "reset", "html502", "html503", "hang")
_BODY_STEPS = ("truncated", "gbk", "empty", "deep")
_NUMBER_STEPS = {"retry_after": int, "slow": float, "big": int}


def step_problem(step: str, codes: Callable[[str], bool]) -> str | None:
    """Why a script step cannot be used, or None when it can.

    ``codes(step)`` says whether the route's provider has that code.
    """
    base = step.removesuffix("!")
    base = base.removeprefix("unsigned:")
    if base in _PLAIN_STEPS or base in _BODY_STEPS or codes(base):
        return None
    name, sep, value = base.partition("=")
    if sep and name in _NUMBER_STEPS:
        try:
            number = _NUMBER_STEPS[name](value)
        except ValueError:
            return f"{step!r}: {name}= wants a number"
        return None if number >= 0 else f"{step!r}: {name}= wants a number of at least 0"
    if base.isdigit() and len(base) == 3 and 400 <= int(base) <= 599:
        return None
    return f"unknown step {step!r}"


def check_script(
    route: str,
    steps: Iterable[str],
    providers: Mapping[str, str],
    codes: Callable[[str, str], bool],
) -> list[str]:
    """The steps, cleaned, or ValueError naming what is wrong and listing what is valid.

    A route or step the sandbox does not know would otherwise be accepted and never
    fire, and the test written with it would pass for the wrong reason.
    """
    if route not in providers:
        raise ValueError(
            f"unknown sandbox route {route!r}; the routes are: {', '.join(sorted(providers))}"
        )
    provider = providers[route]
    cleaned = [str(s).strip() for s in steps if str(s).strip()]
    for step in cleaned:
        problem = step_problem(step, lambda code: codes(provider, code))
        if problem is not None:
            raise ValueError(
                f"{problem} for {route}: use a {provider} code, or one of "
                + ", ".join(name for name in STEPS if name not in ("CODE", "CODE!"))
                + " (any step may end in ! to carry the request out first)"
            )
    return cleaned


class Ledger:
    """How many requests carried each idempotency key, and how many were executed.

    ``executions > 1`` for a key would mean a payment, refund or order ran twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)

    def saw(self, kind: str, key: str) -> None:
        with self._lock:
            row = self._rows[kind].setdefault(key, {"requests": 0, "executions": 0})
            row["requests"] += 1

    def executed(self, kind: str, key: str) -> None:
        with self._lock:
            row = self._rows[kind].setdefault(key, {"requests": 0, "executions": 0})
            row["executions"] += 1

    def executions(self, kind: str, key: str) -> int:
        with self._lock:
            return self._rows.get(kind, {}).get(key, {}).get("executions", 0)

    def requests(self, kind: str, key: str) -> int:
        with self._lock:
            return self._rows.get(kind, {}).get(key, {}).get("requests", 0)

    def snapshot(self) -> dict[str, dict[str, dict[str, int]]]:
        with self._lock:
            return {
                kind: {k: dict(v) for k, v in rows.items()} for kind, rows in self._rows.items()
            }

    def duplicates(self) -> list[tuple[str, str, int]]:
        """Every key executed more than once: (kind, key, executions). Empty is the goal."""
        return [
            (kind, key, row["executions"])
            for kind, rows in self.snapshot().items()
            for key, row in rows.items()
            if row["executions"] > 1
        ]

    def total_executions(self) -> int:
        return sum(r["executions"] for rows in self.snapshot().values() for r in rows.values())

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


class Tokens:
    """Issued tokens per provider; WeChat's re-fetch voids the previous one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._valid: dict[str, set[str]] = defaultdict(set)
        self.issued: dict[str, int] = defaultdict(int)

    def issue(self, provider: str, *, rotate: bool) -> str:
        token = f"{provider}-{secrets.token_hex(8)}"
        with self._lock:
            if rotate:
                self._valid[provider].clear()
            self._valid[provider].add(token)
            self.issued[provider] += 1
        return token

    def current(self, provider: str) -> str | None:
        with self._lock:
            valid = self._valid[provider]
            return next(iter(valid)) if valid else None

    def valid(self, provider: str, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self._valid[provider]

    def revoke(self, provider: str) -> None:
        """Void every token of a provider (expiry, or another client re-fetching)."""
        with self._lock:
            self._valid[provider].clear()


@dataclass
class RandomFaults:
    rate: float
    steps: tuple[str, ...]
    rng: random.Random
    routes: frozenset[str] | None


class Faults:
    """Per-route scripts of steps (``20000``, ``reset``, ``html502``...) and random faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[str]] = {}
        self._random: RandomFaults | None = None
        self.latency = 0.0
        self.injected = 0
        self.transient = dict(TRANSIENT)
        """Each provider's "transient" step (adapters with ``[sandbox]`` add theirs)."""

    def script(self, route: str, steps: Iterable[str]) -> None:
        with self._lock:
            self._scripts[route] = deque(str(s).strip() for s in steps if str(s).strip())

    def random(
        self,
        rate: float,
        *,
        seed: int | None = None,
        steps: Iterable[str] = ("transient",),
        routes: Iterable[str] | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._random = RandomFaults(
                rate, tuple(steps), random.Random(seed), frozenset(routes) if routes else None
            )

    def next_step(self, provider: str, route: str) -> str:
        """The step for this request: a scripted one, a random fault, or ``ok``."""
        with self._lock:
            queue = self._scripts.get(route)
            if queue:
                step = queue.popleft()
            elif (
                (plan := self._random) is not None
                and (plan.routes is None or route in plan.routes)
                and plan.rng.random() < plan.rate
            ):
                step = plan.rng.choice(plan.steps)
            else:
                return "ok"
            if step == "transient":
                step = self.transient.get(provider, "html503")
            if step != "ok":
                self.injected += 1
            return step

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._random = None
            self.latency = 0.0
            self.injected = 0

    def pending(self) -> dict[str, Any]:
        with self._lock:
            return {route: list(steps) for route, steps in self._scripts.items() if steps}
