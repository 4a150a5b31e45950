"""Shared pieces of the Kong provider tests: a no-wait retry policy, a configured provider, inputs."""

from __future__ import annotations

import json
from typing import Any

from pulumi.dynamic import Config, ConfigureRequest

from kong_slo.http import RetryPolicy
from kong_slo.kong.plugin import OpenTelemetryPluginProvider

TOKEN = "kong-admin-token-DO-NOT-LEAK-7f3a"
COLLECTOR = "http://collector.internal:4318"


class Sleeps(list[float]):
    """Records the back-off delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fast_policy(sleeps: Sleeps | None = None, timeout: float = 0.5) -> RetryPolicy:
    return RetryPolicy(attempts=5, initial_delay=0.01, max_delay=0.05, timeout=timeout,
                       sleep=sleeps if sleeps is not None else Sleeps())


def provider(policy: RetryPolicy | None = None, *, token: str | None = None,
             config_value: Any = None) -> OpenTelemetryPluginProvider:
    """A provider configured the way the Pulumi engine does it, from the stack's ``kong-slo:kong`` value."""
    plugin_provider = OpenTelemetryPluginProvider(policy or fast_policy())
    value = config_value if config_value is not None else json.dumps({"adminToken": token} if token else {})
    plugin_provider.configure(ConfigureRequest(Config({"kong-slo:kong": value}, "kong-slo")))
    return plugin_provider


def inputs(admin_url: str, /, **overrides: Any) -> dict[str, Any]:
    """Resource inputs as the engine passes them to ``check``."""
    values: dict[str, Any] = {"api_name": "Orders", "service": "orders", "route": None, "stack": "dev",
                              "collector_url": COLLECTOR, "export_logs": None, "sampling_rate": 1.0,
                              "admin_url": admin_url, "workspace": None, "version": None,
                              "incoming_trace_context": "ignore", "__provider": "serialized-provider"}
    values.update(overrides)
    return values


def checked(plugin_provider: OpenTelemetryPluginProvider, admin_url: str, /, **overrides: Any) -> dict[str, Any]:
    result = plugin_provider.check({}, inputs(admin_url, **overrides))
    assert not result.failures, [(f.property, f.reason) for f in result.failures]
    return result.inputs
