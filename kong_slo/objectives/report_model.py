"""What ``kong-slo report`` shows, whatever the flavour: per API and objective, the SLO's value, target and error
budget left now, and over the objective's window the budget left and the burn rate; the alerts that fired. Pure.

The series come from the counter's good and total calls per interval (``series_from_counts``): the burn rate of an
interval is ``(100 - SLI) / (100 - target)`` (1: the budget lasts exactly the window), and the budget left at
the end of an interval is the share of the window's budget the calls so far have not spent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kong_slo.objectives.burn_rate import objective_minutes
from kong_slo.objectives.status import ObjectiveStatus

POINTS = 30
"""Intervals per chart: the window divided into this many (one minute at least)."""
NO_SLOS = "No SLO of this stack exists in this environment yet: run `pulumi up` first."


def interval_minutes(window: str) -> int:
    """The chart interval of an objective's window."""
    return max(1, objective_minutes(window) // POINTS)


def longest_window_minutes(windows: Iterable[str]) -> int:
    """How far back the fired alerts are read: the longest objective window (an hour when there is none)."""
    return max((objective_minutes(window) for window in windows), default=60)


def deployment_notes(statuses: Iterable[ObjectiveStatus]) -> list[str]:
    """What the page says when none of the stack's SLOs exists in the environment."""
    return [NO_SLOS] if all(status.state == "missing" for status in statuses) else []


@dataclass(frozen=True)
class Point:
    at_ms: int
    value: float


@dataclass(frozen=True)
class ObjectiveReport:
    status: ObjectiveStatus
    window: str
    calls: float
    """Calls counted over the window (0: no traffic yet)."""
    budget: list[Point] = field(default_factory=list)
    """Error budget left (percent of the window's budget) at the end of each interval."""
    burn: list[Point] = field(default_factory=list)
    """Burn rate of each interval that had calls."""


@dataclass(frozen=True)
class FiredAlert:
    title: str
    status: str
    """``OPEN`` or ``CLOSED``."""
    start_ms: int
    end_ms: int | None


@dataclass(frozen=True)
class Report:
    stack: str
    flavour: str
    environment: str
    generated_ms: int
    objectives: list[ObjectiveReport]
    alerts: list[FiredAlert]
    notes: list[str] = field(default_factory=list)
    """What the page should say about missing pieces (no SLOs deployed, alerts not readable, …)."""


def series_from_counts(starts_ms: list[int], interval_ms: int, good: list[float | None], total: list[float | None],
                       target: float) -> tuple[list[Point], list[Point], float]:
    """(budget left, burn rate, calls) from good and total calls per interval starting at ``starts_ms``."""
    allowed = (100.0 - target) / 100.0
    budget, burn = [], []
    seen_good = seen_total = 0.0
    for start, good_calls, all_calls in zip(starts_ms, good, total, strict=True):
        end = start + interval_ms
        calls, ok = float(all_calls or 0.0), float(good_calls or 0.0)
        if calls > 0:
            burn.append(Point(end, round((1.0 - ok / calls) / allowed, 4) if allowed > 0 else 0.0))
        seen_good, seen_total = seen_good + ok, seen_total + calls
        if seen_total > 0 and allowed > 0:
            spent = (1.0 - seen_good / seen_total) / allowed
            budget.append(Point(end, round(100.0 * (1.0 - spent), 2)))
    return budget, burn, seen_total
