"""The two plugin files ``kong-slo render`` writes, each loaded by the strictest parser at hand: the DB-less file by
Kong's declarative rules (``tests/fakes/kong_declarative``, kong/db/schema/others/declarative_config.lua@3.9.1), the
decK file by decK's file schema (``tests/fakes/kong_deck_file``, go-database-reconciler
pkg/file/kong_json_schema.json@v1.40.3)."""

from __future__ import annotations

import yaml

from kong_slo.commands.artifacts import ARTIFACTS, kong_db_less_file, kong_deck_file, kong_plugin_requests
from tests.fakes import kong_deck_file as deck_rules
from tests.fakes import kong_declarative
from tests.unit.settings_helpers import aws_config, parse

APIS = [{"name": "HealthService"}, {"name": "Bestellübersicht"}, {"name": "Orders", "route": "orders-v2"}]
USER_CONFIG = """
_format_version: "3.0"
services:
  - name: HealthService
    url: http://health.internal:8080
  - name: Bestellübersicht
    url: http://bestellungen.internal:8080
  - name: Orders
    url: http://orders.internal:8080
    routes:
      - name: orders-v2
        paths: [/v2/orders]
plugins:
  - name: opentelemetry
    service: HealthService
    config: {traces_endpoint: http://elsewhere:4318/v1/traces}
"""


def _settings():
    return parse(aws_config(apis=APIS))


def test_the_db_less_file_has_only_what_kongs_declarative_schema_allows() -> None:
    document = yaml.safe_load(kong_db_less_file(_settings()))
    assert set(document) == {"_format_version", "plugins"}
    assert document["_format_version"] == "3.0"
    requests = kong_plugin_requests(_settings())["requests"]
    assert [plugin["id"] for plugin in document["plugins"]] == [r["path"].rsplit("/", 1)[1] for r in requests]


def test_kong_refuses_it_alone_since_its_plugins_name_services_it_does_not_define() -> None:
    found = kong_declarative.problems(yaml.safe_load(kong_db_less_file(_settings())))
    assert "plugins[1]: invalid reference 'service: HealthService' (no such entry in 'services')" in found


def test_added_to_the_configuration_that_defines_the_services_kong_loads_it() -> None:
    user = yaml.safe_load(USER_CONFIG)
    del user["plugins"]  # the hand-made plugin on HealthService would take the same scope
    user["plugins"] = yaml.safe_load(kong_db_less_file(_settings()))["plugins"]
    store = kong_declarative.load(user, "3.9")
    assert store is not None, kong_declarative.problems(user)
    services = {service["name"]: service["id"] for service in store.services.values()}
    route = next(iter(store.routes.values()))
    scopes = sorted((p["service"] or {}).get("id") or (p["route"] or {}).get("id") for p in store.plugins.values())
    assert scopes == sorted([services["HealthService"], services["Bestellübersicht"], route["id"]])
    assert all(p["config"]["resource_attributes"]["service.name"] for p in store.plugins.values())


def test_kong_would_refuse_the_deck_file_its_info_is_an_unknown_field() -> None:
    user = yaml.safe_load(USER_CONFIG)
    deck = yaml.safe_load(kong_deck_file(_settings()))
    merged = {**user, **{key: value for key, value in deck.items() if key != "plugins"}, "plugins": deck["plugins"]}
    assert kong_declarative.problems(merged) == ["_info: unknown field"]


def test_kongs_rules_refuse_what_kong_refuses() -> None:
    assert kong_declarative.problems({"_format_version": 3.0}) == ["_format_version: expected a string"]
    assert kong_declarative.problems({"_format_version": "2.0"}) == ["_format_version: expected one of: 1.1, 2.1, 3.0"]
    assert kong_declarative.problems({"plugins": []}) == ["_format_version: required field missing"]
    assert kong_declarative.problems({"_format_version": "3.0", "_workspace": "x"}) == ["_workspace: unknown field"]
    bad_plugin = {"_format_version": "3.0", "plugins": [{"name": "opentelemetry", "config": {"nope": 1}}]}
    assert kong_declarative.problems(bad_plugin)[0].startswith("plugins[1]: schema violation")


def test_the_deck_file_passes_decks_file_schema() -> None:
    for settings in (_settings(), parse(aws_config(apis=APIS, kong={"adminUrl": "http://kong:8001",
                                                                   "workspace": "payments"}))):
        assert deck_rules.problems(yaml.safe_load(kong_deck_file(settings))) == []


def test_decks_file_schema_refuses_what_deck_refuses() -> None:
    document = yaml.safe_load(kong_deck_file(_settings()))
    assert deck_rules.problems({**document, "extra": 1}) == ["(root): Additional property extra is not allowed"]
    assert deck_rules.problems({**document, "_info": {"select_tag": []}}) == [
        "_info: Additional property select_tag is not allowed"]
    plugin = {key: value for key, value in document["plugins"][0].items() if key != "name"}
    assert deck_rules.problems({**document, "plugins": [{**plugin, "enabled": "yes"}]}) == [
        "plugins.0: name is required", "plugins.0.enabled: Invalid type"]


def test_render_writes_both() -> None:
    assert ARTIFACTS["kong-slo-dbless.yaml"] is kong_db_less_file
    assert ARTIFACTS["kong-slo-deck.yaml"] is kong_deck_file
