"""OpenTelemetryPlugin under Pulumi mocks: one resource per API, its type token, scope and endpoint inputs."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from kong_slo.kong.plugin_resource import declare_plugins
from kong_slo.secrets import Secret
from kong_slo.settings import parse_settings
from tests.program.test_kong_conf_patch import declare

TOKEN_TYPE = "pulumi-python:dynamic/kong:OpenTelemetryPlugin"
ADMIN_TOKEN = "rbac-token-that-must-stay-out-of-state"


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outputs = dict(args.inputs)
        if args.typ == TOKEN_TYPE:
            outputs.update(plugin_id=f"{args.name}-id", adopted=False, kong_version="3.9")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def settings(**kong: Any):
    namespace = {
        "target": "aws",
        "collector": {"allowedCidrs": ["10.0.0.0/16"]},
        "kong": {"adminUrl": "https://kong-admin.internal:8444", "adminToken": Secret(ADMIN_TOKEN),
                 "workspace": "payments", **kong},
        "dynatrace": {"environmentUrl": "https://abc12345.live.dynatrace.com", "apiToken": Secret("dt0c01.x")},
        "apis": [{"name": "HealthService"}, {"name": "Orders", "route": "orders-v2", "samplingRate": 0.5}],
    }
    return parse_settings(namespace, project="kong-slo", stack="dev", aws_region="eu-west-1")


@pytest.fixture
def recorder() -> Recorder:
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="kong-slo", stack="dev", preview=False)
    return mocks


class Collector(pulumi.CustomResource):
    def __init__(self) -> None:
        super().__init__("test:index:Collector", "collector", {"otlpHttpUrl": "http://10.0.1.5:4318"})


@pulumi.runtime.test
def test_one_plugin_per_api_with_its_scope_and_endpoint(recorder: Recorder):
    collector = Collector()
    url = pulumi.Output.concat(collector.id.apply(lambda _: "http://10.0.1.5:4318"))
    plugins = declare_plugins(settings(version="3.9"), url)
    assert sorted(plugins) == ["HealthService", "Orders"]

    def check(_: list[Any]) -> None:
        declared = {r.name: r for r in recorder.resources if r.typ == TOKEN_TYPE}
        assert sorted(declared) == ["kong-otel-HealthService", "kong-otel-Orders"]
        health = declared["kong-otel-HealthService"].inputs
        orders = declared["kong-otel-Orders"].inputs
        assert (health["service"], health.get("route")) == ("HealthService", None)
        assert (orders["service"], orders["route"]) == ("Orders", "orders-v2")
        assert health["api_name"] == "HealthService" and orders["api_name"] == "Orders"
        assert {health["collector_url"], orders["collector_url"]} == {"http://10.0.1.5:4318"}
        assert orders["sampling_rate"] == 0.5 and health.get("sampling_rate") is None
        for inputs in (health, orders):
            assert inputs["stack"] == "dev" and inputs["workspace"] == "payments"
            assert inputs["admin_url"] == "https://kong-admin.internal:8444" and inputs["version"] == "3.9"
            pickled = base64.b64decode(rpc.unwrap_rpc_secret(inputs["__provider"]))
            assert ADMIN_TOKEN.encode() not in pickled
            assert ADMIN_TOKEN not in repr(inputs)

    return pulumi.Output.all(*(plugin.plugin_id for plugin in plugins.values())).apply(check)


@pulumi.runtime.test
def test_kong_collector_url_wins_over_the_collector_output(recorder: Recorder):
    plugins = declare_plugins(settings(collectorUrl="http://otel.kong.internal:4318"), "http://10.0.1.5:4318")

    def check(_: list[Any]) -> None:
        urls = {r.inputs["collector_url"] for r in recorder.resources if r.typ == TOKEN_TYPE}
        assert urls == {"http://otel.kong.internal:4318"}
        assert {r.inputs.get("version") for r in recorder.resources if r.typ == TOKEN_TYPE} == {None}

    return pulumi.Output.all(*(plugin.plugin_id for plugin in plugins.values())).apply(check)


class UnknownUrlCollector(pulumi.CustomResource):
    url: pulumi.Output[str]

    def __init__(self) -> None:
        super().__init__("test:index:Collector", "collector", {"url": None})


@pytest.fixture
def previewing() -> Recorder:
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="kong-slo", stack="dev", preview=True)
    return mocks


@pulumi.runtime.test
def test_preview_with_an_unknown_collector_url_declares_every_plugin(previewing: Recorder):
    collector = UnknownUrlCollector()
    plugins = declare_plugins(settings(version="3.9"), collector.url)

    def check(urns: list[str]) -> None:
        declared = [r for r in previewing.resources if r.typ == TOKEN_TYPE]
        assert len(urns) == len(declared) == 2
        # unknown during preview: the SDK passes it as Unknown (3.272) or leaves it out of the inputs (3.231)
        assert all(isinstance(r.inputs.get("collector_url", Unknown()), Unknown) for r in declared)

    return pulumi.Output.all(*(plugin.urn for plugin in plugins.values())).apply(check)


def test_the_adopted_plugin_as_found_is_a_secret_output() -> None:
    # Its headers may carry a vendor's credentials: the state must hold it encrypted.
    _, monitor = declare(lambda: declare_plugins(settings(), "http://collector:4318"))
    plugin_outputs = [names for name, names in monitor.secret_outputs.items() if name.startswith("kong-otel-")]
    assert plugin_outputs and all("adopted_from" in names for names in plugin_outputs)
