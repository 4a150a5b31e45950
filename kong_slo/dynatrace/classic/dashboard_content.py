"""A classic stack's dashboard as the configuration API's dashboard JSON (``/api/config/v1/dashboards``). Pure.

Shape as Dynatrace documents it (Dashboards API, "Dashboard" JSON model; the same JSON the dashboard editor's
"Dashboard JSON" page shows): ``dashboardMetadata`` (``name``, ``shared``, ``tags``, ``dashboardFilter``) and
``tiles``, each with ``name``, ``tileType``, ``configured`` and ``bounds`` (``top``, ``left``, ``width``,
``height`` in pixels on the 38-pixel grid). The owner is left out: Dynatrace makes the token's owner the owner.

Per API, in the stack file's order, one row: a ``HEADER`` naming the API, then ``DATA_EXPLORER`` tiles for each
objective's SLO value and error budget (``func:slo.<metricName>``, ``func:slo.errorBudget.<metricName>``) and
burn rate (``func:slo.errorBudgetBurnRate.<metricName>``, what the burn-rate alerts watch), the request rate
and failure rate from the counter (``kong.slo.calls.count``), and latency good/bad. On top, a ``MARKDOWN``
header naming the stack with a link to its SLOs, and ``OPEN_PROBLEMS``, where the burn-rate alerts open problems.
"""

from __future__ import annotations

from typing import Any

from kong_slo import telemetry
from kong_slo.dynatrace.dashboard_sections import Section, dashboard_name, dashboard_tags, sections
from kong_slo.objectives.sli import (
    AVAILABILITY,
    GOOD_CALLS,
    SloDefinition,
    api_calls,
    calls_selector,
    dimension_is,
    selector_string,
    share_selector,
    slo_name_prefix,
)

GRID = 38
COLUMN = 8 * GRID
ROW = 4 * GRID
HEADER_HEIGHT = GRID
DEFAULT_TIMEFRAME = "-2h"


def _bounds(top: int, left: int, width: int = COLUMN, height: int = ROW) -> dict[str, int]:
    return {"top": top, "left": left, "width": width, "height": height}


def _chart(name: str, selectors: list[str], top: int, left: int, kind: str = "GRAPH_CHART") -> dict[str, Any]:
    """A Data Explorer tile over metric selectors (queries A, B, …), as the dashboard JSON stores one."""
    ids = [chr(ord("A") + index) for index in range(len(selectors))]
    return {
        "name": "", "tileType": "DATA_EXPLORER", "configured": True, "bounds": _bounds(top, left),
        "tileFilter": {}, "customName": name,
        "queries": [{"id": query_id, "metricSelector": selector, "enabled": True}
                    for query_id, selector in zip(ids, selectors, strict=True)],
        "visualConfig": {"type": kind, "global": {"hideLegend": False}},
        "metricExpressions": [f"resolution=null&({selector})" for selector in selectors],
    }


def request_rate_selector(api: str) -> str:
    return calls_selector(api)


def failure_rate_selector(api: str) -> str:
    return share_selector(api, f"not({dimension_is(*GOOD_CALLS[AVAILABILITY])})")


def latency_selector(api: str) -> str:
    return (f"{telemetry.CALLS_METRIC_KEY}:filter({api_calls(api)})"
            f":splitBy({selector_string(telemetry.LATENCY_DIMENSION)}):sum")


def _objective_tiles(definition: SloDefinition, top: int, left: int) -> list[dict[str, Any]]:
    metric = definition.metric_name
    title = f"{definition.objective}: SLO {definition.target:g} % (warning {definition.warning:g} %), budget left"
    return [
        _chart(title, [f"func:slo.{metric}", f"func:slo.errorBudget.{metric}"], top, left, "SINGLE_VALUE"),
        _chart(f"{definition.objective}: burn rate (alerts fire on it)", [f"func:slo.errorBudgetBurnRate.{metric}"],
               top, left + COLUMN),
    ]


def _section_tiles(section: Section, top: int) -> tuple[list[dict[str, Any]], int]:
    tiles: list[dict[str, Any]] = [{"name": section.api, "tileType": "HEADER", "configured": True,
                                    "bounds": _bounds(top, 0, 3 * COLUMN, HEADER_HEIGHT)}]
    top += HEADER_HEIGHT
    tiles += [_chart("requests per minute", [request_rate_selector(section.api)], top, 0),
              _chart("failed requests (%)", [failure_rate_selector(section.api)], top, COLUMN),
              _chart("latency good / bad", [latency_selector(section.api)], top, 2 * COLUMN, "STACKED_COLUMN")]
    top += ROW
    for definition in section.objectives:
        tiles += _objective_tiles(definition, top, 0)
        top += ROW
    return tiles, top


def header_markdown(stack: str, environment_url: str) -> str:
    selector = f"text({selector_string(slo_name_prefix(stack))})"
    link = f"{environment_url.rstrip('/')}/ui/slo?sloSelector={selector}"
    return (f"## kong-slo: stack {stack}\n\nOne section per API, in the stack file's order. "
            f"[The stack's SLOs]({link.replace(' ', '%20')})")


def classic_dashboard(stack: str, environment_url: str, definitions: list[SloDefinition]) -> dict[str, Any]:
    """The dashboard JSON for ``PUT /api/config/v1/dashboards/{id}`` (the id travels in the path)."""
    tiles: list[dict[str, Any]] = [
        {"name": "Markdown", "tileType": "MARKDOWN", "configured": True, "bounds": _bounds(0, 0, 2 * COLUMN),
         "tileFilter": {}, "markdown": header_markdown(stack, environment_url)},
        {"name": "Open problems (burn-rate alerts)", "tileType": "OPEN_PROBLEMS", "configured": True,
         "bounds": _bounds(0, 2 * COLUMN), "tileFilter": {}},
    ]
    top = ROW
    for section in sections(definitions):
        section_tiles, top = _section_tiles(section, top)
        tiles += section_tiles
    return {
        "dashboardMetadata": {"name": dashboard_name(stack), "shared": True, "tags": dashboard_tags(stack),
                              "dashboardFilter": {"timeframe": DEFAULT_TIMEFRAME}},
        "tiles": tiles,
    }
