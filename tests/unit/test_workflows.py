"""The GitHub Actions workflows: loaded as YAML and checked lightly, plus the stack selection script run for real
against a throw-away git repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT
from tests.unit.stack_files import sealed_copy

WORKFLOWS = ROOT / ".github" / "workflows"
ROLES = {("pull-request.yml", "preview"): "${{ secrets.AWS_PREVIEW_ROLE_ARN }}",
         ("deploy.yml", "up"): "${{ secrets.AWS_DEPLOY_ROLE_ARN }}",
         ("pull-request.yml", "test-stack"): "${{ secrets.AWS_ROLE_ARN }}",
         ("pr-stack-teardown.yml", "teardown"): "${{ secrets.AWS_ROLE_ARN }}"}
"""The one AWS role each job may assume: each is an environment secret, trusted for that environment's subject."""
ENVIRONMENTS = {("pull-request.yml", "preview"): "${{ matrix.stack }}-preview",
                ("deploy.yml", "up"): "${{ matrix.stack }}",
                ("pull-request.yml", "test-stack"): "pr-stacks",
                ("pr-stack-teardown.yml", "teardown"): "pr-stacks"}
"""Where each job's secrets live: one stack's alone, or the test stacks' throw-away ones."""
WRITING_TOKENS = ("DYNATRACE_API_TOKEN", "DYNATRACE_PLATFORM_TOKEN", "KONG_ADMIN_TOKEN")
PR_STACK_GROUP = "pulumi-pr-${{ github.event.pull_request.number }}"
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    return workflow.get("on", workflow.get(True)) or {}


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def pulumi_steps(job: dict[str, Any], command: str | None = None) -> list[dict[str, Any]]:
    found = [step for step in steps(job) if str(step.get("uses", "")).startswith("pulumi/actions@")]
    return [step for step in found if command is None or step.get("with", {}).get("command") == command]


def index_of(job: dict[str, Any], predicate: Any) -> int:
    return next(index for index, step in enumerate(steps(job)) if predicate(step))


