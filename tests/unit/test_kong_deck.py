"""The decK file of the stack's plugins has decK's documented shape and the same plugins ``pulumi up`` writes.

decK's file format (developer.konghq.com/deck): ``_format_version: "3.0"``; ``_info.select_tags`` limits a sync to
entities carrying those tags; top-level ``plugins`` name their service or route; ``_workspace`` on Enterprise.
"""

from __future__ import annotations

import yaml

from kong_slo.commands.artifacts import ARTIFACTS, kong_deck_file, kong_plugin_requests
from tests.unit.settings_helpers import aws_config, parse

PLUGIN_FIELDS = {"id", "name", "service", "route", "consumer", "consumer_group", "config", "enabled", "protocols",
                 "tags", "instance_name", "ordering"}


def test_the_file_is_decks_shape_with_the_plugins_pulumi_writes() -> None:
    settings = parse(aws_config(apis=[{"name": "HealthService"}, {"name": "Orders", "route": "orders-v2"}]))
    document = yaml.safe_load(kong_deck_file(settings))
    assert document["_format_version"] == "3.0"
    assert document["_info"] == {"select_tags": ["kong-slo-stack:test"]}
    assert "_workspace" not in document
    plugins = document["plugins"]
    requests = kong_plugin_requests(settings)["requests"]
    assert [p["service" if "service" in p else "route"] for p in plugins] == ["HealthService", "orders-v2"]
    for plugin, request in zip(plugins, requests, strict=True):
        assert set(plugin) <= PLUGIN_FIELDS
        assert request["path"].endswith(f"/plugins/{plugin['id']}")
        assert {key: plugin[key] for key in ("name", "enabled", "config", "tags")} == request["body"]
        assert set(document["_info"]["select_tags"]) <= set(plugin["tags"]), "sync manages exactly these"


def test_an_enterprise_workspace_is_named() -> None:
    settings = parse(aws_config(kong={"adminUrl": "http://kong.internal:8001", "workspace": "payments"}))
    assert yaml.safe_load(kong_deck_file(settings))["_workspace"] == "payments"


def test_render_writes_it() -> None:
    assert ARTIFACTS["kong-slo-deck.yaml"] is kong_deck_file
