"""Other ``opentelemetry`` plugins that can run for an API's requests stop the stack (in ``check``, so
``pulumi preview`` shows it, and again before any write) unless the stack accepts them."""

from __future__ import annotations

import itertools
import uuid

import pytest

from kong_slo.kong.admin import KongAdminError
from kong_slo.kong.other_plugins import BROADER, NARROWER, relation
from tests.fakes.kong_admin import FakeKong
from tests.providers.kong_helpers import checked, inputs, provider

VENDOR = "http://vendor.example:4318/v1/traces"


def otel(endpoint: str = VENDOR, **extra: object) -> dict:
    return {"name": "opentelemetry", "config": {"traces_endpoint": endpoint}, **extra}


@pytest.fixture
def kong():
    with FakeKong("3.9") as fake:
        fake.add_service("orders")
        fake.add_route("orders-v1", "orders")
        fake.add_service("billing")
        fake.add_route("billing-v1", "billing")
        yield fake


def check_failures(kong: FakeKong, **overrides: object) -> dict[str, str]:
    result = provider().check({}, inputs(kong.url, **overrides))
    return {failure.property: failure.reason for failure in result.failures}


def test_a_global_plugin_stops_the_stack_naming_it_and_the_choices(kong: FakeKong) -> None:
    other = kong.add_plugin(otel())
    kong.reset_counts()
    reason = check_failures(kong)["service"]
    assert other["id"] in reason and "global" in reason and VENDOR in reason
    assert "kong-slo:kong.otherPlugins.broader: replace" in reason and "narrower: keep" in reason
    assert kong.writes == 0


def test_a_route_plugin_on_the_apis_service_stops_the_stack(kong: FakeKong) -> None:
    other = kong.add_plugin(otel(), route="orders-v1")
    reason = check_failures(kong)["service"]
    assert other["id"] in reason and "route orders-v1" in reason and "would not be counted" in reason


def add_auth(kong: FakeKong, name: str = "key-auth", **scope: str) -> None:
    """An authentication plugin (the emulator serves only opentelemetry's schema, so it goes straight in)."""
    store = kong.store()
    refs = {field: {"id": store.find(f"{field}s", value)["id"]} for field, value in scope.items()}
    plugin_id = str(uuid.uuid4())
    store.plugins[plugin_id] = {"id": plugin_id, "name": name, "enabled": True, "config": {}, "tags": None,
                                "route": None, "service": None, "consumer": None, **refs}


def test_consumer_plugins_stop_the_stack_unless_on_another_service(kong: FakeKong) -> None:
    add_auth(kong)
    kong.add_plugin(otel(), service="billing", consumer="mobile")
    assert check_failures(kong) == {}
    other = kong.add_plugin(otel(), consumer="partner")
    reason = check_failures(kong)["service"]
    assert other["id"] in reason and "consumer " in reason


def test_a_consumer_plugin_where_nothing_authenticates_never_runs_and_stops_nothing(kong: FakeKong) -> None:
    """Kong picks a consumer-scoped plugin only for an authenticated consumer (kong/runloop/plugins_iterator.lua
    @3.9.1 reads ``ctx.authenticated_consumer``): without an auth plugin on the API it never runs."""
    kong.add_plugin(otel(), consumer="partner")
    kong.add_plugin(otel(), route="orders-v1", consumer="partner")
    add_auth(kong, "cors")  # bundled, never sets a consumer
    add_auth(kong, "key-auth", service="billing")  # authenticates another API only
    assert check_failures(kong) == {}
    add_auth(kong, "pre-function", route="orders-v1")  # runs any code, so may call kong.client.authenticate
    assert "consumer " in check_failures(kong)["service"]


def test_plugins_elsewhere_disabled_or_of_this_stack_do_not_count(kong: FakeKong) -> None:
    kong.add_plugin(otel(), route="billing-v1")
    kong.add_plugin(otel(enabled=False))
    kong.add_plugin(otel(tags=["kong-slo", "kong-slo-stack:dev"]), route="orders-v1")
    assert check_failures(kong) == {}


def test_the_stack_can_accept_them_in_so_many_words(kong: FakeKong) -> None:
    kong.add_plugin(otel())
    kong.add_plugin(otel(), route="orders-v1")
    assert set(check_failures(kong, broader_plugins="replace")) == {"service"}
    assert set(check_failures(kong, narrower_plugins="keep")) == {"service"}
    assert check_failures(kong, broader_plugins="replace", narrower_plugins="keep") == {}
    plugins = provider()
    created = plugins.create(checked(plugins, kong.url, broader_plugins="replace", narrower_plugins="keep"))
    assert created.id in {plugin["id"] for plugin in kong.plugins()}


def test_for_a_route_api_the_service_plugin_is_broader(kong: FakeKong) -> None:
    other = kong.add_plugin(otel(), service="orders")
    reason = check_failures(kong, route="orders-v1")["route"]
    assert other["id"] in reason and "would replace it" in reason


def test_create_asks_again_before_writing(kong: FakeKong) -> None:
    plugins = provider()
    news = checked(plugins, kong.url)
    kong.add_plugin(otel())  # appears between preview and up
    kong.reset_counts()
    with pytest.raises(KongAdminError, match="other opentelemetry plugins can run for its requests"):
        plugins.create(news)
    assert kong.writes == 0 and len(kong.plugins()) == 1


def test_an_unreachable_kong_leaves_the_question_to_create() -> None:
    assert check_failures_at("http://127.0.0.1:9") == {}


def check_failures_at(admin_url: str) -> dict[str, str]:
    result = provider().check({}, inputs(admin_url))
    return {failure.property: failure.reason for failure in result.failures}


SCOPES = [frozenset(s) for n in range(4) for s in itertools.combinations(("route", "service", "consumer"), n)]


@pytest.mark.parametrize(("scope", "own_kind"), [(s, k) for s in SCOPES for k in ("service", "route")])
def test_relation_agrees_with_kongs_precedence(scope: frozenset[str], own_kind: str) -> None:
    # The other plugin is narrower exactly when the emulator (lookup_cfg) runs it instead of ours for some
    # request: here, consumer "mobile" through route orders-v1.
    with FakeKong("3.9") as fake:
        fake.add_service("orders")
        fake.add_route("orders-v1", "orders")
        ours = fake.add_plugin(otel("http://ours:4318/v1/traces"), **{own_kind: "orders" if own_kind == "service"
                                                                      else "orders-v1"})
        if scope == {own_kind}:
            assert relation(scope, own_kind) is None
            return
        if scope == {"route", "service"}:
            body = otel(service={"id": fake.store().find("services", "orders")["id"]})
            other = fake.add_plugin(body, route="orders-v1")
        else:
            target = {"service": "orders" if "service" in scope else None,
                      "route": "orders-v1" if "route" in scope else None,
                      "consumer": "mobile" if "consumer" in scope else None}
            other = fake.add_plugin(otel(), **target)
        winner = fake.plugin_for_request(route="orders-v1", consumer="mobile")
        expected = NARROWER if winner["id"] == other["id"] else BROADER
        assert winner["id"] in (ours["id"], other["id"])
        assert relation(scope, own_kind) == expected
