"""Burn-rate alerting for platform SLOs as Davis anomaly detectors (``builtin:davis.anomaly-detectors``). Pure.

Platform SLOs carry no burn-rate fields; Dynatrace's SLO documentation points to Davis anomaly detection over
the SLI's DQL instead. Each objective gets one detector per rule of ``kong_slo.objectives.burn_rate.alert_rules``
(the same windows, factors, ``minRequests`` and stack keys as the classic metric events).

How a detector runs, from Dynatrace's documentation ("Set up anomaly detectors via API", "Anomaly Detection DQL
best practices"): it "executes the query every minute" over data it "retrieves from Grail based on predefined
sliding windows"; the query "must have a time interval explicitly set to ``interval:1m``", must yield a
timeseries, and may not name a timeframe ("Don't use ``from:`` and ``to:``"); the sliding window is at most 60
one-minute samples. So each detector's sliding window is its rule's long window, and its query computes, from
the minutes it is given, the failed share over the long window (all of them) and over the short one (the last
few): failed calls over calls (or over ``minRequests`` when fewer were served). Where both reach the rule's factor
times the share the target lets fail (compared as an exact decimal), the lower burn rate of the two, repeated over
the series, is ``burnRate``; elsewhere it is null. A static threshold ABOVE 0 fires on it: one violating sample
raises the event and one normal (or empty) sample closes it, since every sample of a run carries that run's
value. The event is a CUSTOM_ALERT whose name begins with ``kong-slo <stack>:``, which the stack's alerting
profile (shared with classic stacks) matches and its e-mail notification sends on.

Value shape as in Dynatrace's own Terraform provider
(dynatrace-oss/terraform-provider-dynatrace ``dynatrace/api/builtin/davis/anomalydetectors``): an ``analyzer``
named ``dt.statistics.ui.anomaly_detection.StaticThresholdAnomalyDetectionAnalyzer`` with string inputs
``query``, ``threshold``, ``alertCondition``, ``alertOnMissingData``, ``violatingSamples``, ``slidingWindow``,
``dealertingSamples``, and an ``eventTemplate`` of ``event.*`` properties.
"""

from __future__ import annotations

from typing import Any

from kong_slo.dynatrace.platform.definitions import calls_timeseries
from kong_slo.objectives.alert_text import alert_description, alert_title
from kong_slo.objectives.burn_rate import BurnRateRule, alert_rules, allowed_share, decimal_text, objective_minutes
from kong_slo.objectives.sli import SloDefinition
from kong_slo.settings.model import BurnRatePolicy

DETECTOR_SCHEMA = "builtin:davis.anomaly-detectors"
STATIC_THRESHOLD_ANALYZER = "dt.statistics.ui.anomaly_detection.StaticThresholdAnomalyDetectionAnalyzer"
BURN_RATE_FIELD = "burnRate"
SOURCE = "kong-slo"


def _window(name: str, minutes: int) -> str:
    return (f"total{name} = arrayLast(arrayMovingSum(total, {minutes})), "
            f"good{name} = arrayLast(arrayMovingSum(good, {minutes}))")


def _failed(name: str, min_requests: int) -> str:
    counted = f"if(total{name} >= {min_requests}, total{name}, else: {min_requests})"
    return f"failed{name} = (total{name} - good{name}) / {counted}"


def _holds(name: str, definition: SloDefinition, rule: BurnRateRule) -> str:
    condition = f"failed{name} >= {rule.failed_share(definition.target)}"
    allowed = decimal_text(allowed_share(definition.target))
    return f"{condition} and failed{name} > {allowed}" if rule.strict else condition


def burn_rate_query(definition: SloDefinition, rule: BurnRateRule, min_requests: int) -> str:
    """``burnRate``: the lower of the long- and short-window burn rates where both reach the factor, else null."""
    allowed = decimal_text(allowed_share(definition.target))
    head = calls_timeseries(definition.api, definition.objective, total_default=True, options=", interval: 1m")
    holds = f"{_holds('Long', definition, rule)} and {_holds('Short', definition, rule)}"
    return (f"{head}\n"
            f"| fieldsAdd {_window('Long', rule.long_minutes)}, {_window('Short', rule.short_minutes)}\n"
            f"| fieldsAdd {_failed('Long', min_requests)}, {_failed('Short', rule.short_min_requests(min_requests))}\n"
            f"| fieldsAdd {BURN_RATE_FIELD} = total[] * 0 + if({holds}, "
            f"(failedLong + failedShort - abs(failedLong - failedShort)) / 2 / {allowed})\n"
            f"| fields timeframe, interval, {BURN_RATE_FIELD}")


def detector_value(definition: SloDefinition, stack: str, rule: BurnRateRule, min_requests: int,
                   actor: str | None = None) -> dict[str, Any]:
    """One ``builtin:davis.anomaly-detectors`` object: fire when both windows burn faster than the factor;
    ``actor`` is the service user it runs as (Dynatrace's default, the writer's identity, when None)."""
    inputs = {"query": burn_rate_query(definition, rule, min_requests), "threshold": "0",
              "alertCondition": "ABOVE", "alertOnMissingData": "false", "violatingSamples": "1",
              "slidingWindow": str(rule.long_minutes), "dealertingSamples": "1"}
    description = alert_description(definition, stack, rule)
    properties = {"event.type": "CUSTOM_ALERT", "event.name": alert_title(definition, stack, rule),
                  "event.description": description[:4000], "kong-slo.severity": rule.severity}
    share = rule.budget_share(objective_minutes(definition.window))
    return {
        "enabled": True,
        "title": f"{definition.name} burn rate {rule.severity} {rule.key}"[:500],
        "description": f"Burn rate above {rule.factor:g} over {rule.windows} ({share:.2%} of the budget)"[:5000],
        "source": SOURCE,
        "analyzer": {"name": STATIC_THRESHOLD_ANALYZER,
                     "input": [{"key": key, "value": value} for key, value in inputs.items()]},
        "eventTemplate": {"properties": [{"key": key, "value": value} for key, value in properties.items()]},
        "executionSettings": {"actor": actor} if actor else {},
    }


def detectors(definition: SloDefinition, stack: str, policy: BurnRatePolicy | None = None,
              actor: str | None = None) -> list[tuple[BurnRateRule, dict[str, Any]]]:
    """Every burn-rate detector of one objective: one per rule that fits Dynatrace's windows."""
    policy = policy or BurnRatePolicy()
    return [(rule, detector_value(definition, stack, rule, policy.min_requests, actor))
            for rule in alert_rules(definition.window, policy)]
