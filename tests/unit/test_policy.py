"""The policy pack's rules, called as plain functions with the props the engine would send.

Props go through the same proxy the analyzer wraps them in at run time (Mappings that raise on unknown values)
and numbers are floats, as protobuf delivers them. The pack module itself (policy/__main__.py) is never
imported: constructing a PolicyPack starts a gRPC server and blocks.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import inspect
import subprocess
import sys
from collections.abc import Iterator
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy
from pulumi_policy.secret import Secret

from kong_slo.infra.tags import ownership_tags
from tests.conftest import ROOT
from tests.unit.settings_helpers import aws_config, parse

sys.path.insert(0, str(ROOT / "policy"))

from kong_slo_policies import POLICIES
from kong_slo_policies.instances import LAUNCH_TEMPLATE, encrypted_volumes, imdsv2_required
from kong_slo_policies.load_balancers import internal_load_balancers
from kong_slo_policies.network import no_public_ingress, no_ssh_ingress
from kong_slo_policies.tags import REQUIRED_TAGS, required_tags
from kong_slo_policies.tokens import no_token_in_outputs, no_token_in_user_data, token_kinds

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
NLB = "aws:lb/loadBalancer:LoadBalancer"
# Built from pieces so that no token-shaped literal sits in the repository.
TOKEN = "dt0c01" + ".ABCDEFGHIJKLMNOPQRSTUVWX." + "Z" * 64
PLATFORM_TOKEN = "dt0s16" + ".SAMPLEID." + "Q" * 40
GOOD_TAGS = {"project": "kong-slo", "stack": "dev", "managed-by": "pulumi"}


def resource_args(resource_type: str, props: dict[str, Any], config: dict[str, Any] | None = None,
                  provider_props: dict[str, Any] | None = None) -> ResourceValidationArgs:
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    provider = None
    if provider_props is not None:
        provider = PolicyProviderResource("pulumi:providers:aws", unknown_checking_proxy(provider_props),
                                          "urn:pulumi:dev::kong-slo::pulumi:providers:aws::default", "default")
    return ResourceValidationArgs(resource_type, unknown_checking_proxy(props),
                                  f"urn:pulumi:dev::kong-slo::{resource_type}::thing", "thing", options, provider,
                                  config)


def violations(policy: Any, args: Any) -> list[str]:
    messages: list[str] = []
    result = policy.validate(args, lambda message, urn=None: messages.append(message))
    if inspect.isawaitable(result):
        asyncio.run(result)
    return messages


def ingress(from_port: float, to_port: float, cidrs: list[str], protocol: str = "tcp",
            ipv6: list[str] | None = None) -> dict[str, Any]:
    return {"fromPort": from_port, "toPort": to_port, "protocol": protocol, "cidrBlocks": cidrs,
            "ipv6CidrBlocks": ipv6 or []}


# -- no-public-ingress ----------------------------------------------------------------------------------------

def test_public_ingress_passes_for_private_cidrs() -> None:
    props = {"ingress": [ingress(4318.0, 4318.0, ["10.0.0.0/16"])], "egress": [ingress(0.0, 0.0, ["0.0.0.0/0"])]}
    assert violations(no_public_ingress, resource_args(SG, props)) == []


def test_public_ingress_flags_ipv4_and_ipv6_everywhere_in_inline_blocks() -> None:
    props = {"ingress": [ingress(4318.0, 4318.0, ["10.0.0.0/16"]),
                         ingress(4317.0, 4318.0, ["0.0.0.0/0"], ipv6=["::/0"])]}
    assert violations(no_public_ingress, resource_args(SG, props)) == [
        "ingress[1] allows tcp 4317-4318 from 0.0.0.0/0, that is from anywhere on the internet",
        "ingress[1] allows tcp 4317-4318 from ::/0, that is from anywhere on the internet",
    ]


def test_public_ingress_flags_standalone_rules_but_not_egress() -> None:
    rule = {"type": "ingress", **ingress(4318.0, 4318.0, ["0.0.0.0/0"])}
    assert violations(no_public_ingress, resource_args(SG_RULE, rule)) == [
        "the rule allows tcp 4318 from 0.0.0.0/0, that is from anywhere on the internet"]
    assert violations(no_public_ingress, resource_args(SG_RULE, {**rule, "type": "egress"})) == []
    vpc_rule = {"ipProtocol": "tcp", "fromPort": 4318.0, "toPort": 4318.0, "cidrIpv6": "::/0"}
    assert violations(no_public_ingress, resource_args(INGRESS_RULE, vpc_rule)) == [
        "the rule allows tcp 4318 from ::/0, that is from anywhere on the internet"]
    private = {**vpc_rule, "cidrIpv6": None, "cidrIpv4": "10.1.0.0/16"}
    assert violations(no_public_ingress, resource_args(INGRESS_RULE, private)) == []


def test_public_ingress_is_allowed_by_the_policy_config_flag() -> None:
    props = {"ingress": [ingress(4318.0, 4318.0, ["0.0.0.0/0"])]}
    assert violations(no_public_ingress, resource_args(SG, props, config={"allowPublicIngress": True})) == []
    assert len(violations(no_public_ingress, resource_args(SG, props, config={"allowPublicIngress": False}))) == 1


# -- no-ssh-ingress -------------------------------------------------------------------------------------------

def test_ssh_passes_for_otlp_ports_and_udp_22() -> None:
    props = {"ingress": [ingress(4317.0, 4318.0, ["10.0.0.0/16"]), ingress(22.0, 22.0, ["10.0.0.0/16"], "udp")]}
    assert violations(no_ssh_ingress, resource_args(SG, props)) == []


@pytest.mark.parametrize(("rule", "ports"), [
    (ingress(22.0, 22.0, ["10.0.0.0/8"]), "tcp 22"),
    (ingress(0.0, 1024.0, ["10.0.0.0/8"]), "tcp 0-1024"),
    (ingress(0.0, 0.0, ["10.0.0.0/8"], protocol="-1"), "all traffic"),
    (ingress(20.0, 30.0, ["10.0.0.0/8"], protocol="6"), "6 20-30"),
])
def test_ssh_flags_port_22_ranges_containing_it_and_all_traffic(rule: dict[str, Any], ports: str) -> None:
    assert violations(no_ssh_ingress, resource_args(SG, {"ingress": [rule]})) == [
        f"ingress[0] allows {ports}, which includes SSH (tcp 22), from 10.0.0.0/8"]


def test_ssh_flags_standalone_rules_from_any_source() -> None:
    rule = {"type": "ingress", "protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "sourceSecurityGroupId": "sg-1"}
    assert violations(no_ssh_ingress, resource_args(SG_RULE, rule)) == [
        "the rule allows tcp 22, which includes SSH (tcp 22), from the referenced security groups or prefix lists"]
    vpc_rule = {"ipProtocol": "-1", "cidrIpv4": "192.168.0.0/24"}
    assert violations(no_ssh_ingress, resource_args(INGRESS_RULE, vpc_rule)) == [
        "the rule allows all traffic, which includes SSH (tcp 22), from 192.168.0.0/24"]


# -- imdsv2-required ------------------------------------------------------------------------------------------

def test_imdsv2_passes_when_required_or_when_the_metadata_service_is_off() -> None:
    assert violations(imdsv2_required, resource_args(INSTANCE, {"metadataOptions": {"httpTokens": "required"}})) == []
    off = {"metadataOptions": {"httpEndpoint": "disabled", "httpTokens": "optional"}}
    assert violations(imdsv2_required, resource_args(INSTANCE, off)) == []


def test_imdsv2_flags_optional_and_missing_tokens() -> None:
    optional = {"metadataOptions": {"httpTokens": "optional"}}
    assert violations(imdsv2_required, resource_args(INSTANCE, optional)) == [
        "metadataOptions.httpTokens is 'optional'; IMDSv2 needs httpTokens: 'required'"]
    assert violations(imdsv2_required, resource_args(INSTANCE, {"instanceType": "t3.small"})) == [
        "metadataOptions.httpTokens is not set, so AWS also answers IMDSv1; IMDSv2 needs httpTokens: 'required'"]


def test_imdsv2_covers_launch_templates() -> None:
    required = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1.0}}
    assert violations(imdsv2_required, resource_args(LAUNCH_TEMPLATE, required)) == []
    assert violations(imdsv2_required, resource_args(LAUNCH_TEMPLATE, {"imageId": "ami-1"})) == [
        "metadataOptions.httpTokens is not set, so AWS also answers IMDSv1; IMDSv2 needs httpTokens: 'required'"]


# -- encrypted-volumes ----------------------------------------------------------------------------------------

def test_encryption_passes_for_encrypted_root_and_data_volumes() -> None:
    props = {"rootBlockDevice": {"encrypted": True, "volumeSize": 20.0},
             "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}]}
    assert violations(encrypted_volumes, resource_args(INSTANCE, props)) == []
    assert violations(encrypted_volumes, resource_args(VOLUME, {"encrypted": True, "size": 8.0})) == []


def test_encryption_flags_each_unencrypted_volume() -> None:
    props = {"ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True},
                                 {"deviceName": "/dev/sdg", "encrypted": False}]}
    assert violations(encrypted_volumes, resource_args(INSTANCE, props)) == [
        "rootBlockDevice.encrypted is not true, so the root volume may be unencrypted",
        "ebsBlockDevices[1] (/dev/sdg) is not encrypted",
    ]
    assert violations(encrypted_volumes, resource_args(VOLUME, {"size": 8.0})) == ["encrypted is not true"]


def test_encryption_passes_for_a_launch_template_mapping_its_root_device_encrypted() -> None:
    props = {"blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "true", "volumeSize": 20.0}}]}
    assert violations(encrypted_volumes, resource_args(LAUNCH_TEMPLATE, props)) == []
    # During preview a mapping built from a looked-up image may be unknown; it is not held against the template.
    pending = {"blockDeviceMappings": [UNKNOWN_OBJECT_VALUE]}
    assert violations(encrypted_volumes, resource_args(LAUNCH_TEMPLATE, pending)) == []


def test_encryption_flags_launch_templates_without_encrypted_mappings() -> None:
    props = {"blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "false"}},
                                     {"deviceName": "/dev/sdf", "ebs": {"volumeSize": 8.0}}]}
    assert violations(encrypted_volumes, resource_args(LAUNCH_TEMPLATE, props)) == [
        "blockDeviceMappings[0].ebs.encrypted is not 'true'", "blockDeviceMappings[1].ebs.encrypted is not 'true'"]
    expected = ["blockDeviceMappings is empty, so the root volume takes the image's encryption setting, which may "
                "be none"]
    assert violations(encrypted_volumes, resource_args(LAUNCH_TEMPLATE, {"imageId": "ami-1"})) == expected
    assert violations(encrypted_volumes, resource_args(LAUNCH_TEMPLATE, {"blockDeviceMappings": []})) == expected


# -- internal-load-balancer -----------------------------------------------------------------------------------

def test_internal_load_balancers_pass() -> None:
    props = {"loadBalancerType": "network", "internal": True, "subnets": ["subnet-1", "subnet-2"]}
    assert violations(internal_load_balancers, resource_args(NLB, props)) == []
    assert violations(internal_load_balancers, resource_args(NLB, {"internal": UNKNOWN_OBJECT_VALUE})) == []
    assert violations(internal_load_balancers, resource_args(SG, {"internal": False})) == []


def test_internet_facing_load_balancers_are_flagged_unless_the_config_allows_them() -> None:
    public = {"loadBalancerType": "network", "internal": False}
    message = "internal is False, so the load balancer is internet-facing: its listeners get public addresses"
    assert violations(internal_load_balancers, resource_args(NLB, public)) == [message]
    assert violations(internal_load_balancers, resource_args("aws:alb/loadBalancer:LoadBalancer", {})) == [
        "internal is not set, so the load balancer is internet-facing: its listeners get public addresses"]
    allowed = resource_args(NLB, public, config={"allowPublicLoadBalancer": True})
    assert violations(internal_load_balancers, allowed) == []


# -- no-dynatrace-token-in-user-data --------------------------------------------------------------------------

def cloud_init(secret_line: str) -> str:
    return f"#cloud-config\nwrite_files:\n  - path: /etc/otel/env\n    content: |\n      {secret_line}\n"


def test_user_data_passes_when_the_token_is_read_from_ssm() -> None:
    user_data = cloud_init("DT_API_TOKEN=$(aws ssm get-parameter --with-decryption --name /kong-slo/dev/dt)")
    props = {"userData": user_data, "userDataBase64": base64.b64encode(gzip.compress(user_data.encode())).decode()}
    assert violations(no_token_in_user_data, resource_args(INSTANCE, props)) == []


def test_user_data_flags_a_plain_token_without_echoing_it() -> None:
    found = violations(no_token_in_user_data, resource_args(INSTANCE, {"userData": cloud_init(f"T={TOKEN}")}))
    assert found == ["userData contains a Dynatrace token (dt0c01.…)"]
    assert TOKEN.split(".")[1] not in found[0]


def test_user_data_flags_tokens_behind_base64_gzip_and_mime() -> None:
    part = MIMEText(cloud_init(f"T={PLATFORM_TOKEN}"), "cloud-config")
    multipart = MIMEMultipart()
    multipart.attach(MIMEText("#!/bin/sh\necho ready\n", "x-shellscript"))
    multipart.attach(part)
    encoded = base64.b64encode(gzip.compress(multipart.as_bytes())).decode()
    assert violations(no_token_in_user_data, resource_args(INSTANCE, {"userDataBase64": encoded})) == [
        "userDataBase64 contains a Dynatrace token (dt0s16.…, after decoding)"]


def test_user_data_of_launch_templates_is_checked_after_decoding() -> None:
    clean = base64.b64encode(cloud_init("DT_API_TOKEN=$(fetch-from-ssm)").encode()).decode()
    assert violations(no_token_in_user_data, resource_args(LAUNCH_TEMPLATE, {"userData": clean})) == []
    leaked = base64.b64encode(cloud_init(f"T={TOKEN}").encode()).decode()
    assert violations(no_token_in_user_data, resource_args(LAUNCH_TEMPLATE, {"userData": leaked})) == [
        "userData contains a Dynatrace token (dt0c01.…, after decoding)"]


def test_token_detection_ignores_documentation_placeholders() -> None:
    assert token_kinds("pulumi config set --secret dt0c01.... # your token") == (set(), False)
    assert token_kinds(f"x{TOKEN}") == (set(), False)  # part of a longer word, not a token
    assert token_kinds(f"a={TOKEN} b={PLATFORM_TOKEN}") == ({"dt0c01", "dt0s16"}, False)
    oauth_secret = "dt0s02" + ".SAMPLEID." + "S" * 64
    assert token_kinds(f"secret={oauth_secret}") == ({"dt0s02"}, False)


# -- no-dynatrace-token-in-outputs ----------------------------------------------------------------------------

def stack_args(outputs: dict[str, Any]) -> StackValidationArgs:
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    stack = PolicyResource("pulumi:pulumi:Stack", unknown_checking_proxy(outputs),
                           "urn:pulumi:dev::kong-slo::pulumi:pulumi:Stack::kong-slo-dev", "kong-slo-dev",
                           options, None, None, [], {})
    sg = PolicyResource(SG, unknown_checking_proxy({"description": TOKEN}), "urn:sg", "sg", options, None, stack,
                        [], {})
    return StackValidationArgs([stack, sg])


def test_outputs_pass_when_they_carry_no_token_or_only_secret_marked_values() -> None:
    outputs = {"otlpHttpUrl": "http://10.0.1.5:4318", "apis": ["HealthService", "Orders"],
               "dynatrace": {"tokenParameter": "/kong-slo/dev/dynatrace-api-token", "token": Secret(TOKEN)},
               "endpoint": UNKNOWN_STRING_VALUE}
    assert violations(no_token_in_outputs, stack_args(outputs)) == []


def test_outputs_flag_a_plain_token_by_path_and_keep_checking_past_unknowns() -> None:
    outputs = {"pending": UNKNOWN_OBJECT_VALUE, "debug": {"env": ["A=1", f"DT_API_TOKEN={TOKEN}"]}}
    reported: list[tuple[str, str | None]] = []
    no_token_in_outputs.validate(stack_args(outputs), lambda message, urn=None: reported.append((message, urn)))
    assert reported == [("stack output 'debug.env[1]' contains a Dynatrace token (dt0c01.…)",
                         "urn:pulumi:dev::kong-slo::pulumi:pulumi:Stack::kong-slo-dev")]


# -- required-tags --------------------------------------------------------------------------------------------

def test_tags_pass_from_resource_tags_tags_all_or_provider_default_tags() -> None:
    assert violations(required_tags, resource_args(SG, {"tags": GOOD_TAGS})) == []
    assert violations(required_tags, resource_args(SG, {"tags": {"Name": "x"}, "tagsAll": GOOD_TAGS})) == []
    # Provider inputs may arrive JSON-encoded; tagsAll is unknown during preview when a tag value is computed.
    provider = {"region": "eu-west-1", "defaultTags": '{"tags": {"project": "kong-slo", "stack": "dev", '
                                                      '"managed-by": "pulumi"}}'}
    preview = {"tags": {"Name": "collector"}, "tagsAll": UNKNOWN_OBJECT_VALUE}
    assert violations(required_tags, resource_args(INSTANCE, preview, provider_props=provider)) == []


def test_the_programs_ownership_tags_are_the_ones_the_policy_requires() -> None:
    """The policy pack runs in its own virtualenv without kong_slo, so it keeps its own list of keys."""
    tags = ownership_tags(parse(aws_config()))
    assert set(tags) == set(REQUIRED_TAGS)
    assert violations(required_tags, resource_args(SG, {"tags": tags})) == []


def test_tags_flag_missing_or_empty_keys() -> None:
    props = {"tags": {"project": "kong-slo", "stack": ""}, "tagsAll": {"project": "kong-slo", "stack": ""}}
    assert violations(required_tags, resource_args(INSTANCE, props)) == [
        "missing tag(s) stack, managed-by (found: project, stack)"]
    assert violations(required_tags, resource_args(SG, {"tagsAll": {}})) == [
        "missing tag(s) project, stack, managed-by (found: none)"]


def test_tags_ignore_untaggable_and_non_aws_resources() -> None:
    rule = {"type": "ingress", **ingress(4318.0, 4318.0, ["10.0.0.0/16"])}
    assert violations(required_tags, resource_args(SG_RULE, rule)) == []
    assert violations(required_tags, resource_args("docker:index/container:Container", {"tags": {}})) == []


# -- the pack as a whole --------------------------------------------------------------------------------------

def test_every_policy_has_a_unique_name_a_description_and_remediation() -> None:
    names = [policy.name for policy in POLICIES]
    assert len(names) == len(set(names)) == 8
    for policy in POLICIES:
        assert policy.description.endswith(".")
        assert policy.remediation_steps


# -- the pack served the way the Pulumi engine runs it --------------------------------------------------------

@pytest.fixture(scope="module")
def analyzer() -> Iterator[Any]:
    """The pack in a child process, started the way pulumi-analyzer-policy-python starts it (``python -m
    pulumi.policy <engine> .`` in the pack's folder); the stub talks gRPC to it on 127.0.0.1."""
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."], cwd=ROOT / "policy",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    channel = None
    try:
        line = process.stdout.readline() if process.stdout else b""
        if not line.strip().isdigit():
            process.kill()
            raise AssertionError(f"the policy pack did not start: {process.communicate(timeout=10)[1].decode()}")
        channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        if channel is not None:
            channel.close()
        process.terminate()
        process.communicate(timeout=10)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def test_the_pack_lists_every_policy(analyzer: Any) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "kong-slo-security"
    assert [policy.name for policy in info.policies] == [policy.name for policy in POLICIES]


def test_the_pack_reports_violations_over_grpc_and_honours_policy_config(analyzer: Any) -> None:
    request = analyzer_pb2.AnalyzeRequest(
        type=SG, name="sg", urn="urn:pulumi:dev::kong-slo::aws:ec2/securityGroup:SecurityGroup::sg",
        properties=struct({"ingress": [ingress(22, 22, ["0.0.0.0/0"])], "tagsAll": GOOD_TAGS}))
    # On the wire a message is the policy's description, a newline, then what the validator reported.
    found = {(d.policyName, d.message.splitlines()[-1]) for d in analyzer.Analyze(request, timeout=30).diagnostics}
    assert found == {
        ("no-public-ingress", "ingress[0] allows tcp 22 from 0.0.0.0/0, that is from anywhere on the internet"),
        ("no-ssh-ingress", "ingress[0] allows tcp 22, which includes SSH (tcp 22), from 0.0.0.0/0"),
    }
    mandatory = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
    allow = analyzer_pb2.PolicyConfig(enforcementLevel=mandatory, properties=struct({"allowPublicIngress": True}))
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={"no-public-ingress": allow}), timeout=30)
    try:
        found = {d.policyName for d in analyzer.Analyze(request, timeout=30).diagnostics}
        assert found == {"no-ssh-ingress"}
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(), timeout=30)


