"""The retry budget: one token bucket per provider app, like botocore's retry quota.

Retries take tokens (timeouts more), credential refreshes none; a plain success
puts a token back, and a request that ends in a definite answer gets back what
its retries cost. When the bucket is empty, errors are raised at once: a dead
provider costs at most the bucket, never a retry storm. The bucket itself lives
in the coordinator, so it can be shared by a process or a whole fleet.
"""

from __future__ import annotations

from .._coordination.local import Coordinator


class RetryBudget:
    """Withdraw, deposit and refund for one transport, against its coordinator."""

    def __init__(self, capacity: int | None, success_refund: int, coordinator: Coordinator) -> None:
        self.capacity = capacity
        """Tokens per app; None: the budget is off."""
        self.refund = success_refund if capacity else 0
        """Tokens a plain success puts back (0: nothing to do after a success)."""
        self.coordinator = coordinator

    def take(self, scope: str, cost: int) -> bool:
        """Whether a retry costing ``cost`` may go ahead (the tokens are then taken)."""
        if self.capacity is None or cost == 0:
            return True
        return self.coordinator.withdraw(scope, cost, self.capacity)

    async def atake(self, scope: str, cost: int) -> bool:
        """``take`` for the async transport (never blocks its event loop)."""
        if self.capacity is None or cost == 0:
            return True
        return await self.coordinator.awithdraw(scope, cost, self.capacity)

    def give(self, scope: str, amount: int) -> None:
        """Put tokens back, up to the capacity."""
        if self.capacity:
            self.coordinator.deposit(scope, amount, self.capacity)

    def left(self, scope: str) -> int | None:
        """Tokens left (None when the budget is off)."""
        if self.capacity is None:
            return None
        return self.coordinator.available(scope, self.capacity)
