"""Fixtures shared by the provider tests. Every provider test starts with empty stack listings: a listing left by
an earlier test (whose emulator may have had the same port) must not answer for this one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kong_slo.dynatrace import listing
from tests.fakes.dynatrace import FakeDynatrace
from tests.providers.doctor_chain import DT_TOKEN, KONG_TOKEN, Chain, chain
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


@pytest.fixture
def healthy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chain]:
    """A deployed, healthy chain for ``kong-slo doctor``, its tokens exported as doctor reads them."""
    monkeypatch.setenv("DT_API_TOKEN", DT_TOKEN)
    monkeypatch.setenv("KONG_ADMIN_TOKEN", KONG_TOKEN)
    with chain(tmp_path) as stack:
        stack.deploy()
        yield stack
