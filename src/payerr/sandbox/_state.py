"""The sandbox's memory: what was executed, which tokens are valid, which faults are due."""

from __future__ import annotations

import random
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TRANSIENT = {"alipay": "20000", "wechat": "-1", "huawei": "html503", "cmi": "9000003"}
"""What a random fault looks like on each provider."""


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
                step = TRANSIENT[provider]
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