def jobs_running(command: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for file, workflow in all_workflows().items():
        for name, job in workflow["jobs"].items():
            if pulumi_steps(job, command):
                yield file, name, job


def test_every_workflow_loads_and_none_runs_on_pull_request_target() -> None:
    workflows = all_workflows()
    assert {"pull-request.yml", "deploy.yml", "pr-stack-teardown.yml", "checks.yml", "stacks.yml"} <= set(workflows)
    for file, workflow in workflows.items():
        assert "pull_request_target" not in triggers(workflow), file
        assert workflow["permissions"] == {"contents": "read"}, file
        for name, job in workflow["jobs"].items():
            assert job.get("permissions", {}) != "write-all", (file, name)
            uses = job.get("uses", "")
            if uses.startswith("./"):
                assert (ROOT / uses).is_file(), (file, name, uses)


def test_triggers() -> None:
    assert triggers(load("pull-request.yml")) == {"pull_request": {"types": ["opened", "synchronize", "reopened"]}}
    assert triggers(load("pr-stack-teardown.yml")) == {"pull_request": {"types": ["closed"]}}
    assert triggers(load("deploy.yml"))["push"] == {"branches": ["main"]}
    assert set(triggers(load("checks.yml"))) == set(triggers(load("stacks.yml"))) == {"workflow_call"}


def test_checks_validate_every_stack_file_then_run_make_test() -> None:
    job = load("checks.yml")["jobs"]["checks"]
    runs = [step.get("run", "") for step in steps(job)]
    validate = index_of(job, lambda step: "kong-slo validate" in step.get("run", ""))
    assert "stacks/Pulumi.*.yaml" in runs[validate]
    assert index_of(job, lambda step: step.get("run", "").strip() == "make test") > validate
    for file in ("pull-request.yml", "deploy.yml"):
        workflow = load(file)
        assert workflow["jobs"]["checks"]["uses"] == "./.github/workflows/checks.yml"
        for job in workflow["jobs"].values():
            if pulumi_steps(job):
                assert "checks" in job["needs"], file


def test_pull_requests_preview_the_selected_stacks_with_a_comment_and_the_policy_pack() -> None:
    workflow = load("pull-request.yml")
    stacks = workflow["jobs"]["stacks"]
    assert stacks["with"] == {"base": "${{ github.event.pull_request.base.sha }}",
                              "head": "${{ github.event.pull_request.head.sha }}"}
    preview = workflow["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    assert SAME_REPO in preview["if"]
    assert preview["permissions"] == {"contents": "read", "id-token": "write"}  # the PR's code cannot comment
    assert preview["environment"] == "${{ matrix.stack }}-preview"
    (step,) = pulumi_steps(preview, "preview")
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert "comment-on-pr" not in step["with"] and "upsert" not in step["with"]  # the read-only role creates nothing
    assert step["with"]["policyPacks"] == "policy"
    comment = workflow["jobs"]["comment"]
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert not any("checkout" in str(step.get("uses", "")) for step in steps(comment)), "runs none of the PR's code"
    assert not pulumi_steps(comment) and "environment" not in comment


def test_pull_requests_bring_up_their_own_test_stack_from_the_template() -> None:
    job = load("pull-request.yml")["jobs"]["test-stack"]
    assert SAME_REPO in job["if"]
    assert "needs.stacks.outputs.test-stack == 'true'" in job["if"]
    assert job["env"]["PR_STACK"] == "pr-${{ github.event.pull_request.number }}"
    assert job["env"]["TEMPLATE_STACK"] == "${{ vars.PR_STACK_TEMPLATE || 'pr-template' }}"
    make = index_of(job, lambda step: step.get("run", "").strip() == ".github/scripts/pr-stack-config")
    (up,) = pulumi_steps(job, "up")
    assert up["with"]["stack-name"] == "${{ env.PR_STACK }}"
    assert up["with"]["upsert"] is True
    assert steps(job).index(up) > make


def test_no_workflow_needs_the_template_stack_in_the_backend() -> None:
    for file in all_workflows():
        assert "config cp" not in (WORKFLOWS / file).read_text(), file
    teardown = load("pr-stack-teardown.yml")["jobs"]["teardown"]
    assert teardown["env"]["TEMPLATE_STACK"] == "${{ vars.PR_STACK_TEMPLATE || 'pr-template' }}"
    assert any(".github/scripts/pr-stack-config" in step.get("run", "") for step in steps(teardown))


def test_closing_a_pull_request_destroys_and_removes_its_test_stack() -> None:
    job = load("pr-stack-teardown.yml")["jobs"]["teardown"]
    assert SAME_REPO in job["if"]
    assert job["env"]["PR_STACK"] == "pr-${{ github.event.pull_request.number }}"
    (destroy,) = pulumi_steps(job, "destroy")
    assert destroy["with"]["stack-name"] == "${{ env.PR_STACK }}"
    assert destroy["with"]["remove"] is True
    assert destroy["if"] == "steps.stack.outputs.exists == 'true'"


def test_pushes_to_main_bring_up_every_deployable_stack() -> None:
    workflow = load("deploy.yml")
    assert "with" not in workflow["jobs"]["stacks"]  # no base commit: every deployable stack
    job = workflow["jobs"]["up"]
    (up,) = pulumi_steps(job, "up")
    assert up["with"]["stack-name"] == "${{ matrix.stack }}"
    assert up["with"]["policyPacks"] == "policy"


def test_each_stack_has_one_concurrency_group_for_its_updates() -> None:
    groups: dict[str, set[str]] = {}
    for command in ("up", "destroy"):
        for file, name, job in jobs_running(command):
            stack = pulumi_steps(job, command)[0]["with"]["stack-name"]
            assert job["concurrency"]["cancel-in-progress"] is False, (file, name)
            groups.setdefault(job["concurrency"]["group"], set()).add(f"{file}:{name}:{stack}")
    assert groups == {
        "pulumi-${{ matrix.stack }}": {"deploy.yml:up:${{ matrix.stack }}"},
        PR_STACK_GROUP: {"pull-request.yml:test-stack:${{ env.PR_STACK }}",
                         "pr-stack-teardown.yml:teardown:${{ env.PR_STACK }}"},
    }
    preview = load("pull-request.yml")["jobs"]["preview"]["concurrency"]["group"]
    assert "${{ matrix.stack }}" in preview and "pull_request.number" in preview


def test_pulumi_runs_with_a_pinned_cli_the_backend_and_passphrase_from_secrets_and_oidc() -> None:
    versions = set()
    for file, workflow in all_workflows().items():
        for name, job in workflow["jobs"].items():
            for step in pulumi_steps(job):
                assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}", (file, name)
                versions.add(workflow["env"]["PULUMI_VERSION"])
                if "command" in step["with"]:
                    assert step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}", (file, name)
                    passphrase = {**job.get("env", {}), **step.get("env", {})}["PULUMI_CONFIG_PASSPHRASE"]
                    assert passphrase == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}", (file, name)
            if pulumi_steps(job):
                assert job["permissions"]["id-token"] == "write", (file, name)
                aws = index_of(job, lambda step: str(step.get("uses", "")).startswith(
                    "aws-actions/configure-aws-credentials@"))
                credentials = steps(job)[aws]["with"]
                assert credentials["role-to-assume"] == ROLES[(file, name)], (file, name)
                assert job["environment"] == ENVIRONMENTS[(file, name)], (file, name)
                assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials), (file, name)
    (version,) = versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_python_and_the_program_are_installed_before_the_pulumi_action() -> None:
    for file, workflow in all_workflows().items():
        for name, job in workflow["jobs"].items():
            if not pulumi_steps(job):
                continue
            python = index_of(job, lambda step: str(step.get("uses", "")).startswith("actions/setup-python@"))
            assert steps(job)[python]["with"]["python-version"] == "3.11", (file, name)
            install = index_of(job, lambda step: "pip install -e ." in step.get("run", ""))
            first_pulumi = steps(job).index(pulumi_steps(job)[0])
            assert python < install < first_pulumi, (file, name)
            if any(step["with"].get("policyPacks") for step in pulumi_steps(job)):
                assert any("policy/requirements.txt" in step.get("run", "") for step in steps(job)), (file, name)


