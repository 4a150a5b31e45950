"""Fixtures shared by the provider tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.dynatrace import FakeDynatrace
from tests.providers.dynatrace_helpers import PLATFORM_TOKEN


@pytest.fixture
def platform_fake() -> Iterator[FakeDynatrace]:
    """The Dynatrace emulator accepting ``PLATFORM_TOKEN`` as the platform token."""
    with FakeDynatrace() as server:
        server.platform.platform_token = PLATFORM_TOKEN
        yield server
