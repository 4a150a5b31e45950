"""The collector tier as plain values: subnets, health checks, listeners, rolling and scaling rules.

Pure functions of the settings and of what AWS says about the subnets, so every rule the tier must obey is
tested without Pulumi. The instances share the single host's hardening (``aws_plan``).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kong_slo.collector.model import DRAIN_SECONDS, HEALTH_PORT, OTLP_GRPC_PORT, OTLP_HTTP_PORT
from kong_slo.errors import KongSloError
from kong_slo.infra import aws_plan
from kong_slo.infra.aws_plan import Rule, UserData
from kong_slo.settings import CollectorSettings

SUBNETS_KEY = "kong-slo:collector.subnetIds"
BOOT_SECONDS = 600
"""How long a new instance may take to install Docker, pull the image and pass its health checks."""
CAPACITY_TIMEOUT = "20m"
"""How long ``pulumi up`` waits for the group's first ``replicas`` instances to be in service."""
DEREGISTRATION_SECONDS = 60
"""How long a leaving instance keeps its open connections: Kong's batches in flight finish or are retried."""
DRAIN_HOOK_SECONDS = DRAIN_SECONDS + 65
"""How long a leaving instance waits in ``Terminating:Wait`` after its deregistration: past the connector's next
flush, with time for the exporter to hand the queue to Dynatrace (its first retries included)."""
MIN_HEALTHY_PERCENT = 100
MAX_HEALTHY_PERCENT = 200


@dataclass(frozen=True)
class Subnet:
    """What AWS reports about one of ``collector.subnetIds``."""

    id: str
    vpc_id: str
    availability_zone: str
    cidr_block: str


def check_subnets(subnets: Sequence[Subnet]) -> None:
    """Refuse subnets in several VPCs or in fewer than two availability zones (a zone outage would stop the tier)."""
    problems = []
    vpcs = sorted({subnet.vpc_id for subnet in subnets})
    if len(vpcs) > 1:
        listing = ", ".join(f"{subnet.id} in {subnet.vpc_id}" for subnet in subnets)
        problems.append(f"{SUBNETS_KEY}: the subnets lie in {len(vpcs)} VPCs ({listing}); a tier needs one VPC")
    zones = sorted({subnet.availability_zone for subnet in subnets})
    if len(zones) < 2:
        problems.append(f"{SUBNETS_KEY}: every subnet lies in {zones[0] if zones else 'no zone'}; list subnets in "
                        "two or more availability zones, so losing one zone leaves instances in another")
    if problems:
        raise KongSloError("\n".join(problems))


def health_check_rule(subnets: Sequence[Subnet]) -> Rule:
    """The health port, from the load balancer's subnets only.

    An NLB sends its health checks from its own private addresses, one per subnet it is placed in; those are the
    tier's subnets. Admitting their CIDR blocks (not the whole VPC, not the internet) keeps the unauthenticated
    health endpoint away from everyone else while it stays reachable by the checks.
    """
    blocks = tuple(dict.fromkeys(str(ipaddress.ip_network(subnet.cidr_block)) for subnet in subnets))
    return Rule(HEALTH_PORT, blocks, (), "Collector health checks from the load balancer's subnets")


def tier_ingress_rules(collector: CollectorSettings, subnets: Sequence[Subnet]) -> tuple[Rule, ...]:
    """OTLP from ``allowedCidrs`` (the load balancer keeps Kong's address) and health checks from its subnets."""
    return (*aws_plan.ingress_rules(collector), health_check_rule(subnets))


def listeners(collector: CollectorSettings) -> tuple[tuple[str, int], ...]:
    """Name and port of each TCP listener: OTLP/HTTP, and OTLP/gRPC when ``openGrpc``."""
    http = ("otlp-http", OTLP_HTTP_PORT)
    return (http, ("otlp-grpc", OTLP_GRPC_PORT)) if collector.open_grpc else (http,)


def target_group_health_check() -> dict[str, Any]:
    """The collector's ``health_check`` extension answers 200 on ``/`` once its pipelines run."""
    return {
        "enabled": True,
        "protocol": "HTTP",
        "port": str(HEALTH_PORT),
        "path": "/",
        "matcher": "200",
        "interval": 10,
        "timeout": 5,
        "healthy_threshold": 2,
        "unhealthy_threshold": 2,
    }


