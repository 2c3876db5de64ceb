"""What people and the build run, on top of everything else: the command line and generators.

- ``cli``: the ``payerr`` command's parser and entry point (``explain``, ``codes``,
  ``schema``, ``demo``, ``sandbox``); each command runs in a module of its own:
- ``cli_common``: what the commands share: exit codes, ``UsageError``, the docs link.
- ``cli_explain``: ``payerr explain``: a code, a code on a URL, or a pasted answer.
- ``cli_codes``: ``payerr codes`` (table, JSON, Markdown, ``--stats``) and ``payerr schema``.
- ``cli_sandbox``: ``payerr sandbox`` and ``payerr demo``, which run the fake providers.
- ``pasted``: an answer as a person pastes it (body, ``curl -i``, log line) as a ``RawResponse``.
- ``demo``: ``payerr demo``: real clients wrapped by payerr against the embedded sandbox.
- ``codedocs``: the code reference pages of the docs site, made from the catalog.
- ``codegen``: the provider error classes written into ``_errors.py`` and ``__init__.py``
  for type checkers.
"""
