"""Burn-rate alerts for one SLO, as Dynatrace metric events (``builtin:anomaly-detection.metric-events``). Pure.

Multiwindow, multi-burn-rate alerting from Google's SRE workbook (ch. 5, "Alerting on SLOs"). For a 30-day
objective the workbook pages when the burn rate over 1 h is above 14.4 and over 5 min too (2 % of the budget
spent in an hour), pages when over 6 h it is above 6 and over 30 min too (5 % in six hours), and raises a ticket
when over 3 d it is above 1 and over 6 h too (10 % in three days). The long window says enough budget has gone;
the short one (a twelfth of it) says it is still going, so an alert resolves soon after the failures stop.

- **Objectives of 2.5 days or more**: the three rules, every window scaled by objective window / 30 days (a
  28-day objective pages on 56 min and 5 min), so each rule still means the same share of the budget.
- **Shorter objectives** (the default 1 h): scaled, the fast rule's hour would shrink below five minutes, and no
  window may be longer than the objective. One page instead: the burn rate over the whole objective window is
  above 1 (the window's budget is spent: the objective is failing right now) and over its last twelfth (at least
  5 minutes) too. There is no ticket: the budget renews with every window.

Each burn rate is computed over its whole window, not from one-minute samples:
- windows up to an hour from the SLO counter (``:rollup(sum,<window>)`` of failed and of all requests; Dynatrace
  rolls up at most 60 minutes). Below ``minRequests`` requests (per long window; the short window gets the same
  rate), a window counts as if it had served ``minRequests``, so a quiet API's few failures cannot page;
- longer windows from a classic SLO over exactly that window (``func:slo.<metricName>``, the SLO's value over its
  timeframe, which Dynatrace's own SLO status alerts read): the objective's SLO itself when the window is the
  objective's, otherwise a "window SLO" declared for the purpose (``window_definitions``). These windows are long
  enough (6 h and more of a 30-day objective) that no minimum count is applied. With ``sliSource: service``
  every window is read this way, since the counter does not exist then.
As Dynatrace's metric selector has no ``min``/``max``, they are written as ``(a+b+|a-b|)/2`` and ``(a+b-|a-b|)/2``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from kong_slo import telemetry
from kong_slo.objectives.sli import (
    AVAILABILITY,
    DESCRIPTION_MAX,
    METRIC_NAME_MAX,
    SLO_NAME_MAX,
    SloDefinition,
    selector_string,
    slo_name_prefix,
)
from kong_slo.settings.model import BurnRatePolicy
from kong_slo.settings.objectives import window_seconds

WORKBOOK_MINUTES = 30 * 24 * 60
SCALED_FROM_MINUTES = 3600
"""Objectives of at least 2.5 days get the three scaled rules: their fast window is then 5 minutes or more."""
SHORT_WINDOW_MIN = 5
ROLLUP_MAX_MINUTES = 60
"""Dynatrace's metric selector reference: "The rollup window duration is limited to 60 minutes"."""
PAGE, TICKET = "page", "ticket"
EVENT_TYPES = {PAGE: "ERROR", TICKET: "CUSTOM_ALERT"}
"""Pages raise Error problems; tickets the lowest severity, custom alerts."""
SAMPLES, VIOLATING_SAMPLES, DEALERTING_SAMPLES = 3, 2, 3
"""One-minute samples: fire when 2 of the last 3 violate, close after 3 clean ones."""


@dataclass(frozen=True)
class BurnRateRule:
    """Alert when the burn rate is above ``factor`` over both windows (whole minutes)."""

    key: str
    severity: str
    long_minutes: int
    short_minutes: int
    factor: float

    def budget_share(self, objective_minutes_: int) -> float:
        """Share of the objective's budget spent in the long window at exactly this burn rate."""
        return self.factor * self.long_minutes / objective_minutes_

    @property
    def windows(self) -> str:
        """``1 hour and 5 minutes``: the two windows, for people."""
        return f"{_duration(self.long_minutes)} and {_duration(self.short_minutes)}"


