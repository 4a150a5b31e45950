"""What `make up` checks before it installs anything: the Python, the Docker engine, the Pulumi CLI.

Runs with the interpreter that would create ``.venv`` (``python3 kong_slo/preflight.py``, run as a file so that
nothing else of the package is imported), before any dependency is installed, so it uses the standard library
only. It must reach its version message on any Python 3, so it is written for Python 3.6: annotations are quoted,
no dataclasses, no ``from __future__ import annotations``, no walrus. Every problem is printed with what to do;
exit 2 if any; a ``pulumi`` on PATH older than the README's minimum is a warning.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Sequence, Tuple

SUPPORTED_PYTHON = ((3, 11), (3, 13))
"""The oldest and newest Python minor versions kong-slo supports (pyproject's requires-python)."""
PULUMI_VERSION = "3.272.0"
"""The Pulumi CLI installed into the project when none is on PATH (the workflows pin the same)."""
TOOLS_PULUMI = Path(".tools") / "bin" / "pulumi"
"""Built from source by `make tools`."""
PROJECT_PULUMI_ROOT = Path(".tools") / "pulumi-cli"
"""Where a pinned release is installed when no other CLI is found (``<root>/bin/pulumi``)."""
PULUMI_MINIMUM = (3, 216)
"""The oldest Pulumi CLI of the user's own that runs the program (the README's minimum)."""
POLICY_PACK_HOST = "3.68"
"""The Python language host `make tools` builds (the newest the Go module proxy serves): it cannot start a policy
pack, so the CLI built beside it cannot run ``--policy-pack``."""
DOCKER_TIMEOUT_SECONDS = 20

_TARGET_LINE = re.compile(r"""^\s*kong-slo:target\s*:\s*(?:"([^"]*)"|'([^']*)'|([^\s#]+))""", re.MULTILINE)


def python_problem(version: "Tuple[int, ...]", what: str) -> "Optional[str]":
    """Why ``version`` cannot run kong-slo, or None."""
    (oldest, newest) = SUPPORTED_PYTHON
    if oldest <= tuple(version[:2]) <= newest:
        return None
    shown = ".".join(str(part) for part in version[:2])
    wanted = f"{oldest[0]}.{oldest[1]} to {newest[0]}.{newest[1]}"
    return f"{what} is Python {shown}; kong-slo needs Python {wanted}"


def venv_python(venv: Path) -> "Optional[Tuple[int, int]]":
    """The Python version a virtualenv was made with (from ``pyvenv.cfg``), or None when there is none."""
    try:
        config = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^\s*(?:version|version_info)\s*=\s*(\d+)\.(\d+)", config, re.MULTILINE)
    return (int(match.group(1)), int(match.group(2))) if match else None


def venv_problem(venv: Path, creator: "Tuple[int, int]", python: str = "python3") -> "Optional[str]":
    """Why ``venv`` (or, when it does not exist yet, the interpreter that would create it) is unusable."""
    made_with = venv_python(venv)
    if made_with is None:
        problem = python_problem(creator, python)
        return None if problem is None else (
            f"{problem}: run `make up PYTHON=python3.12` (or another of them) to create {venv} with it")
    problem = python_problem(made_with, str(venv))
    return None if problem is None else (
        f"{problem}: remove it (`rm -rf {venv}`) and run `make up PYTHON=python3.12` (or another of them)")


def stack_target(stack_file_text: str) -> str:
    """The ``kong-slo:target`` a stack file sets, read without a YAML parser (nothing is installed yet);
    ``local`` when the file does not set it. ``kong-slo validate`` reads it properly afterwards."""
    match = _TARGET_LINE.search(stack_file_text)
    if match is None:
        return "local"
    return next(group for group in match.groups() if group is not None).strip() or "local"


def docker_problem(run: "Callable[..., subprocess.CompletedProcess]" = subprocess.run,
                   which: "Callable[[str], Optional[str]]" = shutil.which) -> "Optional[str]":
    """Why the local Docker engine cannot be used (``docker info`` fails), or None."""
    if which("docker") is None:
        return "Docker is not installed; the local stack runs on it: https://docs.docker.com/get-docker/"
    try:
        result = run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                     timeout=DOCKER_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return f"`docker info` did not answer within {DOCKER_TIMEOUT_SECONDS} s; is the Docker engine running?"
    if result.returncode == 0:
        return None
    detail = (result.stderr or result.stdout).strip().splitlines()
    reason = detail[-1] if detail else f"exit {result.returncode}"
    if "permission denied" in reason.lower():
        return (f"Docker refuses this user ({reason}); add it to the docker group "
                "(`sudo usermod -aG docker $USER`, then log in again)")
    return (f"the Docker engine is not reachable ({reason}); start Docker (Docker Desktop, or "
            "`sudo systemctl start docker`)")


class PulumiChoice(NamedTuple):
    """The Pulumi CLI to run and where it comes from: ``path`` (the user's own), ``tools`` (`make tools`),
    ``project`` (installed into the project earlier) or ``install`` (to be installed into the project)."""

    executable: Path
    source: str


def pulumi_choice(root: Path, which: "Callable[[str], Optional[str]]" = shutil.which) -> PulumiChoice:
    """The user's own ``pulumi`` on PATH wins; then ``.tools/bin/pulumi``; then the project's pinned install."""
    own = which("pulumi")
    if own is not None:
        return PulumiChoice(Path(own), "path")
    installed = root / PROJECT_PULUMI_ROOT / "bin" / "pulumi"
    for candidate, source in ((root / TOOLS_PULUMI, "tools"), (installed, "project")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return PulumiChoice(candidate, source)
    return PulumiChoice(installed, "install")


def describe_choice(choice: PulumiChoice) -> str:
    return {
        "path": f"Pulumi CLI: {choice.executable} (on PATH)",
        "tools": f"Pulumi CLI: {choice.executable} (built by make tools)",
        "project": f"Pulumi CLI: {choice.executable}",
        "install": (f"Pulumi CLI: none found; Pulumi {PULUMI_VERSION} will be installed into "
                    f"{choice.executable.parent.parent}"),
    }[choice.source]


def pulumi_version(executable: Path,
                   run: "Callable[..., subprocess.CompletedProcess]" = subprocess.run) -> "Optional[Tuple[int, int]]":
    """``(major, minor)`` that ``pulumi version`` prints, or None when it cannot be run or read."""
    try:
        result = run([str(executable), "version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     universal_newlines=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"\s*v?(\d+)\.(\d+)", result.stdout or "")
    return (int(match.group(1)), int(match.group(2))) if match and result.returncode == 0 else None


def pulumi_warnings(choice: PulumiChoice,
                    version: "Callable[[Path], Optional[Tuple[int, int]]]" = pulumi_version) -> "list":
    """A ``pulumi`` of the user's own older than ``PULUMI_MINIMUM``, named (it still runs: a warning)."""
    if choice.source != "path":
        return []
    found = version(choice.executable)
    if found is None or found >= PULUMI_MINIMUM:
        return []
    (major, minor), (least_major, least_minor) = found, PULUMI_MINIMUM
    return [f"warning: {choice.executable} is Pulumi {major}.{minor}, older than the {least_major}.{least_minor} "
            "kong-slo needs; upgrade it (https://www.pulumi.com/docs/install/), or take it off PATH and make "
            f"installs Pulumi {PULUMI_VERSION} into the project"]


def policy_pack_problem(choice: PulumiChoice) -> "Optional[str]":
    """Why the CLI make picks cannot run ``--policy-pack``, or None."""
    if choice.source != "tools":
        return None
    return (f"--policy-pack: the Pulumi CLI make picks, {choice.executable} (built by make tools), cannot run a "
            f"policy pack: its Python language host is {POLICY_PACK_HOST}, which cannot start one. Put a released "
            f"Pulumi CLI ({PULUMI_VERSION} or later) on PATH (make prefers it), or remove .tools/bin/pulumi so that "
            f"make installs Pulumi {PULUMI_VERSION} into the project")


def problems(root: Path, stack: str, venv: Path, creator: "Tuple[int, int]",
             docker: "Callable[[], Optional[str]]" = docker_problem, python: str = "python3") -> "list":
    """Everything that stops `make up STACK=stack` before it installs anything."""
    found = [problem for problem in (venv_problem(venv, creator, python),) if problem is not None]
    stack_file = root / "stacks" / f"Pulumi.{stack}.yaml"
    try:
        target = stack_target(stack_file.read_text(encoding="utf-8", errors="replace"))
    except OSError as error:
        found.append(f"{stack_file}: cannot be read ({error.strerror or error}); is STACK={stack} right?")
        return found
    if target == "local":
        problem = docker()
        if problem is not None:
            found.append(f"{problem} (stack {stack} has target local)")
    return found


def main(argv: "Optional[Sequence[str]]" = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m kong_slo.preflight", description=__doc__)
    parser.add_argument("--stack", default="local")
    parser.add_argument("--venv", type=Path, default=Path(".venv"))
    parser.add_argument("--python-only", action="store_true", help="check only the Python of the virtualenv")
    parser.add_argument("--policy-pack", action="store_true", help="the Pulumi command will run a policy pack")
    args = parser.parse_args(argv)
    root = Path.cwd()
    creator = (sys.version_info[0], sys.version_info[1])
    python = sys.executable or "python3"
    if args.python_only:
        problem = venv_problem(args.venv, creator, python)
        found = [] if problem is None else [problem]
    else:
        found = problems(root, args.stack, args.venv, creator, python=python)
    choice = None if args.python_only or found else pulumi_choice(root)
    if choice is not None and args.policy_pack:
        found += [problem for problem in (policy_pack_problem(choice),) if problem is not None]
    for problem in found:
        print(f"make: {problem}", file=sys.stderr)
    if found:
        return 2
    if choice is not None:
        print(describe_choice(choice))
        for warning in pulumi_warnings(choice):
            print(f"make: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
