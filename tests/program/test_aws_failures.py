"""The program refuses bad stacks before declaring anything; preview and the local target under mocks."""

from __future__ import annotations

import random
import string
from typing import Any

import pulumi
import pytest

from tests.program.conftest import is_tier, stack_files
from tests.program.mocks import CALL_HANDLERS, ProgramFailure, aws_config, read_config, run_program

INSTANCE = "aws:ec2/instance:Instance"


@pytest.mark.parametrize(("sections", "named_key", "detail"), [
    ({"collector": {"allowedCidrs": ["0.0.0.0/0"]}}, "kong-slo:collector.allowedCidrs[0]", "whole internet"),
    ({"collector": {}}, "kong-slo:collector.allowedCidrs", "is required for target aws"),
    ({"collector": {"allowedCidrs": ["10.0.0.0/16"], "sshPort": 22}}, "kong-slo:collector.sshPort", "unknown key"),
    ({"dynatrace": {"environmentUrl": "https://abc12345.live.dynatrace.com", "apiToken": "dt0c01.PLAIN"}},
     "kong-slo:dynatrace.apiToken", "plain text"),
    ({"apis": [{"name": "A"}, {"name": "a"}]}, "kong-slo:apis[1].name", "already used"),
])
def test_invalid_stack_declares_no_resource(sections: dict[str, Any], named_key: str, detail: str) -> None:
    with pytest.raises(ProgramFailure) as failure:
        run_program(aws_config(**sections), stack="dev")
    error = failure.value.error
    assert isinstance(error, pulumi.RunError)
    assert named_key in str(error) and detail in str(error)
    assert failure.value.resources == []
    assert "PLAIN" not in str(error)


def test_missing_region_declares_no_resource() -> None:
    config = aws_config()
    del config["aws:region"]
    with pytest.raises(ProgramFailure) as failure:
        run_program(config, stack="dev")
    assert "aws:region" in str(failure.value.error)
    assert failure.value.resources == []


def test_a_default_vpc_without_a_default_subnet_declares_no_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CALL_HANDLERS, "aws:ec2/getSubnets:getSubnets", lambda args: {"id": "eu-west-1", "ids": []})
    with pytest.raises(ProgramFailure) as failure:
        run_program(aws_config(), stack="dev")
    assert str(failure.value.error) == "the default VPC has no default subnet; set kong-slo:collector.subnetId"
    assert isinstance(failure.value.error, pulumi.RunError)
    assert failure.value.resources == []


def test_the_host_does_not_change_with_the_apis() -> None:
    """600 APIs with distinct objectives declare the very host two APIs do: the collector names no API, so an
    API added or an objective changed never replaces the host (user_data_replace_on_change)."""
    rng = random.Random(7)
    names = ["".join(rng.choices(string.ascii_letters + string.digits, k=120)) for _ in range(600)]
    many = [{"name": name, "latency": {"thresholdMs": 100 + index}} for index, name in enumerate(names)]
    hosts = [next(r for r in run_program(aws_config(apis=apis), stack="dev").resources
                  if r.type == "aws:ec2/instance:Instance").inputs for apis in (many, many[:2])]
    assert hosts[0] == hosts[1]


def test_preview_leaves_computed_outputs_unknown_and_user_data_known() -> None:
    config = read_config(next(path for path in stack_files("aws") if not is_tier(path)))
    run = run_program(config, stack="dev", preview=True)
    for name in ("collector_instance_id", "collector_private_ip", "collector_security_group_id",
                 "otlp_http_url", "traces_url", "logs_url"):
        assert not run.outputs[name].known, name
    assert run.outputs["collector_token_parameter"].known
    instance = run.one(INSTANCE).inputs
    assert (instance.get("userData") or instance.get("userDataBase64") or "") != ""
    assert instance["metadataOptions"]["httpTokens"] == "required"


def test_preview_with_collector_url_knows_the_urls() -> None:
    config = aws_config(kong={"adminUrl": "http://kong.internal:8001",
                               "collectorUrl": "https://otel.example.internal:4318"})
    run = run_program(config, stack="dev", preview=True)
    assert run.outputs["traces_url"].known
    assert run.outputs["traces_url"].value == "https://otel.example.internal:4318/v1/traces"


@pytest.mark.parametrize("stack_file", stack_files("local"), ids=lambda path: path.name)
def test_local_stack_declares_no_aws_resource(stack_file) -> None:
    run = run_program(read_config(stack_file), stack="local")
    assert not [resource for resource in run.resources if resource.type.startswith("aws:")]
    assert not [token for token, _ in run.invokes if token.startswith("aws:")]
    assert run.output("target") == "local"
    assert run.output("apis") == [api["name"] for api in read_config(stack_file)["kong-slo:apis"]]


def test_malformed_region_fails_cleanly_before_any_resource() -> None:
    config = aws_config()
    config["aws:region"] = "europe"
    with pytest.raises(ProgramFailure) as failure:
        run_program(config, stack="dev")
    assert isinstance(failure.value.error, pulumi.RunError)
    assert "'europe' is not an AWS region" in str(failure.value.error)
    assert failure.value.resources == []