def test_the_pack_checks_stack_outputs_over_grpc(analyzer: Any) -> None:
    stack = analyzer_pb2.AnalyzerResource(
        type="pulumi:pulumi:Stack", name="kong-slo-dev",
        urn="urn:pulumi:dev::kong-slo::pulumi:pulumi:Stack::kong-slo-dev",
        properties=struct({"otlpHttpUrl": "http://10.0.1.5:4318", "leak": {"value": TOKEN}}))
    diagnostics = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[stack]), timeout=30).diagnostics
    assert [(d.policyName, d.message.splitlines()[-1], d.urn) for d in diagnostics] == [
        ("no-dynatrace-token-in-outputs", "stack output 'leak.value' contains a Dynatrace token (dt0c01.…)", stack.urn)]


def test_the_runtime_unwraps_secret_outputs_so_a_secret_token_is_reported_too(analyzer: Any) -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": TOKEN}
    stack = analyzer_pb2.AnalyzerResource(type="pulumi:pulumi:Stack", name="s", urn="urn:s",
                                          properties=struct({"token": secret}))
    diagnostics = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[stack]), timeout=30).diagnostics
    assert [d.message.splitlines()[-1] for d in diagnostics] == [
        "stack output 'token' contains a Dynatrace token (dt0c01.…)"]
