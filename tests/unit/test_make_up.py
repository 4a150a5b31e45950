"""`make up` and `make pulumi`: checks before installing, the Pulumi CLI chosen or installed, one backend and the
passphrase rule. The decisions are tested as functions; the Makefile is run for real with stand-in `docker` and
`pulumi` commands that record how they were called (nothing is downloaded or installed)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kong_slo import preflight, pulumi_cli
from kong_slo.preflight import PulumiChoice
from tests.conftest import ROOT


def fake_command(folder: Path, name: str, script: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def make(*args: str, path: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.fail("make is needed to test the Makefile")
    environment = {**os.environ, **(env or {}), "PATH": path}
    for name in ("STACK", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
                 "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_STACK"):
        if name not in (env or {}):
            environment.pop(name, None)
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/bin/.runtime", *args], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=120)


@pytest.fixture
def fakes(tmp_path: Path) -> Path:
    """A bin folder with a `pulumi` that records its arguments and environment, and a working `docker`."""
    bin_folder = tmp_path / "bin"
    record = tmp_path / "pulumi-calls"
    fake_command(bin_folder, "pulumi", f"""{sys.executable} - "$@" <<'EOF' >> {record}
import json, os, sys
keys = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_STACK")
print(json.dumps({{"args": sys.argv[1:], "env": {{key: os.environ.get(key) for key in keys}}}}))
EOF
""")
    fake_command(bin_folder, "docker", "echo 27.3.1\n")
    return tmp_path


def pulumi_calls(fakes: Path) -> list[dict]:
    record = fakes / "pulumi-calls"
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def search_path(fakes: Path) -> str:
    return f"{fakes / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin"


# -- before anything is installed -----------------------------------------------------------------------------

def test_without_a_docker_engine_make_up_stops_before_installing(fakes: Path) -> None:
    fake_command(fakes / "bin", "docker", "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
                                          " Is the docker daemon running?' >&2; exit 1\n")
    venv = fakes / "fresh-venv"
    result = make("up", f"VENV={venv}", f"PYTHON={sys.executable}", path=search_path(fakes))
    assert result.returncode != 0
    assert ("make: the Docker engine is not reachable (Cannot connect to the Docker daemon at "
            "unix:///var/run/docker.sock. Is the docker daemon running?); start Docker") in result.stderr
    assert "(stack local has target local)" in result.stderr
    assert not venv.exists()
    assert pulumi_calls(fakes) == []


def test_a_venv_of_an_unsupported_python_is_named_with_what_to_do(fakes: Path) -> None:
    venv = fakes / "old-venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.10.12\n")
    result = make("up", f"VENV={venv}", f"PYTHON={sys.executable}", path=search_path(fakes))
    assert result.returncode != 0
    assert (f"make: {venv} is Python 3.10; kong-slo needs Python 3.11 to 3.13: remove it (`rm -rf {venv}`) and run "
            "`make up PYTHON=python3.12`") in result.stderr
    assert pulumi_calls(fakes) == []


@pytest.mark.parametrize(("config", "version", "problem"), [
    (None, (3, 10), "python3 is Python 3.10; kong-slo needs Python 3.11 to 3.13: run `make up PYTHON=python3.12`"),
    (None, (3, 14), "python3 is Python 3.14"),
    (None, (3, 12), None),
    ("version = 3.13.1\n", (3, 9), None),
    ("version_info = 3.14.0.final.0\n", (3, 12), "is Python 3.14"),
])
def test_the_python_that_makes_or_made_the_venv(tmp_path: Path, config: str | None, version: tuple[int, int],
                                                problem: str | None) -> None:
    venv = tmp_path / "venv"
    if config is not None:
        venv.mkdir()
        (venv / "pyvenv.cfg").write_text(config)
    found = preflight.venv_problem(venv, version)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(("text", "target"), [
    ("config:\n  kong-slo:target: aws\n", "aws"),
    ("config:\n  kong-slo:target: 'aws'\n", "aws"),
    ('config:\n  kong-slo:target: "external"  # the team\'s collector\n', "external"),
    ("config:\n  kong-slo:target: aws # comment\n", "aws"),
    ("config:\n  kong-slo:apis: []\n", "local"),
    ("config:\n  # kong-slo:target: aws\n  kong-slo:target: local\n", "local"),
])
def test_the_target_is_read_before_yaml_is_installed(text: str, target: str) -> None:
    assert preflight.stack_target(text) == target


def test_an_aws_stack_needs_no_docker(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  kong-slo:target: 'aws'\n")
    docker_asked: list[bool] = []
    assert preflight.problems(tmp_path, "dev", tmp_path / "venv", (3, 12),
                              docker=lambda: docker_asked.append(True) or "no docker") == []
    assert docker_asked == []
    assert preflight.problems(tmp_path, "nope", tmp_path / "venv", (3, 12)) == [
        f"{tmp_path / 'stacks' / 'Pulumi.nope.yaml'}: cannot be read (No such file or directory); is STACK=nope right?"]


@pytest.mark.parametrize(("which", "returncode", "stderr", "expected"), [
    (None, 0, "", "Docker is not installed"),
    ("/usr/bin/docker", 1, "permission denied while trying to connect to the Docker daemon socket",
     "add it to the docker group"),
    ("/usr/bin/docker", 0, "", None),
])
def test_docker_problems_say_what_to_do(which: str | None, returncode: int, stderr: str,
                                        expected: str | None) -> None:
    def run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["docker"], returncode, "", stderr)

    found = preflight.docker_problem(run=run, which=lambda name: which)
    assert (found is None) if expected is None else (found is not None and expected in found)


# -- which Pulumi CLI -----------------------------------------------------------------------------------------

def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_the_users_own_pulumi_wins(tmp_path: Path) -> None:
    executable(tmp_path / ".tools" / "bin" / "pulumi")
    assert preflight.pulumi_choice(tmp_path, which=lambda name: "/opt/pulumi/bin/pulumi") == PulumiChoice(
        Path("/opt/pulumi/bin/pulumi"), "path")


def test_then_the_one_make_tools_built_then_the_projects_own(tmp_path: Path) -> None:
    nothing = lambda name: None  # noqa: E731
    assert preflight.pulumi_choice(tmp_path, which=nothing) == PulumiChoice(
        tmp_path / ".tools" / "pulumi-cli" / "bin" / "pulumi", "install")
    installed = executable(tmp_path / ".tools" / "pulumi-cli" / "bin" / "pulumi")
    assert preflight.pulumi_choice(tmp_path, which=nothing) == PulumiChoice(installed, "project")
    built = executable(tmp_path / ".tools" / "bin" / "pulumi")
    assert preflight.pulumi_choice(tmp_path, which=nothing) == PulumiChoice(built, "tools")


def test_a_missing_cli_is_installed_pinned_into_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi import automation

    asked: list[tuple[str, str]] = []

    class Installed:
        command = str(tmp_path / ".tools" / "pulumi-cli" / "bin" / "pulumi")

    def install(root: str, version: object) -> Installed:
        asked.append((root, str(version)))
        return Installed()

    monkeypatch.setattr(automation.PulumiCommand, "install", staticmethod(install))
    choice = preflight.pulumi_choice(tmp_path, which=lambda name: None)
    assert pulumi_cli.ensure_installed(choice, tmp_path) == Path(Installed.command)
    assert asked == [(str(tmp_path / ".tools" / "pulumi-cli"), preflight.PULUMI_VERSION)]
    own = PulumiChoice(Path("/usr/local/bin/pulumi"), "path")
    assert pulumi_cli.ensure_installed(own, tmp_path) == own.executable
    assert len(asked) == 1


def test_the_pinned_version_is_the_one_ci_uses() -> None:
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        for pinned in re.findall(r'PULUMI_VERSION: "([^"]+)"', workflow.read_text()):
            assert pinned == preflight.PULUMI_VERSION, workflow.name


# -- one backend, one passphrase ------------------------------------------------------------------------------

def test_the_backend_is_the_users_else_the_projects(tmp_path: Path) -> None:
    assert pulumi_cli.pulumi_environment({}, "dev", tmp_path)["PULUMI_BACKEND_URL"] == \
        f"file://{tmp_path / '.pulumi-state'}"
    mine = {"PULUMI_BACKEND_URL": "s3://bucket/kong-slo"}
    assert pulumi_cli.pulumi_environment(mine, "dev", tmp_path)["PULUMI_BACKEND_URL"] == "s3://bucket/kong-slo"


@pytest.mark.parametrize(("stack", "environ", "passphrase"), [
    ("local", {}, ""),
    ("dev", {}, None),
    ("pr-12", {}, None),
    ("local", {"PULUMI_CONFIG_PASSPHRASE_FILE": "/home/me/.kong-slo-passphrase"}, None),
    ("local", {"PULUMI_CONFIG_PASSPHRASE": "mine"}, "mine"),
    ("dev", {"PULUMI_CONFIG_PASSPHRASE": "mine"}, "mine"),
])
def test_an_empty_passphrase_only_for_the_local_stack(tmp_path: Path, stack: str, environ: dict[str, str],
                                                      passphrase: str | None) -> None:
    env = pulumi_cli.pulumi_environment(environ, stack, tmp_path)
    assert env.get("PULUMI_CONFIG_PASSPHRASE") == passphrase
    assert env.get("PULUMI_CONFIG_PASSPHRASE_FILE") == environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    assert env["PULUMI_STACK"] == stack


@pytest.mark.parametrize(("args", "stack"), [
    (["config", "set", "--secret", "--path", "kong-slo:dynatrace.apiToken", "x"], "local"),
    (["stack", "init", "dev"], "dev"),
    (["stack", "select", "--create", "pr-3"], "pr-3"),
    (["stack", "output", "--stack", "dev", "proxy_urls"], "dev"),
    (["preview", "-s", "prod", "--policy-pack", "policy"], "prod"),
    (["up", "--stack=dev"], "dev"),
])
def test_the_stack_a_command_acts_on(args: list[str], stack: str) -> None:
    assert pulumi_cli.stack_of(args, "local") == stack


def test_two_stacks_in_one_command_are_refused() -> None:
    with pytest.raises(ValueError, match="more than one stack: dev, local"):
        pulumi_cli.stack_of(["stack", "init", "dev", "--stack", "local"], "local")


@pytest.fixture
def project_state() -> Iterator[Path]:
    """The project's default file backend, removed again if the test created it."""
    state = ROOT / ".pulumi-state"
    existed = state.exists()
    yield state
    if not existed:
        shutil.rmtree(state, ignore_errors=True)


