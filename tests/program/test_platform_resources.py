"""The Dynatrace component under Pulumi mocks for a platform stack, and the classic → platform switch."""

from __future__ import annotations

import base64
import json
from typing import Any

from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.objectives.sli import slo_definitions
from kong_slo.secrets import Secret
from kong_slo.settings import StackSettings, parse_settings
from tests.program.test_dynatrace_resources import SETTINGS_TYPE, SLO_TYPE, Recorder, declare
from tests.unit.settings_helpers import aws_config

PLATFORM_TYPE = "pulumi-python:dynamic/dynatrace:PlatformServiceLevelObjective"
PLATFORM_TOKEN = "dt0s16.PROGRAMPUBLIC.PROGRAMPLATFORMSECRET"


class PlatformRecorder(Recorder):
    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        resource_id, outs = super().new_resource(args)
        if args.typ == PLATFORM_TYPE:
            resource_id = f"platform-{args.name}"
            outs.update(slo_id=resource_id, version="v1", adopted=False)
        return resource_id, outs


def stack(flavour: str | None, **dynatrace: Any) -> StackSettings:
    config = aws_config(apis=[{"name": "HealthService"}, {"name": "Orders"}])
    config["dynatrace"].update(dynatrace)
    if flavour == "platform":
        config["dynatrace"].update(environmentUrl="https://abc12345.apps.dynatrace.com",
                                   platformToken=Secret(PLATFORM_TOKEN))
    return parse_settings(config, project="kong-slo", stack="dev", aws_region="eu-west-1")


def test_a_platform_stack_declares_platform_slos_with_the_built_payloads():
    settings = stack("platform")
    recorder = declare(settings, PlatformRecorder())
    assert recorder.of_type(SLO_TYPE) == []
    platform = recorder.of_type(PLATFORM_TYPE)
    expected = {definition.name: platform_slo_payload(definition, "dev") for definition in slo_definitions(settings)}
    assert len(platform) == 4
    for resource in platform:
        assert resource.inputs["payload"] == expected[resource.inputs["payload"]["name"]]
        assert resource.inputs["platform_url"] == "https://abc12345.apps.dynatrace.com"
    assert recorder.slo_ids == {name: f"platform-slos-{d.metric_name}"  # type: ignore[attr-defined]
                                for d in slo_definitions(settings) for name in [d.name]}


def test_no_platform_secret_in_inputs_or_pickled_providers():
    recorder = declare(stack("platform"), PlatformRecorder())
    for resource in recorder.resources:
        assert "PROGRAMPLATFORMSECRET" not in json.dumps(resource.inputs, default=str)
        provider = resource.inputs.get("__provider")
        if provider:
            assert b"PROGRAMPLATFORMSECRET" not in base64.b64decode(provider)


def test_switching_to_platform_declares_new_resources_beside_the_classic_ones():
    """Same names, other type: distinct URNs, so ``pulumi up`` creates the platform SLOs and, as the engine
    deletes resources that left the program only after every create and update succeeded
    (https://github.com/pulumi/pulumi/issues/9979), removes the classic ones last; a failed create stops the
    update before any classic SLO is deleted."""
    classic = {(resource.typ, resource.name) for resource in declare(stack(None), PlatformRecorder()).resources
               if resource.typ in (SLO_TYPE, PLATFORM_TYPE)}
    platform = {(resource.typ, resource.name) for resource in declare(stack("platform"), PlatformRecorder()).resources
                if resource.typ in (SLO_TYPE, PLATFORM_TYPE)}
    assert {name for _, name in classic} == {name for _, name in platform}
    assert classic.isdisjoint(platform)
    assert {typ for typ, _ in classic} == {SLO_TYPE} and {typ for typ, _ in platform} == {PLATFORM_TYPE}


PLATFORM_SETTINGS_TYPE = "pulumi-python:dynamic/dynatrace:PlatformSettingsObject"


