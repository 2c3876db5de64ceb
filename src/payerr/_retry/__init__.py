"""Whether and when to send again: pure decisions, no sleeping and no I/O of their own.

- ``safety``: the payments-safety rule: may this request be sent twice, and what that makes of
  a code's hint.
- ``policy``: ``RetryPolicy`` and ``Attempt``: attempts, backoff with jitter, ``Retry-After``,
  the deadline.
- ``verdict``: what an entry of the code tables makes of one answer and request: a 429
  overrides the code, and the safety rule refines its hint.
- ``decide``: every reason to send again or stop, decided from one frozen ``RetryState``;
  cooldown holds and scopes.
- ``budget``: the retry budget, a token bucket per provider app kept in the coordinator.
"""
