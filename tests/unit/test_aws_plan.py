"""The collector host's plain values: rules, AMI names, user-data encoding, IAM documents, tags."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kong_slo.errors import KongSloError
from kong_slo.infra import aws_plan
from kong_slo.infra.aws_persistent import first_default_subnet
from kong_slo.infra.aws_policies import ec2_assume_role_policy, host_policy
from kong_slo.infra.tags import ownership_tags
from tests.unit.settings_helpers import aws_config, parse


def _collector(**changes: object):
    return dataclasses.replace(parse(aws_config()).collector, **changes)


def test_ingress_is_otlp_http_from_the_allowed_blocks_only() -> None:
    rules = aws_plan.ingress_rules(_collector(allowed_cidrs=("10.0.0.0/16", "2001:db8::/32", "192.168.1.0/24")))
    assert [(rule.port, rule.protocol, rule.cidr_blocks, rule.ipv6_cidr_blocks) for rule in rules] == [
        (4318, "tcp", ("10.0.0.0/16", "192.168.1.0/24"), ("2001:db8::/32",))]


def test_grpc_port_only_when_asked() -> None:
    rules = aws_plan.ingress_rules(_collector(open_grpc=True, allowed_cidrs=("10.1.0.0/16",)))
    assert [rule.port for rule in rules] == [4318, 4317]
    assert all(rule.cidr_blocks == ("10.1.0.0/16",) and rule.ipv6_cidr_blocks == () for rule in rules)


def test_no_allowed_blocks_is_refused() -> None:
    with pytest.raises(KongSloError, match="allowedCidrs"):
        aws_plan.ingress_rules(_collector(allowed_cidrs=()))


def test_egress_is_web_only() -> None:
    settings_ = parse(aws_config())
    assert sorted(rule.port for rule in aws_plan.egress_rules(settings_)) == [80, 443]
    assert all(rule.protocol == "tcp" for rule in aws_plan.egress_rules(settings_))


def test_egress_reaches_an_activegate_on_its_own_port() -> None:
    config = aws_config()
    config["dynatrace"]["environmentUrl"] = "https://activegate.internal:9999/e/abc12345"
    rules = aws_plan.egress_rules(parse(config))
    assert sorted(rule.port for rule in rules) == [80, 443, 9999]


@pytest.mark.parametrize(("instance_type", "architecture"), [
    ("t3.small", "amd64"), ("m6i.large", "amd64"), ("g5.xlarge", "amd64"), ("g4ad.xlarge", "amd64"),
    ("c7i-flex.large", "amd64"), ("t4g.small", "arm64"), ("m7gd.large", "arm64"), ("c6gn.medium", "arm64"),
    ("g5g.xlarge", "arm64"), ("a1.large", "arm64"), ("T4G.MICRO", "arm64"),
])
def test_architecture_follows_the_instance_family(instance_type: str, architecture: str) -> None:
    assert aws_plan.architecture_of(instance_type) == architecture
    assert f"ubuntu-noble-24.04-{architecture}-server-*" in aws_plan.ubuntu_ami_name(instance_type)


def test_small_user_data_stays_plain_text() -> None:
    text = "#cloud-config\n" + "a: b\n" * 100
    encoded = aws_plan.encode_user_data(text)
    assert (encoded.text, encoded.base64, encoded.size) == (text, None, len(text))


@given(st.integers(min_value=aws_plan.USER_DATA_LIMIT + 1, max_value=200_000))
def test_large_user_data_is_gzipped_stably(size: int) -> None:
    text = ("#cloud-config\n" + "  - name: service-x\n" * (size // 20 + 1))[:size]
    first, second = aws_plan.encode_user_data(text), aws_plan.encode_user_data(text)
    assert first == second, "the same config must give byte-identical user data"
    assert first.text is None and first.base64 is not None
    packed = base64.b64decode(first.base64)
    assert len(packed) == first.size <= aws_plan.USER_DATA_LIMIT
    assert gzip.decompress(packed).decode() == text


def test_incompressible_user_data_is_refused_with_the_sizes() -> None:
    text = base64.b64encode(os.urandom(30_000)).decode()
    with pytest.raises(KongSloError, match=r"16384 bytes of user data"):
        aws_plan.encode_user_data(text)


def test_names_and_urls() -> None:
    settings = parse(aws_config())
    assert aws_plan.token_parameter_name(settings) == "/kong-slo/test/dynatrace-api-token"
    assert aws_plan.host_name(settings) == "kong-slo-test-collector"
    assert aws_plan.private_otlp_url("10.0.1.7") == "http://10.0.1.7:4318"


def test_ownership_tags() -> None:
    settings = parse(aws_config())
    assert ownership_tags(settings) == {"project": "kong-slo", "stack": "test", "managed-by": "pulumi"}
    assert ownership_tags(settings, Name="x")["Name"] == "x"


def test_iam_documents() -> None:
    arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/kong-slo/test/dynatrace-api-token"
    statements = host_policy(arn)["Statement"]
    assert all(statement["Effect"] == "Allow" for statement in statements)
    readers = [statement for statement in statements if "ssm:GetParameter" in statement["Action"]]
    assert [(statement["Action"], statement["Resource"]) for statement in readers] == [("ssm:GetParameter", arn)]
    (session_manager,) = [statement for statement in statements if statement["Resource"] == "*"]
    assert set(session_manager["Action"]) == {
        "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}
    (trust,) = ec2_assume_role_policy()["Statement"]
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"


def test_the_host_may_read_no_parameter_but_its_token() -> None:
    """A wildcard read (as in AmazonSSMManagedInstanceCore) would expose every SecureString of the account."""
    arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/kong-slo/test/dynatrace-api-token"
    for statement in host_policy(arn)["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        reads = [action for action in actions if action.startswith(("ssm:GetParameter", "kms:", "ssm:*"))]
        assert not reads or statement["Resource"] == arn, statement


def test_the_default_subnet_is_the_same_on_every_run_and_its_absence_is_named() -> None:
    assert first_default_subnet(["subnet-0c", "subnet-0a", "subnet-0b"]) == "subnet-0a"
    with pytest.raises(KongSloError) as refused:
        first_default_subnet([])
    assert str(refused.value) == "the default VPC has no default subnet; set kong-slo:collector.subnetId"
