"""The pure and local parts of doctor's checks: reading Kong's tracing configuration per release, where the
collector is and how an unreachable one is told from a stopped one, which token scopes each feature needs,
and how the report prints."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from kong_slo.doctor import reach
from kong_slo.doctor.collector import (
    CollectorAddress,
    check_collector,
    collector_address,
    logs_hint,
    with_plugin_fallback,
)
from kong_slo.doctor.dynatrace_token import _expiry, required_scopes
from kong_slo.doctor.kong_node import tracing_checks
from kong_slo.doctor.report import Report, ok, problem, render_text, skipped
from kong_slo.settings import KongVersion
from tests.unit.settings_helpers import aws_config, parse


def settings(**kong):
    return parse(aws_config(kong={"adminUrl": "http://kong.internal:8001", **kong}))


def states(checks):
    return {check.name: check.state for check in checks}


def test_kong_3_0_reports_tracing_under_its_old_names():
    config = {"opentelemetry_tracing": ["request"], "opentelemetry_tracing_sampling_rate": 1.0}
    checks = tracing_checks(config, KongVersion(3, 0), settings())
    assert states(checks) == {"kong.tracing": "ok", "kong.sampling": "ok"}
    assert "opentelemetry_tracing = request" in checks[0].detail


def test_all_must_come_first_to_count_and_a_string_value_is_read_as_a_list():
    checks = tracing_checks({"tracing_instrumentations": "db_query,all", "tracing_sampling_rate": 1},
                            KongVersion(3, 9), settings())
    assert states(checks)["kong.tracing"] == "problem"
    assert "KONG_TRACING_INSTRUMENTATIONS=all" in checks[0].fix


def test_unreported_tracing_settings_are_skipped_not_failed():
    checks = tracing_checks({}, KongVersion(3, 9), settings())
    assert states(checks) == {"kong.tracing": "skipped", "kong.sampling": "skipped"}


def test_a_low_global_rate_is_fine_when_every_api_sets_its_own():
    config = aws_config(kong={"adminUrl": "http://kong.internal:8001", "version": "3.9"},
                        apis=[{"name": "Orders", "samplingRate": 1.0}])
    checks = tracing_checks({"tracing_instrumentations": ["all"], "tracing_sampling_rate": 0.01}, KongVersion(3, 9),
                            parse(config))
    assert states(checks)["kong.sampling"] == "ok" and "its own samplingRate" in checks[1].detail


def test_collector_address_from_collector_url_local_stack_or_nowhere():
    address = collector_address(settings(collectorUrl="http://otel.internal:4318"))
    assert address == CollectorAddress("http://otel.internal:4318/v1/traces", "http://otel.internal:4318",
                                       "http://otel.internal:13133/", "kong.collectorUrl")
    local = collector_address(parse({"target": "local", "apis": [{"name": "Orders"}]}))
    assert local.kong_traces_url == "http://otel-collector:4318/v1/traces"
    assert (local.otlp_url, local.health_url) == ("http://127.0.0.1:4318", "http://127.0.0.1:13133/")
    nowhere = collector_address(settings())
    assert (nowhere.kong_traces_url, nowhere.otlp_url) == (None, None)
    [check] = check_collector(nowhere, "its log")
    assert check.state == "skipped" and "--collector-url" in check.detail


def test_the_log_to_read_depends_on_the_target():
    assert "docker logs kong-slo-test-collector" in logs_hint(parse({"target": "local", "apis": [{"name": "A"}]}))
    assert "/opt/kong-slo/docker-compose.yml logs otel-collector" in logs_hint(settings())


def test_the_plugins_endpoint_is_probed_when_the_stack_does_not_say_and_they_agree():
    nowhere = collector_address(settings())
    agreed = with_plugin_fallback(nowhere, {"A": "http://10.0.1.5:4318/v1/traces", "B": "http://10.0.1.5:4318/v1/traces"})
    assert (agreed.otlp_url, agreed.health_url) == ("http://10.0.1.5:4318", "http://10.0.1.5:13133/")
    assert with_plugin_fallback(nowhere, {"A": "http://a:4318/v1/traces", "B": "http://b:4318/v1/traces"}) == nowhere


@pytest.mark.parametrize("error, words", [
    (socket.gaierror(-2, "Name or service not known"), "does not resolve here"),
    (TimeoutError(), "no answer within"),
    (OSError(113, "No route to host"), "No route to host"),
])
def test_a_collector_this_machine_cannot_reach_is_skipped_with_why(monkeypatch, error, words):
    def connect(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(reach.socket, "create_connection", connect)
    checks = check_collector(CollectorAddress("http://otel:4318/v1/traces", "http://otel:4318",
                                              "http://otel:13133/", "kong.collectorUrl"), "its log")
    assert [check.state for check in checks] == ["skipped", "skipped"]
    assert all("not reachable from here" in check.detail and words in check.detail for check in checks)


def test_scopes_follow_what_the_stack_deploys():
    config = aws_config()
    config["dynatrace"]["alerting"] = {"emails": ["sre@example.com"]}
    full = {need.key: need.scopes for need in required_scopes(parse(config))}
    assert "logs.ingest" in full["export"]
    assert full["alerting"] == ("settings.read", "settings.write")
    lean = {need.key: need.scopes for need in required_scopes(settings(exportLogs=False))}
    assert "logs.ingest" not in lean["export"] and "alerting" not in lean
    assert "settings.read" not in lean["reads"]
    assert lean["dashboard"] == ("ReadConfig", "WriteConfig") and "problems.read" in lean["report"]


def test_an_expiry_counts_only_once_passed():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert _expiry({"expirationDate": "2026-05-31T23:00:00.000Z"}, now) == "2026-05-31T23:00:00.000Z"
    assert _expiry({"expirationDate": "2027-01-01T00:00:00Z"}, now) is None
    assert _expiry({"expirationDate": None}, now) is None


def test_text_groups_by_link_in_chain_order_with_fix_under_each_problem():
    report = Report.of([skipped("dynatrace", "d", "no token given"),
                        problem("kong", "k", "tracing is off", "turn it on"), ok("kong", "v", "Kong 3.9.1")])
    assert render_text(report).splitlines() == [
        "Kong",
        "  problem  tracing is off",
        "           fix: turn it on",
        "  ok       Kong 3.9.1",
        "Dynatrace",
        "  skipped  no token given",
        "1 problem(s), 1 ok, 1 skipped",
    ]
