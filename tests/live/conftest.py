"""Live tests run only under ``make test-live`` (``-m live``) and only when their environment is set;
otherwise they are skipped with a reason naming what is missing."""

from __future__ import annotations

import os
import uuid

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/live/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.live)


def require_env(*names: str) -> dict[str, str]:
    """The named environment variables, or a skip naming those that are unset."""
    missing = [name for name in names if not os.environ.get(name, "").strip()]
    if missing:
        pytest.skip(f"set {', '.join(missing)} to run this live test")
    return {name: os.environ[name].strip() for name in names}


@pytest.fixture
def run_id() -> str:
    """A short unique id for names of throwaway objects, so parallel or aborted runs never collide."""
    return uuid.uuid4().hex[:10]
