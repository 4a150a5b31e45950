"""Burn-rate alerts of one classic SLO as Dynatrace metric events (``builtin:anomaly-detection.metric-events``
1.0.19). Pure.

One metric event per rule of ``kong_slo.objectives.burn_rate.alert_rules``. Its metric selector uses only what
Dynatrace's metric selector and metric expression references document:
- each window's failed share from the collector's counter: failed requests over the window's requests, or over
  ``minRequests`` when it served fewer. The counts are
  ``:rollup(sum,<window>)`` (at most 60 minutes); "at least ``minRequests``" is the count kept where it reaches
  ``minRequests`` (``:partition`` with a value condition: "data points that don't pass the criterion ... are
  replaced with null") with the gaps filled by ``minRequests`` (``:default(<n>,always)``), merged back into
  one dimensionless series (``:splitBy()``);
- with ``sliSource: service`` (no counter), 100 less the window's SLI, the average of the SLO's per-minute
  value (``func:slo.<metricName>``, the stored metric query holding the SLO's expression); no minimum count;
- both windows at once: each window's failed share is kept only where it reaches the rule's factor times the
  share the target lets fail, compared as an exact decimal (a partition again, ``ge``; and above the allowed
  share too when the factor is 1 or less), and the two are added, the long one times zero, so a point exists
  only where both windows burn ("If any of the aligned data points is null, the expression resolves to null").
  Divided by the allowed share, the series carries the short window's burn rate wherever the rule holds and
  nothing elsewhere: a static threshold ABOVE 0 fires on it, and missing data is no violation.
"""

from __future__ import annotations

from typing import Any

from kong_slo import telemetry
from kong_slo.objectives.alert_text import alert_description, alert_title
from kong_slo.objectives.burn_rate import BurnRateRule, allowed_share, decimal_text
from kong_slo.objectives.sli import BAD_CALLS, SloDefinition, api_calls, dimension_is

METRIC_EVENT_SCHEMA = "builtin:anomaly-detection.metric-events"
SELECTOR_MAX = 10_000
"""The schema's limit on ``queryDefinition.metricSelector``."""
EVENT_TYPES = {"page": "ERROR", "ticket": "CUSTOM_ALERT"}
"""Pages raise Error problems; tickets the lowest severity, custom alerts."""
SAMPLES, VIOLATING_SAMPLES, DEALERTING_SAMPLES = 3, 2, 3
"""One-minute samples: fire when 2 of the last 3 violate, close when 3 of the last 3 are back to normal."""
BURNING_DIMENSION = "kong_slo.burn"
COUNTED_DIMENSION = "kong_slo.requests"


def _counter(api: str, condition: str | None, minutes: int) -> str:
    service = api_calls(api)
    where = f"and({service},{condition})" if condition else service
    return f"({telemetry.CALLS_METRIC_KEY}:filter({where}):splitBy():sum:default(0):rollup(sum,{minutes}m))"


def _bad_condition(definition: SloDefinition) -> str:
    return dimension_is(*BAD_CALLS[definition.objective])


def window_failed_share(definition: SloDefinition, minutes: int, min_requests: int) -> str:
    """The share of requests that failed over the last ``minutes`` (0 to 1)."""
    if definition.sli_source != "collector":
        return f"(((100)-(func:slo.{definition.metric_name}:avg:rollup(avg,{minutes}m)))/(100))"
    bad = _counter(definition.api, _bad_condition(definition), minutes)
    total = _counter(definition.api, None, minutes)
    floor = f"{min_requests:d}"
    counted = (f'({total}:partition("{COUNTED_DIMENSION}",value("counted",ge({floor})))'
               f":default({floor},always):splitBy())")
    return f"({bad}/{counted})"


def _burning(failed_share: str, definition: SloDefinition, rule: BurnRateRule) -> str:
    criterion = f"ge({rule.failed_share(definition.target)})"
    if rule.strict:
        criterion = f"and({criterion},gt({decimal_text(allowed_share(definition.target))}))"
    return f'({failed_share}:partition("{BURNING_DIMENSION}",value("burning",{criterion})))'


def rule_selector(definition: SloDefinition, rule: BurnRateRule, min_requests: int) -> str:
    """The short window's burn rate where both windows burn at least the rule's factor; nothing elsewhere."""
    long = window_failed_share(definition, rule.long_minutes, min_requests)
    short = window_failed_share(definition, rule.short_minutes, rule.short_min_requests(min_requests))
    allowed = decimal_text(allowed_share(definition.target))
    return (f"((({_burning(long, definition, rule)})*(0))+({_burning(short, definition, rule)}))"
            f"/({allowed})")


def metric_event_value(definition: SloDefinition, stack: str, rule: BurnRateRule,
                       min_requests: int) -> dict[str, Any]:
    """The ``builtin:anomaly-detection.metric-events`` value of one rule of one SLO."""
    return {
        "enabled": True,
        "summary": f"{definition.name}: {rule.severity} on burn rate above {rule.factor:g}"[:500],
        "queryDefinition": {"type": "METRIC_SELECTOR",
                            "metricSelector": rule_selector(definition, rule, min_requests)},
        "modelProperties": {
            "type": "STATIC_THRESHOLD",
            "threshold": 0,
            "alertCondition": "ABOVE",
            "alertOnNoData": False,
            "samples": SAMPLES,
            "violatingSamples": VIOLATING_SAMPLES,
            "dealertingSamples": DEALERTING_SAMPLES,
        },
        "eventTemplate": {
            "title": alert_title(definition, stack, rule),
            "description": alert_description(definition, stack, rule),
            "eventType": EVENT_TYPES[rule.severity],
            "davisMerge": False,
        },
    }
