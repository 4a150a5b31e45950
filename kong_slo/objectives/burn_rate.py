"""The burn-rate rules that alert on an objective, for both Dynatrace flavours. Pure.

Multiwindow, multi-burn-rate alerting from Google's SRE workbook (ch. 5, "Alerting on SLOs"). For a 30-day
objective the workbook pages when the burn rate over 1 h is above 14.4 and over 5 min too (2 % of the budget
spent in an hour), pages when over 6 h it is above 6 and over 30 min too (5 % in six hours), and raises a ticket
when over 3 d it is above 1 and over 6 h too (10 % in three days). The long window says enough budget has gone;
the short one (a twelfth of it, 5 minutes at least) says it is still going, so an alert resolves soon after the
failures stop. ``workbook_rules`` scales those windows to any objective: objectives of 2.5 days or more get the
three rules with every window scaled by objective / 30 days (a 28-day objective pages on 56 and 5 minutes);
shorter ones, where the fast rule's hour would shrink below five minutes, one page when the objective's whole
window has spent its budget.

**Dynatrace evaluates no window longer than an hour** in an alert, in either flavour:
- classic metric events read a metric selector, whose ``:rollup`` "window duration is limited to 60 minutes"
  (Metrics API - Metric selector, rollup transformation);
- a Davis anomaly detector runs its DQL every minute over "predefined sliding windows" of at most 60 one-minute
  samples, and its query may not set its own timeframe: "You can't set timeframes using ``from:`` and ``to:``"
  (Set up anomaly detectors via API; Anomaly Detection DQL best practices).
``alert_rules`` therefore keeps the workbook rules whose windows fit in an hour, and where no page is left (an
objective between an hour and 2.5 days, or longer than 30 days) adds the fastest page that fits: over the last
hour (and 5 minutes), a burn rate of ``page_factor`` (the objective's whole budget in an hour when the objective
is shorter than ``page_factor`` hours); objectives under 2.5 days also page over the last hour at
``slow_page_factor`` (a 1-day objective: a quarter of its budget in an hour). What no flavour can express: the
whole-window page of objectives between an hour and 2.5 days, the slow page of objectives longer than five days
and every ticket (``unexpressed_rules``), which the README states.

A window that served fewer than ``minRequests`` requests (the short window: the same share of it) is judged as if
it had served that many, so a quiet API's one failure cannot page while a busy API's burn rate is exact. A rule
holds when both windows burn **at least** its factor (spending 2 % of the budget in the fast window pages) and
faster than the budget is earned: at a burn rate of 1 or less an objective is met, and nothing fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from kong_slo.settings.model import BurnRatePolicy
from kong_slo.settings.objectives import window_seconds

WORKBOOK_MINUTES = 30 * 24 * 60
SCALED_FROM_MINUTES = 3600
"""Objectives of at least 2.5 days get the three scaled rules: their fast window is then 5 minutes or more."""
SHORT_WINDOW_MIN = 5
ALERT_WINDOW_MAX = 60
"""The longest window either flavour can evaluate in an alert (see the module docstring)."""
PAGE, TICKET = "page", "ticket"


@dataclass(frozen=True)
class BurnRateRule:
    """Alert when the burn rate is at least ``factor`` over both windows (whole minutes)."""

    key: str
    severity: str
    long_minutes: int
    short_minutes: int
    factor: float

    def budget_share(self, objective_minutes_: int) -> float:
        """Share of the objective's budget spent in the long window at exactly this burn rate."""
        return self.factor * self.long_minutes / objective_minutes_

    @property
    def strict(self) -> bool:
        """Whether the factor is at most 1, so that the burn rate must also be above 1 (see the module)."""
        return self.factor <= 1

    def failed_share(self, target: float) -> str:
        """The share of requests failing at exactly this burn rate, as an exact decimal (14.4 against a 99 %
        target: ``0.144``). Alerts compare failed / all with it, so that 144 failures in 1,000 requests meet it
        exactly, where computing 0.144 / 0.01 in floating point would give 14.399999999999999."""
        return _decimal(Decimal(repr(self.factor)) * allowed_share(target))

    def short_min_requests(self, min_requests: int) -> int:
        """``minRequests`` for the short window: the long window's at the same rate, rounded up."""
        return math.ceil(min_requests * self.short_minutes / self.long_minutes)

    @property
    def windows(self) -> str:
        """``1 hour and 5 minutes``: the two windows, for people."""
        return f"{duration(self.long_minutes)} and {duration(self.short_minutes)}"


