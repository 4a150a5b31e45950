"""Where the collector runs for a stack: an AWS host or tier, the local Docker gateway or the team's own
collector (external), behind one shape."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from kong_slo.collector.render import render_collector_config
from kong_slo.kong.tracing import tracing_env, tracing_for_stack
from kong_slo.settings import StackSettings


@dataclass(frozen=True)
class DeployedCollector:
    """What the rest of the stack needs from the collector deployment."""

    collector_url: pulumi.Input[str]
    """How Kong reaches the collector's OTLP/HTTP endpoint (``http://host:4318``)."""
    kong_ready: list[pulumi.Resource] = field(default_factory=list)
    """Resources the Kong plugins must wait for (the local gateway and its demo services)."""
    exports: dict[str, pulumi.Input[object]] = field(default_factory=dict)


def deploy_collector(settings: StackSettings) -> DeployedCollector:
    """Declare the collector for ``settings.target`` and return how Kong reaches it."""
    if settings.target == "external":
        # The team runs the collector (`kong-slo render` gives them its config); nothing to declare.
        url = settings.kong.collector_url or ""
        return DeployedCollector(url, [], {"otlp_http_url": url})
    if settings.target == "aws":
        from kong_slo.infra.aws import CollectorHost
        from kong_slo.infra.aws_tier import CollectorTier

        aws_collector = CollectorTier("collector", settings) if settings.collector.is_tier else CollectorHost(
            "collector", settings)
        return DeployedCollector(aws_collector.otlp_http_url, [], aws_collector.exports)

    from kong_slo.infra.local import LocalGateway
    from kong_slo.kong.demo_service import KongRoute, route_path

    token = settings.dynatrace.api_token.reveal() if settings.dynatrace is not None else None
    gateway = LocalGateway("local", settings, collector_config=render_collector_config(settings),
                           tracing_env=tracing_env(tracing_for_stack(settings)),
                           dynatrace_token=None if token is None else pulumi.Output.secret(token))
    endpoints = gateway.endpoints
    routes: list[pulumi.Resource] = [
        KongRoute(f"kong-route-{api.name}", service=api.name, path=route_path(api.name),
                  upstream_url=endpoints.upstream_internal, admin_url=settings.kong.admin_url, stack=settings.stack,
                  opts=pulumi.ResourceOptions(depends_on=[gateway]))
        for api in settings.apis
    ]
    exports = {
        "proxy_urls": {api.name: f"{endpoints.proxy_url}{route_path(api.name)}/get" for api in settings.apis},
        "kong_admin_url": endpoints.admin_url,
        "collector_health_url": endpoints.collector_health_url,
        "watch_telemetry": f"docker logs -f kong-slo-{settings.stack}-collector",
    }
    return DeployedCollector(endpoints.collector_internal, [gateway, *routes], exports)
