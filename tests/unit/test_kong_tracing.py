"""The wanted tracing settings: Kong's value rules, version-aware names, the KONG_* form."""

from __future__ import annotations

import pytest

from kong_slo.kong.tracing import TracingSettings, TracingSettingsError, format_rate, tracing_env, tracing_for_stack
from kong_slo.settings import KongVersion
from tests.unit.settings_helpers import aws_config, parse


def test_defaults_trace_every_request_with_the_3_2_names() -> None:
    assert TracingSettings().properties() == {"tracing_instrumentations": "all", "tracing_sampling_rate": "1.0"}


@pytest.mark.parametrize(("version", "names"), [
    (KongVersion(3, 0), ("opentelemetry_tracing", "opentelemetry_tracing_sampling_rate")),
    (KongVersion(3, 1), ("opentelemetry_tracing", "opentelemetry_tracing_sampling_rate")),
    (KongVersion(3, 2), ("tracing_instrumentations", "tracing_sampling_rate")),
    (KongVersion(3, 9), ("tracing_instrumentations", "tracing_sampling_rate")),
    (KongVersion(3, 14), ("tracing_instrumentations", "tracing_sampling_rate")),
    (None, ("tracing_instrumentations", "tracing_sampling_rate")),
])
def test_property_names_follow_the_kong_release(version: KongVersion | None, names: tuple[str, str]) -> None:
    tracing = TracingSettings(kong_version=version, log_level="info")
    assert tuple(tracing.properties()) == (*names, "log_level")


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"instrumentations": ("off", "request")}, "'off' must stand alone"),
    ({"instrumentations": ("request", "all")}, "'all' only takes effect as the first item"),
    ({"instrumentations": ("requests",)}, "invalid tracing type 'requests'"),
    ({"instrumentations": ()}, "at least one"),
    ({"instrumentations": ("router", "router")}, "listed twice: router"),
    ({"sampling_rate": 1.5}, "between 0 and 1"),
    ({"sampling_rate": -0.1}, "between 0 and 1"),
    ({"sampling_rate": float("nan")}, "between 0 and 1"),
    ({"sampling_rate": True}, "between 0 and 1"),
    ({"log_level": "warning"}, "log level 'warning' is not one of"),
    ({"kong_version": KongVersion(2, 8)}, "Kong 2.8 has no tracing settings"),
])
def test_values_kong_would_refuse_are_refused(kwargs: dict, fragment: str) -> None:
    with pytest.raises(TracingSettingsError) as caught:
        TracingSettings(**kwargs)
    assert fragment in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(TracingSettingsError) as caught:
        TracingSettings(instrumentations=("bogus",), sampling_rate=2, log_level="loud")
    assert len(caught.value.problems) == 3


def test_accepted_edge_values() -> None:
    tracing = TracingSettings(instrumentations=("all", "db_query"), sampling_rate=0, log_level="emerg")
    assert tracing.properties()["tracing_instrumentations"] == "all,db_query"
    assert tracing.properties()["tracing_sampling_rate"] == "0.0"
    assert TracingSettings(instrumentations=("off",)).properties()["tracing_instrumentations"] == "off"


@pytest.mark.parametrize(("rate", "text"), [(1, "1.0"), (1.0, "1.0"), (0.25, "0.25"), (0.01, "0.01"),
                                            (1e-05, "1e-05"),
                                            (0.9325911006456036, "0.9325911006456036")])
def test_rates_are_written_as_numbers_kong_parses(rate: float, text: str) -> None:
    assert format_rate(rate) == text
    assert float(text) == rate


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("tracing_instrumentations", "all", True),
    ("tracing_instrumentations", " all , ", True),
    ("tracing_instrumentations", "all,router", False),
    ("tracing_instrumentations", "ALL", False),
    ("tracing_sampling_rate", "1", True),
    ("tracing_sampling_rate", "1.00", True),
    ("tracing_sampling_rate", "0.01", False),
    ("tracing_sampling_rate", "", False),
    ("tracing_sampling_rate", "one", False),
])
def test_satisfied_by_compares_meaning_not_spelling(key: str, value: str, expected: bool) -> None:
    assert TracingSettings().satisfied_by(key, value) is expected


def test_env_form_uses_kong_prefix_and_upper_case() -> None:
    assert tracing_env(TracingSettings(sampling_rate=0.5, log_level="debug")) == {
        "KONG_TRACING_INSTRUMENTATIONS": "all", "KONG_TRACING_SAMPLING_RATE": "0.5", "KONG_LOG_LEVEL": "debug"}
    assert tracing_env(TracingSettings(kong_version=KongVersion(3, 1))) == {
        "KONG_OPENTELEMETRY_TRACING": "all", "KONG_OPENTELEMETRY_TRACING_SAMPLING_RATE": "1.0"}


def test_stack_settings_give_sampling_rate_and_version() -> None:
    settings = parse(aws_config(kong={"adminUrl": "http://kong.internal:8001", "version": "3.4", "samplingRate": 0.5}))
    tracing = tracing_for_stack(settings)
    assert (tracing.sampling_rate, tracing.kong_version, tracing.instrumentations) == (0.5, KongVersion(3, 4),
                                                                                       ("all",))
    assert tracing.log_level is None
