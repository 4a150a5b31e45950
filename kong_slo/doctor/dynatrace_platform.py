"""Link 4 for platform SLOs (Latest Dynatrace): the platform credentials work, each objective has its SLO (found by
``externalId``) and it evaluates, and with alerting each burn-rate detector exists. Read-only: the evaluation Dynatrace
runs on request changes nothing."""

from __future__ import annotations

from typing import Any

from kong_slo.doctor.dynatrace_platform_reads import LINK, UP_FIX, check_dashboard, check_report_reads
from kong_slo.doctor.report import Check, ok, problem, skipped
from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.credentials import MissingToken
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA
from kong_slo.dynatrace.platform.client import SETTINGS_API_PATH, PlatformClient
from kong_slo.dynatrace.platform.credentials import credentials_from_environment
from kong_slo.dynatrace.platform.definitions import platform_external_id
from kong_slo.dynatrace.platform.detectors import burn_rate_detectors
from kong_slo.http import RetryPolicy
from kong_slo.objectives.sli import SloDefinition, slo_definitions
from kong_slo.settings import StackSettings

DETECTOR_READ_SCOPES = ("settings:objects:read",)
CREDENTIALS_FIX = ("give the platform token or OAuth client the scopes slo:slos:read, slo:slos:write, "
                   "settings:objects:read and settings:objects:write, or export the right DT_PLATFORM_TOKEN")


def check_platform(settings: StackSettings, url: str | None, policy: RetryPolicy) -> list[Check]:
    """The platform link's checks; ``url`` overrides the stack's ``apps`` URL."""
    assert settings.dynatrace is not None and settings.dynatrace.platform is not None
    platform_url = url or settings.dynatrace.platform.url
    try:
        credentials = credentials_from_environment(settings)
        bearer = credentials.bearer(policy)
    except MissingToken as error:
        return [skipped(LINK, "dynatrace.platform", str(error))]
    except DynatraceError as error:
        return [problem(LINK, "dynatrace.platform.credentials", f"Dynatrace SSO refused the OAuth client: {error}",
                        CREDENTIALS_FIX)]
    with PlatformClient(platform_url, bearer, policy=policy) as client:
        try:
            found = {slo.get("externalId"): slo for slo in client.list_platform_slos()}
        except DynatraceError as error:
            return [problem(LINK, "dynatrace.platform.credentials",
                            f"the platform SLO API at {platform_url} refused the credentials: {error}",
                            CREDENTIALS_FIX)]
        checks = [ok(LINK, "dynatrace.platform.credentials", f"the platform SLO API at {platform_url} answers")]
        checks += [_slo_check(client, definition, found.get(platform_external_id(definition)))
                   for definition in slo_definitions(settings)]
    checks += [check_dashboard(settings, platform_url, credentials, policy),
               check_report_reads(settings, platform_url, credentials, policy)]
    if settings.dynatrace.alerting is not None:
        try:  # an OAuth client asks SSO again: reading detectors takes a Settings scope, not the SLO scopes
            settings_bearer = credentials.bearer(policy, DETECTOR_READ_SCOPES)
        except DynatraceError as error:
            return [*checks, problem(LINK, "dynatrace.detectors", f"Dynatrace SSO refused the OAuth client the "
                                     f"scope {' '.join(DETECTOR_READ_SCOPES)}: {error}", CREDENTIALS_FIX)]
        checks += _detector_checks(settings, platform_url, settings_bearer, policy)
    return checks


def _slo_check(client: PlatformClient, definition: SloDefinition, slo: dict[str, Any] | None) -> Check:
    name = f"dynatrace.slo.{definition.api}.{definition.objective}"
    if slo is None:
        return problem(LINK, name, f"no platform SLO with externalId {platform_external_id(definition)!r}", UP_FIX)
    try:
        results = client.evaluate_platform_slo(str(slo["id"]))
    except DynatraceError as error:
        return problem(LINK, name, f"SLO {definition.name!r} does not evaluate: {error}",
                       "check the counter's data in Grail (`fetch metric.series` on kong.slo.calls), then pulumi up")
    first = results[0] if results else {}
    if first.get("status") not in ("SUCCESS", "WARNING", "FAILURE"):
        return problem(LINK, name, f"SLO {definition.name!r} evaluates to no value ({first.get('status') or 'empty'})",
                       "send traffic through Kong and check the collector link above")
    return ok(LINK, name, f"SLO {definition.name!r} evaluates: {first.get('value')} % ({first['status']})")


def _detector_checks(settings: StackSettings, url: str, bearer: str, policy: RetryPolicy) -> list[Check]:
    checks = []
    with PlatformClient(url, bearer, policy=policy, api_path=SETTINGS_API_PATH) as client:
        try:
            present = {item.get("externalId") for item in client.list_settings(DETECTOR_SCHEMA)}
        except DynatraceError as error:
            return [problem(LINK, "dynatrace.detectors", f"the burn-rate detectors cannot be read: {error}",
                            CREDENTIALS_FIX)]
        policy = settings.dynatrace.alerting.burn_rate
        for definition in slo_definitions(settings):
            wanted = {rule.key: ext_id for rule, ext_id, _ in burn_rate_detectors(settings.project, settings.stack,
                                                                                   definition, policy)}
            missing = [key for key, ext_id in wanted.items() if ext_id not in present]
            name = f"dynatrace.alert.{definition.api}.{definition.objective}"
            if missing:
                checks.append(problem(LINK, name, f"SLO {definition.name!r} lacks its burn-rate detector(s) "
                                                  f"{', '.join(missing)}", UP_FIX))
            else:
                checks.append(ok(LINK, name, f"burn-rate detectors {', '.join(wanted)} for SLO "
                                             f"{definition.name!r} exist"))
    return checks
