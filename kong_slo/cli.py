"""The ``kong-slo`` command line. Works without the Pulumi CLI.

Exit codes (``EXIT_CODES``): 0 success, 1 a check found work to do, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kong_slo import __version__
from kong_slo.commands.common import EXIT_BAD_INPUT, EXIT_CODES
from kong_slo.errors import KongSloError, SettingsError

COMMANDS = (
    "kong_slo.commands.validate",
    "kong_slo.commands.render",
    "kong_slo.commands.kong_conf",
    "kong_slo.commands.status",
    "kong_slo.commands.report",
    "kong_slo.commands.doctor",
)

DESCRIPTION = """\
SLO tracking for the APIs behind Kong Gateway.

A stack file (stacks/Pulumi.<stack>.yaml) names the APIs and their objectives; `pulumi up`
deploys everything. These commands check and preview that work without the Pulumi CLI.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kong-slo", description=DESCRIPTION, epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"kong-slo {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS:
        module = importlib.import_module(module_name)
        sub = subcommands.add_parser(module.NAME, help=module.HELP, description=module.HELP, epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KongSloError as error:
        print(f"kong-slo {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
