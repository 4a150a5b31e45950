"""The dashboards' JSON, built without Pulumi or a network: one section per API in stack-file order, a header
naming the stack and linking its SLOs, classic tiles on the 38-pixel grid without overlap, every metric selector
one Dynatrace's selector rules accept, and every DQL query (but the events table) one the emulator can run."""

from __future__ import annotations

import re

from kong_slo.dynatrace.classic.dashboard_content import classic_dashboard
from kong_slo.dynatrace.dashboard_sections import dashboard_external_id, dashboard_id, sections
from kong_slo.dynatrace.platform.dashboard_content import alerts_query, platform_dashboard
from kong_slo.objectives.sli import slo_definitions
from tests.fakes.dynatrace_dql import Parser
from tests.fakes.dynatrace_selector_rules import check
from tests.unit.settings_helpers import aws_config, parse

APIS = [{"name": "Zeta"}, {"name": "Alpha", "latency": False}, {"name": "Mid"}]
URL = "https://abc12345.live.dynatrace.com"


def definitions():
    return slo_definitions(parse(aws_config(apis=APIS)))


def test_sections_follow_the_stack_file_not_the_alphabet():
    assert [section.api for section in sections(definitions())] == ["Zeta", "Alpha", "Mid"]
    assert [d.objective for d in sections(definitions())[1].objectives] == ["availability"]


def test_classic_dashboard_header_sections_and_grid():
    dashboard = classic_dashboard("dev", URL, definitions())
    tiles = dashboard["tiles"]
    assert "## kong-slo: stack dev" in tiles[0]["markdown"] and f"{URL}/ui/slo?sloSelector=" in tiles[0]["markdown"]
    assert [tile["name"] for tile in tiles if tile["tileType"] == "HEADER"] == ["Zeta", "Alpha", "Mid"]
    assert "kong-slo" in dashboard["dashboardMetadata"]["tags"] and "owner" not in dashboard["dashboardMetadata"]
    boxes = []
    for tile in tiles:
        bounds = tile["bounds"]
        assert all(value % 38 == 0 for value in bounds.values()), tile
        left, top = bounds["left"], bounds["top"]
        boxes.append((left, top, left + bounds["width"], top + bounds["height"]))
    for index, a in enumerate(boxes):
        for b in boxes[index + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_classic_selectors_are_valid_and_cover_each_objective():
    dashboard = classic_dashboard("dev", URL, definitions())
    selectors = [query["metricSelector"] for tile in dashboard["tiles"] for query in tile.get("queries", [])]
    for selector in selectors:
        check(selector)
    for definition in definitions():
        assert f"func:slo.{definition.metric_name}" in selectors
        assert f"func:slo.errorBudget.{definition.metric_name}" in selectors
        assert f"func:slo.errorBudgetBurnRate.{definition.metric_name}" in selectors


def test_platform_dashboard_tiles_match_layouts_and_queries_run():
    content = platform_dashboard("dev", "https://abc12345.apps.dynatrace.com", definitions())
    assert set(content["tiles"]) == set(content["layouts"])
    assert content["tiles"]["0"]["type"] == "markdown" and "stack dev" in content["tiles"]["0"]["content"]
    headings = [tile["content"] for tile in content["tiles"].values() if tile["type"] == "markdown"][1:]
    assert headings == ["## Zeta", "## Alpha", "## Mid"]
    for tile in content["tiles"].values():
        if tile["type"] == "data" and tile["query"].startswith("timeseries"):
            Parser(tile["query"]).query(0)
    for layout in content["layouts"].values():
        assert layout["x"] >= 0 and layout["x"] + layout["w"] <= 24


def test_identities_are_stable_per_project_and_stack():
    assert dashboard_id("kong-slo", "dev") == dashboard_id("kong-slo", "dev") != dashboard_id("kong-slo", "prod")
    assert dashboard_external_id("kong-slo", "dev") == "kong-slo:dev:dashboard"


def test_the_alerts_tile_lists_this_stacks_alerts_not_those_of_a_stack_named_alike():
    literal = re.search(r'contains\(event\.name, "([^"]*)"\)', alerts_query("prod"))
    assert literal is not None
    assert literal.group(1) in "kong-slo prod: Orders latency page: error budget burning over 5 minutes"
    assert literal.group(1) not in "kong-slo prod-eu: Orders latency page: error budget burning over 5 minutes"
