"""The Kong emulator's ``GET /`` tracing configuration, per release: ``opentelemetry_tracing`` /
``opentelemetry_tracing_sampling_rate`` in 3.0 to 3.1, ``tracing_instrumentations`` (``typ = "array"``) /
``tracing_sampling_rate`` from 3.2 (``kong/conf_loader/constants.lua@3.4.2``), sampling default 1.0 before 3.3 and
0.01 from 3.3 (``kong.conf.default`` of 3.0.0 and 3.4.2)."""

from __future__ import annotations

import requests

from tests.fakes.kong_admin import FakeKong


def configuration(kong: FakeKong) -> dict:
    return requests.get(f"{kong.url}/", timeout=5).json()["configuration"]


def test_kong_3_0_uses_the_old_names_and_rate_1():
    with FakeKong("3.0") as kong:
        config = configuration(kong)
    assert config["opentelemetry_tracing"] == ["off"] and config["opentelemetry_tracing_sampling_rate"] == 1.0
    assert "tracing_instrumentations" not in config


def test_later_kong_reports_the_set_values_under_the_new_names():
    with FakeKong("3.9", tracing_instrumentations=("all",), tracing_sampling_rate=1.0) as kong:
        config = configuration(kong)
    assert config["tracing_instrumentations"] == ["all"] and config["tracing_sampling_rate"] == 1.0


def test_the_default_rate_from_3_3_is_one_percent():
    with FakeKong("3.4") as kong:
        assert configuration(kong)["tracing_sampling_rate"] == 0.01
