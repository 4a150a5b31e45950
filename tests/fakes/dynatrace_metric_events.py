"""Metric events evaluated over the emulator's metric store, and the problems they raise reaching e-mail.

The model is ``builtin:anomaly-detection.metric-events`` (schema 1.0.19) with a static threshold, as its
property descriptions put it: ``samples`` is "the number of one-minute samples that form the sliding evaluation
window", ``violatingSamples`` "the number of one-minute samples within the evaluation window that must violate to
trigger an event", ``dealertingSamples`` "the number of one-minute samples within the evaluation window that must
go back to normal to close the event"; with ``alertOnNoData`` false, "missing data is not treated as a violation
but will still contribute to dealerting". An open event closes when, within the window, fewer samples than
``violatingSamples`` violate and at least ``dealertingSamples`` are normal (Dynatrace's anomaly detection
configuration: "The number of violating samples must be lower than the threshold number" and "The number of
'normal' samples must be greater than or equal to the number of de-alerting samples"). The selector is evaluated
at one-minute resolution, a rollup being the trailing window that ends at each minute.

A problem reaches the recipients of every enabled e-mail notification whose alerting profile
(``builtin:alerting.profile``) has a severity rule for the event's severity and whose event filters pass the
title.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes.dynatrace_selectors import Timeframe, evaluate

MINUTE_MS = 60_000
METRIC_EVENTS = "builtin:anomaly-detection.metric-events"
SEVERITY_OF_EVENT = {"AVAILABILITY": "AVAILABILITY", "ERROR": "ERRORS", "SLOWDOWN": "PERFORMANCE",
                     "RESOURCE": "RESOURCE_CONTENTION", "CUSTOM_ALERT": "CUSTOM_ALERT"}


@dataclass(frozen=True)
class Problem:
    title: str
    description: str
    event_type: str
    opened_ms: int
    closed_ms: int | None
    """None while still open at the end of the evaluated time."""
    recipients: tuple[str, ...]


def slo_expressions(fake: Any) -> dict[str, str]:
    """What ``func:slo.<metricName>`` reads: each stored SLO's expression."""
    return {slo["metricName"]: slo["metricExpression"] for slo in list(fake.slos.values())}


def samples(value: dict[str, Any], fake: Any, start_ms: int, end_ms: int) -> list[float | None]:
    """One value per minute of ``[start_ms, end_ms)``: the event's selector, which must give one series."""
    series = evaluate(value["queryDefinition"]["metricSelector"], fake.metrics, Timeframe(start_ms, end_ms, MINUTE_MS),
                      slo_expressions(fake))
    if len(series) > 1:
        raise AssertionError("the emulator models metric events on a single series only")
    return next(iter(series.values()), [None] * Timeframe(start_ms, end_ms, MINUTE_MS).slots)


def _violates(model: dict[str, Any], value: float | None) -> bool:
    if value is None:
        return bool(model.get("alertOnNoData"))
    threshold, condition = float(model["threshold"]), model.get("alertCondition", "ABOVE")
    return value > threshold if condition == "ABOVE" else value < threshold


def episodes(model: dict[str, Any], values: list[float | None]) -> list[tuple[int, int | None]]:
    """(minute the event opens, minute it closes or None) for each event the samples raise."""
    return sliding_window_episodes([_violates(model, value) for value in values], model["samples"],
                                   model["violatingSamples"], model["dealertingSamples"])


def sliding_window_episodes(marks: list[bool], window: int, violating: int,
                            dealerting: int) -> list[tuple[int, int | None]]:
    """Events over per-minute violation marks: open when at least ``violating`` of the last ``window`` minutes
    violate; close when fewer than ``violating`` do and at least ``dealerting`` are normal."""
    found, opened = [], None
    for minute in range(len(marks)):
        recent = marks[max(0, minute - window + 1):minute + 1]
        if opened is None:
            if sum(recent) >= violating:
                opened = minute
        elif sum(recent) < violating and len(recent) - sum(recent) >= dealerting:
            found.append((opened, minute))
            opened = None
    if opened is not None:
        found.append((opened, None))
    return found


def problems(fake: Any, start_ms: int, end_ms: int) -> list[Problem]:
    """Every problem the enabled metric events raise over ``[start_ms, end_ms)``, in order of opening."""
    raised = []
    for item in list(fake.settings.values()):
        value = item["value"]
        if item["schemaId"] != METRIC_EVENTS or not value.get("enabled", True):
            continue
        template = value["eventTemplate"]
        event_type = template.get("eventType", "CUSTOM_ALERT")
        recipients = notified(fake, event_type, template["title"])
        for opened, closed in episodes(value["modelProperties"], samples(value, fake, start_ms, end_ms)):
            raised.append(Problem(template["title"], template.get("description", ""), event_type,
                                  start_ms + opened * MINUTE_MS,
                                  None if closed is None else start_ms + closed * MINUTE_MS, recipients))
    return sorted(raised, key=lambda problem: problem.opened_ms)


def notified(fake: Any, event_type: str, title: str) -> tuple[str, ...]:
    """The e-mail recipients a problem with this event type and title reaches through the alerting profiles."""
    severity = SEVERITY_OF_EVENT.get(event_type, "CUSTOM_ALERT")
    recipients: list[str] = []
    for item in list(fake.settings.values()):
        value = item["value"]
        if item["schemaId"] != "builtin:problem.notifications" or not value.get("enabled", True) \
                or value.get("type") != "EMAIL":
            continue
        profile = fake.settings.get(value.get("alertingProfile"))
        if profile is not None and _profile_passes(profile["value"], severity, title):
            recipients += value["emailNotification"]["recipients"]
    return tuple(dict.fromkeys(recipients))


def _profile_passes(profile: dict[str, Any], severity: str, title: str) -> bool:
    if not any(rule.get("severityLevel") == severity for rule in profile.get("severityRules") or []):
        return False
    return all(_title_passes(event_filter, title) for event_filter in profile.get("eventFilters") or []
               if event_filter.get("type") == "CUSTOM")


def _title_passes(event_filter: dict[str, Any], title: str) -> bool:
    title_filter = (event_filter.get("customFilter") or {}).get("titleFilter") or {}
    if not title_filter.get("enabled"):
        return True
    wanted, text = str(title_filter.get("value", "")), title
    if not title_filter.get("caseSensitive"):
        wanted, text = wanted.lower(), text.lower()
    operator = title_filter.get("operator", "CONTAINS")
    matched = {"BEGINS_WITH": text.startswith(wanted), "ENDS_WITH": text.endswith(wanted),
               "EQUALS": text == wanted}.get(operator, wanted in text)
    return matched != bool(title_filter.get("negate"))
