"""One response in, one ``Outcome`` out: success, or a typed error that says what to do next.

- ``classify``: ``inspect`` and ``raise_for_response``: provider, envelope, code, category, hint.
- ``decode``: bytes to JSON without ever raising: UTF-8, the declared charset, then GB18030.
- ``redact``: secrets masked out of everything payerr prints, logs or pickles.
- ``retry_after``: how long the provider asked us to wait: ``Retry-After`` and quota windows.
- ``raw``: ``RawResponse``, one view of an answer whatever client produced it.
- ``fakes``: provider answers built from adapter data, for ``payerr.testing`` and users' tests.
"""
