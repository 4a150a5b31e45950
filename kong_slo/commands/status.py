"""``kong-slo status``: how every objective of the stack is doing right now, read from Dynatrace."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any

from kong_slo.commands.common import EXIT_CHANGES, EXIT_OK, EXIT_UNREACHABLE, add_stack_arguments, fail, load
from kong_slo.dynatrace.client import DynatraceClient
from kong_slo.dynatrace.credentials import TOKEN_ENV, MissingToken
from kong_slo.http import RetryPolicy, Unreachable
from kong_slo.slo import SloDefinition, selector_string, slo_definitions, slo_name_prefix

NAME = "status"
HELP = ("show each SLO's current value, error budget and burn rate (token from DT_API_TOKEN, or DT_PLATFORM_TOKEN "
        "for platform SLOs); exit 1 if any fails")

POLICY = RetryPolicy(attempts=3, timeout=10.0)
"""Someone is waiting at a terminal: give up within seconds when Dynatrace cannot be reached."""

STATES = {"SUCCESS": "ok", "WARNING": "warning", "FAILURE": "failing"}


@dataclass(frozen=True)
class ObjectiveStatus:
    api: str
    objective: str
    slo: str
    state: str
    """``ok``, ``warning``, ``failing``, ``no data`` or ``missing`` (not deployed)."""
    current: float | None
    target: float
    warning: float
    budget_left: float | None
    """Share of the error budget still unspent, in percent (negative when overspent)."""
    burn_rate: float | None
    burn: str | None
    """``FAST``, ``SLOW`` or ``NONE`` as Dynatrace classifies the burn rate."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--environment-url", metavar="URL", default=None,
                        help="read from this base URL instead of the stack's environmentUrl (e.g. an ActiveGate)")


def objective_status(definition: SloDefinition, slo: dict[str, Any] | None) -> ObjectiveStatus:
    """One row, from the definition and the evaluated SLO (None when no SLO of that name exists)."""
    if slo is None:
        return without_value(definition, "missing")
    current = slo.get("evaluatedPercentage")
    if not (isinstance(current, int | float) and current >= 0 and slo.get("error", "NONE") == "NONE"):
        return without_value(definition, "no data")
    burn = slo.get("errorBudgetBurnRate") or {}
    budget = slo.get("errorBudget")
    return ObjectiveStatus(
        api=definition.api, objective=definition.objective, slo=definition.name,
        state=STATES.get(str(slo.get("status")), "no data"), current=round(float(current), 4),
        target=definition.target, warning=definition.warning,
        budget_left=round(100.0 * budget / (100.0 - definition.target), 2) if isinstance(budget, int | float) else None,
        burn_rate=burn.get("burnRateValue"), burn=burn.get("burnRateType"))


def without_value(definition: SloDefinition, state: str) -> ObjectiveStatus:
    """A row without a value: ``missing`` (not deployed) or ``no data``."""
    return ObjectiveStatus(definition.api, definition.objective, definition.name, state, None,
                           definition.target, definition.warning, None, None, None)


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
    if settings.dynatrace.flavour == "platform":
        from kong_slo.commands.platform_status import platform_rows

        try:
            rows = platform_rows(settings, args.environment_url, definitions)
        except MissingToken as error:
            return fail(f"kong-slo status: {error}")
        except Unreachable as error:
            print(f"kong-slo status: cannot reach Dynatrace: {error}", file=sys.stderr)
            return EXIT_UNREACHABLE
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            return fail(f"kong-slo status: set {TOKEN_ENV} to a Dynatrace API token with the slo.read scope")
        url = args.environment_url or settings.dynatrace.environment_url
        try:
            with DynatraceClient(url, token, policy=POLICY) as client:
                selector = f"text({selector_string(slo_name_prefix(settings.stack))})"
                found = {slo.get("name"): slo for slo in client.list_slos(selector, evaluate=True)}
        except Unreachable as error:
            print(f"kong-slo status: cannot reach Dynatrace at {url}: {error}", file=sys.stderr)
            return EXIT_UNREACHABLE
        rows = [objective_status(definition, found.get(definition.name)) for definition in definitions]
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        print(table(rows))
    return EXIT_CHANGES if any(row.state in ("failing", "missing") for row in rows) else EXIT_OK
