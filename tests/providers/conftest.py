"""Fixtures shared by the provider tests. Every provider test starts with empty stack listings: a listing left by
an earlier test (whose emulator may have had the same port) must not answer for this one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kong_slo.dynatrace import listing
from tests.fakes.dynatrace import FakeDynatrace
from tests.providers.dynatrace_helpers import PLATFORM_TOKEN


@pytest.fixture(autouse=True)
def fresh_listings() -> Iterator[None]:
    listing.SLOS.clear()
    listing.SETTINGS.clear()
    yield
    listing.SLOS.clear()
    listing.SETTINGS.clear()


@pytest.fixture
def platform_fake() -> Iterator[FakeDynatrace]:
    """The Dynatrace emulator accepting ``PLATFORM_TOKEN`` as the platform token."""
    with FakeDynatrace() as server:
        server.platform.platform_token = PLATFORM_TOKEN
        yield server