def test_make_pulumi_reaches_the_same_backend_and_secrets_as_make_up(fakes: Path, project_state: Path) -> None:
    result = make("pulumi", "STACK=dev", "ARGS=config set --secret --path kong-slo:dynatrace.apiToken dt0c01.x",
                  path=search_path(fakes))
    assert result.returncode == 0, result.stderr
    result = make("pulumi", "ARGS=stack output proxy_urls", path=search_path(fakes))
    assert result.returncode == 0, result.stderr
    result = make("pulumi", "ARGS=stack init dev", path=search_path(fakes),
                  env={"PULUMI_CONFIG_PASSPHRASE_FILE": "/home/me/passphrase"})
    assert result.returncode == 0, result.stderr
    assert project_state.is_dir()
    state = f"file://{project_state}"
    assert pulumi_calls(fakes) == [
        {"args": ["config", "set", "--secret", "--path", "kong-slo:dynatrace.apiToken", "dt0c01.x"],
         "env": {"PULUMI_BACKEND_URL": state, "PULUMI_CONFIG_PASSPHRASE": None,
                 "PULUMI_CONFIG_PASSPHRASE_FILE": None, "PULUMI_STACK": "dev"}},
        {"args": ["stack", "output", "proxy_urls"],
         "env": {"PULUMI_BACKEND_URL": state, "PULUMI_CONFIG_PASSPHRASE": "",
                 "PULUMI_CONFIG_PASSPHRASE_FILE": None, "PULUMI_STACK": "local"}},
        {"args": ["stack", "init", "dev"],
         "env": {"PULUMI_BACKEND_URL": state, "PULUMI_CONFIG_PASSPHRASE": None,
                 "PULUMI_CONFIG_PASSPHRASE_FILE": "/home/me/passphrase", "PULUMI_STACK": "dev"}},
    ]


