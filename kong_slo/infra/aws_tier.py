"""``CollectorTier``: the collector on an Auto Scaling group behind an internal Network Load Balancer.

Each instance is the single host over again (``aws_instance``): IMDSv2, an encrypted root volume, Session Manager
and no SSH, the Dynatrace token read from SSM at boot. The group spans ``collector.subnetIds`` (two or more
availability zones) and keeps ``replicas`` instances, scaling up to ``maxReplicas`` on CPU. The load balancer keeps
Kong's address, so the security group still admits OTLP from ``allowedCidrs`` only. A new launch template version
(a config change, a new token, a new ``amiId``) rolls the group by instance refresh, launching before terminating.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from kong_slo.infra import aws_plan, aws_tier_plan
from kong_slo.infra.aws import COMPONENT_TYPE as HOST_COMPONENT_TYPE
from kong_slo.infra.aws import TIER_COMPONENT_TYPE
from kong_slo.infra.aws_instance import (
    boot_user_data,
    declare_identity,
    declare_security_group,
    dynatrace_token,
    kong_urls,
    rule_args,
    ubuntu_ami,
)
from kong_slo.infra.aws_tier_plan import Subnet
from kong_slo.infra.tags import ownership_tags
from kong_slo.settings import StackSettings

TOKEN_VERSION_TAG = "kong-slo-token-version"
"""Carried by every instance: a new token is a new launch template version, which rolls the group."""


def _subnets(subnet_ids: tuple[str, ...]) -> list[Subnet]:
    """What AWS says about the tier's subnets (looked up before anything is declared, so a bad set declares
    nothing; invokes run during preview too)."""
    found = [aws.ec2.get_subnet(id=subnet_id) for subnet_id in subnet_ids]
    return [Subnet(subnet.id, subnet.vpc_id, subnet.availability_zone, subnet.cidr_block) for subnet in found]


class CollectorTier(pulumi.ComponentResource):
    """The collector tier of an ``aws`` stack whose ``collector.maxReplicas`` is above 1.

    Outputs: ``load_balancer_dns``, ``group_name``, ``launch_template_id``, ``security_group_id``,
    ``token_parameter``, and the URLs Kong must use: ``otlp_http_url`` (``http://<load balancer DNS>:4318``
    unless ``kong.collectorUrl``), ``traces_url``, ``logs_url``.
    """

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        # Everything that can be refused is checked before anything, the component included, is declared.
        collector = settings.collector
        token = dynatrace_token(settings)
        subnets = _subnets(collector.subnet_ids)
        aws_tier_plan.check_subnets(subnets)
        ingress = aws_tier_plan.tier_ingress_rules(collector, subnets)
        user_data = boot_user_data(settings)
        # The alias lets a stack switch from one host to a tier keeping the token parameter (a fixed name).
        super().__init__(TIER_COMPONENT_TYPE, name, None, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=HOST_COMPONENT_TYPE)])))
        child = pulumi.ResourceOptions(parent=self)
        tags = ownership_tags(settings)
        named_tags = ownership_tags(settings, Name=aws_plan.host_name(settings))
        identity = declare_identity(name, settings, token, self)
        vpc_id = subnets[0].vpc_id

        security_group = declare_security_group(
            name, settings, vpc_id=vpc_id, ingress=ingress, parent=self,
            description="OTLP from Kong, health checks from the load balancer, to the kong-slo collectors")

        if collector.ami_id:
            image = aws.ec2.get_ami_output(filters=[{"name": "image-id", "values": [collector.ami_id]}],
                                           opts=pulumi.InvokeOutputOptions(parent=self))
        else:
            image = ubuntu_ami(collector.instance_type, self)
        instance_tags = {**named_tags, TOKEN_VERSION_TAG: identity.parameter.version.apply(str)}
        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            description="kong-slo collector instance",
            image_id=image.id,
            instance_type=collector.instance_type,
            iam_instance_profile={"arn": identity.profile.arn},
            vpc_security_group_ids=[security_group.id],
            metadata_options=dict(aws_plan.METADATA_OPTIONS),
            block_device_mappings=[image.root_device_name.apply(aws_tier_plan.root_volume)],
            user_data=aws_tier_plan.launch_template_user_data(user_data),
            update_default_version=True,
            tag_specifications=[{"resource_type": "instance", "tags": instance_tags},
                                {"resource_type": "volume", "tags": tags}],
            tags=named_tags,
            # As for the single host: a looked-up image moves whenever Canonical publishes, and only a config
            # change should roll the group; set collector.amiId to move to a new image deliberately.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[] if collector.ami_id else ["imageId"]),
        )

        # A load balancer gets its security group at creation or never (AWS cannot add one later without
        # replacing it, which would change the address every plugin sends to).
        lb_ingress, lb_egress = aws_tier_plan.load_balancer_rules(collector, subnets)
        balancer_group = aws.ec2.SecurityGroup(
            f"{name}-nlb-sg",
            vpc_id=vpc_id,
            description="OTLP from Kong to the kong-slo collectors' load balancer",
            ingress=[rule_args(rule) for rule in lb_ingress],
            egress=[rule_args(rule) for rule in lb_egress],
            tags=named_tags,
            opts=child,
        )
        balancer = aws.lb.LoadBalancer(
            f"{name}-nlb",
            load_balancer_type="network",
            internal=True,
            security_groups=[balancer_group.id],
            subnets=list(collector.subnet_ids),
            ip_address_type="ipv4",
            # Spread Kong's connections over every healthy instance, whichever zone's address Kong resolved.
            enable_cross_zone_load_balancing=True,
            tags=named_tags,
            opts=child,
        )
        target_groups = []
        for label, port in aws_tier_plan.listeners(collector):
            target_group = aws.lb.TargetGroup(
                f"{name}-{label}",
                port=port,
                protocol="TCP",
                target_type="instance",
                vpc_id=vpc_id,
                preserve_client_ip="true",
                health_check=aws_tier_plan.target_group_health_check(),
                deregistration_delay=aws_tier_plan.DEREGISTRATION_SECONDS,
                connection_termination=True,
                tags=named_tags,
                opts=child,
            )
            aws.lb.Listener(
                f"{name}-{label}",
                load_balancer_arn=balancer.arn,
                port=port,
                protocol="TCP",
                default_actions=[{"type": "forward", "target_group_arn": target_group.arn}],
                tags=named_tags,
                opts=child,
            )
            target_groups.append(target_group)

        group = aws.autoscaling.Group(
            f"{name}-group",
            min_size=collector.replicas,
            max_size=collector.max_replicas,
            vpc_zone_identifiers=list(collector.subnet_ids),
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            target_group_arns=[target_group.arn for target_group in target_groups],
            health_check_type="ELB",
            health_check_grace_period=aws_tier_plan.BOOT_SECONDS,
            default_instance_warmup=aws_tier_plan.BOOT_SECONDS,
            instance_refresh=aws_tier_plan.instance_refresh(),
            instance_maintenance_policy=aws_tier_plan.instance_maintenance_policy(),
            # Leaving instances drain: deregistered first, then kept running past a flush before they stop.
            initial_lifecycle_hooks=[aws_tier_plan.drain_hook()],
            wait_for_capacity_timeout=aws_tier_plan.CAPACITY_TIMEOUT,
            tags=aws_tier_plan.group_tags(named_tags),
            # Instances read the token at first boot: the parameter and the permission must exist by then.
            opts=pulumi.ResourceOptions(parent=self, depends_on=identity.boot_dependencies),
        )
        scaling = aws_tier_plan.scaling_policy(collector)
        if scaling is not None:
            aws.autoscaling.Policy(f"{name}-cpu", autoscaling_group_name=group.name, **scaling, opts=child)

        self.load_balancer_dns: pulumi.Output[str] = balancer.dns_name
        self.group_name: pulumi.Output[str] = group.name
        self.launch_template_id: pulumi.Output[str] = template.id
        self.security_group_id: pulumi.Output[str] = security_group.id
        self.token_parameter: pulumi.Output[str] = identity.parameter.name
        urls = kong_urls(settings, balancer.dns_name.apply(aws_tier_plan.load_balancer_otlp_url))
        self.otlp_http_url: pulumi.Output[str] = urls.otlp_http_url
        self.traces_url: pulumi.Output[str] = urls.traces_url
        self.logs_url: pulumi.Output[str] = urls.logs_url
        self.register_outputs(self.exports)

    @property
    def exports(self) -> dict[str, pulumi.Input[object]]:
        """The stack outputs of a tier stack."""
        return {
            "collector_load_balancer_dns": self.load_balancer_dns,
            "collector_group_name": self.group_name,
            "collector_launch_template_id": self.launch_template_id,
            "collector_security_group_id": self.security_group_id,
            "collector_token_parameter": self.token_parameter,
            "otlp_http_url": self.otlp_http_url,
            "traces_url": self.traces_url,
            "logs_url": self.logs_url,
        }
