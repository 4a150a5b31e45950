"""Fixtures for tests that run the Pulumi program under mocks (see ``tests/program/mocks.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config

from tests.conftest import STACKS
from tests.program.mocks import read_config

STACK_FILES = STACKS


def stack_files(target: str) -> list[Path]:
    """The stack files (``stacks/`` and ``examples/stacks/``) whose ``kong-slo:target`` is ``target``
    (default ``local``)."""
    return [path for path in STACK_FILES if read_config(path).get("kong-slo:target", "local") == target]


def is_tier(stack_file: Path) -> bool:
    """Whether the stack runs a collector tier (``collector.maxReplicas`` or ``replicas`` above 1)."""
    collector = read_config(stack_file).get("kong-slo:collector") or {}
    return max(int(collector.get("replicas", 1)), int(collector.get("maxReplicas", 1))) > 1


@pytest.fixture(autouse=True)
def _isolated_pulumi_runtime() -> Iterator[None]:
    """Mocks, config and the root stack are process-global in the Pulumi SDK: leave none behind."""
    yield
    set_all_config({}, [])
    runtime_settings.ROOT.set(None)
