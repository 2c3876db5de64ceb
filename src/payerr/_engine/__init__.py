"""One logical request across its attempts, the same for every client.

- ``engine``: ``Engine`` and ``EngineViews``: one client wrapper's policy, budget, credentials,
  routes and cooldowns.
- ``call``: ``Call``: one request's sync and async loops, obeying ``_retry.decide``, the final
  error.
- ``answers``: what a client shows ``Call.settle`` of an answer (a Protocol, for type checkers).
- ``admission``: before each send: the token fetched or refreshed, cooldowns sat out or failed.
- ``failures``: the typed errors of attempts with no answer, and the retry and stop log lines.
- ``credentials``: the ``Credentials`` protocol, the token kinds, the single-flight refresh gate.
- ``sleep``: the loops' sleeps, which ``payerr.testing`` switches to instant and recorded.
- ``telemetry``: the one hook the loop reports to, set by ``payerr.otel`` and None otherwise.
- ``wsse``: CMI's WSSE authentication headers.
"""
