"""Link 1, node by node: what each Kong node ``kong.ssh`` lists really runs with, read from its own Admin API
(``kong.ssh.nodes[].adminUrl``) wherever this machine reaches it.

kong-slo patched each node's kong.conf, so a node that reports other tracing settings than the stack wants runs
with a ``KONG_*`` variable that overrides the file (or was not reloaded since): the fix names the variable. An
Admin API on the node's own loopback (Kong's default) is not this machine's: that node is reported as skipped,
since ``pulumi up`` reads it back over SSH.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from kong_slo.doctor.kong_node import LINK, tracing_checks
from kong_slo.doctor.report import Check, skipped
from kong_slo.http import ApiError, RetryPolicy, is_loopback_host
from kong_slo.kong.admin import KongAdmin
from kong_slo.kong.tracing import RENAMED_IN
from kong_slo.settings import KongVersion, SshSettings, StackSettings


def check_nodes(settings: StackSettings, token: str | None, policy: RetryPolicy) -> list[Check]:
    """One to three checks per listed node: skipped when its Admin API cannot be read from here."""
    checks: list[Check] = []
    for node in settings.kong.ssh:
        name, label = f"kong.node.{node.host}:{node.port}", f"node {node.host}"
        if is_loopback_host(urlsplit(node.admin_url).hostname) and not is_loopback_host(node.host):
            checks.append(skipped(LINK, name, f"{label}: its Admin API listens on the node itself "
                                              f"({node.admin_url}); `pulumi up` reads it back over SSH"))
            continue
        checks += _node_checks(node, name, label, settings, token, policy)
    return checks


def _node_checks(node: SshSettings, name: str, label: str, settings: StackSettings, token: str | None,
                 policy: RetryPolicy) -> list[Check]:
    try:
        with KongAdmin(node.admin_url, token=token, ca_bundle=settings.kong.ca_bundle, policy=policy) as kong:
            info = kong.node_info()
        version = KongVersion.parse(str(info.get("version")))
    except (ApiError, ValueError) as error:
        return [skipped(LINK, name, f"{label}: its Admin API at {node.admin_url} gave no Kong answer here "
                                    f"({error})")]
    configuration = info.get("configuration") if isinstance(info.get("configuration"), dict) else {}
    keys = ("opentelemetry_tracing", "opentelemetry_tracing_sampling_rate") if version < RENAMED_IN \
        else ("tracing_instrumentations", "tracing_sampling_rate")
    checks = []
    for check in tracing_checks(configuration, version, settings):
        key = keys[0] if check.name == "kong.tracing" else keys[1]
        fix = check.fix and (f"{node.conf_path} on {node.host} sets {key} as the stack wants (kong-slo patches it), "
                             f"so KONG_{key.upper()} in the environment Kong starts in overrides it, or Kong was not "
                             "reloaded since: remove the variable (systemd unit, container or shell) and reload Kong")
        checks.append(replace(check, name=f"{name}.{check.name.split('.')[-1]}", detail=f"{label}: {check.detail}",
                              fix=fix))
    return checks


