"""The program for target aws, under Pulumi mocks: every stack in stacks/ and generated variants.

Expectations are computed from the raw stack config, not from the code under test.
"""

from __future__ import annotations

import base64
import copy
import gzip
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kong_slo.collector.render import render_collector_config, render_compose
from tests.program.conftest import is_tier, stack_files
from tests.program.mocks import (
    CALL_HANDLERS,
    DEFAULT_SUBNETS,
    SENTINEL_PREFIX,
    ProgramRun,
    aws_config,
    created_id,
    created_outputs,
    read_config,
    run_program,
    settings_of,
    subnet_facts,
)

COMPONENT = "kongslo:aws:CollectorHost"
INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
PARAMETER = "aws:ssm/parameter:Parameter"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
EIP = "aws:ec2/eip:Eip"
INTERFACE = "aws:ec2/networkInterface:NetworkInterface"
VOLUME = "aws:ebs/volume:Volume"
ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
TAGGABLE = {INSTANCE, SECURITY_GROUP, PARAMETER, EIP, INTERFACE, VOLUME, "aws:iam/role:Role",
            "aws:iam/instanceProfile:InstanceProfile"}
UNTAGGABLE = {ROLE_POLICY, ATTACHMENT}
USER_DATA_LIMIT = 16 * 1024
AWS_STACKS = [path for path in stack_files("aws") if not is_tier(path)]
"""Single-host stacks; tiers have their own tests (test_aws_tier_program.py)."""


def _collector(config: dict[str, Any]) -> dict[str, Any]:
    return config.get("kong-slo:collector") or {}


def _user_data(instance: dict[str, Any]) -> tuple[str, int]:
    """The cloud-config text and the byte count EC2 holds against its limit."""
    if instance.get("userDataBase64"):
        packed = base64.b64decode(instance["userDataBase64"])
        return gzip.decompress(packed).decode("utf-8"), len(packed)
    text = instance["userData"]
    return text, len(text.encode("utf-8"))


