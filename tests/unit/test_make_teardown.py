"""`make teardown STACK=…`, run for real against a stand-in `pulumi` that records how it was called."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture
def fake_pulumi(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is needed to test the Makefile")
    calls = tmp_path / "calls"
    script = tmp_path / "bin" / "pulumi"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\n')
    script.chmod(0o755)
    return tmp_path


def make_teardown(fake: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{fake / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    # A parent `make test STACK=…` passes its variables down through MAKEFLAGS; this make must not inherit them.
    for name in ("STACK", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    # -o: treat the virtualenv as up to date, so the test never installs anything.
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/bin/.runtime", "teardown", *variables],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def calls(fake: Path) -> list[str]:
    path = fake / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_teardown_destroys_and_removes_the_named_stack(fake_pulumi: Path) -> None:
    result = make_teardown(fake_pulumi, "STACK=pr-12")
    assert result.returncode == 0, result.stderr
    assert calls(fake_pulumi) == ["destroy --stack pr-12 --yes --remove"]


@pytest.mark.parametrize(("variables", "message"), [
    ((), "name the stack to tear down"),
    (("STACK=",), "STACK must name exactly one stack"),
    (("STACK=pr-1 pr-2",), "STACK must name exactly one stack"),
    (("STACK=dev",), "dev is protected"),
    (("STACK=prod",), "prod is protected"),
    (("STACK=pr-1;id",), "is not a stack name"),
    (("STACK=org/kong-slo/pr-1",), "is not a stack name"),
])
def test_teardown_refuses_before_calling_pulumi(fake_pulumi: Path, variables: tuple[str, ...], message: str) -> None:
    result = make_teardown(fake_pulumi, *variables)
    assert result.returncode != 0
    assert message in result.stderr
    assert calls(fake_pulumi) == []
