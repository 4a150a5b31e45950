"""What every collector instance on AWS needs, single host or tier: the Dynatrace token in SSM, a role that may
read it and open Session Manager, the Ubuntu image, and security-group rules in the provider's shape.

Functions here declare resources as children of the calling component (``parent``); they read no config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from kong_slo.collector.render import render_cloud_init
from kong_slo.errors import KongSloError
from kong_slo.infra import aws_plan
from kong_slo.infra.aws_plan import Rule, UserData
from kong_slo.infra.aws_policies import ec2_assume_role_policy, host_policy
from kong_slo.infra.tags import ownership_tags
from kong_slo.kong.payload import otlp_urls
from kong_slo.settings import StackSettings


@dataclass(frozen=True)
class InstanceIdentity:
    """The token parameter and the instance profile allowed to read it."""

    parameter: aws.ssm.Parameter
    permissions: aws.iam.RolePolicy
    profile: aws.iam.InstanceProfile

    @property
    def boot_dependencies(self) -> list[pulumi.Resource]:
        """An instance reads the token at first boot: the parameter and the permission must exist by then."""
        return [self.parameter, self.permissions]


@dataclass(frozen=True)
class KongUrls:
    """Where Kong sends OTLP: the base URL and the traces and logs endpoints under it."""

    otlp_http_url: pulumi.Output[str]
    traces_url: pulumi.Output[str]
    logs_url: pulumi.Output[str]


def kong_urls(settings: StackSettings, discovered: pulumi.Output[str]) -> KongUrls:
    """``kong.collectorUrl`` when the stack sets it, else ``discovered`` (the host's or load balancer's URL)."""
    override = settings.kong.collector_url
    base = pulumi.Output.from_input(override.rstrip("/")) if override else discovered
    urls = base.apply(otlp_urls)
    return KongUrls(base, urls.apply(lambda found: found.traces), urls.apply(lambda found: found.logs))


def dynatrace_token(settings: StackSettings) -> str:
    """The token's value, or a ``KongSloError`` telling how to set it."""
    if settings.dynatrace is None or not settings.dynatrace.api_token.known:
        raise KongSloError("kong-slo:dynatrace.apiToken is needed on the collector host: "
                           "`pulumi config set --secret --path 'kong-slo:dynatrace.apiToken' dt0c01....`")
    return settings.dynatrace.api_token.reveal()


def rule_args(rule: Rule) -> dict[str, object]:
    """A plan ``Rule`` as an inline security-group rule."""
    return {
        "protocol": rule.protocol,
        "from_port": rule.port,
        "to_port": rule.port,
        "cidr_blocks": list(rule.cidr_blocks),
        "ipv6_cidr_blocks": list(rule.ipv6_cidr_blocks),
        "description": rule.description,
    }


def boot_user_data(settings: StackSettings) -> UserData:
    """The cloud-init every collector instance boots with; raises when it cannot be built or is too big."""
    cloud_init = render_cloud_init(settings, token_parameter=aws_plan.token_parameter_name(settings),
                                   region=settings.aws_region or "")
    return aws_plan.encode_user_data(cloud_init)


def declare_security_group(name: str, settings: StackSettings, *, vpc_id: pulumi.Input[str],
                           ingress: tuple[Rule, ...], description: str,
                           parent: pulumi.Resource) -> aws.ec2.SecurityGroup:
    """The collector's security group: ``ingress`` only, egress to the web only (``aws_plan.egress_rules``)."""
    return aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=vpc_id,
        description=description,
        ingress=[rule_args(rule) for rule in ingress],
        egress=[rule_args(rule) for rule in aws_plan.egress_rules(settings)],
        tags=ownership_tags(settings, Name=aws_plan.host_name(settings)),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def declare_identity(name: str, settings: StackSettings, token: str, parent: pulumi.Resource) -> InstanceIdentity:
    """The SSM SecureString holding ``token``, and a role and instance profile that may read it and nothing else."""
    child = pulumi.ResourceOptions(parent=parent)
    tags = ownership_tags(settings)
    parameter = aws.ssm.Parameter(
        f"{name}-dynatrace-token",
        name=aws_plan.token_parameter_name(settings),
        type="SecureString",
        value=pulumi.Output.secret(token),
        description="Dynatrace API token read by the collector host at boot",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
    )
    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=json.dumps(ec2_assume_role_policy()),
        description="Collector host: SSM Session Manager and the Dynatrace token parameter",
        tags=tags,
        opts=child,
    )
    permissions = aws.iam.RolePolicy(
        f"{name}-host-policy",
        role=role.id,
        policy=parameter.arn.apply(lambda arn: json.dumps(host_policy(arn))),
        opts=child,
    )
    profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)
    return InstanceIdentity(parameter, permissions, profile)


def ubuntu_ami(instance_type: str, parent: pulumi.Resource) -> pulumi.Output[aws.ec2.GetAmiResult]:
    """Canonical's current Ubuntu LTS image for ``instance_type``'s architecture."""
    return aws.ec2.get_ami_output(
        owners=[aws_plan.CANONICAL_OWNER],
        most_recent=True,
        filters=[
            {"name": "name", "values": [aws_plan.ubuntu_ami_name(instance_type)]},
            {"name": "virtualization-type", "values": ["hvm"]},
            {"name": "root-device-type", "values": ["ebs"]},
        ],
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
