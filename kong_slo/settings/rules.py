"""Checks across sections: what a target needs, and what a given Kong version can honour."""

from __future__ import annotations

from kong_slo.settings.model import KongVersion, StackSettings
from kong_slo.settings.reader import NAMESPACE, Problems

SCOPED_PLUGINS_SINCE = KongVersion(3, 2)
PLUGIN_SAMPLING_SINCE = KongVersion(3, 6)
LOGS_ENDPOINT_SINCE = KongVersion(3, 8)
HEADER_TYPE_SINCE = KongVersion(3, 3)
"""The first release whose plugin can be told to ignore an incoming trace context (``header_type: ignore``)."""


def check_target(settings: StackSettings, problems: Problems) -> None:
    """``aws`` needs a region, a Kong Admin API, an allow-list for OTLP and a Dynatrace environment."""
    if settings.target != "aws":
        return
    if not settings.aws_region:
        problems.add("aws:region", "is required for target aws: `pulumi config set aws:region eu-west-1`")
    if not settings.collector.allowed_cidrs and not any(
            line.startswith(f"{NAMESPACE}:collector.allowedCidrs") for line in problems.lines):
        problems.add(f"{NAMESPACE}:collector.allowedCidrs",
                     "is required for target aws: the CIDR blocks of the Kong nodes that send OTLP")
    if not settings.kong.admin_url:
        problems.add(f"{NAMESPACE}:kong.adminUrl", "is required for target aws, e.g. http://kong.internal:8001")
    if settings.dynatrace is None:
        problems.add(f"{NAMESPACE}:dynatrace.environmentUrl",
                     "is required for target aws: the collector exports to Dynatrace")


def check_sli_source(settings: StackSettings, problems: Problems) -> None:
    """Dynatrace's service metrics apply Dynatrace's own failure detection (5xx), so ``failOn`` cannot change it."""
    if settings.dynatrace is None or settings.dynatrace.sli_source != "service":
        return
    for index, api in enumerate(settings.apis):
        if api.availability is not None and api.availability.fail_on != ("5xx",):
            problems.add(f"{NAMESPACE}:apis[{index}].availability.failOn",
                         f"{list(api.availability.fail_on)} needs {NAMESPACE}:dynatrace.sliSource: collector; with "
                         "sliSource service Dynatrace's own failure detection decides (5xx fail)")


def check_version_wishes(settings: StackSettings, problems: Problems) -> None:
    """When ``kong.version`` is given, refuse what that version cannot do, naming the version."""
    version = settings.kong.version
    if version is None:
        return
    if version < SCOPED_PLUGINS_SINCE and settings.apis:
        problems.add(f"{NAMESPACE}:kong.version",
                     f"Kong {version} runs the opentelemetry plugin only globally; one plugin per API "
                     f"(per service or route) needs Kong {SCOPED_PLUGINS_SINCE} or later")
    if settings.kong.export_logs and version < LOGS_ENDPOINT_SINCE:
        problems.add(f"{NAMESPACE}:kong.exportLogs",
                     f"Kong {version} cannot export logs over OpenTelemetry (logs_endpoint needs Kong "
                     f"{LOGS_ENDPOINT_SINCE} or later); set it to false")
    if settings.kong.incoming_trace_context == "ignore" and version < HEADER_TYPE_SINCE:
        problems.add(f"{NAMESPACE}:kong.incomingTraceContext",
                     f"Kong {version} always follows an incoming traceparent, so requests a caller did not sample "
                     f"would never be counted; ignoring it needs Kong {HEADER_TYPE_SINCE} or later. Set it to "
                     "honour to accept incomplete counts")
    for index, api in enumerate(settings.apis):
        if api.sampling_rate is not None and version < PLUGIN_SAMPLING_SINCE:
            problems.add(f"{NAMESPACE}:apis[{index}].samplingRate",
                         f"Kong {version} has no per-plugin sampling_rate (it needs Kong "
                         f"{PLUGIN_SAMPLING_SINCE} or later); use {NAMESPACE}:kong.samplingRate, which "
                         "goes into kong.conf")
