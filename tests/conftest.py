from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest

from payerr import _catalog


@pytest.fixture
def fresh_catalog():
    """Tests that register hosts or override codes get the shipped catalog back after."""
    yield _catalog.catalog()
    _catalog._catalog = None
