"""The OpenTelemetryPlugin provider against the Kong emulator, for every version mode."""

from __future__ import annotations

import pytest
import requests

from kong_slo.kong.admin import KongAdmin, KongAdminError
from kong_slo.kong.payload import PluginVersionError, plugin_id
from kong_slo.telemetry import FAIL_ON_ATTRIBUTE, LATENCY_OBJECTIVE_ATTRIBUTE
from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_schema import traces_key
from tests.providers.kong_helpers import COLLECTOR, TOKEN, Sleeps, checked, fast_policy, inputs, provider

SCOPED_MODES = ("3.4", "3.7", "3.9", "3.12")


def sampling_for(mode: str) -> float | None:
    return None if mode == "3.4" else 1.0


@pytest.fixture(params=SCOPED_MODES)
def kong(request: pytest.FixtureRequest):
    with FakeKong(request.param) as fake:
        fake.add_service("orders")
        yield fake


def only_plugin(kong: FakeKong) -> dict:
    plugins = kong.plugins()
    assert len(plugins) == 1, plugins
    return plugins[0]


def test_lifecycle_create_read_noop_update_delete(kong: FakeKong) -> None:
    mode = kong.version
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=sampling_for(mode))

    kong.reset_counts()
    created = plugins.create(news)
    assert kong.writes == 1 and kong.calls["PUT"] == 1
    stored = only_plugin(kong)
    assert created.id == stored["id"] == plugin_id("dev", "service", "orders", None)
    assert created.outs["adopted"] is False and created.outs["kong_version"] == mode
    config = stored["config"]
    assert config["resource_attributes"]["service.name"] == "Orders"
    assert config[traces_key(mode)] == f"{COLLECTOR}/v1/traces"
    if mode in ("3.9", "3.12"):
        assert config["logs_endpoint"] == f"{COLLECTOR}/v1/logs"
        assert "endpoint" not in config
    assert config.get("sampling_rate") == sampling_for(mode)
    assert sorted(stored["tags"]) == ["kong-slo", "kong-slo-stack:dev"]
    orders = next(service for service in kong.store().services.values() if service["name"] == "orders")
    assert stored["service"] == {"id": orders["id"]}

    kong.reset_counts()
    read = plugins.read(created.id, {**news, **created.outs})
    assert read.id == created.id
    assert read.inputs == {key: news[key] for key in read.inputs}
    assert kong.writes == 0

    kong.reset_counts()
    unchanged = plugins.diff(created.id, read.outs, news)
    assert unchanged.changes is False and not unchanged.replaces
    assert sum(kong.calls.values()) == 0

    moved = checked(plugins, kong.url, sampling_rate=sampling_for(mode), collector_url="https://otel.example.net:4318/")
    change = plugins.diff(created.id, read.outs, moved)
    assert change.changes is True and change.replaces == []
    kong.reset_counts()
    updated = plugins.update(created.id, read.outs, moved)
    assert kong.writes == 1
    assert updated.outs["plugin_id"] == created.id
    assert only_plugin(kong)["config"][traces_key(mode)] == "https://otel.example.net:4318/v1/traces"
    assert plugins.diff(created.id, updated.outs, moved).changes is False

    kong.reset_counts()
    plugins.delete(created.id, updated.outs)
    assert kong.writes == 1 and kong.plugins() == []
    plugins.delete(created.id, updated.outs)
    assert kong.plugins() == []


def test_an_objective_travels_in_the_plugin_and_a_change_is_one_update(kong: FakeKong) -> None:
    """The collector reads each request's objectives from the plugin's resource attributes: they are written
    as given, an unchanged objective is no diff, and a new threshold is one PUT that leaves the rest alone."""
    plugins = provider()
    objectives = {LATENCY_OBJECTIVE_ATTRIBUTE: "600", FAIL_ON_ATTRIBUTE: "5xx,404"}
    news = checked(plugins, kong.url, sampling_rate=sampling_for(kong.version), objectives=objectives)
    created = plugins.create(news)
    assert only_plugin(kong)["config"]["resource_attributes"] == {"service.name": "Orders", **objectives}
    assert plugins.diff(created.id, created.outs, news).changes is False

    faster = checked(plugins, kong.url, sampling_rate=sampling_for(kong.version),
                     objectives={**objectives, LATENCY_OBJECTIVE_ATTRIBUTE: "400"})
    assert plugins.diff(created.id, created.outs, faster).changes is True
    kong.reset_counts()
    plugins.update(created.id, created.outs, faster)
    assert kong.writes == 1
    assert only_plugin(kong)["config"]["resource_attributes"] == {
        "service.name": "Orders", LATENCY_OBJECTIVE_ATTRIBUTE: "400", FAIL_ON_ATTRIBUTE: "5xx,404"}


