"""What every worker of one provider app shares: cooldowns, the retry budget, the current token.

- ``local``: the ``Coordinator`` protocol and ``LocalCoordinator``, the in-process default.
- ``redis``: ``RedisCoordinator``, the same state shared across processes and machines.
- ``redis_steps``: what it says to Redis, without I/O: the Lua scripts, exchanges as generators.
- ``redis_link``: the sync and asyncio clients, the fallback while Redis is away, the drivers.
- ``redis_token``: the token shared through Redis: one fetch at a time, under a lock.
- ``aio``: the two async primitives (sleep, wait for another thread) for asyncio and trio alike.
"""
