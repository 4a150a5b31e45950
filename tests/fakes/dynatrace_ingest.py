"""The emulator's metrics API: line-protocol ingest, metric descriptors, ``/metrics/query``, and what SLOs
read from the metric store (the refusal of unknown keys, evaluation from ingested points).

Dynatrace facts followed here:
- ``POST /api/v2/metrics/ingest`` takes ``text/plain`` lines ``key,dim="v" payload [timestamp]`` and answers
  202 ``{linesOk, linesInvalid, error, warnings}`` (400 when no line is valid). A ``count`` payload
  (``count,delta=N``) is stored under ``<key>.count``; a metadata line ``#<key> count dt.meta.…="…"`` creates
  the metric ``<key>.count`` before any data point ("you can push data points and set metadata in any order").
  https://docs.dynatrace.com/docs/shortlink/metric-ingestion-protocol,
  https://docs.dynatrace.com/docs/shortlink/api-metrics-v2-post-datapoints
- ``GET /api/v2/metrics/{key}`` is the descriptor, 404 for a key Dynatrace does not know.
- An SLO whose expression reads a custom key Dynatrace never saw is refused with "Metric selector is invalid"
  (the ``builtin:monitoring.slo`` metric-selector validator; ``require_known_metrics=False`` switches it off).
- A classic SLO's burn rate is ``(100 - SLI) / (100 - target)`` over the last hour.
"""

from __future__ import annotations

import re
import time
from typing import Any

from tests.fakes.dynatrace_selector_parser import SelectorError, duration_ms, metric_keys
from tests.fakes.dynatrace_selector_rules import check
from tests.fakes.dynatrace_selectors import Timeframe, evaluate, single_value

LINE = re.compile(r"^(?P<key>[A-Za-z][\w.\-]*)(?P<dims>(?:,[\w.\-:]+=\"(?:[^\"\\]|\\.)*\")*)\s+(?P<payload>\S+)"
                  r"(?:\s+(?P<timestamp>\d+))?$")
METADATA = re.compile(r"^#(?P<key>[A-Za-z][\w.\-]*)\s+(?P<kind>count|gauge)(?:\s+(?P<meta>.*))?$")
DIMENSION = re.compile(r',([\w.\-:]+)="((?:[^"\\]|\\.)*)"')
BUILTIN_PREFIXES = ("builtin:", "func:", "calc:", "ext:")
UNKNOWN_METRIC = "Metric selector is invalid"
HOUR_MS = 3_600_000


def now_ms(fake: Any) -> int:
    return int(fake.clock() * 1000)


def _stored_key(key: str, kind: str) -> str:
    return key if kind != "count" or key.endswith(".count") else f"{key}.count"


def ingest(fake: Any, text: str) -> tuple[int, dict[str, Any]]:
    ok, invalid, messages = 0, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        problem = _ingest_line(fake, line)
        if problem is None:
            ok += 1
        else:
            invalid += 1
            messages.append({"line": number, "error": problem})
    body = {"linesOk": ok, "linesInvalid": invalid, "error": None, "warnings": None}
    if invalid:
        body["error"] = {"code": 400, "message": f"{invalid} invalid lines", "invalidLines": messages}
    return (202 if ok else 400), body


def _ingest_line(fake: Any, line: str) -> str | None:
    meta = METADATA.match(line)
    if meta:
        fake.metrics.declare(_stored_key(meta.group("key"), meta.group("kind")))
        return None
    match = LINE.match(line)
    if not match:
        return "invalid line"
    payload = match.group("payload")
    count = re.fullmatch(r"count,delta=(\d+(?:\.\d+)?)", payload)
    gauge = re.fullmatch(r"(?:gauge,)?(-?\d+(?:\.\d+)?)", payload)
    if not (count or gauge):
        return f"invalid payload {payload!r}"
    dims = {name: value.replace('\\"', '"').replace("\\\\", "\\")
            for name, value in DIMENSION.findall(match.group("dims"))}
    timestamp = int(match.group("timestamp") or now_ms(fake))
    key = _stored_key(match.group("key"), "count" if count else "gauge")
    fake.metrics.add(key, dims, float((count or gauge).group(1)), timestamp)
    return None


def descriptor(fake: Any, key: str) -> tuple[int, dict[str, Any]]:
    if key not in fake.metrics.known_keys():
        return 404, {"error": {"code": 404, "message": f"Metric key {key} not found"}}
    dimensions = sorted({name for point in fake.metrics.points(key) for name, _ in point.dimensions})
    return 200, {"metricId": key, "displayName": key, "unit": "Count" if key.endswith(".count") else "Unspecified",
                 "dimensionDefinitions": [{"key": name, "name": name, "type": "STRING"} for name in dimensions]}


