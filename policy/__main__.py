"""The kong-slo policy pack: `pulumi preview --policy-pack policy`.

Constructing the PolicyPack starts the analyzer's gRPC server and blocks, so the rules themselves live in
``kong_slo_policies``, where tests import them as plain functions.
"""

from kong_slo_policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="kong-slo-security",
    description="Security rules for kong-slo stacks: closed ingress, IMDSv2, encryption, no leaked tokens, tags",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=list(POLICIES),
)
