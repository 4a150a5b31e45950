"""Pulumi.yaml, requirements.txt and the CI entry point say what the README promises."""

from __future__ import annotations

from pathlib import Path

import yaml

from kong_slo.settings.model import TARGETS

PULUMI_SIMPLE_TYPES = {"string", "integer", "boolean", "array"}


def test_pulumi_project_runs_the_program_from_the_project_virtualenv(root: Path) -> None:
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    assert project["name"] == "kong-slo"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert project["stackConfigDir"] == "stacks"


def test_typed_config_uses_only_types_pulumi_accepts(root: Path) -> None:
    config = yaml.safe_load((root / "Pulumi.yaml").read_text())["config"]
    for key, declaration in config.items():
        assert ":" not in key, "only the project's own namespace may be declared"
        assert declaration["type"] in PULUMI_SIMPLE_TYPES, key
        assert not declaration.get("secret") or "default" not in declaration, key
    assert config["target"]["default"] == "local" and config["target"]["default"] in TARGETS


def test_the_stack_virtualenv_installs_the_package_itself(root: Path) -> None:
    lines = [line.strip() for line in (root / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["-e ."], "the dynamic providers import kong_slo in their own process"


def test_ci_runs_the_readme_test_command_then_the_end_to_end_suite(root: Path) -> None:
    commands = [line for line in (root / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert [line for line in commands if not line.startswith("command -v chromium")] == ["make test", "make e2e"]
    readme = (root / "README.md").read_text()
    assert "make test" in readme and "make e2e" in readme
