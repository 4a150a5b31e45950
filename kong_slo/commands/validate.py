"""``kong-slo validate``: check a stack file and print every problem."""

from __future__ import annotations

import argparse
import json

from kong_slo.commands.common import EXIT_OK, add_stack_arguments, load, stack_file

NAME = "validate"
HELP = "check a stack file; prints every problem, one per line, each naming its key"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--json", action="store_true",
                        help="print a summary for scripts: {stack, file, target, apis, objectives}")


def run(args: argparse.Namespace) -> int:
    settings = load(args, deployable=True)
    path, _ = stack_file(args)
    objectives = sum((api.latency is not None) + (api.availability is not None) for api in settings.apis)
    flavour = settings.dynatrace.flavour if settings.dynatrace is not None else None
    if args.json:
        print(json.dumps({"stack": settings.stack, "file": str(path), "target": settings.target,
                          "apis": len(settings.apis), "objectives": objectives, "flavour": flavour}))
    else:
        shown = f", {flavour} SLOs" if flavour else ""
        print(f"{path}: ok: target {settings.target}, {len(settings.apis)} API(s), {objectives} objective(s){shown}")
    return EXIT_OK