def test_platform_alerting_reaches_the_stacks_emails_through_davis_detectors():
    settings = stack("platform", alerting={"emails": ["sre@example.com"]})
    recorder = declare(settings, PlatformRecorder())
    classic_objects = recorder.of_type(SETTINGS_TYPE)
    schemas = sorted(resource.inputs["schema_id"] for resource in classic_objects)
    assert schemas == ["builtin:alerting.profile", "builtin:problem.notifications"]  # no classic metric events
    notification = next(r for r in classic_objects if r.inputs["schema_id"] == "builtin:problem.notifications")
    assert notification.inputs["value"]["emailNotification"]["recipients"] == ["sre@example.com"]
    assert all(r.inputs["environment_url"] == "https://abc12345.live.dynatrace.com" for r in classic_objects)
    detectors = recorder.of_type(PLATFORM_SETTINGS_TYPE)
    assert len(detectors) == 4 * 1  # one burn-rate rule per one-hour objective (three from 2.5 days on)
    assert {r.inputs["schema_id"] for r in detectors} == {"builtin:davis.anomaly-detectors"}
    assert all(r.inputs["environment_url"] == "https://abc12345.apps.dynatrace.com" for r in detectors)
    assert len({r.inputs["external_id"] for r in detectors}) == 4
    profile_filter = next(r for r in classic_objects if r.inputs["schema_id"] == "builtin:alerting.profile").inputs[
        "value"]["eventFilters"][0]["customFilter"]["titleFilter"]["value"]
    for resource in detectors:
        properties = {p["key"]: p["value"] for p in resource.inputs["value"]["eventTemplate"]["properties"]}
        assert properties["event.name"].startswith(profile_filter)  # the profile passes these events on


def test_each_detector_depends_on_its_slo(monkeypatch):
    from kong_slo.dynatrace.platform import detectors as platform_settings

    depends_on: dict[str, list[Any]] = {}

    class Recording(platform_settings.PlatformSettingsObject):
        def __init__(self, name: str, **kwargs: Any) -> None:
            depends_on[name] = list(kwargs["opts"].depends_on or [])
            super().__init__(name, **kwargs)

    monkeypatch.setattr(platform_settings, "PlatformSettingsObject", Recording)
    recorder = declare(stack("platform", alerting={"emails": ["sre@example.com"]}), PlatformRecorder())
    for definition, slo in recorder.component.slos:  # type: ignore[attr-defined]
        mine = [name for name in depends_on if f"-{definition.metric_name}-" in name]
        assert len(mine) == 1 and all(depends_on[name] == [slo] for name in mine)


def test_switching_flavour_keeps_the_alerting_profile_and_notification_resources():
    """Same type, name and parent on both flavours: Pulumi updates them in place rather than creating new ones
    that would adopt the same objects by externalId and then lose them when the old resources are deleted."""
    alerting = {"emails": ["sre@example.com"]}

    def shared(recorder: Recorder) -> set[tuple[str, str, str]]:
        return {(r.typ, r.name, str(r.inputs["external_id"])) for r in recorder.of_type(SETTINGS_TYPE)}

    classic = shared(declare(stack(None, alerting=alerting), PlatformRecorder()))
    platform = shared(declare(stack("platform", alerting=alerting), PlatformRecorder()))
    kept = {(typ, name, ext) for typ, name, ext in classic if "burn-rate" not in ext}
    assert len(kept) == 2 and kept == platform


def test_the_detector_actor_reaches_every_detector():
    actor = "12345678-abcd-4ef0-9abc-1234567890ab"
    recorder = declare(stack("platform", alerting={"emails": ["sre@example.com"]}, detectorActor=actor),
                       PlatformRecorder())
    values = [r.inputs["value"] for r in recorder.of_type(PLATFORM_SETTINGS_TYPE)]
    assert len(values) == 4 and all(value["executionSettings"] == {"actor": actor} for value in values)