def test_make_up_validates_then_deploys_through_the_same_runner(fakes: Path) -> None:
    result = make("up", "STACK=local", f"PYTHON={sys.executable}", path=search_path(fakes),
                  env={"PULUMI_BACKEND_URL": "s3://bucket/kong-slo"})
    assert result.returncode == 0, result.stderr
    assert "stacks/Pulumi.local.yaml: ok" in result.stdout
    calls = pulumi_calls(fakes)
    assert [call["args"] for call in calls] == [["version"], ["stack", "select", "--create", "local"],
                                                ["up", "--stack", "local"]]
    assert {call["env"]["PULUMI_BACKEND_URL"] for call in calls} == {"s3://bucket/kong-slo"}
    assert {call["env"]["PULUMI_CONFIG_PASSPHRASE"] for call in calls[1:]} == {""}  # the local stack's empty one


# -- small things ---------------------------------------------------------------------------------------------

def test_make_help_lists_every_target_the_readme_names(fakes: Path) -> None:
    readme_targets = set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", (ROOT / "README.md").read_text()))
    result = make("help", path=search_path(fakes))
    listed = set(re.findall(r"^make ([a-z][a-z0-9-]*)", result.stdout, re.MULTILINE))
    assert readme_targets <= listed, readme_targets - listed
    makefile = (ROOT / "Makefile").read_text()
    for target in listed:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target


