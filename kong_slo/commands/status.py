"""``kong-slo status``: how every objective of the stack is doing right now, read from Dynatrace."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from kong_slo.commands.common import (
    DYNATRACE_FAILURES,
    EXIT_CHANGES,
    EXIT_OK,
    add_stack_arguments,
    dynatrace_failure,
    dynatrace_url,
    fail,
    load,
)
from kong_slo.dynatrace.classic.status import classic_rows
from kong_slo.dynatrace.credentials import MissingToken, token_from_environment
from kong_slo.dynatrace.platform.status import platform_rows
from kong_slo.http import RetryPolicy
from kong_slo.objectives.sli import slo_definitions
from kong_slo.objectives.status import ObjectiveStatus

NAME = "status"
HELP = ("show each SLO's current value, error budget and burn rate (token from DT_API_TOKEN, or DT_PLATFORM_TOKEN "
        "for platform SLOs); exit 1 if any fails")

POLICY = RetryPolicy(attempts=3, timeout=10.0)
"""Someone is waiting at a terminal: give up within seconds when Dynatrace cannot be reached."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--environment-url", metavar="URL", default=None,
                        help="read from this base URL instead of the stack's environmentUrl (e.g. an ActiveGate)")


def _cell(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.12g}{suffix}"  # 99.99999999 stays as written


def table(rows: list[ObjectiveStatus]) -> str:
    header = ("API", "OBJECTIVE", "CURRENT", "TARGET", "BUDGET LEFT", "BURN RATE", "STATE")
    lines = [header] + [(row.api, row.objective, _cell(row.current, " %"), _cell(row.target, " %"),
                         _cell(row.budget_left, " %"),
                         _cell(row.burn_rate) + (f" ({row.burn.lower()})" if row.burn else ""), row.state)
                        for row in rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def run(args: argparse.Namespace) -> int:
    settings = load(args)
    if settings.dynatrace is None:
        return fail(f"kong-slo status: stack {settings.stack!r} has no kong-slo:dynatrace block, so it has no SLOs")
    definitions = slo_definitions(settings)
    if not definitions:
        print("The stack defines no objectives.")
        return EXIT_OK
    url = dynatrace_url(settings, args.environment_url)
    try:
        if settings.dynatrace.flavour == "platform":
            rows = platform_rows(settings, args.environment_url, definitions)
        else:
            rows = classic_rows(url, token_from_environment(("slo.read",)), settings.stack, definitions, POLICY)
    except MissingToken as error:
        return fail(f"kong-slo status: {error}")
    except DYNATRACE_FAILURES as error:
        return dynatrace_failure(NAME, url, error, as_json=args.json)
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        print(table(rows))
    return EXIT_CHANGES if any(row.state in ("failing", "missing") for row in rows) else EXIT_OK