def instance_refresh() -> dict[str, Any]:
    """A new launch template version rolls the group one replacement at a time, launching before terminating,
    so the tier keeps its full capacity while a deploy replaces every instance."""
    return {
        "strategy": "Rolling",
        "preferences": {
            "min_healthy_percentage": MIN_HEALTHY_PERCENT,
            "max_healthy_percentage": MAX_HEALTHY_PERCENT,
            "instance_warmup": str(BOOT_SECONDS),
            "skip_matching": True,
        },
    }


def instance_maintenance_policy() -> dict[str, int]:
    """Health replacements and rebalancing also launch the new instance before terminating the old one."""
    return {"min_healthy_percentage": MIN_HEALTHY_PERCENT, "max_healthy_percentage": MAX_HEALTHY_PERCENT}


def scaling_policy(collector: CollectorSettings) -> dict[str, Any] | None:
    """Target tracking on the group's average CPU, or ``None`` when the group cannot grow."""
    if collector.max_replicas <= collector.replicas:
        return None
    return {
        "policy_type": "TargetTrackingScaling",
        "estimated_instance_warmup": BOOT_SECONDS,
        "target_tracking_configuration": {
            "predefined_metric_specification": {"predefined_metric_type": "ASGAverageCPUUtilization"},
            "target_value": collector.cpu_target,
        },
    }


def drain_hook() -> dict[str, Any]:
    """The group's terminating lifecycle hook. Auto Scaling deregisters a leaving instance from the load balancer
    (waiting out the deregistration delay) before the hook puts it in ``Terminating:Wait``; nobody completes the
    action, so the instance runs on, receiving nothing, for ``DRAIN_HOOK_SECONDS`` and then terminates. Instance
    refreshes and scale-ins both pass through it."""
    return {
        "name": "drain-collector",
        "lifecycle_transition": "autoscaling:EC2_INSTANCE_TERMINATING",
        "heartbeat_timeout": DRAIN_HOOK_SECONDS,
        "default_result": "CONTINUE",
    }


def load_balancer_rules(collector: CollectorSettings, subnets: Sequence[Subnet]) -> tuple[tuple[Rule, ...],
                                                                                         tuple[Rule, ...]]:
    """The load balancer's own security group: (ingress, egress). In: the listeners, from ``allowedCidrs`` only.
    Out: the listener ports and the health port, to the tier's subnets only."""
    ingress = tuple(Rule(port, *aws_plan.split_families(collector.allowed_cidrs), f"{label} from Kong")
                    for label, port in listeners(collector))
    blocks = tuple(dict.fromkeys(str(ipaddress.ip_network(subnet.cidr_block)) for subnet in subnets))
    egress = tuple(Rule(port, blocks, (), f"to the collectors: {label}")
                   for label, port in (*listeners(collector), ("health checks", HEALTH_PORT)))
    return ingress, egress


def launch_template_user_data(user_data: UserData) -> str:
    """Launch templates take user data base64-encoded: the plain cloud-config, or its gzip (already base64)."""
    if user_data.base64 is not None:
        return user_data.base64
    return base64.b64encode((user_data.text or "").encode("utf-8")).decode("ascii")


def root_volume(device_name: str) -> dict[str, Any]:
    """The root volume, encrypted, as the single host's; ``device_name`` must be the image's root device."""
    return {
        "device_name": device_name,
        "ebs": {
            "volume_type": aws_plan.ROOT_VOLUME_TYPE,
            "volume_size": aws_plan.ROOT_VOLUME_GB,
            "encrypted": "true",
            "delete_on_termination": "true",
        },
    }


def group_tags(tags: dict[str, str]) -> list[dict[str, Any]]:
    """The group's tags in its list form, each also put on the instances it launches."""
    return [{"key": key, "value": value, "propagate_at_launch": True} for key, value in tags.items()]


def load_balancer_otlp_url(dns_name: str) -> str:
    """OTLP/HTTP on the load balancer's DNS name: what Kong uses unless ``kong.collectorUrl`` says otherwise."""
    return f"http://{dns_name}:{OTLP_HTTP_PORT}"