def allowed_share(target: float) -> Decimal:
    """The share of requests the target lets fail, exactly: 99.9 → 0.001."""
    return (Decimal(100) - Decimal(repr(target))) / Decimal(100)


def _decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def decimal_text(value: Decimal | float) -> str:
    """A number as a plain decimal literal: ``0.001``, ``14.4``, ``1``."""
    return _decimal(Decimal(repr(value)) if isinstance(value, float) else value)


def objective_minutes(window: str) -> int:
    return window_seconds(window) // 60


def _short(long_minutes: int) -> int:
    return min(long_minutes, max(SHORT_WINDOW_MIN, round(long_minutes / 12)))


def workbook_rules(window: str, policy: BurnRatePolicy) -> list[BurnRateRule]:
    """The workbook's rules for an objective of ``window``, scaled, whatever their windows (see the module)."""
    minutes = objective_minutes(window)
    if minutes < SCALED_FROM_MINUTES:
        return [BurnRateRule(PAGE, PAGE, minutes, _short(minutes), 1.0)]
    scale = minutes / WORKBOOK_MINUTES
    workbook = (("fast", PAGE, 60, policy.page_factor), ("slow", PAGE, 360, policy.slow_page_factor),
                ("ticket", TICKET, 3 * 24 * 60, policy.ticket_factor))
    rules = []
    for key, severity, long, factor in workbook:
        scaled = max(1, round(long * scale))
        rules.append(BurnRateRule(key, severity, scaled, _short(scaled), factor))
    return rules


def alert_rules(window: str, policy: BurnRatePolicy) -> list[BurnRateRule]:
    """The rules Dynatrace can evaluate for an objective of ``window``: the workbook's within an hour, and a page
    over the last hour where none of its pages fits (see the module docstring)."""
    fitting = [rule for rule in workbook_rules(window, policy) if rule.long_minutes <= ALERT_WINDOW_MAX]
    if any(rule.severity == PAGE for rule in fitting):
        return fitting
    minutes = objective_minutes(window)
    hourly = [BurnRateRule("fast", PAGE, ALERT_WINDOW_MAX, _short(ALERT_WINDOW_MAX),
                           min(policy.page_factor, minutes / 60))]
    if minutes < SCALED_FROM_MINUTES and policy.slow_page_factor < hourly[0].factor:
        hourly.append(BurnRateRule("slow", PAGE, ALERT_WINDOW_MAX, _short(ALERT_WINDOW_MAX), policy.slow_page_factor))
    return [*hourly, *fitting]


def unexpressed_rules(window: str, policy: BurnRatePolicy) -> list[BurnRateRule]:
    """The workbook's rules for ``window`` whose long window no Dynatrace alert can evaluate."""
    return [rule for rule in workbook_rules(window, policy) if rule.long_minutes > ALERT_WINDOW_MAX]


def duration(minutes: int) -> str:
    """``56 minutes``, ``1 hour``, ``5.6 hours``, ``2.8 days``."""
    if minutes >= 2880:
        days = minutes / 1440
        return f"{days:g} days" if days.is_integer() else f"{days:.1f} days"
    if minutes > 120:
        hours = minutes / 60
        return f"{hours:g} hours" if hours.is_integer() else f"{hours:.1f} hours"
    return "1 hour" if minutes == 60 else f"{minutes} minutes" if minutes != 1 else "1 minute"
