"""``CollectorHost``: the OpenTelemetry collector on an EC2 host, reachable on OTLP from Kong only.

The host has no SSH: operators use SSM Session Manager. The Dynatrace token lives in an SSM
SecureString that cloud-init reads at boot through the host's role, so it never appears in user
data. Every config change yields new user data, which replaces the host; so does a new token.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from kong_slo.errors import KongSloError
from kong_slo.infra import aws_plan
from kong_slo.infra.aws_plan import Rule
from kong_slo.infra.aws_policies import ec2_assume_role_policy, host_policy
from kong_slo.kong.payload import otlp_urls
from kong_slo.render import render_cloud_init
from kong_slo.settings import StackSettings
from kong_slo.tags import ownership_tags

COMPONENT_TYPE = "kongslo:aws:CollectorHost"
ROOT_VOLUME_GB = 20


def _rule_args(rule: Rule) -> dict[str, object]:
    return {
        "protocol": rule.protocol,
        "from_port": rule.port,
        "to_port": rule.port,
        "cidr_blocks": list(rule.cidr_blocks),
        "ipv6_cidr_blocks": list(rule.ipv6_cidr_blocks),
        "description": rule.description,
    }


def _dynatrace_token(settings: StackSettings) -> str:
    if settings.dynatrace is None or not settings.dynatrace.api_token.known:
        raise KongSloError("kong-slo:dynatrace.apiToken is needed on the collector host: "
                           "`pulumi config set --secret --path 'kong-slo:dynatrace.apiToken' dt0c01....`")
    return settings.dynatrace.api_token.reveal()


class CollectorHost(pulumi.ComponentResource):
    """The collector host of an ``aws`` stack.

    Outputs: ``instance_id``, ``private_ip``, ``public_ip`` (``None`` unless ``collector.publicIp``),
    ``security_group_id``, ``token_parameter`` (the SSM parameter's name), and the URLs Kong must use:
    ``otlp_http_url`` (``http://<private ip>:4318`` unless ``kong.collectorUrl``), ``traces_url``,
    ``logs_url``.
    """

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        # Everything that can be refused is checked before anything, the component included, is declared.
        collector = settings.collector
        token = _dynatrace_token(settings)
        ingress = aws_plan.ingress_rules(collector)
        parameter_name = aws_plan.token_parameter_name(settings)
        cloud_init = render_cloud_init(settings, token_parameter=parameter_name, region=settings.aws_region or "")
        user_data = aws_plan.encode_user_data(cloud_init)
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = ownership_tags(settings)
        named_tags = ownership_tags(settings, Name=aws_plan.host_name(settings))

        parameter = aws.ssm.Parameter(
            f"{name}-dynatrace-token",
            name=parameter_name,
            type="SecureString",
            value=pulumi.Output.secret(token),
            description="Dynatrace API token read by the collector host at boot",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
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

        if collector.subnet_id:
            vpc_id = aws.ec2.get_subnet_output(
                id=collector.subnet_id, opts=pulumi.InvokeOutputOptions(parent=self)).vpc_id
        else:
            vpc_id = aws.ec2.get_vpc_output(default=True, opts=pulumi.InvokeOutputOptions(parent=self)).id
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=vpc_id,
            description="OTLP from Kong to the kong-slo collector",
            ingress=[_rule_args(rule) for rule in ingress],
            egress=[_rule_args(rule) for rule in aws_plan.egress_rules()],
            tags=named_tags,
            opts=child,
        )

        instance = aws.ec2.Instance(
            f"{name}-host",
            ami=self._ami(collector.ami_id, collector.instance_type),
            instance_type=collector.instance_type,
            subnet_id=collector.subnet_id,
            vpc_security_group_ids=[security_group.id],
            iam_instance_profile=profile.name,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                # 1 hop: the host reads its token; the containers on the Docker bridge get no role credentials.
                "http_put_response_hop_limit": 1,
            },
            root_block_device={
                "volume_type": "gp3",
                "volume_size": ROOT_VOLUME_GB,
                "encrypted": True,
                "delete_on_termination": True,
                "tags": tags,
            },
            user_data=user_data.text,
            user_data_base64=user_data.base64,
            user_data_replace_on_change=True,
            tags=named_tags,
            # A looked-up AMI moves whenever Canonical publishes; only a config change should roll the host.
            # The host reads the token at first boot: parameter and permissions must exist by then.
            # A new token (a new parameter version) replaces the host, as a config change does; the running
            # collector would otherwise keep the old one until someone restarts it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[parameter, permissions],
                                        replacement_trigger=parameter.version,
                                        ignore_changes=[] if collector.ami_id else ["ami"]),
        )

        self.public_ip: pulumi.Output[str] | None = None
        if collector.public_ip:
            address = aws.ec2.Eip(f"{name}-eip", domain="vpc", instance=instance.id, tags=named_tags, opts=child)
            self.public_ip = address.public_ip

        self.instance_id: pulumi.Output[str] = instance.id
        self.private_ip: pulumi.Output[str] = instance.private_ip
        self.security_group_id: pulumi.Output[str] = security_group.id
        self.token_parameter: pulumi.Output[str] = parameter.name
        override = settings.kong.collector_url
        self.otlp_http_url: pulumi.Output[str] = (
            pulumi.Output.from_input(override.rstrip("/")) if override
            else instance.private_ip.apply(aws_plan.private_otlp_url))
        urls = self.otlp_http_url.apply(otlp_urls)
        self.traces_url: pulumi.Output[str] = urls.apply(lambda found: found.traces)
        self.logs_url: pulumi.Output[str] = urls.apply(lambda found: found.logs)
        self.register_outputs({
            "instance_id": self.instance_id,
            "private_ip": self.private_ip,
            "public_ip": self.public_ip,
            "security_group_id": self.security_group_id,
            "token_parameter": self.token_parameter,
            "otlp_http_url": self.otlp_http_url,
            "traces_url": self.traces_url,
            "logs_url": self.logs_url,
        })

    def _ami(self, ami_id: str | None, instance_type: str) -> pulumi.Input[str]:
        if ami_id:
            return ami_id
        return aws.ec2.get_ami_output(
            owners=[aws_plan.CANONICAL_OWNER],
            most_recent=True,
            filters=[
                {"name": "name", "values": [aws_plan.ubuntu_ami_name(instance_type)]},
                {"name": "virtualization-type", "values": ["hvm"]},
                {"name": "root-device-type", "values": ["ebs"]},
            ],
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).id
