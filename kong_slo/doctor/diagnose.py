"""Runs every link's checks in order, Kong → plugins → collector → Dynatrace, and collects one report.

A link that cannot be checked because an earlier one failed (no plugins to read when Kong does not answer, no
SLOs to read with a refused token) is reported as skipped, with why. A link whose server does not answer, or
answers with something other than its API (a login page, a proxy's error page, JSON of another shape), is one
problem naming the URL; the links after it are still checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kong_slo.doctor.collector import check_collector, collector_address, logs_hint, with_plugin_fallback
from kong_slo.doctor.collector_telemetry import check_telemetry
from kong_slo.doctor.dynatrace_objects import check_alerting, check_metric, check_slos, guarded
from kong_slo.doctor.dynatrace_token import check_token
from kong_slo.doctor.kong_node import KongFacts, check_kong
from kong_slo.doctor.kong_nodes import check_nodes
from kong_slo.doctor.plugins import check_plugins, wanted_for
from kong_slo.doctor.report import Check, Report, problem, skipped
from kong_slo.dynatrace.client import DynatraceClient
from kong_slo.http import SHAPE_ERRORS, ApiError, NotJson, RetryPolicy, Unreachable
from kong_slo.infra.local_endpoints import LocalEndpoints
from kong_slo.kong.admin import KongAdmin
from kong_slo.settings import StackSettings

QUICK = RetryPolicy(attempts=2, initial_delay=0.5, max_delay=2.0, timeout=5.0)
"""Doctor asks, it does not wait out an outage: one retry, five-second timeouts."""


@dataclass(frozen=True)
class Access:
    """Credentials and addresses from outside the stack file. Tokens are never printed."""

    kong_token: str | None = None
    dynatrace_token: str | None = None
    environment_url: str | None = None
    collector_url: str | None = None
    collector_health_url: str | None = None
    collector_telemetry_url: str | None = None
    policy: RetryPolicy = QUICK

    def __repr__(self) -> str:
        return f"Access(environment_url={self.environment_url!r}, collector_url={self.collector_url!r})"


def diagnose(settings: StackSettings, access: Access) -> Report:
    checks: list[Check] = []
    address = collector_address(settings, collector_url=access.collector_url,
                                health_url=access.collector_health_url)
    endpoints: dict[str, str] = {}
    with KongAdmin(settings.kong.admin_url, workspace=settings.kong.workspace, token=access.kong_token,
                   ca_bundle=settings.kong.ca_bundle, policy=access.policy) as kong:
        try:
            kong_checks, facts = check_kong(kong, settings)
        except SHAPE_ERRORS as error:
            kong_checks, facts = answered("kong", "kong.admin_api", f"Kong at {kong.shown_url}", _raise(error)), \
                KongFacts(None)
        checks += kong_checks + check_nodes(settings, access.kong_token, access.policy)
        if facts.version is None:
            checks.append(skipped("plugins", "plugins", "not checked: Kong's Admin API did not answer"))
        else:
            wanted = wanted_for(settings, address.kong_traces_url, facts.version, db_less=facts.db_less)
            findings = []

            def plugins() -> list[Check]:
                findings.append(check_plugins(kong, settings, wanted))
                return list(findings[0].checks)

            checks += answered("plugins", "plugins", f"Kong at {kong.shown_url}", plugins)
            endpoints = findings[0].traces_endpoints if findings else {}
    checks += check_collector(with_plugin_fallback(address, endpoints), logs_hint(settings))
    checks += check_telemetry(telemetry_url(settings, access), logs_hint(settings))
    if settings.dynatrace is not None:
        where = access.environment_url or settings.dynatrace.environment_url
        checks += answered("dynatrace", "dynatrace.reach", f"Dynatrace at {where}",
                           lambda: check_dynatrace(settings, access))
    else:
        checks += check_dynatrace(settings, access)
    return Report.of(checks)


def telemetry_url(settings: StackSettings, access: Access) -> str | None:
    """Where the collector serves its own metrics: ``--collector-telemetry-url``, else the local stack's port."""
    if access.collector_telemetry_url:
        return access.collector_telemetry_url
    return LocalEndpoints().collector_telemetry_url if settings.target == "local" else None


def _raise(error: Exception) -> Callable[[], list[Check]]:
    def step() -> list[Check]:
        raise error
    return step


def answered(link: str, name: str, where: str, step: Callable[[], list[Check]]) -> list[Check]:
    """Run one link's checks; a server that does not answer, or answers with something other than its API,
    becomes one problem naming ``where`` (its errors name the URL)."""
    try:
        return step()
    except Unreachable as error:
        return [problem(link, name, f"{where} is unreachable from here: {error}",
                        "check the URL, or run doctor where that server can be reached (a VPN, a bastion)")]
    except NotJson as error:
        return [problem(link, name, f"{where} did not answer with its API: {error}",
                        "point the URL at the API itself, not a login page or a proxy in front of it")]
    except ApiError as error:
        return [problem(link, name, f"{where} answered with an error: {error}", "run doctor again in a minute")]
    except SHAPE_ERRORS as error:
        return [problem(link, name, f"{where} answered JSON of an unexpected shape ({type(error).__name__}: "
                        f"{error})", "point the URL at the API itself, not a proxy or another service")]


def check_dynatrace(settings: StackSettings, access: Access) -> list[Check]:
    """Link 4: the API token and the SLO objects (classic), or the ingest token and the platform (platform)."""
    if settings.dynatrace is None:
        return [skipped("dynatrace", "dynatrace", "the stack has no kong-slo:dynatrace block (telemetry goes to "
                        "the collector's debug exporter)")]
    if settings.dynatrace.platform is not None:
        from kong_slo.doctor.dynatrace_platform import check_platform

        ingest: list[Check] = []
        if access.dynatrace_token:  # the collector's token, on the live host
            live = (access.environment_url or settings.dynatrace.environment_url).replace(".apps.", ".live.", 1)
            with DynatraceClient(live, access.dynatrace_token, policy=access.policy) as client:
                ingest = check_token(client, access.dynatrace_token, settings)[0]
        return [*ingest, *check_platform(settings, access.environment_url, access.policy)]
    if not access.dynatrace_token:
        return [skipped("dynatrace", "dynatrace", "no token given")]
    url = access.environment_url or settings.dynatrace.environment_url
    with DynatraceClient(url, access.dynatrace_token, policy=access.policy) as client:
        checks, usable = check_token(client, access.dynatrace_token, settings)
        if not usable:
            return [*checks, skipped("dynatrace", "dynatrace.objects",
                                     "metric, SLOs and alerts not checked: the token does not work")]
        checks += guarded("dynatrace.metric", "metrics.read", lambda: check_metric(client, settings))
        checks += guarded("dynatrace.slos", "slo.read", lambda: check_slos(client, settings))
        checks += guarded("dynatrace.alerting", "settings.read", lambda: check_alerting(client, settings))
    return checks
