"""`kong-slo validate`: exit codes and one line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kong_slo.cli import main
from tests.conftest import EXAMPLES
from tests.unit.stack_files import CIPHERTEXT, sealed_copy, write_aws_stack


def test_validate_accepts_the_dev_stack_once_its_secret_is_set(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = sealed_copy(EXAMPLES / "Pulumi.dev.yaml", tmp_path)
    assert main(["validate", "--config-file", str(path)]) == 0
    assert f"{path}: ok: target aws, 2 API(s), 4 objective(s), classic SLOs" in capsys.readouterr().out


def test_validate_names_the_platform_flavour_of_an_apps_url(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config-file", str(sealed_copy(EXAMPLES / "Pulumi.platform.yaml", tmp_path))]) == 0
    assert "ok: target aws, 2 API(s), 4 objective(s), platform SLOs" in capsys.readouterr().out


@pytest.mark.parametrize("example", sorted(path.name for path in EXAMPLES.glob("Pulumi.*.yaml")))
def test_an_examples_placeholder_secret_is_refused_with_the_command_that_sets_it(
        example: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config-file", str(EXAMPLES / example)]) == 2
    lines = capsys.readouterr().err.splitlines()[1:]
    assert lines and all("is the example's placeholder, not an encrypted secret" in line for line in lines)
    stack = example.split(".")[1]
    assert f"`make pulumi STACK={stack} ARGS=\"config set --secret --path kong-slo:dynatrace.apiToken …\"`" in \
        "\n".join(lines)


@pytest.mark.parametrize(("secure", "what"), [
    ("12345", "holds a int where Pulumi writes ciphertext"),
    ("'12345'", "is not a ciphertext Pulumi wrote"),
    ("dt0c01.ABC.DEF", "is not a ciphertext Pulumi wrote"),
    ("'v1:'", "is not a ciphertext Pulumi wrote"),
    ("null", "holds a null where Pulumi writes ciphertext"),
    ("v1:PLACEHOLDER", "is the example's placeholder"),
])
def test_a_secure_value_that_is_no_ciphertext_is_refused_by_key(tmp_path: Path, secure: str, what: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write_aws_stack(tmp_path, "ci")
    path.write_text(path.read_text().replace(CIPHERTEXT, secure))
    assert main(["validate", "--config-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"kong-slo:dynatrace.apiToken: {what}" in err
    assert "config set --secret --path kong-slo:dynatrace.apiToken" in err


def test_a_stack_file_without_the_config_wrapper_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.ci.yaml"
    path.write_text("kong-slo:target: local\nkong-slo:apis:\n  - name: HealthService\n")
    assert main(["validate", "--config-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "kong-slo:apis, kong-slo:target must sit under a top-level 'config:' mapping" in err
    assert "is required" not in err


def test_names_that_differ_only_in_case_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_aws_stack(tmp_path, "ci", apis=[{"name": "Orders"}, {"name": "orders"}])
    assert main(["validate", "--config-file", str(path)]) == 2
    assert ("kong-slo:apis[1].name: 'orders' is already used by kong-slo:apis[0] as 'Orders': kong-slo compares "
            "API names without regard to case") in capsys.readouterr().err


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
