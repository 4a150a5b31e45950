"""Checks across sections: what a target needs, and what a given Kong version can honour."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from kong_slo.settings.model import KongVersion, StackSettings
from kong_slo.settings.reader import NAMESPACE, Problems

SCOPED_PLUGINS_SINCE = KongVersion(3, 2)
PLUGIN_SAMPLING_SINCE = KongVersion(3, 6)
LOGS_ENDPOINT_SINCE = KongVersion(3, 8)
ENVIRONMENT_PATH = re.compile(r"^(/e/[A-Za-z0-9-]+)?(/api/v2)?/?$")
"""The paths a Dynatrace environment URL may have: none (SaaS), ``/e/<environment-id>`` (Managed, ActiveGate),
either followed by ``/api/v2``."""


def environment_url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as the base of Dynatrace's ``/api/v2`` and OTLP endpoints, or None.

    Anything beyond scheme, host, port and the environment path would end up inside every endpoint built from
    it (``…/ui/apps/x/api/v2/otlp``) or leak into logs (credentials).
    """
    parts = urlsplit(url.strip())
    if parts.username is not None or parts.password is not None:
        return f"{_redacted(parts)} must not carry credentials; the API token goes in apiToken"
    try:
        port = parts.port
    except ValueError:
        return f"{url!r} has an invalid port"
    if port == 0:
        return f"{url!r} has an invalid port"
    if parts.query or parts.fragment:
        return f"{url!r} must not have a query or fragment (?… or #…)"
    if not ENVIRONMENT_PATH.match(parts.path):
        return (f"{url!r} has the path {parts.path!r}; use the environment URL alone (https://<id>.live.dynatrace.com"
                " or https://<host>/e/<environment-id>)")
    return None


def admin_url_problem(url: str) -> str | None:
    """Why ``kong.adminUrl`` cannot carry ``user:password@``, or None. It is a plain value: in the stack file and
    in the state of every plugin resource (an input of each), so credentials there would sit in clear text."""
    parts = urlsplit(url.strip())
    if parts.username is None and parts.password is None:
        return None
    return (f"{_redacted(parts)} must not carry credentials: the URL is stored in clear text in the stack file and "
            "in the state of every plugin; give the Admin API token as the secret kong.adminToken "
            "(pulumi config set --secret --path 'kong-slo:kong.adminToken')")


def _redacted(parts: SplitResult) -> str:
    return f"{parts.scheme}://***@{parts.hostname or ''}{parts.path}"


HEADER_TYPE_SINCE = KongVersion(3, 3)
"""The first release whose plugin can be told to ignore an incoming trace context (``header_type: ignore``)."""


def check_target(settings: StackSettings, problems: Problems) -> None:
    """``aws`` needs a region, a Kong Admin API, an allow-list for OTLP and a Dynatrace environment;
    ``external`` needs a Kong Admin API and the address of the team's own collector."""
    if settings.target == "external":
        _check_external(settings, problems)
    if settings.target != "aws":
        return
    if not settings.aws_region:
        problems.add("aws:region", "is required for target aws: "
                                   f"{problems.config_set('aws:region', 'eu-west-1', secret=False)}")
    if not settings.collector.allowed_cidrs and not problems.mentions(f"{NAMESPACE}:collector.allowedCidrs"):
        problems.add(f"{NAMESPACE}:collector.allowedCidrs",
                     "is required for target aws: the CIDR blocks of the Kong nodes that send OTLP")
    if not settings.kong.admin_url and not problems.mentions(f"{NAMESPACE}:kong.adminUrl"):
        problems.add(f"{NAMESPACE}:kong.adminUrl", "is required for target aws, e.g. http://kong.internal:8001")
    if settings.dynatrace is None and not problems.mentions(f"{NAMESPACE}:dynatrace"):
        problems.add(f"{NAMESPACE}:dynatrace.environmentUrl",
                     "is required for target aws: the collector exports to Dynatrace")


def _check_external(settings: StackSettings, problems: Problems) -> None:
    if not settings.kong.admin_url and not problems.mentions(f"{NAMESPACE}:kong.adminUrl"):
        problems.add(f"{NAMESPACE}:kong.adminUrl", "is required for target external, e.g. http://kong.internal:8001")
    if not settings.kong.collector_url and not problems.mentions(f"{NAMESPACE}:kong.collectorUrl"):
        problems.add(f"{NAMESPACE}:kong.collectorUrl",
                     "is required for target external: where Kong sends OTLP to your collector, e.g. "
                     "http://otel-collector.observability:4318")


def check_tier(settings: StackSettings, problems: Problems) -> None:
    """A tier runs on AWS only, spreads over ``subnetIds`` and is reached through its load balancer."""
    collector = settings.collector
    if not collector.is_tier:
        return
    prefix = f"{NAMESPACE}:collector"
    if settings.target != "aws":
        key = "replicas" if collector.replicas > 1 else "maxReplicas"
        problems.add(f"{prefix}.{key}", f"several collector instances need target aws; target {settings.target} "
                                        "runs one collector")
    if collector.subnet_id:
        problems.add(f"{prefix}.subnetId", f"places a single host; a tier spreads over {prefix}.subnetIds, so "
                                           "drop subnetId")
    if collector.public_ip:
        problems.add(f"{prefix}.publicIp", "gives a single host an Elastic IP; a tier is reached through its "
                                           "internal load balancer, so Kong must be in (or routed into) the VPC")


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