def _written_files(cloud_config: str) -> list[str]:
    """Contents of every ``write_files`` entry, decoded as cloud-init would."""
    document = yaml.safe_load(cloud_config)
    contents = []
    for entry in document.get("write_files") or []:
        content = entry.get("content", "")
        encoding = entry.get("encoding", "text/plain")
        if encoding in ("b64", "base64"):
            content = base64.b64decode(content).decode("utf-8")
        elif encoding in ("gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
            content = gzip.decompress(base64.b64decode(content)).decode("utf-8")
        contents.append(content)
    return contents


def check_firewall(run: ProgramRun, config: dict[str, Any]) -> None:
    collector = _collector(config)
    cidrs = [str(ipaddress.ip_network(cidr)) for cidr in collector["allowedCidrs"]]
    v4 = [cidr for cidr in cidrs if ":" not in cidr]
    v6 = [cidr for cidr in cidrs if ":" in cidr]
    ports = [4318, 4317] if collector.get("openGrpc") else [4318]
    group = run.one(SECURITY_GROUP).inputs
    ingress = [(rule["protocol"], int(rule["fromPort"]), int(rule["toPort"]), rule.get("cidrBlocks", []),
                rule.get("ipv6CidrBlocks", [])) for rule in group["ingress"]]
    assert ingress == [("tcp", port, port, v4, v6) for port in ports]
    for rule in group["ingress"]:
        assert not rule.get("securityGroups") and not rule.get("self") and not rule.get("prefixListIds")
        assert not int(rule["fromPort"]) <= 22 <= int(rule["toPort"]), "SSH must stay closed"
        if not collector.get("allowPublicIngress"):
            assert "0.0.0.0/0" not in rule.get("cidrBlocks", [])
            assert "::/0" not in rule.get("ipv6CidrBlocks", [])
    egress = sorted((rule["protocol"], int(rule["fromPort"]), int(rule["toPort"])) for rule in group["egress"])
    assert egress == [("tcp", 80, 80), ("tcp", 443, 443)]


def check_host(run: ProgramRun, config: dict[str, Any]) -> None:
    collector = _collector(config)
    instance = run.one(INSTANCE)
    inputs = instance.inputs
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpEndpoint"] == "enabled"
    assert int(inputs["metadataOptions"]["httpPutResponseHopLimit"]) == 1, "containers must not reach the role"
    assert inputs["rootBlockDevice"]["encrypted"] is True
    assert inputs["rootBlockDevice"]["volumeType"] == "gp3"
    assert inputs["userDataReplaceOnChange"] is True
    assert inputs["instanceType"] == collector.get("instanceType", "t3.small")
    # The address and the queue outlive the instance: a kept interface and a queue volume of their own.
    interface, volume, attachment = run.one(INTERFACE), run.one(VOLUME), run.one(ATTACHMENT)
    assert "subnetId" not in inputs and "vpcSecurityGroupIds" not in inputs
    assert inputs["primaryNetworkInterface"] == {"networkInterfaceId": created_id(INTERFACE, interface.name),
                                                 "deleteOnTermination": False}
    assert instance.delete_before_replace is True, "an interface is attached to one instance at a time"
    assert interface.inputs["securityGroups"] == [run.outputs["collector_security_group_id"].value]
    assert volume.inputs["encrypted"] is True and volume.inputs["type"] == "gp3"
    assert int(volume.inputs["size"]) >= 6, "the counts' 4 GiB queue and 1 GiB each for traces and logs"
    assert attachment.inputs["volumeId"] == created_id(VOLUME, volume.name)
    assert attachment.inputs["instanceId"] == run.output("collector_instance_id")
    assert attachment.inputs["stopInstanceBeforeDetaching"] is True, "the collector drains before its queue goes"
    assert run.output("collector_queue_volume_id") == created_id(VOLUME, volume.name)
    subnet_lookups = [args for token, args in run.invokes if token == "aws:ec2/getSubnet:getSubnet"]
    vpc_lookups = [args for token, args in run.invokes if token == "aws:ec2/getVpc:getVpc"]
    if collector.get("subnetId"):
        assert subnet_lookups == [{"id": collector["subnetId"]}] and vpc_lookups == []
        expected_subnet = collector["subnetId"]
        expected_vpc = CALL_HANDLERS["aws:ec2/getSubnet:getSubnet"]({"id": collector["subnetId"]})["vpcId"]
    else:
        assert vpc_lookups == [{"default": True}]
        expected_subnet = min(DEFAULT_SUBNETS)  # the same default subnet on every run
        assert subnet_lookups == [{"id": expected_subnet}]
        expected_vpc = subnet_facts(expected_subnet)["vpcId"]
    assert interface.inputs["subnetId"] == expected_subnet
    assert volume.inputs["availabilityZone"] == subnet_facts(expected_subnet)["availabilityZone"]
    assert run.one(SECURITY_GROUP).inputs["vpcId"] == expected_vpc
    ami_lookups = [args for token, args in run.invokes if token == "aws:ec2/getAmi:getAmi"]
    if collector.get("amiId"):
        assert inputs["ami"] == collector["amiId"]
        assert ami_lookups == []
        assert "ami" not in instance.ignore_changes
    else:
        (lookup,) = ami_lookups
        assert lookup["owners"] == ["099720109477"] and lookup["mostRecent"] is True
        names = next(item["values"] for item in lookup["filters"] if item["name"] == "name")
        graviton = collector.get("instanceType", "t3.small").split(".")[0] in ("t4g", "m7g", "c7gn")
        assert names == [f"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{'arm64' if graviton else 'amd64'}-server-*"]
        assert inputs["ami"] == CALL_HANDLERS["aws:ec2/getAmi:getAmi"](lookup)["id"]
        assert "ami" in instance.ignore_changes


def check_user_data(run: ProgramRun, config: dict[str, Any], stack: str) -> None:
    inputs = run.one(INSTANCE).inputs
    assert bool(inputs.get("userData")) != bool(inputs.get("userDataBase64")), "exactly one user-data form"
    cloud_config, size = _user_data(inputs)
    assert size <= USER_DATA_LIMIT
    assert cloud_config.startswith("#cloud-config")
    stack_settings = settings_of(config, stack=stack)
    written = _written_files(cloud_config)
    assert render_compose(stack_settings) in written
    assert render_collector_config(stack_settings) in written
    assert run.one(PARAMETER).inputs["name"] in cloud_config, "cloud-init must fetch the token parameter"


def check_token(run: ProgramRun) -> None:
    token = run.secrets["kong-slo:dynatrace.apiToken"]
    parameter = run.one(PARAMETER)
    assert parameter.inputs["type"] == "SecureString"
    assert parameter.inputs["value"] == token
    assert "value" in parameter.secret_inputs
    body = token.removeprefix(SENTINEL_PREFIX)
    fragments = {body[start:start + 12] for start in range(len(body) - 11)}

    def assert_no_token(text: str, where: str) -> None:
        leaked = [fragment for fragment in fragments if fragment in text]
        assert not leaked, f"the Dynatrace token leaks into {where}"

    for resource in run.resources:
        inputs = dict(resource.inputs)
        if resource is parameter:
            inputs.pop("value")
        text = json.dumps(inputs, default=str)
        if inputs.get("userDataBase64"):
            text += _user_data(inputs)[0]
        assert_no_token(text, f"{resource.type} {resource.name}")
    assert_no_token(json.dumps({name: out.value for name, out in run.outputs.items()}, default=str), "outputs")
    check_least_privilege(run, parameter.inputs["name"])


def check_least_privilege(run: ProgramRun, parameter_name: str) -> None:
    """The role's one inline policy reads the token parameter and nothing else; no managed policy is attached."""
    assert run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    policy = json.loads(run.one(ROLE_POLICY).inputs["policy"])
    readers = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        assert all(action.startswith(("ssm:", "ssmmessages:")) and "*" not in action for action in actions)
        if any(action.startswith("ssm:Get") for action in actions):
            readers.append((actions, statement["Resource"]))
    ((actions, resource),) = readers
    assert actions == ["ssm:GetParameter"]
    assert resource.endswith(f":parameter{parameter_name}")


def check_tags_and_parents(run: ProgramRun, stack: str) -> None:
    (component,) = [resource for resource in run.resources if resource.type == COMPONENT]
    expected = {"project": "kong-slo", "stack": stack, "managed-by": "pulumi"}
    for resource in run.resources:
        if resource is component or not resource.type.startswith("aws:"):
            continue  # the Kong plugins and Dynatrace SLOs have their own tests
        assert resource.parent == component.urn, f"{resource.name} is not a child of the CollectorHost"
        assert resource.type in TAGGABLE | UNTAGGABLE, f"classify {resource.type} as taggable or not"
        if resource.type in TAGGABLE:
            assert expected.items() <= resource.inputs.get("tags", {}).items(), resource.name
    assert expected.items() <= run.one(INSTANCE).inputs["rootBlockDevice"]["tags"].items()


def check_outputs(run: ProgramRun, config: dict[str, Any]) -> None:
    collector = _collector(config)
    private_ip = run.output("collector_private_ip")
    ipaddress.ip_address(private_ip)
    assert private_ip == created_outputs(INTERFACE, run.one(INTERFACE).name)["privateIp"]  # the kept address
    assert run.output("collector_instance_id").startswith("i-")
    assert run.output("collector_security_group_id").startswith("sg-")
    base = (config.get("kong-slo:kong") or {}).get("collectorUrl") or f"http://{private_ip}:4318"
    assert run.output("otlp_http_url") == base.rstrip("/")
    assert run.output("traces_url") == f"{base.rstrip('/')}/v1/traces"
    assert run.output("logs_url") == f"{base.rstrip('/')}/v1/logs"
    subnet = collector.get("subnetId") or min(DEFAULT_SUBNETS)
    if collector.get("publicIp") or subnet_facts(subnet)["mapPublicIpOnLaunch"]:
        # Asked for, or the subnet gives instances a public address (which an interface made apart never gets).
        address = run.one(EIP)
        assert address.inputs["domain"] == "vpc"
        # On the kept interface: the public address survives a host replacement too.
        assert address.inputs["networkInterface"] == created_id(INTERFACE, run.one(INTERFACE).name)
        assert "instance" not in address.inputs
        ipaddress.ip_address(run.output("collector_public_ip"))
    else:
        assert run.of_type(EIP) == []
        assert "collector_public_ip" not in run.outputs
    assert all(output.known and not output.secret for output in run.outputs.values())


def check_everything(run: ProgramRun, config: dict[str, Any], stack: str) -> None:
    check_firewall(run, config)
    check_host(run, config)
    check_user_data(run, config, stack)
    check_token(run)
    check_tags_and_parents(run, stack)
    check_outputs(run, config)


def test_stacks_directory_has_an_aws_stack() -> None:
    assert AWS_STACKS, "stacks/ should hold at least one single-host aws example"


@pytest.mark.parametrize("stack_file", AWS_STACKS, ids=lambda path: path.name)
def test_aws_stack_file(stack_file: Path) -> None:
    config = read_config(stack_file)
    stack = stack_file.name.split(".")[1]
    run = run_program(config, stack=stack)
    check_everything(run, config, stack)


ipv4_blocks = st.builds(lambda address, prefix: str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)),
                        st.ip_addresses(v=4), st.integers(8, 32))
