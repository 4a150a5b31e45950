"""Link 3, the collector: its health endpoint and its OTLP/HTTP port answer, where this machine can reach them.

A refused connection means the host answered and nothing listens: the collector is down. A timeout, an unknown
host name or no route means this machine cannot see it (an AWS collector accepts OTLP from Kong's network only
and publishes its health port nowhere): that is reported as not reachable from here, not as a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests

from kong_slo.collector.model import HEALTH_PORT, OTLP_HTTP_PORT
from kong_slo.collector.render import APP_DIR
from kong_slo.doctor.reach import probe
from kong_slo.doctor.report import Check, ok, problem, skipped
from kong_slo.infra.local_endpoints import LOOPBACK, LocalEndpoints
from kong_slo.kong.payload import OTLP_TRACES_PATH, otlp_urls
from kong_slo.settings import StackSettings

LINK = "collector"
OTLP_ANSWER_TO_GET = 405
"""The OTLP/HTTP receiver takes POST only and answers any other method 405 Method Not Allowed
(opentelemetry-collector receiver/otlpreceiver/otlphttp.go, ``handleUnmatchedMethod``)."""
def logs_hint(settings: StackSettings) -> str:
    """Where the collector's own log says why it stopped or refuses, for this stack's target."""
    if settings.target == "local":
        return (f"`docker logs kong-slo-{settings.stack}-collector` (start the stack with "
                f"`make up STACK={settings.stack}`)")
    return f"`sudo docker compose -f {APP_DIR}/docker-compose.yml logs otel-collector` on the collector's host"


@dataclass(frozen=True)
class CollectorAddress:
    """Where Kong should send traces, and where this machine probes the collector; None where unknown."""

    kong_traces_url: str | None
    otlp_url: str | None
    health_url: str | None
    source: str
    """Which setting said so, for messages."""


def collector_address(settings: StackSettings, *, collector_url: str | None = None,
                      health_url: str | None = None) -> CollectorAddress:
    """From ``--collector-url`` / ``--collector-health-url``, else ``kong.collectorUrl``, else the local stack's
    fixed ports; None parts when the stack does not say (an aws stack knows its host only after ``pulumi up``)."""
    if collector_url or settings.kong.collector_url:
        base = otlp_urls(collector_url or settings.kong.collector_url or "").traces.removesuffix(OTLP_TRACES_PATH)
        source = "--collector-url" if collector_url else "kong.collectorUrl"
        return CollectorAddress(f"{base}{OTLP_TRACES_PATH}", base, health_url or health_url_of(base), source)
    if settings.target == "local":
        local = LocalEndpoints()
        return CollectorAddress(otlp_urls(local.collector_internal).traces, f"http://{LOOPBACK}:{OTLP_HTTP_PORT}",
                                health_url or local.collector_health_url, "the local stack")
    return CollectorAddress(None, None, health_url, "")


def health_url_of(otlp_base: str) -> str:
    """The health_check extension on the collector's host: ``http://host:13133/``."""
    parts = urlsplit(otlp_base)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return urlunsplit(("http", f"{host}:{HEALTH_PORT}", "/", "", ""))


def with_plugin_fallback(address: CollectorAddress, traces_endpoints: Mapping[str, str]) -> CollectorAddress:
    """When the stack does not say where the collector is, probe where the plugins send (if they agree)."""
    if address.otlp_url is not None:
        return address
    found = sorted(set(traces_endpoints.values()))
    if len(found) != 1:
        return address
    base = found[0].removesuffix(OTLP_TRACES_PATH)
    return CollectorAddress(found[0], base, address.health_url or health_url_of(base), "the plugins' endpoint")


def check_collector(address: CollectorAddress, logs: str) -> list[Check]:
    """``logs`` says where to read the collector's log (``logs_hint``)."""
    if address.otlp_url is None and address.health_url is None:
        return [skipped(LINK, "collector.health", "the stack does not say where the collector is: pass "
                        "--collector-url (the otlp_http_url stack output) or set kong.collectorUrl")]
    checks = []
    if address.health_url is not None:
        checks.append(_probe_health(address.health_url, logs))
    if address.otlp_url is not None:
        checks.append(_probe_otlp(address.otlp_url, logs))
    return checks


def _probe_health(url: str, logs: str) -> Check:
    name = "collector.health"
    result = probe(url)
    if result.refused:
        return problem(LINK, name, f"nothing listens at the health endpoint {url}: the collector is down",
                       f"start the collector and read why it stopped: {logs}")
    if result.response is None:
        return skipped(LINK, name, f"health endpoint {url} not reachable from here ({result.unreachable}); run "
                       "doctor on the collector's network, or pass --collector-health-url through a port forward")
    if result.response.status_code == 200:
        return ok(LINK, name, f"health endpoint {url}: {_status_text(result.response)}")
    return problem(LINK, name, f"health endpoint {url} answered {result.response.status_code}: the collector is "
                   "not ready", f"read why in its log: {logs}")


def _probe_otlp(base: str, logs: str) -> Check:
    name = "collector.otlp"
    # A GET is answered 405 by the OTLP/HTTP receiver: enough to know it listens, and it sends no data.
    result = probe(f"{base}{OTLP_TRACES_PATH}")
    if result.refused:
        return problem(LINK, name, f"nothing listens on the OTLP port at {base}: the collector is down or its "
                       "otlp receiver is not on this port", f"start the collector and read its log: {logs}")
    if result.response is None:
        return skipped(LINK, name, f"OTLP endpoint {base} not reachable from here ({result.unreachable}); only "
                       "Kong's network may need to reach it")
    status = result.response.status_code
    if status == OTLP_ANSWER_TO_GET:
        return ok(LINK, name, f"OTLP endpoint {base} answers (HTTP {status} to a GET, as an OTLP/HTTP receiver does)")
    return problem(LINK, name, f"OTLP endpoint {base} answered HTTP {status} to a GET, where an OTLP/HTTP receiver "
                   f"answers {OTLP_ANSWER_TO_GET}: something else listens there",
                   "point --collector-url (or kong.collectorUrl) at the collector's OTLP/HTTP port "
                   f"({OTLP_HTTP_PORT}), not a proxy or another service")


def _status_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "HTTP 200"
    return str(body.get("status") or "HTTP 200") if isinstance(body, dict) else "HTTP 200"
