"""Shared fixtures. The fast tier runs in parallel (pytest-xdist, one process per core):
this file runs once in each worker process, so whatever it sets up is that worker's own."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

# The shared helpers are the package tests/support: pytest puts this folder (the
# conftest's own, with no __init__.py) on sys.path, so ``from support import ...`` works.

# The suite never reads or writes the user's compiled adapter cache (subprocesses too);
# each worker has a cache of its own, removed when the worker exits.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="payerr-test-cache-")

import pytest

from payerr._catalog import registry as _catalog


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process's cache directory goes when its session ends (each xdist worker's too)."""
    shutil.rmtree(os.environ["XDG_CACHE_HOME"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_wechatpy_token_from_earlier_tests():
    """Installed wechatpy clients on in-memory storage share one token per process and app:
    each test starts without the one an earlier test's sandbox issued."""
    wechatpy = sys.modules.get("payerr.integrations.wechatpy")
    if wechatpy is not None:
        wechatpy._MEMORY.clear()


@pytest.fixture
def fresh_catalog():
    """Tests that register hosts or override codes get the shipped catalog back after."""
    yield _catalog.catalog()
    _catalog._catalog = None


from hypothesis import HealthCheck, settings  # noqa: E402

# The example database (.hypothesis/) is shared by the workers: it writes each example to a
# temporary file and renames it into place, so concurrent workers never see half a file.
# The fast tier runs hypothesis's own default of 100 examples per property; depth comes from
# the long profile (20,000), which CI runs over every property file (.ci/run).
settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile("default")


@pytest.fixture
def sandbox():
    """A sandbox on a free loopback port for the test, stopped after."""
    from payerr.sandbox import Sandbox

    with Sandbox() as running:
        yield running


@pytest.fixture(scope="session")
def signing_sandbox():
    """One sandbox that signs like the providers: its keys take a moment to make."""
    from payerr.sandbox import Sandbox

    with Sandbox(signing=True) as running:
        yield running


@pytest.fixture
def signed_sandbox(signing_sandbox):
    """The signing sandbox with no faults, ledger or hit counts left from earlier tests."""
    from payerr.testing import instant_sleeps

    signing_sandbox.reset()
    signing_sandbox.route_hits.clear()
    with instant_sleeps():
        yield signing_sandbox
