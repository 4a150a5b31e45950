"""Golden files: every rendered artifact of every stack in stacks/, compared byte for byte.

After an intended change, `make golden` (KONG_SLO_UPDATE_GOLDEN=1) rewrites them; review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kong_slo.commands.artifacts import ARTIFACTS
from kong_slo.settings import load_stack_file
from tests.conftest import STACKS

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("KONG_SLO_UPDATE_GOLDEN") == "1"


def _stack(path: Path) -> str:
    return path.name.split(".")[1]


def test_there_are_stacks_to_check() -> None:
    assert {_stack(path) for path in STACKS} >= {"local", "dev"}


@pytest.mark.parametrize("artifact", sorted(ARTIFACTS))
@pytest.mark.parametrize("stack_file", STACKS, ids=_stack)
def test_rendered_artifact_matches_golden_file(stack_file: Path, artifact: str) -> None:
    rendered = ARTIFACTS[artifact](load_stack_file(stack_file))
    golden = GOLDEN / _stack(stack_file) / artifact
    if UPDATE:
        if rendered is None:
            golden.unlink(missing_ok=True)
        else:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(rendered, encoding="utf-8")
        return
    if rendered is None:
        assert not golden.exists(), f"{golden} is stale: stack {_stack(stack_file)} no longer renders {artifact}"
        return
    assert golden.exists(), f"{golden} is missing; run `make golden` and review it"
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"{artifact} of stack {_stack(stack_file)} drifted from {golden}; if intended, run `make golden`")


def test_no_golden_file_without_a_stack_or_artifact() -> None:
    stacks = {_stack(path) for path in STACKS}
    for path in GOLDEN.rglob("*"):
        if path.is_file():
            relative = path.relative_to(GOLDEN)
            assert relative.parts[0] in stacks and relative.name in ARTIFACTS and len(relative.parts) == 2, (
                f"{path} belongs to no stack file or artifact; delete it")