def test_refresh_detects_drift_and_update_repairs_it(kong: FakeKong) -> None:
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=sampling_for(kong.version))
    created = plugins.create(news)
    patch = {"config": {"resource_attributes": {"service.name": "kong"}}, "enabled": False}
    assert requests.patch(f"{kong.url}/plugins/{created.id}", json=patch, timeout=5).status_code == 200

    read = plugins.read(created.id, created.outs)
    assert read.outs["managed"]["enabled"] is False
    assert plugins.diff(created.id, read.outs, news).changes is True
    plugins.update(created.id, read.outs, news)
    repaired = only_plugin(kong)
    assert repaired["enabled"] is True and repaired["config"]["resource_attributes"]["service.name"] == "Orders"


def test_kong_defaults_and_unmanaged_keys_cause_no_diff(kong: FakeKong) -> None:
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=None)
    created = plugins.create(news)
    patch = {"config": {"connect_timeout": 2500}}
    assert requests.patch(f"{kong.url}/plugins/{created.id}", json=patch, timeout=5).status_code == 200
    read = plugins.read(created.id, created.outs)
    assert plugins.diff(created.id, read.outs, news).changes is False


def test_a_plugin_already_in_the_scope_is_adopted_not_duplicated(kong: FakeKong) -> None:
    endpoint = traces_key(kong.version)
    theirs = kong.add_plugin({"name": "opentelemetry", "config": {endpoint: "http://old:4318/v1/traces"},
                              "tags": ["team-x"]}, service="orders")
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=sampling_for(kong.version))
    kong.reset_counts()
    created = plugins.create(news)
    assert kong.writes == 1
    stored = only_plugin(kong)
    assert created.id == theirs["id"] == stored["id"] and created.outs["adopted"] is True
    assert sorted(stored["tags"]) == ["kong-slo", "kong-slo-stack:dev", "team-x"]
    assert created.outs["managed"]["traces_endpoint"] == f"{COLLECTOR}/v1/traces"


def test_a_plugin_of_another_kong_slo_stack_is_never_taken_over(kong: FakeKong) -> None:
    endpoint = traces_key(kong.version)
    theirs = kong.add_plugin({"name": "opentelemetry", "config": {endpoint: "http://old:4318/v1/traces"},
                              "tags": ["kong-slo", "kong-slo-stack:pr-12"]}, service="orders")
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=sampling_for(kong.version))
    kong.reset_counts()
    with pytest.raises(KongAdminError, match="belongs to kong-slo stack 'pr-12'"):
        plugins.create(news)
    assert kong.writes == 0
    assert only_plugin(kong)["tags"] == theirs["tags"]


def test_a_plugin_appearing_between_look_and_write_is_adopted(kong: FakeKong,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    real = KongAdmin.scope_plugins
    looks: list[int] = []

    def late_look(self: KongAdmin, kind: str, scope: str) -> list[dict]:
        looks.append(1)
        return [] if len(looks) == 1 else real(self, kind, scope)

    monkeypatch.setattr(KongAdmin, "scope_plugins", late_look)
    endpoint = traces_key(kong.version)
    theirs = kong.add_plugin({"name": "opentelemetry", "config": {endpoint: "http://old:4318/v1/traces"}},
                             service="orders")
    created = provider().create(checked(provider(), kong.url, sampling_rate=sampling_for(kong.version)))
    assert created.id == theirs["id"] and created.outs["adopted"] is True
    assert len(kong.plugins()) == 1


@pytest.mark.parametrize("fault", ["429", "503", "slow", "drop", "drop_after"])
@pytest.mark.parametrize("method", ["PUT", "GET"])
def test_every_fault_during_create_leaves_exactly_one_plugin(kong: FakeKong, fault: str, method: str) -> None:
    sleeps = Sleeps()
    plugins = provider(fast_policy(sleeps, timeout=0.3))
    news = checked(plugins, kong.url, sampling_rate=sampling_for(kong.version))
    kong.fail_next(fault, method=method, retry_after="0.02", delay=0.6)
    created = plugins.create(news)
    stored = only_plugin(kong)
    assert stored["id"] == created.id
    assert stored["config"]["resource_attributes"]["service.name"] == "Orders"
    assert sleeps, "the fault was retried after a pause"
    if fault == "429":
        assert 0.02 in sleeps, "Retry-After was honoured"


@pytest.mark.parametrize("fault", ["429", "503", "drop", "drop_after"])
def test_faults_during_update_and_delete_are_retried(kong: FakeKong, fault: str) -> None:
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=sampling_for(kong.version))
    created = plugins.create(news)
    moved = {**news, "api_name": "OrdersV2"}
    kong.fail_next(fault, method="PUT", retry_after="0")
    plugins.update(created.id, created.outs, moved)
    assert only_plugin(kong)["config"]["resource_attributes"]["service.name"] == "OrdersV2"
    kong.fail_next(fault, method="DELETE", retry_after="0")
    plugins.delete(created.id, created.outs)
    assert kong.plugins() == []


