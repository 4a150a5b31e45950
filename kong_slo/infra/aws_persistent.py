"""What outlives the collector instance of a single-host stack: its address and its queue.

A settings change that rolls the collector replaces the instance (new user data). Two things must not go with it:

- the **network interface** Kong sends to: created on its own and attached to each instance as its primary
  interface, so the private address (and a public IP, if asked for) stays the same and no plugin is re-pointed;
- the **queue volume** holding what the collector has not yet delivered to Dynatrace: an encrypted EBS volume in the
  interface's zone, attached after the instance starts; the host formats it only when blank and mounts it before
  the collector starts (``templates/queue-volume.sh.j2``). On replacement the old instance is stopped, which drains
  the collector, before the volume is detached; the new host sends what the old one queued.

An interface is attached to one instance at a time, so the instance is replaced deleting first: a replacement
keeps the address at the cost of the minutes the new host needs to boot, during which Kong's plugin queue holds
and retries. A move to another subnet cannot keep the address (an interface lives in one subnet); a move to
another zone cannot keep the queue either (a volume lives in one zone).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from kong_slo.errors import KongSloError
from kong_slo.infra import aws_plan
from kong_slo.infra.tags import ownership_tags
from kong_slo.settings import StackSettings


@dataclass(frozen=True)
class HostPlacement:
    """The host's subnet (given, or the default VPC's first default subnet), its VPC and zone, and whether it gives
    instances a public address."""

    subnet_id: str
    vpc_id: str
    availability_zone: str
    public_ip_on_launch: bool


def first_default_subnet(subnet_ids: list[str]) -> str:
    """The default VPC's subnet the host goes to when ``collector.subnetId`` is not set: the same on every run."""
    if not subnet_ids:
        raise KongSloError("the default VPC has no default subnet; set kong-slo:collector.subnetId")
    return sorted(subnet_ids)[0]


def placement(settings: StackSettings) -> HostPlacement:
    """Where the host, its interface and its queue volume live; looked up before anything is declared (invokes
    run during preview too)."""
    subnet_id = settings.collector.subnet_id
    if not subnet_id:
        vpc_id = aws.ec2.get_vpc(default=True).id
        defaults = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc_id]},
                                                {"name": "default-for-az", "values": ["true"]}])
        subnet_id = first_default_subnet(list(defaults.ids))
    subnet = aws.ec2.get_subnet(id=subnet_id)
    return HostPlacement(subnet.id, subnet.vpc_id, subnet.availability_zone, bool(subnet.map_public_ip_on_launch))


def needs_public_address(settings: StackSettings, where: HostPlacement) -> bool:
    """``collector.publicIp``, or a subnet that gives instances a public address (the default VPC's do): there
    the host reaches Dynatrace, Ubuntu's mirrors and SSM through it. An interface created apart from the instance
    gets none at launch, so the host keeps one as an Elastic IP on the interface instead."""
    return settings.collector.public_ip or where.public_ip_on_launch


def declare_network_interface(name: str, settings: StackSettings, where: HostPlacement,
                              security_group: aws.ec2.SecurityGroup,
                              parent: pulumi.Resource) -> aws.ec2.NetworkInterface:
    """The host's primary interface, kept across instance replacements: its private IP is the collector's address."""
    return aws.ec2.NetworkInterface(
        f"{name}-eni",
        subnet_id=where.subnet_id,
        security_groups=[security_group.id],
        description="kong-slo collector: the address Kong sends OTLP to, kept across host replacements",
        tags=ownership_tags(settings, Name=aws_plan.host_name(settings)),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def declare_queue_volume(name: str, settings: StackSettings, where: HostPlacement,
                         parent: pulumi.Resource) -> aws.ebs.Volume:
    """The encrypted volume the collector's sending queue lives on, kept across instance replacements."""
    return aws.ebs.Volume(
        f"{name}-queue",
        availability_zone=where.availability_zone,
        size=aws_plan.QUEUE_VOLUME_GB,
        type=aws_plan.QUEUE_VOLUME_TYPE,
        encrypted=True,
        tags=ownership_tags(settings, Name=f"{aws_plan.host_name(settings)}-queue"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def attach_queue_volume(name: str, volume: aws.ebs.Volume, instance: aws.ec2.Instance,
                        parent: pulumi.Resource) -> aws.ec2.VolumeAttachment:
    """Attach the queue volume; before it is detached (a replacement, a destroy) the instance is stopped, so the
    collector drains and its files are closed: a volume pulled from a running host could lose the queue's tail."""
    return aws.ec2.VolumeAttachment(
        f"{name}-queue-attachment",
        device_name=aws_plan.QUEUE_VOLUME_DEVICE,
        volume_id=volume.id,
        instance_id=instance.id,
        stop_instance_before_detaching=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
