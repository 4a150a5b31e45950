"""The read-only Dynatrace calls doctor makes (``kong_slo.dynatrace.reads``) against the emulator's token lookup
and metric routes, which follow the documented API:
https://docs.dynatrace.com/docs/dynatrace-api/environment-api/tokens-v2/api-tokens/post-token-lookup and
https://docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2/get-data-points."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kong_slo.doctor.dynatrace_objects import recent_calls_selector
from kong_slo.dynatrace.client import DynatraceClient, DynatraceError
from kong_slo.dynatrace.reads import list_settings, lookup_token, metric_descriptor, query_series
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace
from tests.providers.dynatrace_helpers import FAST_POLICY, TOKEN


@pytest.fixture
def fake() -> Iterator[FakeDynatrace]:
    with FakeDynatrace(TOKEN, read_lag=0) as server:
        yield server


@pytest.fixture
def client(fake: FakeDynatrace) -> Iterator[DynatraceClient]:
    with DynatraceClient(fake.url, TOKEN, policy=FAST_POLICY) as dynatrace:
        yield dynatrace


def test_token_lookup_reports_scopes_and_is_no_write(fake, client):
    fake.token_info.scopes = {"slo.read", "metrics.read"}
    metadata = lookup_token(client, TOKEN)
    assert metadata["scopes"] == ["metrics.read", "slo.read"] and metadata["enabled"] is True
    assert metadata["id"] == TOKEN.rsplit(".", 1)[0]
    assert fake.calls == [("POST", "/apiTokens/lookup")] and fake.writes() == 0


def test_token_lookup_of_an_unknown_token_is_404_and_never_echoes_it(client):
    with pytest.raises(DynatraceError) as raised:
        lookup_token(client, "dt0c01.OTHER.OTHERSECRET")
    assert raised.value.status == 404 and "OTHERSECRET" not in str(raised.value)


def test_a_metric_descriptor_exists_once_data_or_metadata_arrived(fake, client):
    assert metric_descriptor(client, CALLS_METRIC_KEY) is None
    fake.metrics.declare(CALLS_METRIC_KEY)
    assert metric_descriptor(client, CALLS_METRIC_KEY)["metricId"] == CALLS_METRIC_KEY


def test_recent_calls_are_summed_per_service_within_the_window(fake, client):
    now = int(time.time() * 1000)
    for service, value, minutes_ago in (("Orders", 3, 1), ("Orders", 4, 20), ("Orders", 50, 90), ("Health", 2, 5)):
        fake.metrics.add(CALLS_METRIC_KEY, {"service.name": service, "slo.latency": "good"}, value,
                         now - minutes_ago * 60_000)
    series = query_series(client, recent_calls_selector(), since="now-30m")
    assert {item["dimensionMap"]["service.name"]: item["values"] for item in series} == \
        {"Orders": [7.0], "Health": [2.0]}


def test_a_selector_the_emulator_does_not_evaluate_is_refused_not_guessed(client):
    with pytest.raises(DynatraceError, match="not emulated"):
        query_series(client, f"{CALLS_METRIC_KEY}:splitBy():avg", since="now-30m")


def test_list_settings_returns_every_object_of_the_schema(fake, client):
    for ext_id in ("a:burn-rate:x", "a:burn-rate:y"):
        fake.settings_item({"schemaId": "builtin:anomaly-detection.metric-events", "externalId": ext_id,
                            "value": {"enabled": True}})
    items = list_settings(client, "builtin:anomaly-detection.metric-events")
    assert sorted(item["externalId"] for item in items) == ["a:burn-rate:x", "a:burn-rate:y"]
