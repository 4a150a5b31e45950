"""Reads ``kong-slo report`` needs from the Environment API v2 beyond the SLOs: the counter's good and total calls
per interval (``GET /metrics/query``, scope ``metrics.read``) and the problems the burn-rate alerts opened
(``GET /problems``, scope ``problems.read``). Both flavours' environments serve them on the ``live`` host."""

from __future__ import annotations

from typing import Any

from kong_slo.dynatrace.client import DynatraceClient
from kong_slo.dynatrace.reads import query_series
from kong_slo.objectives.report_model import FiredAlert
from kong_slo.objectives.sli import (
    GOOD_CALLS,
    SloDefinition,
    calls_selector,
    dimension_is,
    selector_string,
    slo_name_prefix,
)

REPORT_SCOPES = ("slo.read", "metrics.read", "problems.read")
"""What a classic stack's ``kong-slo report`` reads with: the SLOs, the counter and the problems."""


def counter_selectors(definition: SloDefinition) -> tuple[str, str]:
    """(good calls, all calls) of one API's objective, summed per interval."""
    good = dimension_is(*GOOD_CALLS[definition.objective])
    return calls_selector(definition.api, good), calls_selector(definition.api)


def counts(client: DynatraceClient, definition: SloDefinition, since: str,
           resolution: str) -> tuple[list[int], list[float | None], list[float | None]]:
    """(interval ends, good calls, all calls); empty lists while Dynatrace holds no data for the API."""
    good_selector, total_selector = counter_selectors(definition)
    total = query_series(client, total_selector, since=since, resolution=resolution)
    if not total:
        return [], [], []
    good = query_series(client, good_selector, since=since, resolution=resolution)
    stamps = [int(stamp) for stamp in total[0].get("timestamps") or []]
    good_values = (good[0].get("values") if good else None) or [0.0] * len(stamps)
    return stamps, list(good_values), list(total[0].get("values") or [])


def fired_alerts(client: DynatraceClient, stack: str, since: str) -> list[FiredAlert]:
    """Problems opened since ``since`` whose title names the stack (the burn-rate alerts' titles do)."""
    params: dict[str, Any] = {"from": since, "pageSize": 500,
                              "problemSelector": f"text({selector_string(slo_name_prefix(stack))})"}
    alerts: list[FiredAlert] = []
    what = "list problems"
    while True:
        body = client.expect(client.request("GET", "/problems", params=params, what=what), what, 200).json()
        for problem in body.get("problems") or []:
            end = problem.get("endTime")
            alerts.append(FiredAlert(str(problem.get("title")), str(problem.get("status")),
                                     int(problem.get("startTime") or 0), int(end) if end and end > 0 else None))
        if not body.get("nextPageKey"):
            return alerts
        params = {"nextPageKey": body["nextPageKey"]}
