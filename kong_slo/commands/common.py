"""Pieces every subcommand shares: choosing the stack file and reporting bad input."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from kong_slo.errors import KongSloError
from kong_slo.http import SHAPE_ERRORS, ApiError, Unreachable
from kong_slo.settings import StackSettings, load_stack_file
from kong_slo.settings.source import STACK_NAME

EXIT_OK = 0
EXIT_CHANGES = 1
"""A check found work to do (or an objective is failing)."""
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
"""A service the command needs (Dynatrace, for status) could not be reached or did not answer."""
EXIT_CODES = """\
exit codes:
  0  success
  1  a check found work to do (kong-conf --check), or an objective is failing or missing (status)
  2  bad input: a stack file, an option, or a file that cannot be read or written
  3  a server the command reads (Dynatrace, for status) could not be reached, or answered with something other
     than its API (a login page, an error page, a persistent 503 or 429)
"""


def remote_failure(command: str, where: str, error: object, *, as_json: bool) -> int:
    """One line naming the server and what came back (``--json``: a JSON error object too); exit 3."""
    line = f"{where}: {error}"
    if as_json:
        print(json.dumps({"error": line, "exit": EXIT_UNREACHABLE}))
    print(f"kong-slo {command}: {line}", file=sys.stderr)
    return EXIT_UNREACHABLE


DYNATRACE_FAILURES = (ApiError, *SHAPE_ERRORS)
"""What reading Dynatrace may raise (``Unreachable`` is an ``ApiError``); ``dynatrace_failure`` turns each into
its exit code."""
REFUSED = (401, 403)
"""The token was refused: bad input (exit 2), not a server that does not answer."""


def dynatrace_failure(command: str, url: str, error: Exception, *, as_json: bool) -> int:
    """Exit 3 with one line when Dynatrace at ``url`` is out of reach or answers wrongly. A refused token
    (401/403) is raised on: it is bad input (exit 2), not an outage."""
    if isinstance(error, Unreachable):
        return remote_failure(command, f"cannot reach Dynatrace at {url}", error, as_json=as_json)
    if isinstance(error, ApiError):
        if error.status in REFUSED:
            raise error
        return remote_failure(command, f"Dynatrace at {url}", error, as_json=as_json)
    return remote_failure(command, f"Dynatrace at {url}", f"answered JSON of an unexpected shape "
                          f"({type(error).__name__}: {error})", as_json=as_json)


def dynatrace_url(settings: StackSettings, override: str | None) -> str:
    """The Dynatrace base URL a command reads: ``--environment-url``, else the stack's for its flavour."""
    dynatrace = settings.dynatrace
    if dynatrace is None:
        return override or ""
    if dynatrace.flavour == "platform":
        return override or (dynatrace.platform.url if dynatrace.platform else "")
    return override or dynatrace.environment_url


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", metavar="NAME", default=None,
                        help="read Pulumi.NAME.yaml from the project's stack folder (default: local); with "
                             "--config-file, only names the stack")
    parser.add_argument("--config-file", metavar="PATH", type=Path, default=None,
                        help="read this stack file instead (any name; the stack is --stack, else the file name "
                             "without Pulumi. and .yaml)")


def stack_folder(start: Path | None = None) -> Path:
    """The project's stack folder: ``stackConfigDir`` of the nearest ``Pulumi.yaml`` at or above ``start``
    (the current folder), so the commands work from any subfolder of the project."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        project = folder / "Pulumi.yaml"
        if project.is_file():
            try:
                settings = yaml.safe_load(project.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                raise KongSloError(f"{project} cannot be read ({error})") from None
            config_dir = settings.get("stackConfigDir") if isinstance(settings, dict) else None
            return folder / config_dir if isinstance(config_dir, str) else folder
    return Path("stacks")


def stack_file(args: argparse.Namespace) -> tuple[Path, str | None]:
    """The stack file the arguments name, and the stack name when given explicitly."""
    if args.stack is not None and not STACK_NAME.match(args.stack):
        raise KongSloError(f"--stack {args.stack!r} is not a stack name (1 to 100 letters, digits, '-', '_', '.')")
    if args.config_file is not None:
        return args.config_file, args.stack
    stack = args.stack or "local"
    return _relative(stack_folder() / f"Pulumi.{stack}.yaml"), stack


def _relative(path: Path) -> Path:
    """``path`` relative to the current folder when it lies below it (shorter messages)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def load(args: argparse.Namespace, *, deployable: bool = False) -> StackSettings:
    """Settings of the chosen stack; raises ``SettingsError`` with every problem (``deployable``: also every
    ``secure:`` value Pulumi could not decrypt)."""
    path, stack = stack_file(args)
    return load_stack_file(path, stack, deployable=deployable)


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_BAD_INPUT