ipv6_blocks = st.builds(lambda address, prefix: str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)),
                        st.ip_addresses(v=6), st.integers(16, 128))


@st.composite
def aws_variants(draw: st.DrawFn) -> dict[str, Any]:
    config = aws_config()
    collector: dict[str, Any] = {
        "allowedCidrs": draw(st.lists(st.one_of(ipv4_blocks, ipv6_blocks), min_size=1, max_size=4,
                                      unique_by=lambda cidr: str(ipaddress.ip_network(cidr)))),
        "openGrpc": draw(st.booleans()),
        "publicIp": draw(st.booleans()),
        "instanceType": draw(st.sampled_from(["t3.small", "t3.medium", "m6i.large", "t4g.small", "m7g.large"])),
    }
    if draw(st.booleans()):
        collector["allowedCidrs"].append(draw(st.sampled_from(["0.0.0.0/0", "::/0"])))
        collector["allowPublicIngress"] = True
    if draw(st.booleans()):
        collector["subnetId"] = "subnet-0" + draw(st.text("0123456789abcdef", min_size=16, max_size=16))
    if draw(st.booleans()):
        collector["amiId"] = "ami-0" + draw(st.text("0123456789abcdef", min_size=16, max_size=16))
    config["kong-slo:collector"] = collector
    if draw(st.booleans()):
        config["kong-slo:kong"]["collectorUrl"] = "http://otel.kong.internal:4318/"
    count = draw(st.integers(1, 40))
    config["kong-slo:apis"] = [{"name": f"api-{index}"} for index in range(count)]
    return config


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=aws_variants(), stack=st.sampled_from(["dev", "prod", "pr-42"]))
def test_generated_aws_stacks(config: dict[str, Any], stack: str) -> None:
    run = run_program(config, stack=stack)
    check_everything(run, config, stack)


