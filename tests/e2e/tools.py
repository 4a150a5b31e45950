"""The real engines `make tools` builds into .tools/bin/ (or ``KONG_SLO_TOOLS_BIN``), for the end-to-end tests."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tools_bin() -> Path:
    return Path(os.environ.get("KONG_SLO_TOOLS_BIN") or ROOT / ".tools" / "bin").resolve()  # tools run in other folders


def tool(name: str) -> Path:
    """The path of a built tool; the test fails, naming the fix, when it has not been built."""
    path = tools_bin() / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run `make tools` (`make e2e` runs it first)", pytrace=False)
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