def test_no_secret_reaches_a_shell_script_or_is_echoed() -> None:
    secret_names = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "AWS_ROLE_ARN", "GITHUB_TOKEN",
                    "AWS_PREVIEW_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", *WRITING_TOKENS)
    for file in all_workflows():
        text = (WORKFLOWS / file).read_text()
        for job in load(file)["jobs"].values():
            for step in steps(job):
                script = step.get("run", "")
                assert "secrets." not in script, file
                assert "github.event" not in script, file  # untrusted event text goes through env, never inline
                assert "set -x" not in script, file
                for line in script.splitlines():
                    if re.search(r"\b(echo|printf)\b", line):
                        assert not any(name in line for name in secret_names), (file, line)
        assert "${{ secrets." in text or file in ("checks.yml", "stacks.yml")


# -- the stack selection script, run for real -----------------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a local stack, cloud stacks (one with a quoted target), a leftover PR stack file and
    the test-stack template, all valid stack files."""
    if shutil.which("git") is None or shutil.which("bash") is None:
        pytest.fail("git and bash are needed to run the stack selection script")
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    local = (ROOT / "stacks" / "Pulumi.local.yaml").read_text()
    dev = sealed_copy(EXAMPLES / "Pulumi.dev.yaml", stacks).read_text()
    (stacks / "Pulumi.local.yaml").write_text(local)
    (stacks / "Pulumi.prod.yaml").write_text(dev.replace("kong-slo:target: aws", "kong-slo:target: 'aws'  # prod"))
    (stacks / "Pulumi.pr-12.yaml").write_text(dev)
    (stacks / "Pulumi.pr-template.yaml").write_text(dev)
    (stacks / "Pulumi.laptop.yaml").write_text(local.replace("  kong-slo:target: local\n", ""))  # no target: local
    (tmp_path / "kong_slo").mkdir()
    (tmp_path / "kong_slo" / "slo.py").write_text("X = 1\n")
    (tmp_path / "README.md").write_text("# kong-slo\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base")
    return tmp_path


def select_stacks(repo: Path, change: str | None) -> str:
    base = ""
    if change is not None and change.endswith(";no-template"):
        change = change.removesuffix(";no-template")
        git(repo, "rm", "-q", "stacks/Pulumi.pr-template.yaml")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "no template")
    if change is not None:
        base = git(repo, "rev-parse", "HEAD")
        path = repo / change
        path.write_text(path.read_text() + "# changed\n")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "change")
    step = next(step for step in load("stacks.yml")["jobs"]["select"]["steps"] if step.get("id") == "select")
    output = repo / "github_output"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin:/usr/local/bin", "BASE_SHA": base,
           "HEAD_SHA": git(repo, "rev-parse", "HEAD"), "GITHUB_OUTPUT": str(output), "TEMPLATE_STACK": "pr-template",
           "KONG_SLO": str(Path(sys.executable).parent / "kong-slo")}
    result = subprocess.run(["bash", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return " ".join(output.read_text().splitlines())


@pytest.mark.parametrize(("change", "expected"), [
    (None, 'stacks=["dev","prod"] test-stack=false'),
    ("kong_slo/slo.py;no-template", 'stacks=["dev","prod"] test-stack=false'),
    ("kong_slo/slo.py", 'stacks=["dev","prod"] test-stack=true'),
    ("stacks/Pulumi.prod.yaml", 'stacks=["prod"] test-stack=false'),
    ("stacks/Pulumi.pr-template.yaml", "stacks=[] test-stack=true"),
    ("stacks/Pulumi.local.yaml", "stacks=[] test-stack=false"),
    ("README.md", "stacks=[] test-stack=false"),
])
def test_stack_selection(repo: Path, change: str | None, expected: str) -> None:
    assert select_stacks(repo, change) == expected


def test_a_broken_stack_file_stops_the_selection_with_kong_slos_message(repo: Path) -> None:
    (repo / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  kong-slo:target: aws\n")
    with pytest.raises(AssertionError, match="kong-slo:apis: is required"):
        select_stacks(repo, None)


# -- the test stack's config, made from the template's file ---------------------------------------------------

@pytest.fixture
def ci_checkout(repo: Path) -> Path:
    """The repository plus a stand-in `pulumi` that records its calls and knows whether kong.ssh is set."""
    bin_folder = repo / "fake-bin"
    bin_folder.mkdir()
    script = bin_folder / "pulumi"
    script.write_text(f"""#!/bin/sh
