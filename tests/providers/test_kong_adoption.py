"""Adoption keeps every field kong-slo does not own, and ``destroy`` gives an adopted plugin back as found.

Kong's nested ``PUT`` resets every field left out (``kong/api/endpoints.lua`` → upsert →
``process_auto_fields``; the emulator follows it, see ``test_kong_emulator_rules``), so these tests fail if the
provider wrote only its own fields.
"""

from __future__ import annotations

import pytest
import requests

from kong_slo.kong.ownership import restore_body, write_body
from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_schema import traces_key
from tests.providers.kong_helpers import COLLECTOR, checked, provider

VENDOR = "http://vendor.example:4318/v1/traces"


def operators_plugin(mode: str) -> dict:
    config: dict = {traces_key(mode): VENDOR, "headers": {"X-Vendor-Key": "vendor-secret"},
                    "resource_attributes": {"deployment.environment": "prod"}, "connect_timeout": 2500,
                    "queue": {"max_batch_size": 50, "max_entries": 5000}}
    body: dict = {"name": "opentelemetry", "tags": ["team-x"], "protocols": ["https"], "config": config}
    if mode != "3.4":
        config["propagation"] = {"default_format": "b3", "clear": ["x-internal-trace"]}
    if mode in ("3.9", "3.12"):
        body["instance_name"] = "vendor-export"
    if mode == "3.12":
        body["ordering"] = {"before": {"access": ["rate-limiting"]}}
    return body


@pytest.fixture(params=("3.4", "3.7", "3.9", "3.12"))
def kong(request: pytest.FixtureRequest):
    with FakeKong(request.param) as fake:
        fake.add_service("orders")
        yield fake


def test_adoption_keeps_what_is_not_ours_and_destroy_gives_it_back(kong: FakeKong) -> None:
    mode = kong.version
    found = kong.add_plugin(operators_plugin(mode), service="orders")
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=None if mode == "3.4" else 1.0)
    created = plugins.create(news)
    assert created.id == found["id"] and created.outs["adopted"] is True
    stored = kong.plugins()[0]
    config = stored["config"]
    assert config[traces_key(mode)] == f"{COLLECTOR}/v1/traces"
    assert config["headers"] == {"X-Vendor-Key": "vendor-secret"} and config["connect_timeout"] == 2500
    assert config["queue"]["max_batch_size"] == 50 and config["queue"]["max_entries"] == 5000
    assert {key: config["resource_attributes"][key] for key in ("deployment.environment", "service.name")} == {
        "deployment.environment": "prod", "service.name": "Orders"}  # the team's attribute stays beside ours
    assert stored["protocols"] == ["https"] and "team-x" in stored["tags"]
    assert stored.get("instance_name") == found.get("instance_name")
    assert stored.get("ordering") == found.get("ordering")
    if mode == "3.4":
        assert config["header_type"] == "ignore"
    else:
        assert config["propagation"]["clear"] == ["x-internal-trace"] and config["propagation"]["extract"] == []
    assert created.outs["adopted_from"]["config"]["headers"] == {"X-Vendor-Key": "vendor-secret"}

    read = plugins.read(created.id, created.outs)
    assert plugins.diff(created.id, read.outs, news).changes is False, "other tags and attributes are not drift"

    plugins.delete(created.id, created.outs)
    back = kong.plugins()[0]
    drop = ("updated_at", "created_at")
    assert {k: v for k, v in back.items() if k not in drop} == {k: v for k, v in found.items() if k not in drop}


def test_an_update_keeps_edits_to_fields_kong_slo_does_not_own(kong: FakeKong) -> None:
    plugins = provider()
    news = checked(plugins, kong.url, sampling_rate=None)
    created = plugins.create(news)
    patch = {"config": {"headers": {"X-Team": "a"}}, "tags": ["kong-slo", "kong-slo-stack:dev", "team-a"]}
    assert requests.patch(f"{kong.url}/plugins/{created.id}", json=patch, timeout=5).status_code == 200
    moved = {**news, "collector_url": "http://collector-2.internal:4318"}
    plugins.update(created.id, created.outs, moved)
    stored = kong.plugins()[0]
    assert stored["config"]["headers"] == {"X-Team": "a"} and "team-a" in stored["tags"]
    assert stored["config"][traces_key(kong.version)] == "http://collector-2.internal:4318/v1/traces"


def test_switching_to_honour_restores_what_was_found() -> None:
    found = {"id": "p", "name": "opentelemetry", "enabled": True, "tags": None,
             "config": {"header_type": "b3", "endpoint": VENDOR, "sampling_rate": None}}
    desired_ignore = {"name": "opentelemetry", "enabled": True, "tags": ["kong-slo"],
                      "config": {"endpoint": "http://c/v1/traces", "resource_attributes": {"service.name": "O"},
                                 "header_type": "ignore"}}
    adopted = write_body(desired_ignore, found, restore_body(found))
    assert adopted["config"]["header_type"] == "ignore"
    desired_honour = {**desired_ignore, "config": {k: v for k, v in desired_ignore["config"].items()
                                                   if k != "header_type"}}
    assert write_body(desired_honour, adopted, restore_body(found))["config"]["header_type"] == "b3"
    assert "header_type" not in write_body(desired_honour, adopted, None)["config"], "Kong's default then"


def test_a_plugin_deleted_by_hand_is_not_brought_back(kong: FakeKong) -> None:
    found = kong.add_plugin(operators_plugin(kong.version), service="orders")
    plugins = provider()
    created = plugins.create(checked(plugins, kong.url, sampling_rate=None))
    requests.delete(f"{kong.url}/plugins/{found['id']}", timeout=5)
    plugins.delete(created.id, created.outs)
    assert kong.plugins() == []
