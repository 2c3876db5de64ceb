"""What every ``payerr`` command shares: exit codes, the usage error, the docs link.

Kept apart from ``cli`` so each command's module can use it without importing the parser.
"""

from __future__ import annotations

import os

from .._catalog.model import CodeInfo, ProviderSpec
from .._catalog.registry import catalog

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2
MAX_CODE = 64
"""No provider code is longer; a longer one is a paste gone wrong."""
LANGS = ("zh", "en", "both")
FORMATS = ("text", "json", "markdown")
DOCS_URL = "https://payerr.github.io/payerr/"
"""Where the docs site is published (mkdocs.yml site_url); PAYERR_DOCS_URL overrides it."""


class UsageError(Exception):
    """Bad input: shown as one line, exit 2."""


def docs_url() -> str:
    return os.environ.get("PAYERR_DOCS_URL") or DOCS_URL


def specs(provider: str | None) -> list[ProviderSpec]:
    """The named provider's spec, or every spec when none is named."""
    return [catalog().spec(provider)] if provider else list(catalog())


def link(info: CodeInfo) -> str | None:
    """The code's page on the docs site; none for a success code."""
    from .codedocs import link as page

    return None if info.ok else page(info, docs_url())