def objective_minutes(window: str) -> int:
    return window_seconds(window) // 60


def rules_for(definition: SloDefinition, policy: BurnRatePolicy) -> list[BurnRateRule]:
    """The burn-rate rules for one objective (see the module docstring)."""
    minutes = objective_minutes(definition.window)
    if minutes < SCALED_FROM_MINUTES:
        short = min(minutes, max(SHORT_WINDOW_MIN, round(minutes / 12)))
        return [BurnRateRule(PAGE, PAGE, minutes, short, 1.0)]
    scale = minutes / WORKBOOK_MINUTES
    workbook = (("fast", PAGE, 60, policy.page_factor), ("slow", PAGE, 360, policy.slow_page_factor),
                ("ticket", TICKET, 3 * 24 * 60, policy.ticket_factor))
    return [BurnRateRule(key, severity, max(1, round(long * scale)), max(1, round(long * scale / 12)), factor)
            for key, severity, long, factor in workbook]


def window_metric_name(definition: SloDefinition, minutes: int) -> str:
    """The ``metricName`` of the SLO whose ``func:slo.`` metric gives the SLI over the last ``minutes``."""
    if minutes == objective_minutes(definition.window):
        return definition.metric_name
    suffix, base = f"_w{minutes}m", definition.metric_name
    if len(base) + len(suffix) > METRIC_NAME_MAX:  # keep the hash that makes the base name unique
        base = base[: METRIC_NAME_MAX - len(suffix) - 9].rstrip("_") + "_" + base[-8:]
    return base + suffix


def window_definitions(definition: SloDefinition, policy: BurnRatePolicy) -> list[SloDefinition]:
    """The window SLOs the alerts of ``definition`` read windows longer than an hour from (none for the default
    1 h objectives): same SLI and target, timeframe the window."""
    objective = objective_minutes(definition.window)
    windows = sorted({minutes for rule in rules_for(definition, policy)
                      for minutes in (rule.long_minutes, rule.short_minutes)
                      if _from_slo(definition, minutes) and minutes != objective})
    found = []
    for minutes in windows:
        suffix = f", last {_duration(minutes)}"
        description = f"{definition.description}; the last {_duration(minutes)}, for burn-rate alerts"
        found.append(dataclasses.replace(
            definition, name=definition.name[: SLO_NAME_MAX - len(suffix)] + suffix,
            metric_name=window_metric_name(definition, minutes), window=f"{minutes}m",
            description=description[: DESCRIPTION_MAX - 1] + "…" if len(description) > DESCRIPTION_MAX
            else description))
    return found


def _counter(api: str, condition: str | None, minutes: int) -> str:
    service = f"eq({selector_string(telemetry.SERVICE_DIMENSION)},{selector_string(api)})"
    where = f"and({service},{condition})" if condition else service
    return (f"({telemetry.CALLS_METRIC_KEY}:filter({where}):splitBy():sum:default(0)"
            f":rollup(sum,{minutes}m))")


def _bad_condition(definition: SloDefinition) -> str:
    if definition.objective == AVAILABILITY:
        dimension, bad = telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_FAILURE
    else:
        dimension, bad = telemetry.LATENCY_DIMENSION, telemetry.LATENCY_BAD
    return f"eq({selector_string(dimension)},{selector_string(bad)})"


def _number(value: float) -> str:
    return f"({value:.10g})"


def _from_slo(definition: SloDefinition, minutes: int) -> bool:
    """Whether the window's SLI comes from an SLO: beyond an hour, and always for service-metric SLIs (the
    counter selectors below read the collector's counter)."""
    return minutes > ROLLUP_MAX_MINUTES or definition.sli_source != "collector"


