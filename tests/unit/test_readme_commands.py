"""The README's command-line table lists every ``kong-slo`` command, and troubleshooting starts from doctor."""

from __future__ import annotations

import importlib
from pathlib import Path

from kong_slo.cli import COMMANDS


def test_every_command_is_in_the_readme_command_table(root: Path):
    readme = (root / "README.md").read_text(encoding="utf-8")
    table = readme.split("## The command line", 1)[1].split("\n## ", 1)[0]
    for module_name in COMMANDS:
        assert f"| `kong-slo {importlib.import_module(module_name).NAME}" in table, module_name


def test_troubleshooting_starts_from_doctor(root: Path):
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    assert section.strip().startswith("Start with `kong-slo doctor")
