"""Property-based checks of the objective rules over generated stack files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kong_slo.errors import SettingsError
from tests.unit.settings_helpers import aws_config, parse

percent = st.floats(min_value=-50, max_value=150, allow_nan=False, allow_infinity=False)
names = st.from_regex(r"[A-Za-z][A-Za-z0-9._~-]{0,20}", fullmatch=True)


@given(target=percent, warning=percent)
def test_targets_are_accepted_exactly_when_0_lt_target_lt_warning_le_100(target: float, warning: float) -> None:
    config = aws_config(apis=[{"name": "A", "latency": {"target": target, "warning": warning}}])
    valid = 0 < target < warning <= 100
    if valid:
        latency = parse(config).apis[0].latency
        assert latency is not None and (latency.target, latency.warning) == (target, warning)
    else:
        with pytest.raises(SettingsError) as raised:
            parse(config)
        assert all(line.startswith("kong-slo:apis[0].latency.") for line in raised.value.problems)


@given(st.lists(names, min_size=1, max_size=8))
def test_duplicate_names_are_caught_case_insensitively(api_names: list[str]) -> None:
    config = aws_config(apis=[{"name": name} for name in api_names])
    lowered = [name.lower() for name in api_names]
    if len(set(lowered)) == len(lowered):
        assert [api.name for api in parse(config).apis] == api_names
    else:
        with pytest.raises(SettingsError) as raised:
            parse(config)
        duplicates = [line for line in raised.value.problems if "is already used by" in line]
        assert len(duplicates) == len(lowered) - len(set(lowered))


@given(st.integers(min_value=-1000, max_value=100_000))
def test_latency_thresholds_must_be_positive(threshold: int) -> None:
    config = aws_config(apis=[{"name": "A", "latency": {"thresholdMs": threshold}}])
    if threshold > 0:
        latency = parse(config).apis[0].latency
        assert latency is not None and latency.threshold_ms == threshold
    else:
        with pytest.raises(SettingsError, match=r"kong-slo:apis\[0\]\.latency\.thresholdMs"):
            parse(config)
