"""Kong emulator rules taken from Kong's source: which plugin instance runs, and what a nested PUT keeps.

Sources (Kong/kong):
- ``kong/runloop/plugins_iterator.lua``, ``lookup_cfg`` (and, before it, the ``repeat … until true`` loop of
  ``get_next``): the most specific instance of a plugin runs, and only it.
- ``kong/api/endpoints.lua``: a ``PUT`` on ``/services/{s}/plugins/{id}`` is an upsert that validates the body
  with ``process_auto_fields(…, "upsert")``: every field left out takes its default, nothing is merged.
"""

from __future__ import annotations

import pytest
import requests

from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_precedence import GROUP_ORDER, OSS_ORDER, plugin_for_request

TRACES = "http://collector:4318/v1/traces"


def otel(config_url: str = TRACES) -> dict:
    return {"name": "opentelemetry", "config": {"traces_endpoint": config_url}}


@pytest.fixture
def kong():
    with FakeKong("3.9") as fake:
        fake.add_service("orders")
        fake.add_route("orders-v1", "orders")
        fake.add_route("orders-v2", "orders")
        fake.add_service("billing")
        yield fake


def test_order_is_lookup_cfgs() -> None:
    # plugins_iterator.lua lookup_cfg: 1 route+service+consumer … 8 global.
    assert [sorted(level) for level in OSS_ORDER] == [
        ["consumer", "route", "service"], ["consumer", "route"], ["consumer", "service"], ["route", "service"],
        ["consumer"], ["route"], ["service"], []]
    assert len(GROUP_ORDER) == 12 and sorted(GROUP_ORDER[1]) == ["consumer_group", "route", "service"]


def test_service_plugin_replaces_the_global_one_for_that_service_only(kong: FakeKong) -> None:
    global_plugin = kong.add_plugin(otel("http://global:4318/v1/traces"))
    service_plugin = kong.add_plugin(otel(), service="orders")
    assert kong.plugin_for_request(route="orders-v1")["id"] == service_plugin["id"]
    assert kong.plugin_for_request(service="billing")["id"] == global_plugin["id"]


def test_route_plugin_takes_that_routes_requests_from_the_service_plugin(kong: FakeKong) -> None:
    service_plugin = kong.add_plugin(otel(), service="orders")
    route_plugin = kong.add_plugin(otel("http://team:4318/v1/traces"), route="orders-v2")
    assert kong.plugin_for_request(route="orders-v2")["id"] == route_plugin["id"]
    assert kong.plugin_for_request(route="orders-v1")["id"] == service_plugin["id"]


def test_consumer_plugin_beats_route_and_service_but_not_a_consumer_route_pair(kong: FakeKong) -> None:
    kong.add_plugin(otel(), service="orders")
    kong.add_plugin(otel("http://r:4318/v1/traces"), route="orders-v1")
    alone = kong.add_plugin(otel("http://c:4318/v1/traces"), consumer="mobile-app")
    pair = kong.add_plugin(otel("http://cr:4318/v1/traces"), route="orders-v2", consumer="mobile-app")
    assert kong.plugin_for_request(route="orders-v1", consumer="mobile-app")["id"] == alone["id"]
    assert kong.plugin_for_request(route="orders-v2", consumer="mobile-app")["id"] == pair["id"]
    assert kong.plugin_for_request(route="orders-v1")["config"]["traces_endpoint"] == "http://r:4318/v1/traces"


def test_disabled_plugin_counts_as_absent(kong: FakeKong) -> None:
    global_plugin = kong.add_plugin(otel())
    kong.add_plugin({**otel("http://off:4318/v1/traces"), "enabled": False}, service="orders")
    assert kong.plugin_for_request(route="orders-v1")["id"] == global_plugin["id"]


def test_consumer_groups_sit_between_consumer_and_route_where_they_scope_plugins() -> None:
    plugins = [
        {"id": "route", "name": "opentelemetry", "route": {"id": "r"}},
        {"id": "group", "name": "opentelemetry", "consumer_group": {"id": "g"}},
    ]
    assert plugin_for_request(plugins, "opentelemetry", route="r", service="s", consumer_groups=["g"],
                              with_groups=True)["id"] == "group"
    assert plugin_for_request(plugins, "opentelemetry", route="r", service="s", consumer_groups=["g"])["id"] == "route"


def test_nested_put_resets_every_field_not_sent(kong: FakeKong) -> None:
    # endpoints.lua: PUT is upsert → process_auto_fields("upsert"): defaults for all omitted fields.
    created = kong.add_plugin({
        "name": "opentelemetry", "instance_name": "vendor-export", "tags": ["team-a"], "protocols": ["https"],
        "config": {"traces_endpoint": TRACES, "headers": {"X-Vendor-Key": "k"}, "header_type": "b3",
                   "queue": {"max_batch_size": 50}}}, service="orders")
    body = {"name": "opentelemetry", "config": {"traces_endpoint": "http://other:4318/v1/traces"}}
    replaced = requests.put(f"{kong.url}/services/orders/plugins/{created['id']}", json=body, timeout=5).json()
    assert replaced["id"] == created["id"]
    assert replaced["instance_name"] is None and replaced["tags"] is None
    assert replaced["protocols"] == ["grpc", "grpcs", "http", "https"]
    config = replaced["config"]
    assert config["headers"] is None and config["header_type"] == "preserve"
    assert config["queue"]["max_batch_size"] == 200


def test_consumer_foreign_key_must_exist(kong: FakeKong) -> None:
    body = {**otel(), "consumer": {"id": "0b5f4a55-38a4-4a9f-a0d2-8f3c5f8a52ab"}}
    answer = requests.post(f"{kong.url}/plugins", json=body, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == 4