def window_burn_rate(definition: SloDefinition, minutes: int, min_requests: float) -> str:
    """Burn rate over the last ``minutes``: failed / max(all, min_requests) / allowed failure share; beyond an
    hour, (100 - SLI over the window) / (100 - target) from the window's SLO."""
    if _from_slo(definition, minutes):
        sli = f"(func:slo.{window_metric_name(definition, minutes)})"
        return f"(((100)-{sli})/{_number(100 - definition.target)})"
    bad = _counter(definition.api, _bad_condition(definition), minutes)
    total = _counter(definition.api, None, minutes)
    floor = _number(min_requests)
    at_least = f"(({total}+{floor}+(({total}-{floor}):abs))/(2))"
    return f"(({bad}/{at_least})/{_number((100 - definition.target) / 100)})"


def rule_selector(definition: SloDefinition, rule: BurnRateRule, policy: BurnRatePolicy) -> str:
    """min(long-window burn rate, short-window burn rate): above the factor only when both are."""
    long = window_burn_rate(definition, rule.long_minutes, policy.min_requests)
    short_floor = math.ceil(policy.min_requests * rule.short_minutes / rule.long_minutes)
    short = window_burn_rate(definition, rule.short_minutes, short_floor)
    return f"(({long}+{short}-(({long}-{short}):abs))/(2))"


def _duration(minutes: int) -> str:
    if minutes >= 2880:
        days = minutes / 1440
        return f"{days:g} days" if days.is_integer() else f"{days:.1f} days"
    if minutes > 120:
        hours = minutes / 60
        return f"{hours:g} hours" if hours.is_integer() else f"{hours:.1f} hours"
    return "1 hour" if minutes == 60 else f"{minutes} minutes" if minutes != 1 else "1 minute"


def _percent(share: float) -> str:
    return f"{share * 100:.3g} %"


def _last(minutes: int) -> str:
    return {1: "the last minute", 60: "the last hour", 1440: "the last day"}.get(minutes,
                                                                                f"the last {_duration(minutes)}")


def alert_title(definition: SloDefinition, stack: str, rule: BurnRateRule) -> str:
    """``kong-slo <stack>: <API> <objective> <page|ticket>: error budget burning over <window>``."""
    return (f"{slo_name_prefix(stack)} {definition.api} {definition.objective} {rule.severity}: "
            f"error budget burning over {_duration(rule.long_minutes)}")[:500]


def alert_description(definition: SloDefinition, stack: str, rule: BurnRateRule) -> str:
    """What failed, over which windows, how much budget that is, and where to see the budget left."""
    minutes = objective_minutes(definition.window)
    objective = _duration(minutes)
    if rule.long_minutes == minutes:
        pace = (f"Over {_last(rule.long_minutes)}, more requests failed than the {definition.target:g} % target "
                f"allows: the error budget of the {objective} window is used up")
    else:
        speed = "at least as fast as" if rule.factor == 1 else f"more than {rule.factor:g} times as fast as"
        pace = (f"Over {_last(rule.long_minutes)}, the error budget was used {speed} the {definition.target:g} % "
                f"target over {objective} allows ({_percent(rule.budget_share(minutes))} of the budget in "
                f"{_duration(rule.long_minutes)}); at this pace a full budget lasts less than "
                f"{_duration(max(1, round(minutes / rule.factor)))}")
    return (f"{definition.api} {definition.objective}: {definition.description}. {pace}, and failures go on at "
            f"that pace over {_last(rule.short_minutes)}. Budget left: the SLO \"{definition.name}\" in "
            f"Dynatrace, or `kong-slo status --stack {stack}`.")[:5000]


def metric_event_value(definition: SloDefinition, stack: str, rule: BurnRateRule,
                       policy: BurnRatePolicy) -> dict[str, Any]:
    """The ``builtin:anomaly-detection.metric-events`` value of one rule of one SLO."""
    selector = rule_selector(definition, rule, policy)
    return {
        "enabled": True,
        "summary": f"{definition.name}: {rule.severity} on burn rate above {rule.factor:g}"[:500],
        "queryDefinition": {"type": "METRIC_SELECTOR", "metricSelector": selector},
        "modelProperties": {
            "type": "STATIC_THRESHOLD",
            "threshold": rule.factor,
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
