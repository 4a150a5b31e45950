"""Davis anomaly detectors (``builtin:davis.anomaly-detectors`` 1.0.16): what the emulator accepts, and how it runs
them over its metric store.

From Dynatrace's documentation ("Set up anomaly detectors via API"; "Anomaly Detection DQL best practices";
"Anomaly detection configuration"):
- "The query must have a time interval explicitly set to ``interval:1m``"; "You can't set timeframes using
  ``from:`` and ``to:`` DQL operators with this configuration" — both refused here;
- "The query result must be of the type ``timeseries``": one numeric array besides ``timeframe``/``interval``;
- "Anomaly Detection executes the query every minute"; it "retrieves data from Grail based on predefined sliding
  windows": each run here reads the last ``slidingWindow`` minutes and judges those one-minute samples;
- ``slidingWindow`` and ``violatingSamples`` at most 60, "The sliding window must be greater than or equal to the
  value set for ``violatingSamples``"; an event opens when at least ``violatingSamples`` samples violate and
  closes when fewer do and at least ``dealertingSamples`` are normal; with ``alertOnMissingData`` false a sample
  without data never violates.
The analyzer is the static-threshold one; its inputs are strings (the schema types ``AnalyzerInputField.value``
as text). Events reach e-mail through the alerting profiles as classic problems do (``dynatrace_metric_events``).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.dynatrace_dql import DqlError, Parser, evaluate
from tests.fakes.dynatrace_metric_events import MINUTE_MS, Problem, notified
from tests.fakes.dynatrace_metrics import MetricStore

DETECTORS = "builtin:davis.anomaly-detectors"
STATIC_THRESHOLD = "dt.statistics.ui.anomaly_detection.StaticThresholdAnomalyDetectionAnalyzer"
REQUIRED_INPUTS = ("query", "threshold", "alertCondition")
SAMPLE_INPUTS = {"slidingWindow": (1, 60), "violatingSamples": (1, 60), "dealertingSamples": (1, 60)}
DEFAULTS = {"slidingWindow": "5", "violatingSamples": "3", "dealertingSamples": "5", "alertOnMissingData": "false"}
"""The analyzer's defaults: "Any three one-minute samples out of five must violate … Five one-minute samples must
be back to normal to close this event"."""


def inputs_of(value: dict[str, Any]) -> dict[str, str]:
    given = {item.get("key"): item.get("value") for item in (value.get("analyzer") or {}).get("input") or []}
    return {**DEFAULTS, **{key: str(item) for key, item in given.items() if item is not None}}


def detector_problems(value: dict[str, Any]) -> list[str]:
    """Why a detector value is refused (``path: message``), empty when the emulator takes it."""
    problems = []
    if not 2 <= len(str(value.get("title") or "")) <= 500:
        problems.append("title: size must be between 2 and 500")
    analyzer = value.get("analyzer") or {}
    if analyzer.get("name") != STATIC_THRESHOLD:
        problems.append(f"analyzer.name: only {STATIC_THRESHOLD} is emulated")
    for item in analyzer.get("input") or []:
        if not isinstance(item.get("value"), str):
            problems.append(f"analyzer.input.{item.get('key')}: {item.get('value')!r} is not text")
    inputs = inputs_of(value)
    problems += [f"analyzer.input.{key}: is required" for key in REQUIRED_INPUTS if not inputs.get(key)]
    for key, (low, high) in SAMPLE_INPUTS.items():
        if not inputs[key].isdigit() or not low <= int(inputs[key]) <= high:
            problems.append(f"analyzer.input.{key}: {inputs[key]!r} is not a whole number from {low} to {high}")
    if not problems and int(inputs["slidingWindow"]) < int(inputs["violatingSamples"]):
        problems.append("analyzer.input.slidingWindow: must be at least violatingSamples")
    problems += [f"analyzer.input.query: {reason}" for reason in query_problems(inputs.get("query") or "")]
    properties = {item.get("key") for item in (value.get("eventTemplate") or {}).get("properties") or []}
    if "event.name" not in properties:
        problems.append("eventTemplate.properties: event.name is required")
    return problems


def query_problems(query: str) -> list[str]:
    try:
        parsed = Parser(query).query(0)
    except DqlError as error:
        return [str(error)]
    problems = []
    if parsed.from_ms is not None or parsed.to_ms is not None:
        problems.append("a detector's query may not set from: or to: (the detector chooses the timeframe)")
    if parsed.interval_ms != MINUTE_MS:
        problems.append("the query must set interval: 1m")
    return problems


def samples(query: str, store: MetricStore, minute_end_ms: int, window: int) -> list[float | None]:
    """One run: the query over the last ``window`` minutes before ``minute_end_ms``, its one numeric series."""
    records = evaluate(query, store, now_ms=minute_end_ms, from_ms=minute_end_ms - window * MINUTE_MS)
    if len(records) > 1:
        raise AssertionError("the emulator runs detectors whose query yields one record only")
    if not records:
        return [None] * window
    series = [field for name, field in records[0].items() if name not in ("timeframe", "interval")]
    if len(series) != 1 or not isinstance(series[0], list):
        raise DqlError("the query must yield one numeric series besides timeframe and interval")
    return series[0][-window:]


def runs(value: dict[str, Any], store: MetricStore, start_ms: int, end_ms: int) -> list[tuple[int, int | None]]:
    """(minute an event opens, minute it closes or None) for each event the detector raises, running once per
    minute of ``[start_ms, end_ms)``."""
    inputs = inputs_of(value)
    window, violating, dealerting = (int(inputs[key]) for key in ("slidingWindow", "violatingSamples",
                                                                   "dealertingSamples"))
    threshold, above = float(inputs["threshold"]), inputs["alertCondition"] == "ABOVE"
    missing_violates = inputs["alertOnMissingData"] == "true"
    found, opened = [], None
    for minute in range((end_ms - start_ms) // MINUTE_MS):
        values = samples(inputs["query"], store, start_ms + (minute + 1) * MINUTE_MS, window)
        marks = [missing_violates if v is None else (v > threshold if above else v < threshold) for v in values]
        if opened is None and sum(marks) >= violating:
            opened = minute
        elif opened is not None and sum(marks) < violating and len(marks) - sum(marks) >= dealerting:
            found.append((opened, minute))
            opened = None
    if opened is not None:
        found.append((opened, None))
    return found


def detector_events(fake: Any, start_ms: int, end_ms: int) -> list[Problem]:
    """Every event the enabled detectors raise over ``[start_ms, end_ms)``, in order of opening."""
    raised = []
    for item in list(fake.settings.values()):
        value = item["value"]
        if item["schemaId"] != DETECTORS or not value.get("enabled", True):
            continue
        properties = {p["key"]: p["value"] for p in (value.get("eventTemplate") or {}).get("properties") or []}
        title, event_type = properties["event.name"], properties.get("event.type", "CUSTOM_ALERT")
        recipients = notified(fake, event_type, title)
        for opened, closed in runs(value, fake.metrics, start_ms, end_ms):
            raised.append(Problem(title, properties.get("event.description", ""), event_type,
                                  start_ms + opened * MINUTE_MS,
                                  None if closed is None else start_ms + closed * MINUTE_MS, recipients))
    return sorted(raised, key=lambda problem: problem.opened_ms)
