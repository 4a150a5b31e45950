"""Shared test fixtures: the project root and its stack files (the deployed ones and the examples)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOYED = ROOT / "stacks"
"""What a repository deploys (the workflows preview and deploy these)."""
EXAMPLES = ROOT / "examples" / "stacks"
"""Example stacks with placeholder secrets: read by the tests, never by the workflows."""
STACKS = sorted([*DEPLOYED.glob("Pulumi.*.yaml"), *EXAMPLES.glob("Pulumi.*.yaml")])


def stack_path(stack: str) -> Path:
    """The file of stack ``stack``: the deployed one, else the example."""
    deployed = DEPLOYED / f"Pulumi.{stack}.yaml"
    return deployed if deployed.exists() else EXAMPLES / f"Pulumi.{stack}.yaml"


@pytest.fixture
def root() -> Path:
    return ROOT
