"""What every worker of one provider app shares: cooldowns, the retry budget, the current token.

- ``local``: the ``Coordinator`` protocol and ``LocalCoordinator``, the in-process default.
- ``redis``: ``RedisCoordinator``, the same state shared across processes and machines.
- ``aio``: the two async primitives (sleep, wait for another thread) for asyncio and trio alike.
"""
