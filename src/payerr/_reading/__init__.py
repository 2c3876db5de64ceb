"""One response in, one ``Outcome`` out: success, or a typed error that says what to do next.

- ``classify``: ``inspect`` and ``raise_for_response``: provider, envelope, code, category, hint.
- ``parsed``: a body read once (``Parsed``): parsed in its format and read with its envelope.
- ``build``: the typed error for this very request: hint made specific, wait, secrets masked.
- ``deferred``: an error's details (message, body, request id) built when first read.
- ``outcome``: ``Outcome``, success with its data or an error built on first access; ``Failure``,
  an answer ruled (category, hint, wait) whose error is made on demand.
- ``request``: ``RequestFacts``, what the request said that matters when the answer is an error.
- ``decode``: bytes to JSON without ever raising: UTF-8, the declared charset, then GB18030.
- ``formats``: XML and form answers parsed; what kind of answer a body's first bytes are.
- ``redact``: secrets masked out of everything payerr prints, logs or pickles.
- ``retry_after``: how long the provider asked us to wait: ``Retry-After`` and quota windows.
- ``raw``: ``RawResponse``, one view of an answer whatever client produced it.
- ``fakes``: provider answers built from adapter data, for ``payerr.testing`` and users' tests.
"""
