"""Ingress rules: nothing open to the whole internet unless allowed, and no SSH at all.

Three resource types can open a security group, each with its own property names:
``aws:ec2/securityGroup`` (inline ``ingress`` blocks), ``aws:ec2/securityGroupRule`` (``type: ingress``)
and ``aws:vpc/securityGroupIngressRule`` (one CIDR per rule, ``ipProtocol``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from kong_slo_policies.props import get, items, number, strings

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

SSH_PORT = 22
ALL_PROTOCOLS = frozenset({"-1", "all"})
TCP = frozenset({"tcp", "6"})


@dataclass(frozen=True)
class Ingress:
    """One ingress permission, whatever resource declared it."""

    where: str
    protocol: str | None
    from_port: int | None
    to_port: int | None
    sources: tuple[str, ...]

    def covers(self, port: int) -> bool:
        """Whether this permission lets TCP traffic reach ``port``."""
        if self.protocol in ALL_PROTOCOLS:
            return True
        if self.protocol not in TCP:
            return False
        low = 0 if self.from_port is None else self.from_port
        high = 65535 if self.to_port is None else self.to_port
        return low <= port <= high

    def ports(self) -> str:
        if self.protocol in ALL_PROTOCOLS:
            return "all traffic"
        protocol = self.protocol or "an unknown protocol"
        if self.from_port is None:
            return protocol
        if self.to_port is None or self.to_port == self.from_port:
            return f"{protocol} {self.from_port}"
        return f"{protocol} {self.from_port}-{self.to_port}"


def _protocol(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) else None


def ingress_permissions(resource_type: str, props: Any) -> Iterator[Ingress]:
    """Every ingress permission a resource declares (nothing for other types or egress rules)."""
    if resource_type == SECURITY_GROUP:
        for index, rule in items(get(props, "ingress")):
            yield Ingress(f"ingress[{index}]", _protocol(get(rule, "protocol")), number(get(rule, "fromPort")),
                          number(get(rule, "toPort")),
                          (*strings(get(rule, "cidrBlocks")), *strings(get(rule, "ipv6CidrBlocks"))))
    elif resource_type == SECURITY_GROUP_RULE:
        if get(props, "type") == "ingress":
            yield Ingress("the rule", _protocol(get(props, "protocol")), number(get(props, "fromPort")),
                          number(get(props, "toPort")),
                          (*strings(get(props, "cidrBlocks")), *strings(get(props, "ipv6CidrBlocks"))))
    elif resource_type == INGRESS_RULE:
        cidrs = (get(props, "cidrIpv4"), get(props, "cidrIpv6"))
        yield Ingress("the rule", _protocol(get(props, "ipProtocol")), number(get(props, "fromPort")),
                      number(get(props, "toPort")), tuple(cidr for cidr in cidrs if isinstance(cidr, str)))


def is_everywhere(cidr: str) -> bool:
    """``0.0.0.0/0``, ``::/0`` or any other spelling of a prefix that matches every address."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _validate_public_ingress(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.get_config().get("allowPublicIngress", False) is True:
        return
    for permission in ingress_permissions(args.resource_type, args.props):
        for cidr in permission.sources:
            if is_everywhere(cidr):
                report_violation(f"{permission.where} allows {permission.ports()} from {cidr}, that is from "
                                 "anywhere on the internet", None)


def _validate_no_ssh(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for permission in ingress_permissions(args.resource_type, args.props):
        if permission.covers(SSH_PORT):
            sources = ", ".join(permission.sources) or "the referenced security groups or prefix lists"
            report_violation(f"{permission.where} allows {permission.ports()}, which includes SSH (tcp 22), "
                             f"from {sources}", None)


no_public_ingress = ResourceValidationPolicy(
    name="no-public-ingress",
    description="Security groups must not accept traffic from 0.0.0.0/0 or ::/0.",
    validate=_validate_public_ingress,
    config_schema=PolicyConfigSchema(
        properties={"allowPublicIngress": {"type": "boolean", "default": False,
                                           "description": "allow ingress from anywhere (a deliberate decision)"}},
    ),
    remediation_steps="List the networks that send OTLP in kong-slo:collector.allowedCidrs (for example Kong's "
                      "subnet). If the collector really must be public, set allowPublicIngress: true for this "
                      "policy in the policy pack config file passed with --policy-pack-config.",
)

no_ssh_ingress = ResourceValidationPolicy(
    name="no-ssh-ingress",
    description="Security groups must not open SSH (tcp 22, a port range containing it, or all traffic).",
    validate=_validate_no_ssh,
    remediation_steps="Reach the collector host with AWS Systems Manager Session Manager instead of SSH "
                      "(aws ssm start-session --target <instance-id>); remove the rule that opens port 22.",
)
