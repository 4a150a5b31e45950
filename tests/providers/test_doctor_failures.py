"""One broken link at a time: doctor names it, says what to do, and exits 1. Each case starts from a healthy
chain (see ``doctor_chain``) and breaks exactly one thing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kong_slo.objectives.sli import slo_name
from tests.providers.doctor_chain import DT_TOKEN, KONG_TOKEN, Chain, chain, closed_port_url


@dataclass(frozen=True)
class Failure:
    check: str
    detail: str
    fix: str
    before_deploy: Callable[[Chain], dict] = lambda stack: {}
    after_deploy: Callable[[Chain], None] = lambda stack: None
    kong: tuple[tuple[str, object], ...] = ()
    also: tuple[str, ...] = ()
    """Further checks that fail with it (a stopped collector answers neither on health nor on OTLP)."""


def _edit_plugin(api: str, change: Callable[[dict], None]) -> Callable[[Chain], None]:
    """Change the API's plugin in Kong by hand, as someone with Admin API access might."""
    def edit(stack: Chain) -> None:
        for plugin in stack.kong.store().plugins.values():
            if plugin["config"]["resource_attributes"]["service.name"] == api:
                change(plugin)
    return edit


def _route_plugin(stack: Chain) -> None:
    stack.kong.add_plugin({"name": "opentelemetry", "config": {"traces_endpoint": "http://team-otel:4318/v1/traces"}},
                          route="orders-route")


def _stop_collector(stack: Chain) -> None:
    stack.collector.stop()


def _old_orders_data(stack: Chain) -> dict:
    return {"data": False}


def _only_health_data(stack: Chain) -> None:
    stack.count_calls("HealthService", 5)
    stack.count_calls("Orders", 40, minutes_ago=120)


def _disable_slo(stack: Chain) -> None:
    for slo in stack.dynatrace.slos.values():
        if slo["name"] == slo_name("ci", "Orders", "latency"):
            slo["enabled"] = False


FAILURES = {
    "kong down": Failure("kong.admin_api", "nothing listens at http://127.0.0.1:", "kong.adminUrl",
                         after_deploy=lambda stack: setattr(stack, "kong_overrides", {"adminUrl": closed_port_url()})),
    "tracing off": Failure("kong.tracing", "tracing is off: tracing_instrumentations = off",
                           "tracing_instrumentations = all", kong=(("tracing_instrumentations", ("off",)),)),
    "sampling rate 0.01": Failure("kong.sampling", "tracing_sampling_rate = 0.01: only 1 % of requests",
                                  "tracing_sampling_rate = 1.0", kong=(("tracing_sampling_rate", 0.01),)),
    "plugin missing": Failure("plugins.Orders.plugin", "no opentelemetry plugin on service Orders", "pulumi up",
                              before_deploy=lambda stack: {"skip_plugin": "Orders"}),
    "plugin missing on DB-less Kong": Failure("plugins.Orders.plugin", "no opentelemetry plugin",
                                              "kong-slo-dbless.yaml", kong=(("db_less", True),),
                                              before_deploy=lambda stack: {"skip_plugin": "Orders"}),
    "stack pins another Kong version": Failure("kong.version", "the stack says kong.version 3.4, but Kong runs 3.9.1",
                                               "set kong.version to 3.9",
                                               after_deploy=lambda stack: stack.kong_overrides.update(version="3.4")),
    "plugin disabled": Failure("plugins.Orders.plugin", "is disabled", "enabled: true",
                               after_deploy=_edit_plugin("Orders", lambda p: p.update(enabled=False))),
    "plugin pointing elsewhere": Failure("plugins.Orders.plugin",
                                         "sends traces to http://old-collector.internal:4318/v1/traces, not to the "
                                         "collector", "kong.collectorUrl", after_deploy=_edit_plugin(
                                             "Orders", lambda p: p["config"].update(
                                                 traces_endpoint="http://old-collector.internal:4318/v1/traces"))),
    "plugin sending logs elsewhere": Failure("plugins.HealthService.plugin", "sends logs to http://old:4318/v1/logs",
                                             "kong.exportLogs: false", after_deploy=_edit_plugin(
                                             "HealthService", lambda p: p["config"].update(
                                                 logs_endpoint="http://old:4318/v1/logs"))),
    "route plugin shadowing": Failure("plugins.Orders.effective", "route orders-route", "remove that plugin",
                                      after_deploy=_route_plugin),
    "collector down": Failure("collector.health", "the collector is down", "start the collector",
                              after_deploy=_stop_collector, also=("collector.otlp",)),
    "token without a scope": Failure("dynatrace.scopes.export", "needs metrics.ingest",
                                     "add the scope(s) metrics.ingest",
                                     after_deploy=lambda stack: stack.dynatrace.token_info.scopes.discard(
                                         "metrics.ingest")),
    "metric missing": Failure("dynatrace.metric", "kong.slo.calls.count does not exist", "collector's logs",
                              before_deploy=_old_orders_data),
    "no recent data for one API": Failure("dynatrace.data.Orders", "Orders: no calls counted in the last 30 minutes",
                                          "send a request to Orders", before_deploy=_old_orders_data,
                                          after_deploy=_only_health_data),
    "SLO missing": Failure("dynatrace.slo.Orders.availability", "does not exist", "pulumi up",
                           before_deploy=lambda stack: {"skip_slo": slo_name("ci", "Orders", "availability")}),
    "SLO disabled": Failure("dynatrace.slo.Orders.latency", "is disabled", "enabled: true", after_deploy=_disable_slo),
    "SLO in error": Failure("dynatrace.slo.HealthService.latency", "does not evaluate: At least one operand",
                            "metric checks",
                            after_deploy=lambda stack: stack.dynatrace.fail_evaluation(
                                slo_name("ci", "HealthService", "latency"),
                                "At least one operand in the given metric expression provides no data.")),
    "alert missing": Failure("dynatrace.alert.Orders.latency", "lacks its burn-rate alert", "pulumi up",
                             before_deploy=lambda stack: {"skip_alert": slo_name("ci", "Orders", "latency")}),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_doctor_names_the_broken_link_and_its_fix(failure: Failure, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("DT_API_TOKEN", DT_TOKEN)
    monkeypatch.setenv("KONG_ADMIN_TOKEN", KONG_TOKEN)
    with chain(tmp_path, **dict(failure.kong)) as stack:
        stack.deploy(**failure.before_deploy(stack))
        failure.after_deploy(stack)
        assert stack.doctor("--json") == 1
        report = json.loads(capsys.readouterr().out)
        assert stack.kong.writes == 0 and stack.dynatrace.writes() == 0
    problems = {check["name"]: check for check in report["checks"] if check["state"] == "problem"}
    assert list(problems) == [failure.check, *failure.also], problems
    assert failure.detail in problems[failure.check]["detail"]
    assert failure.fix in problems[failure.check]["fix"]
