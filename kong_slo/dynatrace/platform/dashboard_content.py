"""A platform stack's dashboard as a Latest Dynatrace dashboard document (Documents API, type ``dashboard``). Pure.

The content is the Dashboards app's JSON: ``version``, ``variables``, ``tiles`` (by id) and ``layouts`` (the same
ids, each ``x``, ``y``, ``w``, ``h`` on the 24-column grid); a tile is ``markdown`` (``content``) or ``data``
(``title``, ``query`` in DQL, ``visualization``). Per API, in the stack file's order: a markdown heading, the
request rate and failure rate and latency good/bad from the counter (``kong.slo.calls`` in Grail), and per
objective its SLI and error budget left over the objective's window and its burn rate, from the same DQL the SLO
and the burn-rate detectors read. On top, the stack's name with a link to its SLOs, and the Davis events the
burn-rate detectors raised.
"""

from __future__ import annotations

from typing import Any

from kong_slo import telemetry
from kong_slo.dynatrace.dashboard_sections import Section, sections
from kong_slo.dynatrace.platform.definitions import (
    GRAIL_CALLS_METRIC,
    TAG_STACK,
    calls_timeseries,
    dql_string,
    timeframe_from,
)
from kong_slo.objectives.sli import SloDefinition, slo_name_prefix

DASHBOARD_VERSION = 20
"""The content schema version the Dashboards app writes (as in exported dashboards)."""
WIDTH = 24
SLO_APP_PATH = "/ui/apps/dynatrace.slo"


def _service(api: str) -> str:
    return f"filter: {telemetry.SERVICE_DIMENSION} == {dql_string(api)}"


def request_rate_query(api: str) -> str:
    return f"timeseries requests = sum({GRAIL_CALLS_METRIC}), {_service(api)}, interval: 1m"


def failure_rate_query(api: str) -> str:
    failed = f"{telemetry.OUTCOME_DIMENSION} != {dql_string(telemetry.OUTCOME_SUCCESS)}"
    return (f"timeseries {{ total = sum({GRAIL_CALLS_METRIC}), failed = sum({GRAIL_CALLS_METRIC}, default: 0, "
            f"filter: {failed}) }}, {_service(api)}, interval: 1m\n"
            "| fieldsAdd failedPercent = 100 * failed[] / total[]")


def latency_query(api: str) -> str:
    return (f"timeseries calls = sum({GRAIL_CALLS_METRIC}), by: {{ {telemetry.LATENCY_DIMENSION} }}, "
            f"{_service(api)}, interval: 1m")


def budget_query(definition: SloDefinition) -> str:
    """SLI and error budget left over the objective's window, as one value each."""
    window = timeframe_from(definition.window)
    budget = 100 - definition.target
    return (f"{calls_timeseries(definition.api, definition.objective, options=f', from: {window}')}\n"
            f"| fieldsAdd sli = 100 * arraySum(good) / arraySum(total)\n"
            f"| fieldsAdd budgetLeft = 100 * (sli - {definition.target:g}) / {budget:g}\n"
            f"| fields sli, budgetLeft")


def burn_query(definition: SloDefinition) -> str:
    budget = 100 - definition.target
    return (f"{calls_timeseries(definition.api, definition.objective, options=', interval: 1m')}\n"
            f"| fieldsAdd burnRate = (100 - 100 * good[] / total[]) / {budget:g}")


def _data(title: str, query: str, visualization: str) -> dict[str, Any]:
    return {"type": "data", "title": title, "query": query, "visualization": visualization,
            "visualizationSettings": {}, "querySettings": {}}


def _markdown(text: str) -> dict[str, Any]:
    return {"type": "markdown", "content": text}


def _section(section: Section) -> list[tuple[dict[str, Any], int, int]]:
    """Tiles with their width and height, in reading order."""
    api = section.api
    placed = [(_markdown(f"## {api}"), WIDTH, 1),
              (_data(f"{api}: requests per minute", request_rate_query(api), "lineChart"), 8, 4),
              (_data(f"{api}: failed requests (%)", failure_rate_query(api), "lineChart"), 8, 4),
              (_data(f"{api}: latency good / bad", latency_query(api), "barChart"), 8, 4)]
    for definition in section.objectives:
        title = (f"{api} {definition.objective}: SLI and error budget left over {definition.window} "
                 f"(target {definition.target:g} %)")
        placed += [(_data(title, budget_query(definition), "table"), 12, 3),
                   (_data(f"{api} {definition.objective}: burn rate (the alerts' input)", burn_query(definition),
                          "lineChart"), 12, 3)]
    return placed


def alerts_query(stack: str) -> str:
    return ("fetch dt.davis.events, from: now-24h\n"
            f"| filter contains(event.name, {dql_string(slo_name_prefix(stack))})\n"
            "| fields timestamp, event.name, event.status")


def platform_dashboard(stack: str, platform_url: str, definitions: list[SloDefinition]) -> dict[str, Any]:
    """The document's content: a dashboard of the Dashboards app."""
    link = f"{platform_url.rstrip('/')}{SLO_APP_PATH}"
    placed = [(_markdown(f"## kong-slo: stack {stack}\n\nOne section per API, in the stack file's order. "
                         f"[The stack's SLOs]({link}) (tag `{TAG_STACK}:{stack}`)"), 12, 2),
              (_data("Burn-rate alerts raised", alerts_query(stack), "table"), 12, 2)]
    for section in sections(definitions):
        placed += _section(section)
    tiles: dict[str, Any] = {}
    layouts: dict[str, Any] = {}
    x = y = row_height = 0
    for index, (tile, width, height) in enumerate(placed):
        if x + width > WIDTH:
            x, y, row_height = 0, y + row_height, 0
        tiles[str(index)] = tile
        layouts[str(index)] = {"x": x, "y": y, "w": width, "h": height}
        x, row_height = x + width, max(row_height, height)
    return {"version": DASHBOARD_VERSION, "variables": [], "tiles": tiles, "layouts": layouts}
