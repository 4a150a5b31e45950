"""Link 4b, what Dynatrace holds for the stack: the SLO counter metric with recent data per API, each SLO
(present, enabled, evaluating without error), each burn-rate alert and the e-mail notification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kong_slo import telemetry
from kong_slo.doctor.report import Check, ok, problem, skipped
from kong_slo.dynatrace.alerting import (
    ALERTING_PROFILE_SCHEMA,
    METRIC_EVENT_SCHEMA,
    NOTIFICATION_SCHEMA,
    burn_rate_alerts,
    notification_external_id,
    profile_external_id,
)
from kong_slo.dynatrace.client import DynatraceClient, DynatraceError
from kong_slo.dynatrace.reads import list_settings, metric_descriptor, query_series
from kong_slo.objectives.sli import SloDefinition, selector_string, slo_definitions, slo_name_prefix
from kong_slo.settings import StackSettings

LINK = "dynatrace"
RECENT = "now-30m"
RECENT_WORDS = "the last 30 minutes"
UP_FIX = "run `pulumi up` for this stack"


def recent_calls_selector() -> str:
    """Calls per API over the query window, as one value per ``service.name``."""
    return f"{telemetry.CALLS_METRIC_KEY}:splitBy({selector_string(telemetry.SERVICE_DIMENSION)}):sum"


def guarded(name: str, scope: str, step: Callable[[], list[Check]]) -> list[Check]:
    """Run one step; a refused or failed call becomes a problem naming the scope it needs."""
    try:
        return step()
    except DynatraceError as error:
        if error.status in (401, 403):
            return [problem(LINK, name, f"Dynatrace refused the read ({error.status}): {error}",
                            f"add the scope {scope} to the token")]
        return [problem(LINK, name, f"Dynatrace did not answer: {error}", "run doctor again in a minute")]


def check_metric(client: DynatraceClient, settings: StackSettings) -> list[Check]:
    key = telemetry.CALLS_METRIC_KEY
    if settings.dynatrace is not None and settings.dynatrace.sli_source != "collector":
        return [skipped(LINK, "dynatrace.metric", f"sliSource is {settings.dynatrace.sli_source}: the SLOs do "
                        f"not read {key}")]
    if metric_descriptor(client, key) is None:
        return [problem(LINK, "dynatrace.metric", f"metric {key} does not exist: no SLO counter has ever arrived",
                        "send a request through Kong, then read the collector's logs for export errors (token "
                        "scope metrics.ingest, environment URL)")]
    totals: dict[str, float] = {}
    for series in query_series(client, recent_calls_selector(), since=RECENT):
        service = (series.get("dimensionMap") or {}).get(telemetry.SERVICE_DIMENSION)
        values = [value for value in series.get("values") or [] if isinstance(value, int | float)]
        if service is not None:
            totals[service] = totals.get(service, 0.0) + sum(values)
    checks = [ok(LINK, "dynatrace.metric", f"metric {key} exists")]
    for api in settings.apis:
        calls = totals.get(api.name, 0.0)
        if calls > 0:
            checks.append(ok(LINK, f"dynatrace.data.{api.name}", f"{api.name}: {calls:g} calls counted in "
                             f"{RECENT_WORDS}"))
        else:
            checks.append(problem(
                LINK, f"dynatrace.data.{api.name}", f"{api.name}: no calls counted in {RECENT_WORDS}",
                f"send a request to {api.name} through Kong; if it had traffic, fix the first problem above on its "
                "way (plugin, collector)"))
    return checks


def check_slos(client: DynatraceClient, settings: StackSettings) -> list[Check]:
    definitions = slo_definitions(settings)
    found = {slo.get("name"): slo for slo in
             client.list_slos(f"text({selector_string(slo_name_prefix(settings.stack))})", evaluate=True)}
    return [slo_check(definition, found.get(definition.name)) for definition in definitions]


def slo_check(definition: SloDefinition, slo: dict[str, Any] | None) -> Check:
    """One SLO as listed with ``evaluate=true`` (None when no SLO has its name)."""
    name = f"dynatrace.slo.{definition.api}.{definition.objective}"
    if slo is None:
        return problem(LINK, name, f"SLO {definition.name!r} does not exist", UP_FIX)
    if slo.get("enabled") is False:
        return problem(LINK, name, f"SLO {definition.name!r} is disabled, so it is not evaluated",
                       f"{UP_FIX} (it sends enabled: true), or enable it in Dynatrace")
    error = slo.get("error")
    if error not in (None, "", "NONE"):
        return problem(LINK, name, f"SLO {definition.name!r} does not evaluate: {error}",
                       "if it says no data, fix the metric checks above; otherwise run `pulumi up` to write its "
                       "expression again")
    current = slo.get("evaluatedPercentage")
    shown = f"{current:g} %" if isinstance(current, int | float) and current >= 0 else "no value yet"
    return ok(LINK, name, f"SLO {definition.name!r} is enabled and evaluates ({shown})")


def check_alerting(client: DynatraceClient, settings: StackSettings) -> list[Check]:
    if settings.dynatrace is None or settings.dynatrace.alerting is None:
        return [skipped(LINK, "dynatrace.alerting", "the stack sets no dynatrace.alerting.emails")]
    project, stack = settings.project, settings.stack
    events = list_settings(client, METRIC_EVENT_SCHEMA)
    checks = []
    policy = settings.dynatrace.alerting.burn_rate
    by_external_id = {str(item.get("externalId")): item for item in events}
    for definition in slo_definitions(settings):
        name = f"dynatrace.alert.{definition.api}.{definition.objective}"
        wanted = {rule.key: by_external_id.get(ext_id)
                  for rule, ext_id, _ in burn_rate_alerts(project, stack, definition, policy)}
        missing = sorted(key for key, item in wanted.items() if item is None)
        disabled = sorted(key for key, item in wanted.items()
                          if item is not None and (item.get("value") or {}).get("enabled") is False)
        if missing:
            checks.append(problem(LINK, name, f"SLO {definition.name!r} lacks its burn-rate alert(s) "
                                              f"{', '.join(missing)}", UP_FIX))
        elif disabled:
            checks.append(problem(LINK, name, f"the burn-rate alert(s) {', '.join(disabled)} of SLO "
                                              f"{definition.name!r} are disabled",
                                  f"{UP_FIX} (it enables the alerts again)"))
        else:
            checks.append(ok(LINK, name, f"burn-rate alerts {', '.join(wanted)} for SLO {definition.name!r} exist"))
    profile = client.find_settings(ALERTING_PROFILE_SCHEMA, profile_external_id(project, stack))
    notification = client.find_settings(NOTIFICATION_SCHEMA, notification_external_id(project, stack))
    if profile is None:
        checks.append(problem(LINK, "dynatrace.alerting_profile", "the stack's alerting profile does not exist",
                              UP_FIX))
    else:
        checks.append(ok(LINK, "dynatrace.alerting_profile", "the stack's alerting profile exists"))
    if notification is None:
        checks.append(problem(LINK, "dynatrace.notification", "the e-mail notification does not exist", UP_FIX))
    elif (notification.get("value") or {}).get("enabled") is False:
        checks.append(problem(LINK, "dynatrace.notification", "the e-mail notification is disabled",
                              f"{UP_FIX} (it enables the notification again)"))
    else:
        recipients = ((notification.get("value") or {}).get("emailNotification") or {}).get("recipients") or []
        checks.append(ok(LINK, "dynatrace.notification", f"e-mail notification to {', '.join(recipients)} exists"))
    return checks
