"""Every provider test starts with empty stack listings: a listing left by an earlier test (whose emulator
may have had the same port) must not answer for this one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kong_slo.dynatrace import listing


@pytest.fixture(autouse=True)
def fresh_listings() -> Iterator[None]:
    listing.SLOS.clear()
    listing.SETTINGS.clear()
    yield
    listing.SLOS.clear()
    listing.SETTINGS.clear()
