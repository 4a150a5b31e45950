"""Run the Pulumi CLI the way every make target does, so one backend and one set of secrets serve them all.

``python -m kong_slo.pulumi_cli --stack NAME -- ARGS…`` (``make pulumi STACK=NAME ARGS='…'``, and the make targets
``up``, ``preview``, ``destroy``, ``teardown``) runs ``pulumi ARGS…`` with:

- the CLI from ``preflight.pulumi_choice`` (the user's own on PATH, else ``.tools/bin/pulumi``, else a pinned
  release installed into the project on first use);
- ``PULUMI_BACKEND_URL`` as the user set it, else the project's file backend ``.pulumi-state/``;
- ``PULUMI_STACK`` set to the stack, so commands without ``--stack`` act on it too;
- an empty ``PULUMI_CONFIG_PASSPHRASE`` for the ``local`` stack only, and only when the user set neither
  ``PULUMI_CONFIG_PASSPHRASE`` nor ``PULUMI_CONFIG_PASSPHRASE_FILE``. Any other stack's secrets need the user's
  passphrase (Pulumi asks for it when neither is set).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from kong_slo.preflight import PROJECT_PULUMI_ROOT, PULUMI_VERSION, PulumiChoice, pulumi_choice
from kong_slo.settings.source import STACK_NAME

LOCAL_STACK = "local"
"""The one stack whose secrets may use an empty passphrase: it runs on the user's own machine only."""
STATE_FOLDER = ".pulumi-state"
_STACK_VERBS = ("init", "select", "rm")


def stack_of(args: Sequence[str], default: str) -> str:
    """The stack ``pulumi args`` acts on: ``--stack``/``-s`` or ``stack init|select|rm NAME``, else ``default``.

    Raises ``ValueError`` when the arguments name two different stacks.
    """
    named: list[str] = []
    for index, arg in enumerate(args):
        following = args[index + 1] if index + 1 < len(args) else None
        if arg in ("--stack", "-s") and following is not None:
            named.append(following)
        elif arg.startswith("--stack="):
            named.append(arg.split("=", 1)[1])
        elif arg == "stack" and following in _STACK_VERBS:
            rest = [item for item in args[index + 2:] if not item.startswith("-")]
            named += rest[:1]
    names = set(named)
    if len(names) > 1:
        raise ValueError(f"the arguments name more than one stack: {', '.join(sorted(names))}")
    return named[0] if named else default


def pulumi_environment(environ: Mapping[str, str], stack: str, root: Path) -> dict[str, str]:
    """The environment the Pulumi CLI runs with for ``stack`` (see the module docstring)."""
    env = dict(environ)
    if not env.get("PULUMI_BACKEND_URL"):
        env["PULUMI_BACKEND_URL"] = f"file://{root / STATE_FOLDER}"
    env["PULUMI_STACK"] = stack
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    has_passphrase = "PULUMI_CONFIG_PASSPHRASE" in env or env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if stack == LOCAL_STACK and not has_passphrase:
        env["PULUMI_CONFIG_PASSPHRASE"] = ""
    return env


def ensure_installed(choice: PulumiChoice, root: Path) -> Path:
    """The CLI to run, installing the pinned release into the project first when ``choice`` says so."""
    if choice.source != "install":
        return choice.executable
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    print(f"Installing the Pulumi CLI {PULUMI_VERSION} into {root / PROJECT_PULUMI_ROOT} (once)...", file=sys.stderr)
    command = PulumiCommand.install(root=str(root / PROJECT_PULUMI_ROOT), version=VersionInfo.parse(PULUMI_VERSION))
    return Path(command.command)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make pulumi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default=LOCAL_STACK, help="the stack (make's STACK)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the pulumi command line, after --")
    options = parser.parse_args(argv)
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    try:
        stack = stack_of(args, options.stack)
    except ValueError as error:
        print(f"make pulumi: {error}", file=sys.stderr)
        return 2
    if not all(STACK_NAME.match(part) for part in stack.split("/")) or stack.count("/") > 2:
        print(f"make pulumi: {stack!r} is not a stack name ([org/[project/]]name of letters, digits, '-', '_', '.')",
              file=sys.stderr)
        return 2
    root = Path.cwd()
    env = pulumi_environment(os.environ, stack, root)
    if env["PULUMI_BACKEND_URL"].startswith("file://"):
        Path(env["PULUMI_BACKEND_URL"].removeprefix("file://")).expanduser().mkdir(parents=True, exist_ok=True)
    choice = pulumi_choice(root)
    try:
        executable = ensure_installed(choice, root)
    except Exception as error:  # the download: any failure is told plainly, with what to do instead
        print(f"make pulumi: could not install the Pulumi CLI ({error}); install it yourself: "
              "https://www.pulumi.com/docs/install/", file=sys.stderr)
        return 2
    if choice.source != "path":  # its language hosts and plugins sit next to it
        env["PATH"] = os.pathsep.join([str(executable.parent), env.get("PATH", "")])
    if choice.source == "tools":
        # The language host `make tools` builds (3.68) runs the first `python3` on PATH rather than reading the
        # project's `virtualenv` option: put the project's virtualenv first.
        env["PATH"] = os.pathsep.join([str(executable.parent), str(root / ".venv" / "bin"), env.get("PATH", "")])
    os.execve(executable, [str(executable), *args], env)
    return 0  # not reached: execve replaces this process


if __name__ == "__main__":
    sys.exit(main())
