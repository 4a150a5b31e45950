"""The kong-slo security rules as plain policy objects, importable without starting a policy pack."""

from kong_slo_policies.instances import encrypted_volumes, imdsv2_required
from kong_slo_policies.load_balancers import internal_load_balancers
from kong_slo_policies.network import no_public_ingress, no_ssh_ingress
from kong_slo_policies.tags import required_tags
from kong_slo_policies.tokens import no_token_in_outputs, no_token_in_user_data

POLICIES = (
    no_public_ingress,
    no_ssh_ingress,
    imdsv2_required,
    encrypted_volumes,
    no_token_in_user_data,
    no_token_in_outputs,
    required_tags,
    internal_load_balancers,
)

__all__ = ["POLICIES"]