def unknown_metric_error(fake: Any, expression: Any) -> dict[str, Any] | None:
    """The 400 body Dynatrace gives an SLO or metric event whose selector is invalid (always, see
    ``dynatrace_selector_rules``) or reads an unknown custom key (when the emulator requires known metrics)."""
    if not isinstance(expression, str):
        return None
    try:
        check(expression)
        keys = metric_keys(expression)
    except SelectorError as error:
        return _invalid(f"{UNKNOWN_METRIC}: {error}")
    if not fake.require_known_metrics:
        return None
    unknown = sorted(key for key in keys if not key.startswith(BUILTIN_PREFIXES)
                     and key not in fake.metrics.known_keys())
    if unknown:
        return _invalid(f"{UNKNOWN_METRIC}: the metric {unknown[0]} does not exist")
    return None


def metric_event_refusal(fake: Any, schema: Any, value: dict[str, Any]) -> str | None:
    """Why a metric event's selector is refused (unreadable, or an unknown custom key), or None."""
    query = value.get("queryDefinition") or {}
    if schema != "builtin:anomaly-detection.metric-events" or query.get("type") != "METRIC_SELECTOR":
        return None
    refused = unknown_metric_error(fake, query.get("metricSelector"))
    return refused["error"]["message"] if refused else None


def _invalid(message: str) -> dict[str, Any]:
    return {"error": {"code": 400, "message": message, "constraintViolations": [
        {"path": "metricExpression", "message": message, "parameterLocation": "PAYLOAD_BODY", "location": None}]}}


def slo_evaluation(fake: Any, slo: dict[str, Any]) -> tuple[float, float] | None:
    """(evaluated percentage over the SLO's timeframe, burn rate over the last hour) from ingested points;
    None when the expression reads no data."""
    end = now_ms(fake)
    try:
        keys = metric_keys(slo["metricExpression"])
        if not any(fake.metrics.points(key) for key in keys):
            return None
        span = duration_ms(str(slo.get("timeframe", "-1h")).removeprefix("-"))
        percentage = single_value(slo["metricExpression"], fake.metrics, end - span, end)
        last_hour = single_value(slo["metricExpression"], fake.metrics, end - HOUR_MS, end)
    except SelectorError:
        return None
    if percentage is None:
        return None
    budget = 100.0 - float(slo["target"])
    burn = 0.0 if last_hour is None or budget <= 0 else max(0.0, (100.0 - last_hour) / budget)
    return percentage, burn


def query(fake: Any, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """``GET /metrics/query``: ``metricSelector``, ``from``/``to`` (ms or ``now-1h``), ``resolution`` (``1m``,
    ``Inf``)."""
    selector = params.get("metricSelector") or ""
    end = _time(fake, params.get("to", "now"))
    start = _time(fake, params.get("from", "now-2h"))
    resolution = params.get("resolution", "1m")
    step = max(1, end - start) if resolution == "Inf" else duration_ms(resolution)
    try:
        series = evaluate(selector, fake.metrics, Timeframe(start, end, step))
    except SelectorError as error:
        return 400, {"error": {"code": 400, "message": f"{UNKNOWN_METRIC}: {error}"}}
    slots = Timeframe(start, end, step).slots
    data = [{"dimensions": [value for _, value in dims], "dimensionMap": dict(dims),
             "timestamps": [start + (index + 1) * step for index in range(slots)], "values": values}
            for dims, values in series.items()]
    return 200, {"totalCount": len(data), "nextPageKey": None, "resolution": resolution,
                 "result": [{"metricId": selector, "dataPointCountRatio": 0.0, "dimensionCountRatio": 0.0,
                             "data": data}]}


def _time(fake: Any, text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "now":
        return now_ms(fake)
    if text.startswith("now-"):
        return now_ms(fake) - duration_ms(text[4:])
    raise SelectorError(f"{text!r} is not a time")


def route(fake: Any, method: str, path: str, params: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
    """Every ``/metrics…`` request."""
    if path == "/metrics/ingest" and method == "POST":
        status, body = ingest(fake, raw.decode("utf-8", "replace"))
        return status, body, {}
    if path == "/metrics/query" and method == "GET":
        try:
            status, body = query(fake, params)
        except SelectorError as error:
            status, body = 400, {"error": {"code": 400, "message": str(error)}}
        return status, body, {}
    match = re.fullmatch(r"/metrics/([^/]+)", path)
    if match and method == "GET":
        status, body = descriptor(fake, match.group(1))
        return status, body, {}
    return 404, {"error": {"code": 404, "message": f"{method} {path} not found"}}, {}


def default_clock() -> float:
    return time.time()
