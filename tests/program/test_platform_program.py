"""`__main__.py` for a stack on Latest Dynatrace (an apps URL): platform SLOs, burn-rate detectors, OTLP to the
live host, and no platform secret anywhere but the provider's configuration."""

from __future__ import annotations

import json

import pytest

from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.objectives.sli import slo_definitions
from tests.program.mocks import ProgramRun, run_program, settings_of, stack_config

PLATFORM_SLO = "pulumi-python:dynamic/dynatrace:PlatformServiceLevelObjective"
CLASSIC_SLO = "pulumi-python:dynamic/dynatrace:ServiceLevelObjective"
DETECTOR = "pulumi-python:dynamic/dynatrace:PlatformSettingsObject"
SETTINGS_OBJECT = "pulumi-python:dynamic/dynatrace:SettingsObject"


def platform_config() -> dict:
    config = stack_config("dev")
    config["kong-slo:dynatrace"] = {**config["kong-slo:dynatrace"],
                                    "environmentUrl": "https://abc12345.apps.dynatrace.com",
                                    "platformToken": {"secure": "v1:platform"}}
    return config


@pytest.fixture(scope="module")
def platform_run() -> ProgramRun:
    return run_program(platform_config(), stack="dev")


def test_platform_slos_replace_the_classic_ones(platform_run: ProgramRun) -> None:
    settings = settings_of(platform_config(), stack="dev")
    expected = {d.name: platform_slo_payload(d, "dev") for d in slo_definitions(settings)}
    declared = {r.inputs["payload"]["name"]: r.inputs for r in platform_run.of_type(PLATFORM_SLO)}
    assert json.loads(json.dumps({name: inputs["payload"] for name, inputs in declared.items()})) == expected
    assert {inputs["platform_url"] for inputs in declared.values()} == {"https://abc12345.apps.dynatrace.com"}
    assert platform_run.of_type(CLASSIC_SLO) == []
    assert set(platform_run.output("slo_ids")) == set(expected)


def test_alerting_is_the_stacks_profile_and_notification_plus_a_detector_per_rule(platform_run) -> None:
    assert sorted(r.inputs["schema_id"] for r in platform_run.of_type(SETTINGS_OBJECT)) == [
        "builtin:alerting.profile", "builtin:problem.notifications"]
    assert len(platform_run.of_type(DETECTOR)) == 4 * 1  # one page rule for each default one-hour objective


def test_the_collector_still_exports_to_the_live_host(platform_run: ProgramRun) -> None:
    rendered = json.dumps([r.inputs for r in platform_run.resources], default=str)
    assert "https://abc12345.live.dynatrace.com/api/v2/otlp" in rendered
    assert "apps.dynatrace.com/api/v2/otlp" not in rendered


def test_no_secret_in_any_input_or_output(platform_run: ProgramRun) -> None:
    platform_token = platform_run.secrets["kong-slo:dynatrace.platformToken"]
    assert platform_token.startswith("dt0s16.")
    for resource in platform_run.resources:
        if "platformToken" not in resource.secret_inputs:
            assert platform_token not in json.dumps(resource.inputs, default=str), resource.name
    outputs = json.dumps({name: output.value for name, output in platform_run.outputs.items()})
    assert all(value not in outputs for value in platform_run.secrets.values())