def test_route_scope(kong: FakeKong) -> None:
    route = kong.add_route("orders-v2", "orders")
    plugins = provider()
    created = plugins.create(checked(plugins, kong.url, route="orders-v2", sampling_rate=sampling_for(kong.version)))
    stored = only_plugin(kong)
    assert stored["route"] == {"id": route["id"]} and stored["service"] is None
    assert created.id == plugin_id("dev", "route", "orders-v2", None)


def test_scope_change_replaces_deleting_first(kong: FakeKong) -> None:
    plugins = provider()
    news = checked(plugins, kong.url)
    moved = checked(plugins, kong.url, route="orders-v2")
    result = plugins.diff("some-id", {**news, "managed": None}, moved)
    assert result.replaces == ["route"] and result.delete_before_replace is True


def test_a_missing_service_is_named_and_nothing_is_written(kong: FakeKong) -> None:
    plugins = provider()
    kong.reset_counts()
    with pytest.raises(KongAdminError, match="no service named 'payments'"):
        plugins.create(checked(plugins, kong.url, service="payments", sampling_rate=sampling_for(kong.version)))
    assert kong.writes == 0


def test_kong_3_0_cannot_scope_the_plugin_and_nothing_is_written() -> None:
    with FakeKong("3.0") as kong:
        kong.add_service("orders")
        plugins = provider()
        failures = plugins.check({}, inputs(kong.url, version="3.0", sampling_rate=None))
        assert [f.property for f in failures.failures] == ["service", "incoming_trace_context"]
        assert "Kong 3.0" in failures.failures[0].reason
        kong.reset_counts()
        with pytest.raises(PluginVersionError, match=r"Kong 3\.0 runs the opentelemetry plugin only globally"):
            plugins.create(checked(plugins, kong.url, sampling_rate=None))
        assert kong.writes == 0 and kong.plugins() == []


def test_db_less_kong_gets_a_clear_error() -> None:
    with FakeKong("3.9", db_less=True) as kong:
        kong.add_service("orders")
        plugins = provider()
        with pytest.raises(KongAdminError, match=r"DB-less.*kong-slo-dbless.yaml.*declarative configuration"):
            plugins.create(checked(plugins, kong.url))
        assert kong.plugins() == []


def test_admin_token_comes_from_configure_and_is_never_echoed() -> None:
    with FakeKong("3.9", token=TOKEN) as kong:
        kong.add_service("orders")
        without = provider()
        with pytest.raises(KongAdminError, match="401") as refused:
            without.create(checked(without, kong.url))
        assert TOKEN not in str(refused.value)
        plugins = provider(token=TOKEN)
        created = plugins.create(checked(plugins, kong.url))
        assert TOKEN not in repr(created.outs)
        assert TOKEN not in repr(plugins.read(created.id, created.outs).outs)
        plugins.delete(created.id, created.outs)
        assert kong.plugins() == []


def test_workspace_prefix_and_identity() -> None:
    with FakeKong("3.12", workspaces=("team-a",)) as kong:
        kong.add_service("orders", workspace="team-a")
        plugins = provider()
        created = plugins.create(checked(plugins, kong.url, workspace="team-a"))
        assert kong.plugins() == [] and len(kong.plugins("team-a")) == 1
        assert created.id == plugin_id("dev", "service", "orders", "team-a") != plugin_id("dev", "service", "orders",
                                                                                           None)
        plugins.delete(created.id, created.outs)
        assert kong.plugins("team-a") == []


def test_read_of_a_deleted_plugin_reports_it_gone(kong: FakeKong) -> None:
    plugins = provider()
    created = plugins.create(checked(plugins, kong.url, sampling_rate=sampling_for(kong.version)))
    requests.delete(f"{kong.url}/plugins/{created.id}", timeout=5)
    assert not plugins.read(created.id, created.outs).id


def test_a_service_with_a_utf8_name_gets_its_plugin() -> None:
    """Kong names services with ``typedefs.utf8_name`` (kong/db/schema/typedefs.lua@3.9.1): ``Bestellübersicht``
    is a service name; its plugin goes to ``/services/Bestell%C3%BCbersicht/plugins/…``."""
    with FakeKong("3.9") as kong:
        kong.add_service("Bestellübersicht")
        plugins = provider()
        created = plugins.create(checked(plugins, kong.url, api_name="Bestellübersicht", service="Bestellübersicht"))
        stored = only_plugin(kong)
        assert created.id == stored["id"]
        assert stored["config"]["resource_attributes"]["service.name"] == "Bestellübersicht"
        service = next(iter(kong.store().services.values()))
        assert stored["service"] == {"id": service["id"]}
