"""What people and the build run, on top of everything else: the command line and generators.

- ``cli``: the ``payerr`` command (``explain``, ``codes``, ``schema``, ``demo``, ``sandbox``).
- ``pasted``: an answer as a person pastes it (body, ``curl -i``, log line) as a ``RawResponse``.
- ``demo``: ``payerr demo``: real clients wrapped by payerr against the embedded sandbox.
- ``codedocs``: the code reference pages of the docs site, made from the catalog.
- ``codegen``: the provider error classes written into ``_errors.py`` and ``__init__.py``
  for type checkers.
"""
