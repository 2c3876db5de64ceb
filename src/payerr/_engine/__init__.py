"""One logical request across its attempts, the same for every client.

- ``call``: ``Call`` and ``Engine``: the sync and async loops, cooldowns, budget, the final error.
- ``credentials``: the ``Credentials`` protocol, the token kinds, the single-flight refresh gate.
- ``sleep``: the loops' sleeps, which ``payerr.testing`` switches to instant and recorded.
- ``telemetry``: the one hook the loop reports to, set by ``payerr.otel`` and None otherwise.
- ``wsse``: CMI's WSSE authentication headers.
"""
