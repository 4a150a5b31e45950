"""``kong-slo report``: one self-contained HTML page per stack (or ``--json``), read from Dynatrace: per API and
objective the SLO's value, target and error budget left, the budget and burn rate over the objective's window as
charts, and the burn-rate alerts that fired. Exit 3 when Dynatrace cannot be read."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from kong_slo.commands.common import (
    DYNATRACE_FAILURES,
    EXIT_OK,
    add_stack_arguments,
    dynatrace_failure,
    dynatrace_url,
    fail,
    load,
)
from kong_slo.commands.render import write_all
from kong_slo.commands.report_html import render_html
from kong_slo.dynatrace.classic.report import classic_report
from kong_slo.dynatrace.credentials import MissingToken, token_from_environment
from kong_slo.dynatrace.platform.report import platform_report
from kong_slo.dynatrace.report_reads import REPORT_SCOPES
from kong_slo.http import RetryPolicy
from kong_slo.objectives.report_model import Report
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings import StackSettings

NAME = "report"
HELP = ("write one self-contained HTML page (or --json) with each SLO's value, error budget, its budget and burn "
        "over the window, and the alerts that fired (token from DT_API_TOKEN; DT_PLATFORM_TOKEN for platform SLOs)")
POLICY = RetryPolicy(attempts=3, timeout=10.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--out", metavar="FILE", type=Path, default=None, help="the HTML file to write")
    parser.add_argument("--json", action="store_true", help="print the same data as JSON instead")
    parser.add_argument("--environment-url", metavar="URL", default=None,
                        help="read from this base URL instead of the stack's environmentUrl")


def read_report(settings: StackSettings, url: str | None) -> Report:
    """The report of the stack's flavour; raises ``Unreachable``, ``MissingToken`` or ``DynatraceError``."""
    assert settings.dynatrace is not None
    if settings.dynatrace.flavour == "platform":
        return platform_report(settings, url, slo_definitions(settings))
    token = token_from_environment(REPORT_SCOPES)
    return classic_report(url or settings.dynatrace.environment_url, token, settings.stack, slo_definitions(settings),
                          POLICY)


def run(args: argparse.Namespace) -> int:
    settings = load(args)
    if settings.dynatrace is None:
        return fail(f"kong-slo report: stack {settings.stack!r} has no kong-slo:dynatrace block, so it has no SLOs")
    if args.out is None and not args.json:
        return fail("kong-slo report: name the page to write with --out FILE, or ask for --json")
    try:
        report = read_report(settings, args.environment_url)
    except MissingToken as error:
        return fail(f"kong-slo report: {error}")
    except DYNATRACE_FAILURES as error:
        return dynatrace_failure(NAME, dynatrace_url(settings, args.environment_url), error, as_json=args.json)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    if args.out is not None:
        write_all(args.out.parent if str(args.out.parent) else Path("."), {args.out.name: render_html(report)})
        print(f"wrote {args.out}: {len(report.objectives)} objectives, {len(report.alerts)} alerts", file=sys.stderr)
    return EXIT_OK
