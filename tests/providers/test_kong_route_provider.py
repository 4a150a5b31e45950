"""The local stack's service + route resource against the Kong emulator."""

from __future__ import annotations

import pytest
import requests

from kong_slo.kong.demo_service import KongRouteProvider, route_path
from tests.fakes.kong_admin import FakeKong


@pytest.fixture
def kong():
    with FakeKong(version="3.9") as fake:
        yield fake


def props(kong: FakeKong, **overrides: str) -> dict:
    base = {"service": "Orders", "route": "Orders-route", "path": route_path("Orders"),
            "upstream_url": "http://upstream:8080", "admin_url": kong.url, "stack": "local"}
    return {**base, **overrides}


def test_create_writes_one_service_and_one_route_and_repeats_without_duplicates(kong: FakeKong) -> None:
    provider = KongRouteProvider()
    first = provider.create(props(kong))
    again = provider.create(props(kong))
    services = requests.get(f"{kong.url}/services", timeout=5).json()["data"]
    routes = requests.get(f"{kong.url}/routes", timeout=5).json()["data"]
    assert [service["name"] for service in services] == ["Orders"]
    assert [route["paths"] for route in routes] == [["/orders"]]
    assert first.outs["service_id"] == again.outs["service_id"] == services[0]["id"]
    assert "kong-slo-stack:local" in services[0]["tags"]


def test_an_unchanged_stack_shows_no_diff_and_a_new_upstream_is_an_update(kong: FakeKong) -> None:
    provider = KongRouteProvider()
    outs = provider.create(props(kong)).outs
    assert provider.diff("Orders", outs, props(kong)).changes is False
    moved = provider.diff("Orders", outs, props(kong, upstream_url="http://other:8080"))
    assert moved.changes is True and not moved.replaces
    renamed = provider.diff("Orders", outs, props(kong, service="Billing", route="Billing-route"))
    assert set(renamed.replaces) == {"service", "route"}


def test_delete_removes_route_then_service_and_tolerates_absence(kong: FakeKong) -> None:
    provider = KongRouteProvider()
    provider.create(props(kong))
    provider.delete("Orders", props(kong))
    provider.delete("Orders", props(kong))
    assert requests.get(f"{kong.url}/services", timeout=5).json()["data"] == []
    assert requests.get(f"{kong.url}/routes", timeout=5).json()["data"] == []
