"""The multi-window scaling of platform burn-rate detectors (kong_slo.burn_rate), pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kong_slo.burn_rate import burn_rate_alerts, duration_text


def test_a_30_day_window_gives_the_reference_design():
    alerts = burn_rate_alerts(30 * 86_400)
    assert [(a.severity, a.long_seconds, a.short_seconds, a.factor) for a in alerts] == [
        ("page", 3_600, 300, 14.4), ("page", 21_600, 1_800, 6.0), ("ticket", 259_200, 21_600, 1.0)]
    assert [a.name for a in alerts] == ["page-fast", "page-slow", "ticket"]
    assert [a.windows for a in alerts] == ["1h and 5m", "6h and 30m", "3d and 6h"]
    assert [a.budget_share for a in alerts] == pytest.approx([0.02, 0.05, 0.10])


def test_a_7_day_window_scales_the_durations_and_keeps_the_factors():
    alerts = burn_rate_alerts(7 * 86_400)
    assert [(a.long_seconds, a.short_seconds) for a in alerts] == [(840, 60), (5_040, 420), (60_480, 5_040)]
    assert [a.factor for a in alerts] == pytest.approx([14.4, 6.0, 1.0])


def test_a_1_hour_window_floors_at_a_minute_and_recomputes_the_factor():
    page_fast, page_slow, ticket = burn_rate_alerts(3_600)
    assert (page_fast.long_seconds, page_fast.short_seconds) == (60, 60)
    assert (page_slow.long_seconds, page_slow.factor) == (60, pytest.approx(0.05 * 60))
    assert page_fast.factor == pytest.approx(0.02 * 60)  # 2 % of the hour's budget in one minute
    assert (ticket.long_seconds, ticket.short_seconds) == (360, 60)
    assert ticket.factor == pytest.approx(1.0)


@given(st.integers(min_value=60, max_value=90 * 86_400))
def test_every_alert_spends_its_budget_share_and_fits_the_window(window):
    for alert in burn_rate_alerts(window):
        assert 60 <= alert.short_seconds <= alert.long_seconds <= window
        assert alert.long_seconds % 60 == 0 and alert.short_seconds % 60 == 0
        assert alert.factor * alert.long_seconds / window == pytest.approx(alert.budget_share, rel=1e-3)


def test_durations_read_as_the_largest_unit():
    assert [duration_text(s) for s in (60, 300, 3_600, 5_400, 86_400)] == ["1m", "5m", "1h", "90m", "1d"]
