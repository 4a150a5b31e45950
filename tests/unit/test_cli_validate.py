"""`kong-slo validate`: exit codes and one line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kong_slo.cli import main
from tests.unit.stack_files import write_aws_stack


def test_validate_accepts_the_dev_stack(root: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    assert main(["validate", "--config-file", "examples/stacks/Pulumi.dev.yaml"]) == 0
    assert ("examples/stacks/Pulumi.dev.yaml: ok: target aws, 2 API(s), 4 objective(s), classic SLOs"
            in capsys.readouterr().out)


def test_validate_names_the_platform_flavour_of_an_apps_url(root: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    assert main(["validate", "--config-file", "examples/stacks/Pulumi.platform.yaml"]) == 0
    assert "ok: target aws, 2 API(s), 4 objective(s), platform SLOs" in capsys.readouterr().out


def test_validate_reports_each_problem_on_its_own_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = write_aws_stack(tmp_path, "bad", collector={"allowedCidrs": ["0.0.0.0/0"]},
                            kong={"adminUrl": "http://kong.internal:8001", "verison": "3.9"},
                            apis=[{"name": "HealthService", "availability": {"target": 120}},
                                  {"name": "HealthService"}])
    assert main(["validate", "--config-file", str(stack)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"the stack configuration in {stack} has 4 problems:"
    expected = [
        "kong-slo:collector.allowedCidrs[0]: '0.0.0.0/0' opens the collector to the whole internet",
        "kong-slo:kong.verison: unknown key; did you mean 'version'?",
        "kong-slo:apis[0].availability.target: 120 is not a percentage",
        "kong-slo:apis[1].name: 'HealthService' is already used by kong-slo:apis[0]",
    ]
    for start in expected:
        assert sum(line.strip().startswith(start) for line in lines) == 1, (start, lines)


def test_missing_stack_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config-file", str(tmp_path / "Pulumi.none.yaml")]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_cli(root: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kong_slo", "validate", "--stack", "local"], cwd=root,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "ok: target local" in result.stdout
