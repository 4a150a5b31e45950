"""The program for a collector tier (``collector.maxReplicas`` above 1), under Pulumi mocks.

Expectations are computed from the raw stack config and the mocks' answers, not from the code under test.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi_policy import ResourceValidationPolicy

from kong_slo.collector.render import render_collector_config, render_compose
from tests.program.conftest import is_tier, stack_files
from tests.program.mocks import (
    CALL_HANDLERS,
    OTHER_VPC_SUBNET_PREFIX,
    ROOT_DEVICE,
    SENTINEL_PREFIX,
    ProgramFailure,
    ProgramRun,
    aws_config,
    created_id,
    read_config,
    run_program,
    settings_of,
    subnet_facts,
)
from tests.program.test_aws_program import _written_files, check_least_privilege
from tests.unit.test_policy import POLICIES, resource_args, violations

TIER = "kongslo:aws:CollectorTier"
HOST = "kongslo:aws:CollectorHost"
GROUP = "aws:autoscaling/group:Group"
POLICY = "aws:autoscaling/policy:Policy"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
BALANCER = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
PARAMETER = "aws:ssm/parameter:Parameter"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
INSTANCE = "aws:ec2/instance:Instance"
SUBNETS = ["subnet-0a1b2c3d4e5f60710", "subnet-0a1b2c3d4e5f60721"]
"""Zones a and b in the mocks (the last hex digit picks the zone)."""
TIER_STACKS = [path for path in stack_files("aws") if is_tier(path)]


def tier_config(**collector: Any) -> dict[str, Any]:
    return aws_config(collector={"allowedCidrs": ["10.0.0.0/16"], "replicas": 2, "maxReplicas": 4,
                                 "subnetIds": SUBNETS, **collector})


def _collector(config: dict[str, Any]) -> dict[str, Any]:
    return config["kong-slo:collector"]


def check_launch_template(run: ProgramRun, config: dict[str, Any], stack: str) -> None:
    collector = _collector(config)
    template = run.one(TEMPLATE)
    inputs = template.inputs
    assert inputs["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                         "httpPutResponseHopLimit": 1}
    root_device = "/dev/xvda" if collector.get("amiId") else ROOT_DEVICE
    (mapping,) = inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == root_device, "the encrypted mapping must replace the image's root volume"
    assert mapping["ebs"]["encrypted"] == "true" and mapping["ebs"]["volumeType"] == "gp3"
    assert "keyName" not in inputs, "no SSH key"
    profile = run.one(PROFILE)
    assert inputs["iamInstanceProfile"]["arn"].startswith(
        f"arn:aws:iam::123456789012:instance-profile/{profile.name}-"), "the instances take the token reader's role"
    assert inputs["vpcSecurityGroupIds"] == [run.output("collector_security_group_id")]
    assert inputs["instanceType"] == collector.get("instanceType", "t3.small")
    amis = [args for token, args in run.invokes if token == "aws:ec2/getAmi:getAmi"]
    (lookup,) = amis
    if collector.get("amiId"):
        assert inputs["imageId"] == collector["amiId"]
        assert lookup["filters"] == [{"name": "image-id", "values": [collector["amiId"]]}]
        assert "imageId" not in template.ignore_changes
    else:
        assert lookup["owners"] == ["099720109477"]
        assert inputs["imageId"] == CALL_HANDLERS["aws:ec2/getAmi:getAmi"](lookup)["id"]
        assert "imageId" in template.ignore_changes, "a new Canonical image alone must not roll the group"
    cloud_config = base64.b64decode(inputs["userData"]).decode("utf-8")
    assert cloud_config.startswith("#cloud-config")
    settings = settings_of(config, stack=stack)
    written = _written_files(cloud_config)
    assert render_compose(settings) in written and render_collector_config(settings) in written
    compose = yaml.safe_load(render_compose(settings))
    assert "13133:13133" in compose["services"]["otel-collector"]["ports"], "health checks must reach 13133"
    assert run.one(PARAMETER).inputs["name"] in cloud_config
    instance_tags = next(spec["tags"] for spec in inputs["tagSpecifications"] if spec["resourceType"] == "instance")
    assert instance_tags["kong-slo-token-version"] == "1", "a new token must make a new template version"
    volume_tags = next(spec["tags"] for spec in inputs["tagSpecifications"] if spec["resourceType"] == "volume")
    assert {"project", "stack", "managed-by"} <= set(volume_tags)


def check_group(run: ProgramRun, config: dict[str, Any]) -> None:
    collector = _collector(config)
    replicas = int(collector.get("replicas", 1))
    maximum = int(collector.get("maxReplicas", replicas))
    group = run.one(GROUP)
    inputs = group.inputs
    assert (inputs["minSize"], inputs["maxSize"]) == (replicas, maximum)
    assert "desiredCapacity" not in inputs, "a fixed desired capacity would undo every scale-out on the next up"
    assert inputs["vpcZoneIdentifiers"] == collector["subnetIds"]
    assert inputs["launchTemplate"] == {"id": run.output("collector_launch_template_id"), "version": "1"}
    assert sorted(inputs["targetGroupArns"]) == sorted(tg_arn(run, tg) for tg in run.of_type(TARGET_GROUP))
    assert inputs["healthCheckType"] == "ELB", "an instance failing the load balancer's checks must be replaced"
    refresh = inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    assert refresh["preferences"]["minHealthyPercentage"] == 100
    assert refresh["preferences"]["maxHealthyPercentage"] == 200
    assert inputs["instanceMaintenancePolicy"] == {"minHealthyPercentage": 100, "maxHealthyPercentage": 200}
    # a leaving instance is deregistered, then waits past a connector flush before it terminates
    (hook,) = inputs["initialLifecycleHooks"]
    assert hook["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert hook["defaultResult"] == "CONTINUE" and hook["heartbeatTimeout"] > 15 + 10
    assert run.one(PARAMETER).urn in group.dependencies and run.one(ROLE_POLICY).urn in group.dependencies
    tags = {tag["key"]: tag for tag in inputs["tags"]}
    assert {"project", "stack", "managed-by", "Name"} <= set(tags)
    assert all(tag["propagateAtLaunch"] is True for tag in tags.values())
    scaling = run.of_type(POLICY)
    if maximum > replicas:
        (policy,) = scaling
        assert policy.inputs["autoscalingGroupName"] == run.output("collector_group_name")
        assert policy.inputs["policyType"] == "TargetTrackingScaling"
        tracking = policy.inputs["targetTrackingConfiguration"]
        assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": "ASGAverageCPUUtilization"}
        assert tracking["targetValue"] == float(collector.get("cpuTarget", 60))
    else:
        assert scaling == []


def tg_arn(run: ProgramRun, target_group: Any) -> str:
    return created_id(TARGET_GROUP, target_group.name)


def check_load_balancer(run: ProgramRun, config: dict[str, Any]) -> None:
    collector = _collector(config)
    balancer = run.one(BALANCER).inputs
    assert balancer["loadBalancerType"] == "network"
    assert balancer["internal"] is True
    assert balancer["subnets"] == collector["subnetIds"]
    ports = [4318, 4317] if collector.get("openGrpc") else [4318]
    listeners = {int(listener.inputs["port"]): listener.inputs for listener in run.of_type(LISTENER)}
    groups = {int(group.inputs["port"]): group for group in run.of_type(TARGET_GROUP)}
    assert sorted(listeners) == sorted(groups) == sorted(ports)
    vpc = subnet_facts(collector["subnetIds"][0])["vpcId"]
    for port in ports:
        listener, group = listeners[port], groups[port]
        assert listener["protocol"] == "TCP"
        assert listener["loadBalancerArn"] == created_id(BALANCER, run.one(BALANCER).name)
        assert listener["defaultActions"] == [{"type": "forward", "targetGroupArn": tg_arn(run, group)}]
        target = group.inputs
        assert (target["protocol"], target["targetType"], target["vpcId"]) == ("TCP", "instance", vpc)
        assert target["preserveClientIp"] == "true", "the security group filters on Kong's own address"
        check = target["healthCheck"]
        assert (check["protocol"], check["port"], check["path"]) == ("HTTP", "13133", "/")
        assert target["connectionTermination"] is True


def check_firewall(run: ProgramRun, config: dict[str, Any]) -> None:
    collector = _collector(config)
    cidrs = [str(ipaddress.ip_network(cidr)) for cidr in collector["allowedCidrs"]]
    v4, v6 = [cidr for cidr in cidrs if ":" not in cidr], [cidr for cidr in cidrs if ":" in cidr]
    otlp_ports = [4318, 4317] if collector.get("openGrpc") else [4318]
    subnet_blocks = [subnet_facts(subnet)["cidrBlock"] for subnet in collector["subnetIds"]]
    groups = {resource.name: resource.inputs for resource in run.of_type(SECURITY_GROUP)}
    group = groups["collector-sg"]
    ingress = [(int(rule["fromPort"]), int(rule["toPort"]), rule.get("cidrBlocks", []), rule.get("ipv6CidrBlocks", []))
               for rule in group["ingress"]]
    assert ingress == [*((port, port, v4, v6) for port in otlp_ports), (13133, 13133, subnet_blocks, [])]
    assert all(rule["protocol"] == "tcp" for rule in group["ingress"])
    assert group["vpcId"] == subnet_facts(collector["subnetIds"][0])["vpcId"]
    egress = sorted(int(rule["fromPort"]) for rule in group["egress"])
    assert egress == [80, 443]
    # the load balancer's own group, given at creation: Kong's blocks in, the collectors' subnets out
    balancer_group = groups["collector-nlb-sg"]
    assert run.one(BALANCER).inputs["securityGroups"] == [created_id(SECURITY_GROUP, "collector-nlb-sg")]
    assert [(int(rule["fromPort"]), rule.get("cidrBlocks", []), rule.get("ipv6CidrBlocks", []))
            for rule in balancer_group["ingress"]] == [(port, v4, v6) for port in otlp_ports]
    assert [(int(rule["fromPort"]), rule.get("cidrBlocks", [])) for rule in balancer_group["egress"]] == [
        *((port, subnet_blocks) for port in otlp_ports), (13133, subnet_blocks)]


def check_token_and_policies(run: ProgramRun) -> None:
    token = run.secrets["kong-slo:dynatrace.apiToken"]
    parameter = run.one(PARAMETER)
    assert parameter.inputs["value"] == token and "value" in parameter.secret_inputs
    body = token.removeprefix(SENTINEL_PREFIX)
    for resource in run.resources:
        inputs = dict(resource.inputs)
        if resource is parameter:
            inputs.pop("value")
        text = json.dumps(inputs, default=str)
        if resource.type == TEMPLATE:
            text += base64.b64decode(inputs["userData"]).decode("utf-8")
        assert body[:16] not in text and body[-16:] not in text, f"the token leaks into {resource.name}"
    check_least_privilege(run, parameter.inputs["name"])
    for resource in run.resources:
        if not resource.type.startswith("aws:"):
            continue
        props = {**resource.inputs, "tagsAll": resource.inputs.get("tags", {})} if "tags" in resource.inputs else (
            resource.inputs)
        for policy in (policy for policy in POLICIES if isinstance(policy, ResourceValidationPolicy)):
            found = violations(policy, resource_args(resource.type, props))
            assert found == [], f"{policy.name} refuses {resource.type} {resource.name}: {found}"


def check_outputs_and_parents(run: ProgramRun, config: dict[str, Any]) -> None:
    (component,) = run.of_type(TIER)
    assert component.alias_types == (HOST,), "switching from one host must keep the token parameter"
    assert run.of_type(HOST) == [] and run.of_type(INSTANCE) == []
    for resource in run.resources:
        if resource.type.startswith("aws:"):
            assert resource.parent == component.urn, f"{resource.name} is not a child of the CollectorTier"
    dns = run.output("collector_load_balancer_dns")
    assert dns.startswith("internal-") and dns.endswith(".elb.eu-west-1.amazonaws.com")
    base = ((config.get("kong-slo:kong") or {}).get("collectorUrl") or f"http://{dns}:4318").rstrip("/")
    assert run.output("otlp_http_url") == base
    assert run.output("traces_url") == f"{base}/v1/traces"
    assert "collector_instance_id" not in run.outputs
    plugins = [resource.inputs for resource in run.resources if resource.type.endswith("OpenTelemetryPlugin")]
    assert plugins and all(plugin["collector_url"] == base for plugin in plugins), "Kong must send to the NLB"
    assert all(output.known and not output.secret for output in run.outputs.values())


def check_everything(run: ProgramRun, config: dict[str, Any], stack: str) -> None:
    check_launch_template(run, config, stack)
    check_group(run, config)
    check_load_balancer(run, config)
    check_firewall(run, config)
    check_token_and_policies(run)
    check_outputs_and_parents(run, config)


def test_stacks_directory_has_a_tier_example() -> None:
    assert TIER_STACKS, "stacks/ should hold an example of a collector tier"


@pytest.mark.parametrize("stack_file", TIER_STACKS, ids=lambda path: path.name)
def test_tier_stack_file(stack_file: Path) -> None:
    config = read_config(stack_file)
    stack = stack_file.name.split(".")[1]
    check_everything(run_program(config, stack=stack), config, stack)


@pytest.mark.parametrize("collector", [
    {},
    {"openGrpc": True, "amiId": "ami-0123456789abcdef0", "instanceType": "m7g.large"},
    {"replicas": 3, "maxReplicas": 3, "subnetIds": [*SUBNETS, "subnet-0a1b2c3d4e5f60732"]},
    {"replicas": 1, "maxReplicas": 6, "cpuTarget": 40, "allowedCidrs": ["10.1.0.0/16", "2001:db8::/48"]},
], ids=["default", "grpc-fixed-ami", "fixed-size-three-zones", "scale-from-one"])
def test_tier_variants(collector: dict[str, Any]) -> None:
    config = tier_config(**collector)
    check_everything(run_program(config, stack="ha"), config, "ha")


def test_kong_collector_url_overrides_the_load_balancer_name() -> None:
    config = tier_config()
    config["kong-slo:kong"]["collectorUrl"] = "http://otel.kong.internal:4318/"
    check_everything(run_program(config, stack="ha"), config, "ha")


def test_a_stack_without_replicas_still_gets_one_host() -> None:
    run = run_program(aws_config(), stack="dev")
    (host,) = run.of_type(HOST)
    assert host.alias_types == (TIER,)
    assert len(run.of_type(INSTANCE)) == 1
    assert [resource for resource in run.resources if resource.type in (GROUP, TEMPLATE, BALANCER, TARGET_GROUP,
                                                                          LISTENER, POLICY)] == []
    assert run.of_type(TIER) == []


def test_many_apis_leave_the_launch_template_as_it_is() -> None:
    config = tier_config()
    few = run_program(config, stack="ha").one(TEMPLATE).inputs["userData"]
    config["kong-slo:apis"] = [{"name": f"service-{index:03d}", "latency": {"thresholdMs": 100 + index}}
                               for index in range(300)]
    many = run_program(config, stack="ha").one(TEMPLATE).inputs["userData"]
    assert many == few, "the collector names no API: 300 APIs roll nothing"
    text = base64.b64decode(many)
    assert len(text) <= 16 * 1024 and text.startswith(b"#cloud-config"), "EC2 counts user data before base64"


def test_same_config_same_template_and_a_config_change_a_new_one() -> None:
    first = run_program(tier_config(), stack="ha").one(TEMPLATE).inputs["userData"]
    again = run_program(tier_config(), stack="ha").one(TEMPLATE).inputs["userData"]
    config = tier_config()
    config["kong-slo:apis"].append({"name": "Orders", "latency": {"thresholdMs": 250}})
    new_api = run_program(copy.deepcopy(config), stack="ha").one(TEMPLATE).inputs["userData"]
    config["kong-slo:collector"]["traceSampling"] = 0.5
    changed = run_program(config, stack="ha").one(TEMPLATE).inputs["userData"]
    assert first == again == new_api and first != changed


@pytest.mark.parametrize(("subnets", "message"), [
    (["subnet-0a1b2c3d4e5f60710", "subnet-0a1b2c3d4e5f60713"], "every subnet lies in eu-west-1a"),
    (["subnet-0a1b2c3d4e5f60710", f"{OTHER_VPC_SUBNET_PREFIX}1b2c3d4e5f6072"], "the subnets lie in 2 VPCs"),
])
def test_subnets_that_cannot_hold_a_tier_declare_nothing(subnets: list[str], message: str) -> None:
    with pytest.raises(ProgramFailure) as failure:
        run_program(tier_config(subnetIds=subnets), stack="ha")
    assert isinstance(failure.value.error, pulumi.RunError)
    assert str(failure.value.error).startswith(f"kong-slo:collector.subnetIds: {message}")
    assert failure.value.resources == []


def test_preview_leaves_the_load_balancer_name_unknown_but_the_template_known() -> None:
    run = run_program(tier_config(), stack="ha", preview=True)
    assert not run.outputs["otlp_http_url"].known
    assert not run.outputs["collector_load_balancer_dns"].known
    assert run.outputs["collector_token_parameter"].known
    assert run.one(TEMPLATE).inputs["metadataOptions"]["httpTokens"] == "required"
    assert run.one(BALANCER).inputs["internal"] is True
