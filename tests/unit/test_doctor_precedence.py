"""Which opentelemetry plugin Kong runs for a request: the most specific one (``kong/runloop/plugins_iterator.lua``
@3.9.3 looks up route+service+consumer, route+consumer, service+consumer, route+service, consumer, route, service,
global, and skips disabled plugins)."""

from __future__ import annotations

from typing import Any

from kong_slo.doctor.precedence import more_specific, scope_words, shadowing_plugins

SERVICE, OTHER_SERVICE = "svc-orders", "svc-other"
ROUTE, SECOND_ROUTE, FOREIGN_ROUTE = "r-orders", "r-orders-v2", "r-other"


def plugin(plugin_id: str, *, route: str | None = None, service: str | None = None, consumer: str | None = None,
           enabled: bool = True, name: str = "opentelemetry") -> dict[str, Any]:
    refs = {key: {"id": value} if value else None
            for key, value in (("route", route), ("service", service), ("consumer", consumer))}
    return {"id": plugin_id, "name": name, "enabled": enabled, **refs}


SERVICE_PLUGIN = plugin("ours", service=SERVICE)
ROUTE_PLUGIN = plugin("ours", route=ROUTE)


def shadows(ours: dict[str, Any], *candidates: dict[str, Any], routes: tuple[str, ...] = (ROUTE, SECOND_ROUTE)) \
        -> list[str]:
    return [p["id"] for p in shadowing_plugins(ours, candidates, service_id=SERVICE, route_ids=routes)]


def test_a_route_plugin_takes_that_routes_requests_from_a_service_plugin():
    assert shadows(SERVICE_PLUGIN, plugin("team", route=SECOND_ROUTE)) == ["team"]
    assert shadows(SERVICE_PLUGIN, plugin("team", route=ROUTE, service=SERVICE)) == ["team"]


def test_plugins_elsewhere_disabled_or_of_another_kind_take_nothing():
    assert shadows(SERVICE_PLUGIN, plugin("foreign", route=FOREIGN_ROUTE), plugin("other", service=OTHER_SERVICE),
                   plugin("off", route=ROUTE, enabled=False), plugin("log", route=ROUTE, name="http-log")) == []


def test_less_specific_plugins_never_take_requests():
    assert shadows(SERVICE_PLUGIN, plugin("global")) == []
    assert shadows(ROUTE_PLUGIN, plugin("global"), plugin("service", service=SERVICE), routes=(ROUTE,)) == []


def test_consumer_plugins_take_their_consumers_requests_whatever_our_scope():
    for ours in (SERVICE_PLUGIN, ROUTE_PLUGIN):
        assert shadows(ours, plugin("alice", consumer="c-alice"), routes=(ROUTE,)) == ["alice"]
        assert shadows(ours, plugin("alice-svc", service=SERVICE, consumer="c-alice"), routes=(ROUTE,)) == \
            ["alice-svc"]


def test_route_and_service_beats_a_route_plugin_but_route_alone_cannot_shadow_a_route_plugin():
    assert more_specific(plugin("rs", route=ROUTE, service=SERVICE), ROUTE_PLUGIN)
    assert not more_specific(plugin("r", route=ROUTE), ROUTE_PLUGIN)
    assert more_specific(plugin("r", route=ROUTE), SERVICE_PLUGIN)


def test_our_own_plugin_is_never_its_own_shadow():
    assert shadows(SERVICE_PLUGIN, SERVICE_PLUGIN) == []


def test_scope_words_name_routes_by_name():
    assert scope_words(plugin("x", route=ROUTE, consumer="c1"), {ROUTE: "orders"}) == "route orders and consumer c1"
    assert scope_words(plugin("g")) == "global scope"
