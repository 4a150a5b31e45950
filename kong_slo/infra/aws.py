"""``CollectorHost``: the OpenTelemetry collector on an EC2 host, reachable on OTLP from Kong only.

The host has no SSH: operators use SSM Session Manager. The Dynatrace token lives in an SSM
SecureString that cloud-init reads at boot through the host's role, so it never appears in user
data. A change of what the collector itself needs yields new user data, which replaces the instance; so does a
new token. The address Kong sends to and the queue are kept across a replacement (``aws_persistent``).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from kong_slo.infra import aws_plan
from kong_slo.infra.aws_instance import (
    boot_user_data,
    declare_identity,
    declare_security_group,
    dynatrace_token,
    kong_urls,
    ubuntu_ami,
)
from kong_slo.infra.aws_persistent import (
    attach_queue_volume,
    declare_network_interface,
    declare_queue_volume,
    needs_public_address,
    placement,
)
from kong_slo.infra.tags import ownership_tags
from kong_slo.settings import StackSettings

COMPONENT_TYPE = "kongslo:aws:CollectorHost"
TIER_COMPONENT_TYPE = "kongslo:aws:CollectorTier"


class CollectorHost(pulumi.ComponentResource):
    """The collector host of an ``aws`` stack.

    Outputs: ``instance_id``, ``private_ip`` (the kept interface's), ``public_ip`` (``None`` unless
    ``collector.publicIp`` or a subnet that gives instances a public address), ``security_group_id``,
    ``queue_volume_id``, ``token_parameter`` (the SSM parameter's name), and the URLs Kong must use:
    ``otlp_http_url`` (``http://<private ip>:4318`` unless ``kong.collectorUrl``), ``traces_url``, ``logs_url``.
    """

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        # Everything that can be refused is checked before anything, the component included, is declared.
        collector = settings.collector
        token = dynatrace_token(settings)
        ingress = aws_plan.ingress_rules(collector)
        user_data = boot_user_data(settings)
        where = placement(settings)
        # The alias lets a stack switch between one host and a tier: the token parameter (a fixed name) and the
        # role are kept instead of created anew next to the old ones.
        super().__init__(COMPONENT_TYPE, name, None, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=TIER_COMPONENT_TYPE)])))
        child = pulumi.ResourceOptions(parent=self)
        tags = ownership_tags(settings)
        named_tags = ownership_tags(settings, Name=aws_plan.host_name(settings))
        identity = declare_identity(name, settings, token, self)
        parameter = identity.parameter

        security_group = declare_security_group(name, settings, vpc_id=where.vpc_id, ingress=ingress,
                                                description="OTLP from Kong to the kong-slo collector", parent=self)
        interface = declare_network_interface(name, settings, where, security_group, self)
        queue = declare_queue_volume(name, settings, where, self)

        instance = aws.ec2.Instance(
            f"{name}-host",
            ami=self._ami(collector.ami_id, collector.instance_type),
            instance_type=collector.instance_type,
            primary_network_interface={"network_interface_id": interface.id, "delete_on_termination": False},
            iam_instance_profile=identity.profile.name,
            metadata_options=dict(aws_plan.METADATA_OPTIONS),
            root_block_device={
                "volume_type": aws_plan.ROOT_VOLUME_TYPE,
                "volume_size": aws_plan.ROOT_VOLUME_GB,
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
            # The interface can be attached to one instance at a time: the old instance goes first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=identity.boot_dependencies,
                                        replacement_trigger=parameter.version, delete_before_replace=True,
                                        ignore_changes=[] if collector.ami_id else ["ami"]),
        )
        attach_queue_volume(name, queue, instance, self)

        self.public_ip: pulumi.Output[str] | None = None
        if needs_public_address(settings, where):
            address = aws.ec2.Eip(f"{name}-eip", domain="vpc", network_interface=interface.id, tags=named_tags,
                                  opts=child)
            self.public_ip = address.public_ip

        self.instance_id: pulumi.Output[str] = instance.id
        self.private_ip: pulumi.Output[str] = interface.private_ip
        self.security_group_id: pulumi.Output[str] = security_group.id
        self.token_parameter: pulumi.Output[str] = parameter.name
        self.queue_volume_id: pulumi.Output[str] = queue.id
        urls = kong_urls(settings, interface.private_ip.apply(aws_plan.private_otlp_url))
        self.otlp_http_url: pulumi.Output[str] = urls.otlp_http_url
        self.traces_url: pulumi.Output[str] = urls.traces_url
        self.logs_url: pulumi.Output[str] = urls.logs_url
        self.register_outputs({
            "instance_id": self.instance_id,
            "private_ip": self.private_ip,
            "public_ip": self.public_ip,
            "security_group_id": self.security_group_id,
            "queue_volume_id": self.queue_volume_id,
            "token_parameter": self.token_parameter,
            "otlp_http_url": self.otlp_http_url,
            "traces_url": self.traces_url,
            "logs_url": self.logs_url,
        })

    @property
    def exports(self) -> dict[str, pulumi.Input[object]]:
        """The stack outputs of a single-host stack."""
        exports: dict[str, pulumi.Input[object]] = {
            "collector_instance_id": self.instance_id,
            "collector_private_ip": self.private_ip,
            "collector_security_group_id": self.security_group_id,
            "collector_queue_volume_id": self.queue_volume_id,
            "collector_token_parameter": self.token_parameter,
            "otlp_http_url": self.otlp_http_url,
            "traces_url": self.traces_url,
            "logs_url": self.logs_url,
        }
        if self.public_ip is not None:
            exports["collector_public_ip"] = self.public_ip
        return exports

    def _ami(self, ami_id: str | None, instance_type: str) -> pulumi.Input[str]:
        return ami_id or ubuntu_ami(instance_type, self).id
