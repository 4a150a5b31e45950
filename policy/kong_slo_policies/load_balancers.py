"""Load balancers: internal (private addresses only) unless the policy config allows a public one."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from kong_slo_policies.props import UNKNOWN, get

LOAD_BALANCERS = (
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:alb/loadBalancer:LoadBalancer",
    "aws:elb/loadBalancer:LoadBalancer",
)
"""Network and application load balancers (``lb`` and its ``alb`` alias) and classic ones (``elb``)."""


def _validate_internal(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in LOAD_BALANCERS:
        return
    if args.get_config().get("allowPublicLoadBalancer", False) is True:
        return
    internal = get(args.props, "internal")
    if internal is True or internal is UNKNOWN:
        return
    found = "is not set" if internal is None else f"is {internal!r}"
    report_violation(f"internal {found}, so the load balancer is internet-facing: its listeners get public "
                     "addresses", None)


internal_load_balancers = ResourceValidationPolicy(
    name="internal-load-balancer",
    description="Load balancers must be internal: no listener on a public address.",
    validate=_validate_internal,
    config_schema=PolicyConfigSchema(
        properties={"allowPublicLoadBalancer": {"type": "boolean", "default": False,
                                                "description": "allow an internet-facing load balancer "
                                                               "(a deliberate decision)"}},
    ),
    remediation_steps="Set internal=True on the load balancer and reach it from Kong's network (same VPC, peering, "
                      "Transit Gateway or VPN). If it really must face the internet, set allowPublicLoadBalancer: "
                      "true for this policy in the policy pack config file passed with --policy-pack-config.",
)
