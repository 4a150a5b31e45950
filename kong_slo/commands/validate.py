"""``kong-slo validate``: check a stack file and print every problem."""

from __future__ import annotations

import argparse

from kong_slo.commands.common import EXIT_OK, add_stack_arguments, load, stack_file

NAME = "validate"
HELP = "check a stack file; prints every problem, one per line, each naming its key"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)


def run(args: argparse.Namespace) -> int:
    settings = load(args)
    path, _ = stack_file(args)
    objectives = sum((api.latency is not None) + (api.availability is not None) for api in settings.apis)
    flavour = f", {settings.dynatrace.flavour} SLOs" if settings.dynatrace is not None else ""
    print(f"{path}: ok: target {settings.target}, {len(settings.apis)} API(s), {objectives} objective(s){flavour}")
    return EXIT_OK
