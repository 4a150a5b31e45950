"""The collector tier's plain values: subnet checks, health checks, listeners, rolling and scaling rules."""

from __future__ import annotations

import base64
import dataclasses
import gzip

import pytest

from kong_slo.errors import KongSloError
from kong_slo.infra import aws_plan, aws_tier_plan
from kong_slo.infra.aws_tier_plan import Subnet
from tests.unit.settings_helpers import aws_config, parse

A = Subnet("subnet-0a", "vpc-1", "eu-west-1a", "10.0.1.0/24")
B = Subnet("subnet-0b", "vpc-1", "eu-west-1b", "10.0.2.0/24")


def _collector(**changes: object):
    return dataclasses.replace(parse(aws_config()).collector, **changes)


def test_subnets_in_two_zones_of_one_vpc_pass() -> None:
    aws_tier_plan.check_subnets([A, B])
    aws_tier_plan.check_subnets([A, B, dataclasses.replace(B, id="subnet-0c", cidr_block="10.0.3.0/24")])


def test_subnets_in_one_zone_are_refused_naming_the_key_and_zone() -> None:
    with pytest.raises(KongSloError) as raised:
        aws_tier_plan.check_subnets([A, dataclasses.replace(A, id="subnet-0c", cidr_block="10.0.3.0/24")])
    assert str(raised.value).startswith("kong-slo:collector.subnetIds: every subnet lies in eu-west-1a")


def test_subnets_in_two_vpcs_are_refused_with_each_subnets_vpc() -> None:
    with pytest.raises(KongSloError) as raised:
        aws_tier_plan.check_subnets([A, dataclasses.replace(B, vpc_id="vpc-2")])
    assert str(raised.value) == ("kong-slo:collector.subnetIds: the subnets lie in 2 VPCs (subnet-0a in vpc-1, "
                                 "subnet-0b in vpc-2); a tier needs one VPC")


def test_health_checks_are_admitted_from_the_load_balancer_subnets_only() -> None:
    rule = aws_tier_plan.health_check_rule([A, B, dataclasses.replace(B, id="subnet-0d")])
    assert (rule.port, rule.protocol) == (13133, "tcp")
    assert rule.cidr_blocks == ("10.0.1.0/24", "10.0.2.0/24")
    assert rule.ipv6_cidr_blocks == ()


def test_tier_ingress_is_otlp_from_kong_and_health_from_the_subnets() -> None:
    rules = aws_tier_plan.tier_ingress_rules(_collector(allowed_cidrs=("192.168.0.0/16",), open_grpc=True), [A, B])
    assert [(rule.port, rule.cidr_blocks) for rule in rules] == [
        (4318, ("192.168.0.0/16",)), (4317, ("192.168.0.0/16",)), (13133, ("10.0.1.0/24", "10.0.2.0/24"))]
    assert all(rule.port != 22 for rule in rules)


def test_listeners_follow_open_grpc() -> None:
    assert aws_tier_plan.listeners(_collector()) == (("otlp-http", 4318),)
    assert aws_tier_plan.listeners(_collector(open_grpc=True)) == (("otlp-http", 4318), ("otlp-grpc", 4317))


def test_health_check_probes_the_collector_health_endpoint_over_http() -> None:
    check = aws_tier_plan.target_group_health_check()
    assert (check["protocol"], check["port"], check["path"], check["matcher"]) == ("HTTP", "13133", "/", "200")
    assert check["timeout"] < check["interval"]


def test_refresh_and_replacements_launch_before_terminating() -> None:
    refresh = aws_tier_plan.instance_refresh()
    assert refresh["strategy"] == "Rolling"
    preferences = refresh["preferences"]
    assert preferences["min_healthy_percentage"] == 100
    # AWS: max healthy 100-200, at most 100 above min healthy.
    assert 100 < preferences["max_healthy_percentage"] <= preferences["min_healthy_percentage"] + 100
    assert aws_tier_plan.instance_maintenance_policy() == {"min_healthy_percentage": 100,
                                                           "max_healthy_percentage": 200}


def test_scaling_tracks_cpu_only_when_the_group_can_grow() -> None:
    assert aws_tier_plan.scaling_policy(_collector(replicas=2, max_replicas=2)) is None
    policy = aws_tier_plan.scaling_policy(_collector(replicas=2, max_replicas=5, cpu_target=45.0))
    assert policy is not None
    assert policy["policy_type"] == "TargetTrackingScaling"
    tracking = policy["target_tracking_configuration"]
    assert tracking["predefined_metric_specification"] == {"predefined_metric_type": "ASGAverageCPUUtilization"}
    assert tracking["target_value"] == 45.0


def test_launch_template_user_data_is_base64_of_what_ec2_would_get() -> None:
    plain = aws_plan.encode_user_data("#cloud-config\npackages: [docker.io]\n")
    assert base64.b64decode(aws_tier_plan.launch_template_user_data(plain)).decode() == plain.text
    packed = aws_plan.encode_user_data("#cloud-config\n" + "# padding\n" * 3000)
    assert packed.base64 is not None
    decoded = gzip.decompress(base64.b64decode(aws_tier_plan.launch_template_user_data(packed))).decode()
    assert decoded.startswith("#cloud-config")


def test_root_volume_is_encrypted_on_the_images_root_device() -> None:
    mapping = aws_tier_plan.root_volume("/dev/xvda")
    assert mapping["device_name"] == "/dev/xvda"
    assert mapping["ebs"]["encrypted"] == "true"
    assert mapping["ebs"]["volume_type"] == "gp3"


def test_group_tags_propagate_to_instances() -> None:
    assert aws_tier_plan.group_tags({"stack": "dev"}) == [{"key": "stack", "value": "dev",
                                                           "propagate_at_launch": True}]
    assert aws_tier_plan.load_balancer_otlp_url("internal-x.elb.amazonaws.com") == (
        "http://internal-x.elb.amazonaws.com:4318")
