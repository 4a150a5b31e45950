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
    """The subnet (given, or the default VPC's first default subnet) and its VPC and zone."""

    subnet_id: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    availability_zone: pulumi.Output[str]


def first_default_subnet(subnet_ids: list[str]) -> str:
    """The default VPC's subnet the host goes to when ``collector.subnetId`` is not set: the same on every run."""
    if not subnet_ids:
        raise KongSloError("the default VPC has no default subnet; set kong-slo:collector.subnetId")
    return sorted(subnet_ids)[0]


def placement(settings: StackSettings, parent: pulumi.Resource) -> HostPlacement:
    """Where the host, its interface and its queue volume live."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    if settings.collector.subnet_id:
        subnet = aws.ec2.get_subnet_output(id=settings.collector.subnet_id, opts=invoke)
    else:
        vpc_id = aws.ec2.get_vpc_output(default=True, opts=invoke).id
        defaults = aws.ec2.get_subnets_output(filters=[{"name": "vpc-id", "values": [vpc_id]},
                                                       {"name": "default-for-az", "values": ["true"]}], opts=invoke)
        subnet = aws.ec2.get_subnet_output(id=defaults.ids.apply(first_default_subnet), opts=invoke)
    return HostPlacement(subnet.id, subnet.vpc_id, subnet.availability_zone)


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