def test_installs_are_quiet_and_up_installs_no_test_tools(fakes: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    dry_run = make("-n", "-B", "runtime", f"VENV={venv}", path=search_path(fakes))
    pip_lines = [line for line in dry_run.stdout.splitlines() if " -m pip " in line]
    assert pip_lines and all("PYTHONWARNINGS=ignore" in line and "--quiet" in line for line in pip_lines)
    assert not any("[test]" in line for line in pip_lines)
    setup = make("-n", "-B", "setup", f"VENV={venv}", path=search_path(fakes))
    assert any("'.[test]'" in line and "--quiet" in line for line in setup.stdout.splitlines())


def test_the_supported_pythons_are_the_ones_pyproject_requires() -> None:
    import tomllib

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    (oldest, newest) = preflight.SUPPORTED_PYTHON
    assert requires == f">={oldest[0]}.{oldest[1]},<{newest[0]}.{newest[1] + 1}"


def test_a_failed_install_says_what_to_do_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from pulumi import automation

    def offline(root: str, version: object) -> None:
        raise OSError("curl: (6) Could not resolve host: get.pulumi.com")

    monkeypatch.chdir(tmp_path)
    to_install = PulumiChoice(tmp_path / "x" / "bin" / "pulumi", "install")
    monkeypatch.setattr(pulumi_cli, "pulumi_choice", lambda root: to_install)
    monkeypatch.setattr(automation.PulumiCommand, "install", staticmethod(offline))
    assert pulumi_cli.main(["--stack", "local", "--", "version"]) == 2
    err = capsys.readouterr().err
    assert "could not install the Pulumi CLI (curl: (6) Could not resolve host: get.pulumi.com)" in err
    assert "https://www.pulumi.com/docs/install/" in err


@pytest.mark.parametrize("stack", ["", "a b", "org/proj/stack/extra"])
def test_make_pulumi_refuses_what_is_no_stack_name(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert pulumi_cli.main(["--stack", stack, "--", "stack", "ls"]) == 2
    assert "is not a stack name" in capsys.readouterr().err


def test_the_cli_make_tools_built_runs_the_program_with_the_projects_virtualenv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its language host (3.68) runs the first `python3` on PATH instead of reading the `virtualenv` option."""
    executable = tmp_path / ".tools" / "bin" / "pulumi"
    monkeypatch.setattr(pulumi_cli, "pulumi_choice", lambda root: PulumiChoice(executable, "tools"))
    ran: list[dict[str, str]] = []
    monkeypatch.setattr(pulumi_cli.os, "execve", lambda path, argv, env: ran.append(env))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert pulumi_cli.main(["--stack", "local", "--", "stack", "ls"]) == 0
    (env,) = ran
    first, second = env["PATH"].split(os.pathsep)[:2]
    assert first == str(executable.parent) and Path(second).parts[-2:] == (".venv", "bin")


def test_preflight_reaches_its_version_message_on_python_3_6() -> None:
    """Run as a file by whatever PYTHON names: it must parse on 3.6 and import nothing of the package."""
    import ast

    source = (ROOT / "kong_slo" / "preflight.py").read_text()
    tree = ast.parse(source, feature_version=(3, 6))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "__future__" not in imported and "dataclasses" not in imported
    assert not any(name.startswith("kong_slo") for name in imported)
    assert not any(isinstance(node, ast.NamedExpr) for node in ast.walk(tree))
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PYTHON) kong_slo/preflight.py --python-only" in makefile and "-m kong_slo.preflight" not in makefile


def test_the_python_make_was_given_is_the_one_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(preflight.sys, "version_info", (3, 10, 12, "final", 0))
    monkeypatch.setattr(preflight.sys, "executable", "/opt/python3.10/bin/python3.10")
    assert preflight.main(["--python-only", "--venv", str(tmp_path / "venv")]) == 2
    assert capsys.readouterr().err.startswith(
        "make: /opt/python3.10/bin/python3.10 is Python 3.10; kong-slo needs Python 3.11 to 3.13")


@pytest.mark.parametrize(("printed", "warned"), [
    ("v3.200.0\n", True), ("v3.215.9\n", True), ("v3.216.0\n", False), ("v3.272.0\n", False),
    ("v4.0.0\n", False), ("", False), ("not a version\n", False),
])
def test_an_own_pulumi_older_than_the_minimum_is_named_with_a_warning(printed: str, warned: bool) -> None:
    choice = PulumiChoice(Path("/usr/local/bin/pulumi"), "path")
    version = preflight.pulumi_version(choice.executable, run=lambda *args, **kwargs: subprocess.CompletedProcess(
        args, 0, stdout=printed, stderr=""))
    warnings = preflight.pulumi_warnings(choice, version=lambda _: version)
    assert bool(warnings) == warned
    if warned:
        assert warnings[0].startswith("warning: /usr/local/bin/pulumi is Pulumi 3.2")
        assert "older than the 3.216 kong-slo needs" in warnings[0]
    assert preflight.pulumi_warnings(PulumiChoice(Path("/x/pulumi"), "tools"), version=lambda _: (3, 1)) == []


def test_the_policy_pack_is_refused_for_the_pulumi_make_tools_builds(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    built = tmp_path / ".tools" / "bin" / "pulumi"
    built.parent.mkdir(parents=True)
    built.write_text("#!/bin/sh\n")
    built.chmod(0o755)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  kong-slo:target: aws\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(preflight.shutil, "which", lambda name: None)
    args = ["--stack", "dev", "--venv", str(tmp_path / "venv")]
    assert preflight.main(args) == 0
    assert preflight.main([*args, "--policy-pack"]) == 2
    err = capsys.readouterr().err
    assert "--policy-pack: the Pulumi CLI make picks" in err and "cannot run a policy pack" in err
    assert preflight.policy_pack_problem(PulumiChoice(Path("/usr/bin/pulumi"), "path")) is None
    assert preflight.policy_pack_problem(PulumiChoice(Path("/p/bin/pulumi"), "install")) is None


def test_make_passes_a_policy_pack_in_args_to_preflight() -> None:
    dry = subprocess.run(["make", "-n", "--no-print-directory", "preflight", "ARGS=--policy-pack policy"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert "kong_slo/preflight.py --stack local --venv .venv --policy-pack" in dry.stdout, dry.stdout + dry.stderr
    plain = subprocess.run(["make", "-n", "--no-print-directory", "preflight"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert "--policy-pack" not in plain.stdout
