"""``kong-slo doctor``: is every link of the chain working (Kong, the plugins, the collector, Dynatrace), and if
not, what to do. Only reads; changes nothing anywhere."""

from __future__ import annotations

import argparse
import os
from urllib.parse import urlsplit

from kong_slo.commands.common import EXIT_CHANGES, EXIT_OK, add_stack_arguments, fail, load
from kong_slo.doctor.diagnose import Access, diagnose
from kong_slo.doctor.report import render_json, render_text
from kong_slo.dynatrace.credentials import TOKEN_ENV

NAME = "doctor"
HELP = ("check a deployed stack link by link (Kong, plugins, collector, Dynatrace) and name the fix for each "
        f"problem; tokens from {TOKEN_ENV} and KONG_ADMIN_TOKEN; exit 1 if any problem")
KONG_TOKEN_ENV = "KONG_ADMIN_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--environment-url", metavar="URL", default=None,
                        help="read Dynatrace at this base URL instead of the stack's environmentUrl")
    parser.add_argument("--collector-url", metavar="URL", default=None,
                        help="the collector's OTLP/HTTP base URL (e.g. the otlp_http_url stack output), when the "
                             "stack does not set kong.collectorUrl")
    parser.add_argument("--collector-health-url", metavar="URL", default=None,
                        help="the collector's health endpoint (default: port 13133 on the collector's host)")
    parser.add_argument("--collector-telemetry-url", metavar="URL", default=None,
                        help="the collector's own metrics, to see what it dropped (http://127.0.0.1:8888/metrics "
                             "on its host; the local stack's by default)")


def _env(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def url_problem(option: str, url: str | None) -> str | None:
    """Why ``url`` given as ``option`` is not an http(s) URL with a host and a readable port; None when it is."""
    if url is None:
        return None
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as error:
        return f"{option} {url!r} is not a URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{option} {url!r} is not an http(s) URL with a host, e.g. http://collector.internal:4318"
    return None


def run(args: argparse.Namespace) -> int:
    for option, url in (("--collector-url", args.collector_url), ("--collector-health-url", args.collector_health_url),
                        ("--collector-telemetry-url", args.collector_telemetry_url),
                        ("--environment-url", args.environment_url)):
        if (reason := url_problem(option, url)) is not None:
            return fail(f"kong-slo doctor: {reason}")
    settings = load(args)
    kong_token = _env(KONG_TOKEN_ENV)
    if kong_token is None and settings.kong.admin_token is not None:
        kong_token = settings.kong.admin_token.value
        if kong_token is None:
            return fail(f"kong-slo doctor: the stack sets kong.adminToken; export it as {KONG_TOKEN_ENV}")
    dynatrace_token = _env(TOKEN_ENV)
    if settings.dynatrace is not None and dynatrace_token is None:
        return fail(f"kong-slo doctor: set {TOKEN_ENV} to the stack's Dynatrace API token")
    access = Access(kong_token=kong_token, dynatrace_token=dynatrace_token, environment_url=args.environment_url,
                    collector_url=args.collector_url, collector_health_url=args.collector_health_url,
                    collector_telemetry_url=args.collector_telemetry_url)
    report = diagnose(settings, access)
    print(render_json(report) if args.json else render_text(report))
    return EXIT_CHANGES if report.problems else EXIT_OK
