"""The OpenTelemetryPlugin lifecycle against a real Kong: ``KONG_ADMIN_URL`` (optional ``KONG_ADMIN_TOKEN``,
``KONG_WORKSPACE``, ``KONG_CA_BUNDLE``).

Any base URL works, ``http://127.0.0.1:8001`` of a local Kong included. Each test creates a throwaway
service and route with a unique name and removes them (and their plugins) even when a step fails. The
fault tests put a local fault-injecting proxy in front of Kong, so the client's retries are exercised
against the real Admin API.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from kong_slo.http import ApiError, RetryPolicy
from kong_slo.kong.admin import KongAdmin
from kong_slo.kong.payload import PLUGIN_NAME
from kong_slo.kong.plugin import OpenTelemetryPluginProvider
from kong_slo.settings.model import KongVersion
from kong_slo.settings.rules import LOGS_ENDPOINT_SINCE
from tests.fakes.fault_proxy import FaultProxy
from tests.live.conftest import require_env

pytestmark = pytest.mark.live
COLLECTOR = "http://otel-collector.invalid:4318"


@dataclass(frozen=True)
class LiveKong:
    url: str
    token: str | None
    workspace: str | None
    ca_bundle: str | None

    def admin(self, url: str | None = None) -> KongAdmin:
        return KongAdmin(url or self.url, workspace=self.workspace, token=self.token, ca_bundle=self.ca_bundle,
                         policy=RetryPolicy(attempts=5, initial_delay=0.2, timeout=10))

    def provider(self, timeout: float = 10) -> OpenTelemetryPluginProvider:
        plugins = OpenTelemetryPluginProvider(RetryPolicy(attempts=5, initial_delay=0.2, max_delay=2, timeout=timeout))
        config = {"adminToken": self.token, "caBundle": self.ca_bundle}
        plugins.configure(ConfigureRequest(Config({"kong-slo:kong": json.dumps(config)}, "kong-slo")))
        return plugins


@pytest.fixture
def kong() -> LiveKong:
    url = require_env("KONG_ADMIN_URL")["KONG_ADMIN_URL"]
    return LiveKong(url, os.environ.get("KONG_ADMIN_TOKEN") or None, os.environ.get("KONG_WORKSPACE") or None,
                    os.environ.get("KONG_CA_BUNDLE") or None)


@pytest.fixture
def service(kong: LiveKong, run_id: str) -> Iterator[str]:
    """A throwaway service with one route; both (and every plugin on them) are removed afterwards."""
    name = f"kong-slo-live-{run_id}"
    with kong.admin() as admin:
        try:
            admin.put_service(name, "http://upstream.invalid:8080", tags=["kong-slo-live"])
            admin.put_route(f"{name}-route", name, [f"/kong-slo-live-{run_id}"], tags=["kong-slo-live"])
            yield name
        finally:
            for kind, scope in (("route", f"{name}-route"), ("service", name)):
                with contextlib.suppress(ApiError):  # the scope may never have been created
                    for plugin in admin.scope_plugins(kind, scope):
                        admin.delete_plugin(plugin["id"])
            admin.delete_route(f"{name}-route")
            admin.delete_service(name)


def inputs(kong: LiveKong, service: str, run_id: str, **overrides: object) -> dict:
    values = {"api_name": f"LiveApi-{run_id}", "service": service, "route": None, "stack": f"live-{run_id}",
              "collector_url": COLLECTOR, "export_logs": None, "sampling_rate": None, "admin_url": kong.url,
              "workspace": kong.workspace, "version": None, "__provider": "live"}
    values.update(overrides)
    return values


def checked(plugins: OpenTelemetryPluginProvider, values: dict) -> dict:
    result = plugins.check({}, values)
    assert not result.failures, [(f.property, f.reason) for f in result.failures]
    return result.inputs


def scope_plugins(kong: LiveKong, kind: str, scope: str) -> list[dict]:
    with kong.admin() as admin:
        return [p for p in admin.scope_plugins(kind, scope) if p["name"] == PLUGIN_NAME]


def test_lifecycle(kong: LiveKong, service: str, run_id: str) -> None:
    plugins = kong.provider()
    news = checked(plugins, inputs(kong, service, run_id))
    created = plugins.create(news)
    assert created.outs["adopted"] is False
    assert [p["id"] for p in scope_plugins(kong, "service", service)] == [created.id]

    read = plugins.read(created.id, created.outs)
    assert read.id == created.id
    assert plugins.diff(created.id, read.outs, news).changes is False

    moved = checked(plugins, inputs(kong, service, run_id, collector_url="http://otel-2.invalid:4318"))
    assert plugins.diff(created.id, read.outs, moved).changes is True
    updated = plugins.update(created.id, read.outs, moved)
    reread = plugins.read(created.id, updated.outs)
    assert reread.outs["managed"]["traces_endpoint"] == "http://otel-2.invalid:4318/v1/traces"
    assert plugins.diff(created.id, reread.outs, moved).changes is False

    plugins.delete(created.id, reread.outs)
    assert scope_plugins(kong, "service", service) == []
    plugins.delete(created.id, reread.outs)
    assert not plugins.read(created.id, reread.outs).id


def test_route_scope_and_adoption(kong: LiveKong, service: str, run_id: str) -> None:
    plugins = kong.provider()
    version = plugins.create(checked(plugins, inputs(kong, service, run_id, route=f"{service}-route")))
    assert [p["id"] for p in scope_plugins(kong, "route", f"{service}-route")] == [version.id]

    split_endpoints = KongVersion.parse(version.outs["kong_version"]) >= LOGS_ENDPOINT_SINCE
    endpoint = "traces_endpoint" if split_endpoints else "endpoint"
    with kong.admin() as admin:
        theirs = admin.put_plugin("service", service, str(uuid.uuid4()),
                                  {"name": PLUGIN_NAME, "config": {endpoint: "http://old.invalid:4318/v1/traces"}})
    adopted = plugins.create(checked(plugins, inputs(kong, service, run_id)))
    assert adopted.outs["adopted"] is True and adopted.id == theirs["id"]
    assert [p["id"] for p in scope_plugins(kong, "service", service)] == [theirs["id"]]


@pytest.mark.parametrize("fault", ["429", "503", "slow", "drop", "drop_after"])
def test_faults_in_front_of_kong_leave_exactly_one_plugin(kong: LiveKong, service: str, run_id: str,
                                                          fault: str) -> None:
    with FaultProxy(kong.url, verify=kong.ca_bundle or True) as proxy:
        plugins = kong.provider(timeout=2)
        news = checked(plugins, inputs(kong, service, run_id, admin_url=proxy.url))
        proxy.fail_next(fault, method="PUT", retry_after="1", delay=3)
        created = plugins.create(news)
        assert [p["id"] for p in scope_plugins(kong, "service", service)] == [created.id]
        assert proxy.calls["PUT"] >= 2, "the fault was met and retried"
        proxy.fail_next(fault, method="DELETE", retry_after="1", delay=3)
        plugins.delete(created.id, created.outs)
        assert scope_plugins(kong, "service", service) == []
