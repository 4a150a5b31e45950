"""The Dynatrace component under Pulumi mocks: which SLO and alerting resources a stack declares."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from kong_slo.dynatrace import alerting as settings_module
from kong_slo.dynatrace.component import DynatraceSlos
from kong_slo.objectives.sli import slo_definitions, slo_payload
from kong_slo.secrets import Secret
from kong_slo.settings import StackSettings, parse_settings
from tests.unit.settings_helpers import aws_config

TOKEN = "dt0c01.PROGRAMPUBLIC.PROGRAMSECRETNEVERINPUTS"
SLO_TYPE = "pulumi-python:dynamic/dynatrace:ServiceLevelObjective"
SETTINGS_TYPE = "pulumi-python:dynamic/dynatrace:SettingsObject"


class Recorder(pulumi_mocks.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi_mocks.MockResourceArgs] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        # As the providers do: the resource's id is the Dynatrace id, also output as slo_id / object_id.
        outs, resource_id = dict(args.inputs), f"{args.name}-id"
        if args.typ == SLO_TYPE:
            resource_id = f"slo-{args.name}"
            outs.update(slo_id=resource_id, adopted=False)
        if args.typ.endswith("SettingsObject"):
            resource_id = f"obj-{args.name}"
            outs.update(object_id=resource_id, adopted=False)
        return resource_id, outs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def of_type(self, typ: str) -> list[pulumi_mocks.MockResourceArgs]:
        return [resource for resource in self.resources if resource.typ == typ]


def stack(apis: list[dict[str, Any]], alerting: dict[str, Any] | None = None) -> StackSettings:
    config = aws_config(apis=apis)
    config["dynatrace"]["apiToken"] = Secret(TOKEN)
    if alerting:
        config["dynatrace"]["alerting"] = alerting
    return parse_settings(config, project="kong-slo", stack="dev", aws_region="eu-west-1")


def declare(settings, recorder: Recorder | None = None) -> Recorder:
    recorder = recorder or Recorder()
    pulumi.runtime.set_mocks(recorder, project="kong-slo", stack="dev", preview=False)
    holder: dict[str, DynatraceSlos] = {}

    @pulumi.runtime.test
    def program():
        assert settings.dynatrace is not None
        holder["component"] = DynatraceSlos("slos", project=settings.project, stack=settings.stack,
                                            dynatrace=settings.dynatrace, definitions=slo_definitions(settings))
        return holder["component"].slo_ids.apply(lambda ids: holder.setdefault("ids", ids))

    program()
    recorder.slo_ids = holder["ids"]  # type: ignore[attr-defined]
    recorder.component = holder["component"]  # type: ignore[attr-defined]
    return recorder


def test_two_slos_per_api_with_the_built_payloads():
    settings = stack([{"name": "HealthService"}, {"name": "Orders", "latency": {"thresholdMs": 400}}])
    recorder = declare(settings)
    slos = recorder.of_type(SLO_TYPE)
    assert len(slos) == 4
    expected = {slo_payload(d)["name"]: slo_payload(d) for d in slo_definitions(settings)}
    for resource in slos:
        payload = resource.inputs["payload"]
        assert payload == expected[payload["name"]]
        assert resource.inputs["environment_url"] == "https://abc12345.live.dynatrace.com"
    assert sorted(recorder.slo_ids) == sorted(expected)  # type: ignore[attr-defined]
    assert recorder.of_type(SETTINGS_TYPE) == []  # no alerting configured


def test_no_slo_for_an_objective_switched_off():
    recorder = declare(stack([{"name": "HealthService", "latency": False}, {"name": "Orders", "availability": False}]))
    names = sorted(resource.inputs["payload"]["name"] for resource in recorder.of_type(SLO_TYPE))
    assert names == ["kong-slo dev: HealthService availability", "kong-slo dev: Orders latency"]


def test_alerting_declares_profile_notification_and_an_alert_per_slo_of_one_hour():
    recorder = declare(stack([{"name": "HealthService"}, {"name": "Orders"}],
                             alerting={"emails": ["sre@example.com"], "burnRate": {"fastBurnThreshold": 12}}))
    objects = recorder.of_type(SETTINGS_TYPE)
    by_schema: dict[str, list] = {}
    for resource in objects:
        by_schema.setdefault(resource.inputs["schema_id"], []).append(resource)
    assert len(by_schema["builtin:alerting.profile"]) == 1
    assert len(by_schema["builtin:problem.notifications"]) == 1
    assert len(by_schema["builtin:anomaly-detection.metric-events"]) == 4
    profile = by_schema["builtin:alerting.profile"][0]
    notification = by_schema["builtin:problem.notifications"][0].inputs["value"]
    assert notification["alertingProfile"] == f"obj-{profile.name}"
    assert notification["emailNotification"]["recipients"] == ["sre@example.com"]
    slo_names = {resource.inputs["payload"]["name"] for resource in recorder.of_type(SLO_TYPE)}
    alerts = [alert.inputs["value"] for alert in by_schema["builtin:anomaly-detection.metric-events"]]
    assert {alert["summary"].split(": page")[0] for alert in alerts} == slo_names
    selectors = [alert["queryDefinition"]["metricSelector"] for alert in alerts]
    # 1 h objectives: the window's budget spent (at least 1 % failing, and more than 1 %) over both windows
    assert all(s.count('value("burning",and(ge(0.01),gt(0.01)))') == 2 for s in selectors)
    assert {alert["modelProperties"]["threshold"] for alert in alerts} == {0}
    assert len({resource.inputs["external_id"] for resource in objects}) == len(objects)


@pytest.mark.parametrize("alerting", [None, {"emails": ["sre@example.com"]}])
def test_the_token_is_in_no_input_and_no_pickled_provider(alerting):
    recorder = declare(stack([{"name": "HealthService"}], alerting=alerting))
    for resource in recorder.resources:
        text = json.dumps(resource.inputs, default=str)
        assert "PROGRAMSECRET" not in text
        provider = resource.inputs.get("__provider")
        if provider:
            assert b"PROGRAMSECRET" not in base64.b64decode(provider)



def test_each_alert_depends_on_its_slo_so_destroy_removes_the_alert_first(monkeypatch):
    depends_on: dict[str, list[Any]] = {}  # metric-event name → its depends_on

    class RecordingSettingsObject(settings_module.SettingsObject):
        def __init__(self, name: str, **kwargs: Any) -> None:
            if kwargs["schema_id"] == "builtin:anomaly-detection.metric-events":
                depends_on[name] = list(kwargs["opts"].depends_on or [])
            super().__init__(name, **kwargs)

    monkeypatch.setattr(settings_module, "SettingsObject", RecordingSettingsObject)
    recorder = declare(stack([{"name": "HealthService"}, {"name": "Orders"}], alerting={"emails": ["sre@example.com"]}))
    slos = recorder.component.slos  # type: ignore[attr-defined]
    assert len(depends_on) == len(slos) == 4
    for definition, slo in slos:
        assert depends_on[f"slos-alerting-{definition.metric_name}-page"] == [slo]


def test_the_counter_is_declared_before_any_slo_on_a_collector_stack(monkeypatch):
    from kong_slo.dynatrace import component as component_module
    from kong_slo.objectives.sli import metric_declaration_lines

    depends_on: list[list[Any]] = []

    class RecordingSlo(component_module.ServiceLevelObjective):
        def __init__(self, name: str, **kwargs: Any) -> None:
            depends_on.append(list(kwargs["opts"].depends_on or []))
            super().__init__(name, **kwargs)

    monkeypatch.setattr(component_module, "ServiceLevelObjective", RecordingSlo)
    settings = stack([{"name": "HealthService"}, {"name": "Orders"}])
    recorder = declare(settings)
    metrics = recorder.of_type("pulumi-python:dynamic/dynatrace:MetricDeclaration")
    assert len(metrics) == 1
    assert metrics[0].inputs["lines"] == metric_declaration_lines(slo_definitions(settings))
    assert metrics[0].inputs["metric_key"] == "kong.slo.calls.count"
    assert depends_on == [[recorder.component.metric]] * 4  # type: ignore[attr-defined]


def test_a_28_day_objective_gets_the_fast_page_with_the_stacks_factor_and_no_window_slo():
    recorder = declare(stack([{"name": "Orders", "latency": False, "availability": {"window": "28d"}}],
                             alerting={"emails": ["sre@example.com"],
                                       "burnRate": {"pageFactor": 10, "slowPageFactor": 5, "ticketFactor": 1.5}}))
    alerts = [resource.inputs["value"] for resource in recorder.of_type(SETTINGS_TYPE)
              if resource.inputs["schema_id"] == "builtin:anomaly-detection.metric-events"]
    (page,) = alerts  # the slow page (5.6 h) and the ticket (2.8 d) fit no Dynatrace alert window
    assert page["eventTemplate"]["eventType"] == "ERROR"
    assert page["queryDefinition"]["metricSelector"].count('value("burning",ge(0.1))') == 2  # 10 x the 1 % budget
    timeframes = [resource.inputs["payload"]["timeframe"] for resource in recorder.of_type(SLO_TYPE)]
    assert timeframes == ["-28d"]
