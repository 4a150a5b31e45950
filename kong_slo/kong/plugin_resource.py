"""The program side of ``OpenTelemetryPlugin``: the dynamic resource and one declaration per API of the stack.

What the resource does to Kong lives with its provider in ``plugin``.
"""

from __future__ import annotations

from typing import Any

import pulumi

from kong_slo.dynamic_resource import DynamicResource
from kong_slo.kong.adoption import scope_of_inputs
from kong_slo.kong.payload import objective_attributes, plugin_id
from kong_slo.kong.plugin import OUTPUT_KEYS, OpenTelemetryPluginProvider
from kong_slo.kong.release_facts import IGNORE
from kong_slo.settings.model import StackSettings


class OpenTelemetryPlugin(DynamicResource, module="kong", name="OpenTelemetryPlugin"):
    """The ``opentelemetry`` plugin of one API: service (or route) scope, ``service.name`` = the API name,
    traces (and, on 3.8+, logs) to the collector, ownership tags ``kong-slo`` and ``kong-slo-stack:<stack>``.
    """

    plugin_id: pulumi.Output[str]
    """Kong's id of the plugin: ours, or the adopted plugin's."""
    adopted: pulumi.Output[bool]
    """True when a plugin already in the scope was taken over instead of created."""
    adopted_from: pulumi.Output[dict[str, Any] | None]
    """The adopted plugin as found (a secret: its ``headers`` may hold credentials); ``destroy`` puts it back."""
    kong_version: pulumi.Output[str]

    def __init__(self, name: str, *, api_name: str, service: str, route: str | None, stack: str,
                 collector_url: pulumi.Input[str], export_logs: bool | None, sampling_rate: float | None,
                 admin_url: str, workspace: str | None, version: str | None,
                 incoming_trace_context: str = IGNORE, broader_plugins: str = "stop", narrower_plugins: str = "stop",
                 objectives: dict[str, str] | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"api_name": api_name, "service": service, "route": route, "stack": stack,
                 "collector_url": collector_url, "export_logs": export_logs, "sampling_rate": sampling_rate,
                 "admin_url": admin_url, "workspace": workspace, "version": version,
                 "incoming_trace_context": incoming_trace_context, "broader_plugins": broader_plugins,
                 "narrower_plugins": narrower_plugins, "objectives": objectives,
                 **dict.fromkeys(OUTPUT_KEYS)}
        secret = pulumi.ResourceOptions(additional_secret_outputs=["adopted_from"])
        super().__init__(OpenTelemetryPluginProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
        own_id = plugin_id(stack, *scope_of_inputs(props), workspace)
        self.taken_over: pulumi.Output[bool] = self.id.apply(lambda found: found != own_id)
        """``adopted``, read from the id: a preview of an update keeps the id known, not the outputs."""


def declare_plugins(settings: StackSettings, collector_url: pulumi.Input[str],
                    opts: pulumi.ResourceOptions | None = None) -> dict[str, OpenTelemetryPlugin]:
    """One plugin per API of the stack, keyed by API name. ``kong.collectorUrl``, when set, wins over
    ``collector_url`` (how Kong reaches the collector may differ from the address we know).
    """
    kong = settings.kong
    target = kong.collector_url or collector_url
    return {
        api.name: OpenTelemetryPlugin(
            f"kong-otel-{api.name}", api_name=api.name, service=api.name, route=api.route, stack=settings.stack,
            collector_url=target, export_logs=kong.export_logs, sampling_rate=api.sampling_rate,
            admin_url=kong.admin_url, workspace=kong.workspace,
            version=None if kong.version is None else str(kong.version),
            incoming_trace_context=kong.incoming_trace_context, broader_plugins=kong.broader_plugins,
            narrower_plugins=kong.narrower_plugins, objectives=objective_attributes(api), opts=opts)
        for api in settings.apis
    }
