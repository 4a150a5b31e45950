"""The Dynatrace emulator's metric reads over ``fake.metrics``: ``GET /api/v2/metrics/{key}`` (the descriptor;
404 for a key never ingested nor declared, https://docs.dynatrace.com/docs/shortlink/api-metrics-v2-get-descriptor)
and ``GET /api/v2/metrics/query`` (https://docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2).

The query understands one selector shape for now, ``<key>:splitBy("<dimension>"):sum``, with ``from`` as
``now-<n><s|m|h|d>`` or epoch milliseconds and ``resolution=Inf``: one series per dimension value that has
points in the timeframe, with their sum. ``evaluate_split_sum`` is that evaluator, kept apart so a general
metric-selector evaluator can replace it. Response shape as documented: ``{totalCount, nextPageKey,
resolution, result: [{metricId, data: [{dimensions, dimensionMap, timestamps, values}]}]}``.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote

from tests.fakes.dynatrace_metrics import MetricStore

SPLIT_SUM = re.compile(r'^(?P<key>[A-Za-z0-9_.:-]+?):splitBy\("(?P<dimension>(?:[^"~]|~.)*)"\):sum$')
RELATIVE = re.compile(r"^now-(?P<amount>\d+)(?P<unit>[smhd])$")
UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
DEFAULT_FROM = "now-2h"

Reply = tuple[int, Any, dict[str, str]]


def _error(code: int, message: str) -> Reply:
    return code, {"error": {"code": code, "message": message, "constraintViolations": []}}, {}


def metrics_route(store: MetricStore, method: str, path: str, query: dict[str, str]) -> Reply | None:
    """The reply for a metrics request, or None when ``path`` is not one."""
    if path == "/metrics/query":
        if method != "GET":
            return _error(405, "Method not allowed")
        return _query(store, query)
    match = re.fullmatch(r"/metrics/([^/]+)", path)
    if match is None or method != "GET":
        return None
    key = unquote(match.group(1))
    if key not in store.known_keys():
        return _error(404, f"Metric {key} not found")
    return 200, {"metricId": key, "displayName": key, "unit": "Count", "dimensionDefinitions": [],
                 "aggregationTypes": ["auto", "value", "count", "sum"], "transformations": []}, {}


def window_start_ms(text: str, now_ms: int) -> int | None:
    """``from`` as epoch milliseconds; None when it is neither ``now-<n><unit>`` nor a number."""
    match = RELATIVE.match(text)
    if match:
        return now_ms - int(match.group("amount")) * UNIT_MS[match.group("unit")]
    return int(text) if text.isdigit() else None


def evaluate_split_sum(store: MetricStore, selector: str, start_ms: int, end_ms: int) -> dict[str, float] | None:
    """``<key>:splitBy("<dim>"):sum`` over [start, end]: dimension value → sum; None for any other selector."""
    match = SPLIT_SUM.match(selector)
    if match is None:
        return None
    dimension = re.sub(r"~(.)", r"\1", match.group("dimension"))
    sums: dict[str, float] = {}
    for point in store.points(match.group("key")):
        value = point.dimension(dimension)
        if value is not None and start_ms <= point.timestamp_ms <= end_ms:
            sums[value] = sums.get(value, 0.0) + point.value
    return sums


def _query(store: MetricStore, query: dict[str, str]) -> Reply:
    selector = query.get("metricSelector", "")
    if not selector:
        return _error(400, "metricSelector must not be empty")
    now_ms = int(time.time() * 1000)
    start = window_start_ms(query.get("from", DEFAULT_FROM), now_ms)
    if start is None:
        return _error(400, f"Invalid from: {query.get('from')}")
    if query.get("resolution", "Inf") != "Inf":
        return _error(400, "the emulator answers resolution=Inf only")
    match = SPLIT_SUM.match(selector)
    if match and match.group("key") not in store.known_keys():
        return _error(404, f"Metric {match.group('key')} not found")
    sums = evaluate_split_sum(store, selector, start, now_ms)
    if sums is None:
        return _error(400, f"the emulator does not evaluate the selector {selector!r}")
    dimension = re.sub(r"~(.)", r"\1", match.group("dimension")) if match else ""
    data = [{"dimensions": [value], "dimensionMap": {dimension: value}, "timestamps": [now_ms], "values": [total]}
            for value, total in sorted(sums.items())]
    return 200, {"totalCount": len(data), "nextPageKey": None, "resolution": "Inf",
                 "result": [{"metricId": selector, "dataPointCountRatio": 0.0, "dimensionCountRatio": 0.0,
                             "data": data}]}, {}
