"""Names and addresses of the local stack (pure, so the CLI can use them without pulumi-docker)."""

from __future__ import annotations

from dataclasses import dataclass

from kong_slo.collector.model import HEALTH_PORT, OTLP_HTTP_PORT, TELEMETRY_PORT
from kong_slo.settings.model import LOCAL_ADMIN_PORT

LOOPBACK = "127.0.0.1"
PROXY_PORT = 8000
ADMIN_PORT = LOCAL_ADMIN_PORT
UPSTREAM_PORT = 8080
COLLECTOR_HOST = "otel-collector"
UPSTREAM_HOST = "upstream"


@dataclass(frozen=True)
class LocalEndpoints:
    """Where things are reachable: from the host (``*_url``) and from inside the network (``*_internal``)."""

    proxy_url: str = f"http://{LOOPBACK}:{PROXY_PORT}"
    admin_url: str = f"http://{LOOPBACK}:{ADMIN_PORT}"
    collector_health_url: str = f"http://{LOOPBACK}:{HEALTH_PORT}/"
    collector_telemetry_url: str = f"http://{LOOPBACK}:{TELEMETRY_PORT}/metrics"
    collector_internal: str = f"http://{COLLECTOR_HOST}:{OTLP_HTTP_PORT}"
    upstream_internal: str = f"http://{UPSTREAM_HOST}:{UPSTREAM_PORT}"