printf '%s\\n' "$*" >> {repo / "pulumi-calls"}
if [ "$1 $2" = "config get" ]; then grep -q '^    ssh:' "stacks/Pulumi.$PULUMI_TEST_STACK.yaml"; fi
""")
    script.chmod(0o755)
    return repo


def make_test_stack_config(checkout: Path, template: str = "pr-template") -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{checkout / 'fake-bin'}:/usr/bin:/bin", "PR_STACK": "pr-7", "TEMPLATE_STACK": template,
           "PULUMI_BACKEND_URL": "s3://bucket/kong-slo", "PULUMI_TEST_STACK": "pr-7"}
    return subprocess.run([str(ROOT / ".github" / "scripts" / "pr-stack-config")], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_first_pull_request_on_a_fresh_backend_copies_the_template_file(ci_checkout: Path) -> None:
    result = make_test_stack_config(ci_checkout)
    assert result.returncode == 0, result.stderr
    template = (ci_checkout / "stacks" / "Pulumi.pr-template.yaml").read_text()
    assert (ci_checkout / "stacks" / "Pulumi.pr-7.yaml").read_text() == template
    calls = (ci_checkout / "pulumi-calls").read_text().splitlines()
    assert calls == ["login s3://bucket/kong-slo", "stack select --create pr-7",
                     "config get --path kong-slo:kong.ssh --stack pr-7"]
    assert not any("pr-template" in call for call in calls), "the template need not exist in the backend"


def test_a_template_with_kong_ssh_gives_a_test_stack_without_it(ci_checkout: Path) -> None:
    template = ci_checkout / "stacks" / "Pulumi.pr-template.yaml"
    template.write_text(template.read_text().replace(
        "    exportLogs: true\n", "    exportLogs: true\n    ssh:\n      host: 10.0.1.10\n"
                                "      privateKey:\n        secure: v1:x\n"))
    result = make_test_stack_config(ci_checkout)
    assert result.returncode == 0, result.stderr
    calls = (ci_checkout / "pulumi-calls").read_text().splitlines()
    assert calls[-1] == "config rm --path kong-slo:kong.ssh --stack pr-7"
    assert "kong-slo:kong.ssh dropped" in result.stdout


def test_a_missing_template_says_what_to_do(ci_checkout: Path) -> None:
    result = make_test_stack_config(ci_checkout, template="qa")
    assert result.returncode == 1
    assert "the test-stack template stacks/Pulumi.qa.yaml is missing" in result.stderr
    assert not (ci_checkout / "pulumi-calls").exists()


def test_the_shipped_template_is_a_valid_aws_stack_of_its_own(root: Path) -> None:
    from kong_slo.settings import load_stack_file

    template = load_stack_file(root / "examples" / "stacks" / "Pulumi.pr-template.yaml")
    dev = load_stack_file(root / "examples" / "stacks" / "Pulumi.dev.yaml")
    assert template.target == "aws" and template.kong.ssh == ()
    assert (template.kong.admin_url, template.kong.workspace) != (dev.kong.admin_url, dev.kong.workspace)
    assert template.dynatrace is not None and dev.dynatrace is not None
    assert template.dynatrace.environment_url != dev.dynatrace.environment_url


def test_only_the_deploy_and_test_stack_jobs_can_write_and_only_with_their_environments_secrets() -> None:
    for file, workflow in all_workflows().items():
        for name, job in workflow["jobs"].items():
            text = yaml.safe_dump(job)
            for token in WRITING_TOKENS:
                if f"secrets.{token}" in text:
                    assert (file, name) == ("deploy.yml", "up"), (file, name, token)
            if "secrets." in text and "uses" not in job:
                assert "environment" in job or name == "comment", (file, name)
            permissions = job.get("permissions", {})
            if permissions.get("pull-requests") == "write":
                assert not pulumi_steps(job) and "secrets." not in text.replace("secrets.GITHUB_TOKEN", ""), name
    deploy = load("deploy.yml")["jobs"]["up"]
    swap = index_of(deploy, lambda step: step.get("run", "").strip() == ".github/scripts/deploy-tokens")
    assert swap < steps(deploy).index(pulumi_steps(deploy, "up")[0])


def test_the_workflows_pass_zizmor() -> None:
    zizmor = Path(sys.executable).parent / "zizmor"
    assert zizmor.exists(), "zizmor comes with the test tools (pyproject's test extra): run make setup"
    result = subprocess.run([str(zizmor), "--offline", "--no-progress", str(WORKFLOWS)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_tokens_go_to_pulumi_on_stdin_never_on_a_command_line(tmp_path: Path) -> None:
    record = tmp_path / "calls"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text(f"""#!/bin/sh