@pytest.mark.parametrize("count", [150, 500])
def test_many_apis_stay_within_the_user_data_limit(count: int) -> None:
    config = aws_config()
    config["kong-slo:apis"] = [{"name": f"service-{index:03d}", "latency": {"thresholdMs": 100 + index}}
                               for index in range(count)]
    run = run_program(config, stack="big")
    check_user_data(run, config, "big")
    check_token(run)


def test_a_collector_change_changes_user_data_and_an_api_change_does_not() -> None:
    config = aws_config()
    first = run_program(config, stack="dev").one(INSTANCE).inputs
    again = run_program(copy.deepcopy(config), stack="dev").one(INSTANCE).inputs
    config["kong-slo:apis"].append({"name": "Orders", "latency": {"thresholdMs": 250}})
    new_api = run_program(copy.deepcopy(config), stack="dev").one(INSTANCE).inputs
    config["kong-slo:collector"]["traceSampling"] = 0.5
    sampled = run_program(config, stack="dev").one(INSTANCE).inputs
    assert _user_data(first) == _user_data(again) == _user_data(new_api)  # a new API never replaces the host
    assert (first.get("userData"), first.get("userDataBase64")) == (again.get("userData"), again.get("userDataBase64"))
    assert _user_data(first)[0] != _user_data(sampled)[0]


