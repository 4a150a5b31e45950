"""Multi-window, multi-burn-rate alert windows scaled to an objective's window. Pure; shared by both flavours.

The reference design (Google SRE workbook, "Alerting on SLOs", for a 30-day objective) pages when the burn rate
is above 14.4 over 1 h and over 5 min (2 % of the budget gone in an hour), or above 6 over 6 h and over 30 min
(5 % in six hours), and opens a ticket when it is above 1 over 3 d and over 6 h (10 % in three days). For
another window every duration is scaled by ``window / 30 d`` and the factor stays, so each alert still means
the same share of the budget. Durations are whole minutes, at least one (the resolution of the counters and
of the alert queries) and at most the window; where a floor or cap moves a long window, the factor is
recomputed from the budget share, ``share * window / long window``.
"""

from __future__ import annotations

from dataclasses import dataclass

REFERENCE_WINDOW_SECONDS = 30 * 86_400
MINUTE = 60
REFERENCE_ALERTS: tuple[tuple[str, str, int, int, float], ...] = (
    ("page-fast", "page", 3_600, 300, 14.4),
    ("page-slow", "page", 21_600, 1_800, 6.0),
    ("ticket", "ticket", 259_200, 21_600, 1.0),
)
"""(name, severity, long window s, short window s, burn-rate factor) for a 30-day objective. The name stays
whatever the window, so an alert keeps its identity when an objective's window changes."""


@dataclass(frozen=True)
class BurnRateAlert:
    """Fire when the burn rate over both ``long_seconds`` and ``short_seconds`` is above ``factor``."""

    name: str
    """``page-fast``, ``page-slow`` or ``ticket``: how the alert is told apart in names and external ids."""
    severity: str
    """``page`` (someone acts now) or ``ticket`` (someone looks within a working day)."""
    long_seconds: int
    short_seconds: int
    factor: float
    budget_share: float
    """Share of the window's error budget spent when the long window alone reaches ``factor``."""

    @property
    def windows(self) -> str:
        """``1h and 5m``: the two windows, for people."""
        return f"{duration_text(self.long_seconds)} and {duration_text(self.short_seconds)}"


def duration_text(seconds: int) -> str:
    """``3600`` → ``1h``; the largest of d, h, m that divides the duration."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", MINUTE)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _scaled(seconds: int, scale: float, window_seconds: int) -> int:
    minutes = round(seconds * scale / MINUTE)
    return min(max(MINUTE, minutes * MINUTE), window_seconds)


def burn_rate_alerts(window_seconds: int) -> tuple[BurnRateAlert, ...]:
    """The three alerts for an objective evaluated over ``window_seconds``."""
    if window_seconds < MINUTE:
        raise ValueError(f"a window of {window_seconds} s is shorter than a minute")
    scale = window_seconds / REFERENCE_WINDOW_SECONDS
    alerts = []
    for name, severity, long_seconds, short_seconds, factor in REFERENCE_ALERTS:
        share = factor * long_seconds / REFERENCE_WINDOW_SECONDS
        long_scaled = _scaled(long_seconds, scale, window_seconds)
        short_scaled = min(_scaled(short_seconds, scale, window_seconds), long_scaled)
        alerts.append(BurnRateAlert(name, severity, long_scaled, short_scaled,
                                    round(share * window_seconds / long_scaled, 6), share))
    return tuple(alerts)