printf 'ARGS %s\\n' "$*" >> {record}
if [ "$1 $2" = "config set" ]; then printf 'STDIN %s\\n' "$(cat)" >> {record}; fi
""")
    (fake / "pulumi").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "STACK": "prod", "PULUMI_BACKEND_URL": "s3://bucket/kong-slo",
           "DYNATRACE_API_TOKEN": "dt0c01.WRITINGPUBLIC.WRITINGSECRET", "KONG_ADMIN_TOKEN": ""}
    result = subprocess.run(["bash", str(ROOT / ".github" / "scripts" / "deploy-tokens")], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    calls = record.read_text().splitlines()
    assert calls == ["ARGS login s3://bucket/kong-slo", "ARGS stack select --create prod",
                     "ARGS config set --secret --path kong-slo:dynatrace.apiToken --stack prod",
                     "STDIN dt0c01.WRITINGPUBLIC.WRITINGSECRET"]
    assert "WRITINGSECRET" not in result.stdout + result.stderr
    assert "kong-slo:dynatrace.apiToken set from the deploy environment" in result.stdout


def test_the_readme_threat_model_names_every_environment_and_secret_the_workflows_use() -> None:
    readme = (ROOT / "README.md").read_text()
    model = readme[readme.index("### Threat model"):]
    model = model[:model.index("\n## ")]
    used = set()
    for file in all_workflows():
        used |= set(re.findall(r"secrets\.([A-Z_]+)", (WORKFLOWS / file).read_text()))
    assert used - {"GITHUB_TOKEN"} <= set(re.findall(r"`([A-Z_]+)`", model)), used
    for environment in ("<stack>-preview", "<stack>", "pr-stacks"):
        assert f"`{environment}`" in model, environment
    for subject in ("repo:<owner>/<repo>:environment:<stack>-preview", "repo:<owner>/<repo>:environment:<stack>",
                    "repo:<owner>/<repo>:environment:pr-stacks"):
        assert subject in model, subject