def test_token_parameter_and_its_permission_exist_before_the_host() -> None:
    run = run_program(aws_config(), stack="dev")
    parameter = run.one(PARAMETER)
    assert parameter.delete_before_replace, "the parameter name is fixed, so a replacement must delete first"
    dependencies = run.one(INSTANCE).dependencies
    assert parameter.urn in dependencies
    assert run.one(ROLE_POLICY).urn in dependencies, "the host must not boot before it may read the token"
    assert parameter.inputs["name"] == "/kong-slo/dev/dynatrace-api-token"


def test_a_new_token_replaces_the_host() -> None:
    """The collector reads the token at start only: a new parameter version must not leave it on the old one."""
    run = run_program(aws_config(), stack="dev")
    instance = run.one(INSTANCE)
    assert instance.replacement_trigger == 1, "the trigger is the token parameter's version"
    assert all(resource.replacement_trigger is None for resource in run.resources if resource is not instance)


PRIVATE_SUBNET = "subnet-0a1b2c3d4e5f60701"


@pytest.mark.parametrize(("collector", "public"), [
    ({}, True),  # the default VPC's subnets give instances a public address: keep one, on the interface
    ({"subnetId": PRIVATE_SUBNET}, False),  # a private subnet reaches out through its NAT
    ({"subnetId": PRIVATE_SUBNET, "publicIp": True}, True),
])
def test_the_host_keeps_the_public_address_its_subnet_would_give_it(collector: dict[str, Any], public: bool) -> None:
    run = run_program(aws_config(collector={"allowedCidrs": ["10.0.0.0/16"], **collector}), stack="dev")
    assert [address.inputs["networkInterface"] for address in run.of_type(EIP)] == (
        [created_id(INTERFACE, run.one(INTERFACE).name)] if public else [])
    assert ("collector_public_ip" in run.outputs) is public


def test_the_interface_and_the_queue_volume_are_the_same_whatever_the_apis_and_the_collector_settings() -> None:
    """What a replacement must keep does not change with what rolls the instance."""
    kept = (INTERFACE, VOLUME)
    base = run_program(aws_config(), stack="dev")
    rolled = run_program(aws_config(collector={"allowedCidrs": ["10.0.0.0/16"], "instanceType": "t3.large",
                                                "traceSampling": 0.5},
                                    apis=[{"name": "Orders"}, {"name": "Billing", "latency": {"thresholdMs": 300}}]),
                         stack="dev")
    # Sampling is in the collector's config: the instance gets new user data, which replaces it.
    assert _user_data(base.one(INSTANCE).inputs)[0] != _user_data(rolled.one(INSTANCE).inputs)[0]
    for type_ in kept:
        assert base.one(type_).inputs == rolled.one(type_).inputs
