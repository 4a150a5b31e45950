"""`__main__.py` wires every part: the collector, one Kong plugin per API, the kong.conf patch, the SLOs."""

from __future__ import annotations

import json

import pytest

from kong_slo.kong.adoption import scope_of_inputs
from kong_slo.kong.payload import plugin_id
from kong_slo.objectives.sli import slo_definitions, slo_payload
from tests.program.mocks import ProgramFailure, ProgramRun, run_program, settings_of, stack_config

PLUGIN = "pulumi-python:dynamic/kong:OpenTelemetryPlugin"
SLO = "pulumi-python:dynamic/dynatrace:ServiceLevelObjective"
SETTINGS_OBJECT = "pulumi-python:dynamic/dynatrace:SettingsObject"
CONF_PATCH = "kongslo:kong:KongConfPatch"
INSTANCE = "aws:ec2/instance:Instance"


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    return run_program(stack_config("dev"), stack="dev")


def test_one_plugin_per_api_pointing_at_the_collector_host(dev_run: ProgramRun) -> None:
    plugins = {resource.inputs["api_name"]: resource.inputs for resource in dev_run.of_type(PLUGIN)}
    assert set(plugins) == {"HealthService", "Orders"}
    for name, inputs in plugins.items():
        assert inputs["service"] == name
        assert inputs["collector_url"] == dev_run.output("otlp_http_url")
        assert inputs["admin_url"] == "http://kong.internal:8001"
        assert inputs["stack"] == "dev" and inputs["version"] == "3.9"
    assert set(dev_run.output("kong_plugins")) == {"HealthService", "Orders"}


def test_plugin_outputs_come_from_the_ids(dev_run: ProgramRun) -> None:
    """Ids, which a preview of an update keeps known, where the resources' outputs would be unknown."""
    ids = {resource.inputs["api_name"]: plugin_id("dev", *scope_of_inputs(resource.inputs), None)
           for resource in dev_run.of_type(PLUGIN)}
    assert dev_run.output("kong_plugins") == ids
    assert dev_run.output("kong_plugins_adopted") == {"HealthService": False, "Orders": False}


def test_two_slos_per_api_with_the_built_payloads(dev_run: ProgramRun) -> None:
    settings = settings_of(stack_config("dev"), stack="dev")
    expected = {definition.name: slo_payload(definition) for definition in slo_definitions(settings)}
    declared = {resource.inputs["payload"]["name"]: resource.inputs["payload"] for resource in dev_run.of_type(SLO)}
    assert len(declared) == 4
    assert json.loads(json.dumps(declared)) == json.loads(json.dumps(expected))


def test_alerting_objects_follow_the_emails(dev_run: ProgramRun) -> None:
    objects = [resource.inputs for resource in dev_run.of_type(SETTINGS_OBJECT)]
    assert len(objects) == 2 + 4, "an alerting profile, an e-mail notification, a burn-rate alert per SLO"
    assert all(dev_run.secrets[path] not in json.dumps(objects) for path in dev_run.secrets)


def test_an_objective_switched_off_has_no_slo() -> None:
    apis = [{"name": "HealthService", "latency": False}]
    run = run_program(stack_config("dev", **{"kong-slo:apis": apis}), stack="dev")
    slos = [resource.inputs["payload"]["name"] for resource in run.of_type(SLO)]
    assert slos == ["kong-slo dev: HealthService availability"]


def test_kong_conf_is_patched_only_when_ssh_is_configured(dev_run: ProgramRun) -> None:
    assert dev_run.of_type(CONF_PATCH) == []
    config = stack_config("dev")
    config["kong-slo:kong"]["ssh"] = {"host": "10.0.1.10", "privateKey": {"secure": "v1:key"},
                                      "hostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64Key"}
    run = run_program(config, stack="dev")
    patches = run.of_type(CONF_PATCH)
    assert [patch.name for patch in patches] == ["kong-conf-10.0.1.10-22"]
    plugins = run.of_type(PLUGIN)
    write = next(r for r in run.resources if r.name == "kong-conf-10.0.1.10-22-write")
    assert plugins and all(write.urn in plugin.dependencies for plugin in plugins), \
        "the Admin API calls wait for the patched kong.conf and Kong's reload"


def test_every_listed_node_is_patched_and_the_plugins_wait_for_all() -> None:
    config = stack_config("dev")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64Key"
    config["kong-slo:kong"]["ssh"] = {"privateKey": {"secure": "v1:key"}, "nodes": [
        {"host": "10.0.1.10", "hostKey": key}, {"host": "10.0.1.11", "port": 2222, "hostKey": key}]}
    run = run_program(config, stack="dev")
    # One patch per node; the SDK may register them in either order.
    assert sorted(patch.name for patch in run.of_type(CONF_PATCH)) == ["kong-conf-10.0.1.10-22",
                                                                     "kong-conf-10.0.1.11-2222"]
    writes = [r for r in run.resources if r.name.endswith("-write")]
    assert sorted(w.inputs["connection"]["host"] for w in writes) == ["10.0.1.10", "10.0.1.11"]  # any order
    assert all(w.urn in plugin.dependencies for plugin in run.of_type(PLUGIN) for w in writes)


def test_no_secret_in_any_output(dev_run: ProgramRun) -> None:
    dumped = json.dumps({name: output.value for name, output in dev_run.outputs.items()})
    assert all(value not in dumped for value in dev_run.secrets.values())


def test_an_invalid_stack_declares_nothing() -> None:
    with pytest.raises(ProgramFailure) as failure:
        run_program(stack_config("dev", **{"kong-slo:apis": [{"name": "A", "latency": {"target": 120}}]}), stack="dev")
    assert "kong-slo:apis[0].latency.target: 120 is not a percentage" in str(failure.value.error)
    assert failure.value.resources == []
