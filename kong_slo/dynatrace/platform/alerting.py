"""Burn-rate alerting for platform SLOs as Davis anomaly detectors (``builtin:davis.anomaly-detectors``). Pure.

Platform SLOs carry no burn-rate fields; Dynatrace's SLO documentation points to Davis anomaly detection over
the SLI's DQL instead. Each objective gets one detector per rule of ``kong_slo.objectives.burn_rate.rules_for``
(the same windows, factors and stack keys as the classic metric events):
its query computes, per minute, the burn rate over the long and over the short window
(``(100 - good/total * 100) / (100 - target)``, moving sums over the counter) and yields their minimum as
``burnRate``, so a static threshold at the alert's factor fires only when both windows burn too fast. The event
is a CUSTOM_ALERT whose name begins with ``kong-slo <stack>:``, which the stack's alerting profile (shared with
classic stacks) matches and its e-mail notification sends on.

Value shape as in Dynatrace's own Terraform provider
(dynatrace-oss/terraform-provider-dynatrace ``dynatrace/api/builtin/davis/anomalydetectors``): an ``analyzer``
named ``dt.statistics.ui.anomaly_detection.StaticThresholdAnomalyDetectionAnalyzer`` with string inputs
``query``, ``threshold``, ``alertCondition``, ``alertOnMissingData``, ``violatingSamples``, ``slidingWindow``,
``dealertingSamples``, and an ``eventTemplate`` of ``event.*`` properties.
"""

from __future__ import annotations

from typing import Any

from kong_slo.dynatrace.platform.definitions import calls_timeseries
from kong_slo.objectives.burn_rate import BurnRateRule, objective_minutes, rules_for
from kong_slo.objectives.sli import SloDefinition, slo_name_prefix
from kong_slo.settings.model import BurnRatePolicy

DETECTOR_SCHEMA = "builtin:davis.anomaly-detectors"
STATIC_THRESHOLD_ANALYZER = "dt.statistics.ui.anomaly_detection.StaticThresholdAnomalyDetectionAnalyzer"
BURN_RATE_FIELD = "burnRate"
SLIDING_WINDOW_SAMPLES = 5
SOURCE = "kong-slo"


def _burn(window: str, budget: float) -> str:
    return f"(100 - 100 * good{window}[] / total{window}[]) / {budget:g}"


def burn_rate_query(definition: SloDefinition, alert: BurnRateRule) -> str:
    """Per minute, the lower of the long- and short-window burn rates of one objective, as ``burnRate``."""
    long_minutes, short_minutes = alert.long_minutes, alert.short_minutes
    budget = 100.0 - definition.target
    head = calls_timeseries(definition.api, definition.objective, total_default=True,
                            options=f", interval: 1m, from: now-{long_minutes + SLIDING_WINDOW_SAMPLES}m")
    return (f"{head}\n"
            f"| fieldsAdd goodLong = arrayMovingSum(good, {long_minutes}), "
            f"totalLong = arrayMovingSum(total, {long_minutes}), goodShort = arrayMovingSum(good, {short_minutes}), "
            f"totalShort = arrayMovingSum(total, {short_minutes})\n"
            f"| fieldsAdd burnLong = {_burn('Long', budget)}, burnShort = {_burn('Short', budget)}\n"
            f"| fieldsAdd {BURN_RATE_FIELD} = (burnLong[] + burnShort[] - abs(burnLong[] - burnShort[])) / 2\n"
            f"| fields timeframe, interval, {BURN_RATE_FIELD}")


def event_name(stack: str, definition: SloDefinition, alert: BurnRateRule) -> str:
    return (f"{slo_name_prefix(stack)} {definition.api} {definition.objective} burning its error budget "
            f"({alert.severity}: {alert.windows})")


def detector_value(definition: SloDefinition, stack: str, alert: BurnRateRule,
                   actor: str | None = None) -> dict[str, Any]:
    """One ``builtin:davis.anomaly-detectors`` object: fire when both windows burn faster than the factor;
    ``actor`` is the service user it runs as (Dynatrace's default, the writer's identity, when None)."""
    inputs = {"query": burn_rate_query(definition, alert), "threshold": f"{alert.factor:g}",
              "alertCondition": "ABOVE", "alertOnMissingData": "false", "violatingSamples": "1",
              "slidingWindow": str(SLIDING_WINDOW_SAMPLES), "dealertingSamples": str(SLIDING_WINDOW_SAMPLES)}
    description = (f"{definition.description}: the error budget of {100 - definition.target:g} % is burning more "
                   f"than {alert.factor:g} times as fast as the {definition.window} window allows, over both the "
                   f"last {alert.windows} "
                   f"({alert.budget_share(objective_minutes(definition.window)):.0%} of the budget at this pace).")
    properties = {"event.type": "CUSTOM_ALERT", "event.name": event_name(stack, definition, alert),
                  "event.description": description[:4000], "kong-slo.severity": alert.severity}
    return {
        "enabled": True,
        "title": f"{definition.name} burn rate {alert.severity} {alert.key}"[:500],
        "description": description[:5000],
        "source": SOURCE,
        "analyzer": {"name": STATIC_THRESHOLD_ANALYZER,
                     "input": [{"key": key, "value": value} for key, value in inputs.items()]},
        "eventTemplate": {"properties": [{"key": key, "value": value} for key, value in properties.items()]},
        "executionSettings": {"actor": actor} if actor else {},
    }


def detectors(definition: SloDefinition, stack: str, policy: BurnRatePolicy | None = None,
              actor: str | None = None) -> list[tuple[BurnRateRule, dict[str, Any]]]:
    """Every burn-rate detector of one objective: one per rule, scaled to its window."""
    return [(rule, detector_value(definition, stack, rule, actor))
            for rule in rules_for(definition, policy or BurnRatePolicy())]
