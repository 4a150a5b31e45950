"""Pieces every subcommand shares: choosing the stack file and reporting bad input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kong_slo.settings import StackSettings, load_stack_file

EXIT_OK = 0
EXIT_CHANGES = 1
"""A check found work to do (or an objective is failing)."""
EXIT_BAD_INPUT = 2


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--stack", metavar="NAME", default=None,
                       help="read stacks/Pulumi.NAME.yaml (default: local)")
    group.add_argument("--config-file", metavar="PATH", type=Path, default=None,
                       help="read this stack file instead")


def stack_file(args: argparse.Namespace) -> tuple[Path, str | None]:
    """The stack file the arguments name, and the stack name when given explicitly."""
    if args.config_file is not None:
        return args.config_file, args.stack
    stack = args.stack or "local"
    return Path("stacks") / f"Pulumi.{stack}.yaml", stack


def load(args: argparse.Namespace) -> StackSettings:
    """Settings of the chosen stack; raises ``SettingsError`` with every problem."""
    path, stack = stack_file(args)
    return load_stack_file(path, stack)


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_BAD_INPUT
