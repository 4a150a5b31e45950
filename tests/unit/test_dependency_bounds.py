"""The dependency ranges in pyproject.toml allow no version the code cannot run on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

NEEDED = {
    "pulumi-aws": ((7, 6), "Instance(primary_network_interface=...) for the collector host's kept interface"),
    "pulumi-docker": ((5, 2), "ContainerUploadArgs(owner=...) for the local stack's token file"),
    "pulumi-command": ((1, 1), "ConnectionArgs(host_key=...) to pin the Kong host's key"),
}


def lower_bounds() -> dict[str, tuple[int, ...]]:
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    bounds = {}
    for requirement in dependencies:
        match = re.match(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", requirement)
        assert match, f"{requirement!r} has no lower bound"
        bounds[match[1].lower()] = tuple(int(part) for part in match[2].split("."))
    return bounds


@pytest.mark.parametrize("package", sorted(NEEDED))
def test_lower_bound_covers_what_the_code_uses(package: str) -> None:
    needed, why = NEEDED[package]
    assert lower_bounds()[package] >= needed, f"{package} needs {'.'.join(map(str, needed))}: {why}"
