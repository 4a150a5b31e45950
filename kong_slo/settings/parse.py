"""Stack config (the ``kong-slo`` namespace) → ``StackSettings``, with every problem collected."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from kong_slo.errors import SettingsError
from kong_slo.secrets import Secret
from kong_slo.settings import objectives
from kong_slo.settings.model import (
    DEFAULT_IMAGES,
    DISTRIBUTIONS,
    LOCAL_ADMIN_URL,
    SLI_SOURCES,
    TARGETS,
    AlertingSettings,
    Api,
    CollectorSettings,
    DynatraceSettings,
    KongSettings,
    KongVersion,
    SshSettings,
    StackSettings,
)
from kong_slo.settings.platform import PLATFORM_KEYS, read_platform
from kong_slo.settings.reader import NAMESPACE, Node, Problems, describe
from kong_slo.settings.rules import check_sli_source, check_target, check_version_wishes

TOP_KEYS = ("target", "collector", "kong", "dynatrace", "sloDefaults", "apis")
COLLECTOR_KEYS = ("distribution", "image", "allowedCidrs", "allowPublicIngress", "openGrpc", "instanceType",
                  "subnetId", "amiId", "publicIp", "traceSampling")
KONG_KEYS = ("adminUrl", "adminToken", "workspace", "version", "samplingRate", "exportLogs", "collectorUrl",
             "caBundle", "ssh")
SSH_KEYS = ("host", "user", "port", "privateKey", "hostKey", "confPath", "restartCommand")
DYNATRACE_KEYS = ("environmentUrl", "apiToken", "sliSource", "alerting", *PLATFORM_KEYS)
ALERTING_KEYS = ("emails", "burnRate")
API_KEYS = ("name", "route", "latency", "availability", "samplingRate")

KONG_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PUBLIC_NETWORKS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def parse_settings(config: Mapping[str, Any], *, project: str, stack: str,
                   aws_region: str | None = None) -> StackSettings:
    """Check the ``kong-slo`` namespace (keys without the prefix) and build the settings.

    Secret values must already be ``Secret`` objects. Raises ``SettingsError`` listing every
    problem, each prefixed with its key path, when anything is wrong.
    """
    problems = Problems()
    root = Node(config, f"{NAMESPACE}:", problems)
    root.reject_unknown(TOP_KEYS)
    target = root.choice("target", TARGETS, "local")
    collector = _collector(root.child("collector") or Node({}, root.key("collector"), problems))
    kong = _kong(root.child("kong") or Node({}, root.key("kong"), problems), target)
    dynatrace = _dynatrace(root.child("dynatrace"))
    apis = _apis(root, problems)
    settings = StackSettings(project, stack, target, aws_region, collector, kong, dynatrace, apis)
    check_target(settings, problems)
    check_version_wishes(settings, problems)
    check_sli_source(settings, problems)
    if problems.lines:
        raise SettingsError(dict.fromkeys(problems.lines))
    return settings


def _url(node: Node, name: str, *, required: bool = False) -> str | None:
    value = node.string(name, required=required)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        node.problem(name, f"{value!r} is not an http(s) URL with a host")
        return None
    return value.rstrip("/")


def _collector(node: Node) -> CollectorSettings:
    node.reject_unknown(COLLECTOR_KEYS)
    distribution = node.choice("distribution", DISTRIBUTIONS, "dynatrace")
    allow_public = node.boolean("allowPublicIngress", False)
    cidrs: list[str] = []
    for index, text in enumerate(node.string_list("allowedCidrs") or ()):
        key = f"{node.key('allowedCidrs')}[{index}]"
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            node.problems.add(key, f"{text!r} is not a CIDR block such as 10.0.0.0/16")
            continue
        if str(network) != text and "/" in text:
            node.problems.add(key, f"{text!r} has host bits set; did you mean {str(network)!r}?")
            continue
        if network in PUBLIC_NETWORKS and not allow_public:
            node.problems.add(key, f"{text!r} opens the collector to the whole internet; "
                                   f"set {node.key('allowPublicIngress')}: true if that is really meant")
            continue
        cidrs.append(str(network))
    sampling = node.number("traceSampling", 1.0)
    assert sampling is not None
    if not 0 < sampling <= 1:
        node.problem("traceSampling", f"{describe(node.raw('traceSampling'))} is not a share in (0, 1]")
        sampling = 1.0
    return CollectorSettings(
        distribution=distribution,
        image=node.string("image") or DEFAULT_IMAGES[distribution],
        allowed_cidrs=tuple(dict.fromkeys(cidrs)),
        allow_public_ingress=allow_public,
        open_grpc=node.boolean("openGrpc", False),
        instance_type=node.string("instanceType") or "t3.small",
        subnet_id=node.string("subnetId"),
        ami_id=node.string("amiId"),
        public_ip=node.boolean("publicIp", False),
        trace_sampling=sampling,
    )


def _rate(node: Node, name: str, default: float | None) -> float | None:
    rate = node.number(name, default)
    if rate is not None and not 0 <= rate <= 1:
        node.problem(name, f"{describe(node.raw(name))} is not a sampling rate between 0 and 1")
        return default
    return rate


def _kong(node: Node, target: str) -> KongSettings:
    node.reject_unknown(KONG_KEYS)
    version = None
    if node.has("version"):
        try:
            version = KongVersion.parse(str(node.raw("version")))
        except ValueError as error:
            node.problem("version", str(error))
        else:
            if version < KongVersion(3, 0):
                node.problem("version", f"Kong {version} is not supported; kong-slo needs Kong 3.0 or later")
    workspace = node.string("workspace")
    if workspace is not None and not KONG_NAME.match(workspace):
        node.problem("workspace", f"{workspace!r} is not a Kong workspace name")
    admin_url = _url(node, "adminUrl")
    if admin_url is None and target == "local":
        admin_url = LOCAL_ADMIN_URL
    rate = _rate(node, "samplingRate", 1.0)
    assert rate is not None
    return KongSettings(
        admin_url=admin_url or "",
        admin_token=node.secret("adminToken"),
        workspace=workspace,
        version=version,
        sampling_rate=rate,
        export_logs=node.boolean("exportLogs", True) if node.has("exportLogs") else None,
        collector_url=_url(node, "collectorUrl"),
        ca_bundle=node.string("caBundle"),
        ssh=_ssh(node.child("ssh")),
    )


def _ssh(node: Node | None) -> SshSettings | None:
    if node is None:
        return None
    node.reject_unknown(SSH_KEYS)
    host = node.string("host", required=True) or ""
    key = node.secret("privateKey")
    if key is None and "privateKey" not in node.data:
        node.problem("privateKey", "is required: `pulumi config set --secret --path "
                                   f"'{node.key('privateKey')}' < ~/.ssh/id_ed25519`")
    port = node.integer("port", 22)
    if port is None or not 0 < port < 65536:
        node.problem("port", f"{describe(node.raw('port'))} is not a TCP port")
        port = 22
    conf_path = node.string("confPath") or "/etc/kong/kong.conf"
    if not conf_path.startswith("/"):
        node.problem("confPath", f"{conf_path!r} is not an absolute path")
    host_key = node.string("hostKey")
    if host_key is not None and not re.match(r"^(ssh-|ecdsa-)[a-z0-9-]+ [A-Za-z0-9+/=]+( .*)?$", host_key):
        node.problem("hostKey", "is not a public key line such as 'ssh-ed25519 AAAA…' (ssh-keyscan prints them)")
    return SshSettings(host, node.string("user") or "ubuntu", port, key or Secret(None), conf_path,
                       node.string("restartCommand") or "kong restart", host_key)


def _environment_url(node: Node) -> str | None:
    url = _url(node, "environmentUrl", required=True)
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https":
        node.problem("environmentUrl", f"{url!r} must use https")
    elif "/api" in parts.path or "/platform" in parts.path:
        node.problem("environmentUrl", f"{url!r} should be the environment URL without the /api path")
    elif not (".live." in host or ".apps." in host or re.match(r"^/e/[A-Za-z0-9-]+$", parts.path)):
        node.problem("environmentUrl", f"{url!r} is neither a SaaS environment (https://<id>.live.dynatrace"
                                       ".com or https://<id>.apps.dynatrace.com) nor a Managed one "
                                       "(https://<host>/e/<environment-id>)")
    return url


def _dynatrace(node: Node | None) -> DynatraceSettings | None:
    if node is None:
        return None
    node.reject_unknown(DYNATRACE_KEYS)
    url = _environment_url(node)
    token = node.secret("apiToken")
    if token is None and "apiToken" not in node.data:
        why = " (the collector's OTLP ingest token; platform credentials cover only the platform APIs)" \
            if (node.has("platformToken") or node.has("oauth")) else ""
        node.problem("apiToken", f"is required: `pulumi config set --secret --path '{node.key('apiToken')}'`{why}")
    elif token is not None and token.known and not token.reveal().startswith("dt0"):
        node.problem("apiToken", "is not a Dynatrace API token (they start with dt0c01.)")
    alerting, threshold = _alerting(node.child("alerting"))
    sli_source = node.choice("sliSource", SLI_SOURCES, "collector")
    flavour, live_url, platform = read_platform(node, url)
    if flavour == "platform" and sli_source != "collector":
        node.problem("sliSource", f"{sli_source!r} works with classic SLOs only; platform SLOs read the "
                                  "collector's counters with DQL (sliSource: collector)")
    return DynatraceSettings(live_url or "", token or Secret(None), sli_source, threshold, alerting, flavour, platform)


def _alerting(node: Node | None) -> tuple[AlertingSettings | None, float]:
    if node is None:
        return None, 10.0
    node.reject_unknown(ALERTING_KEYS)
    threshold = 10.0
    burn = node.child("burnRate")
    if burn is not None:
        burn.reject_unknown(("fastBurnThreshold",))
        threshold = burn.number("fastBurnThreshold", 10.0) or 10.0
        if threshold < 1.01:
            burn.problem("fastBurnThreshold", f"{describe(burn.raw('fastBurnThreshold'))} must be at least "
                                              "1.01 (a burn rate of 1 uses the budget exactly)")
            threshold = 10.0
    emails = node.string_list("emails") or ()
    for index, email in enumerate(emails):
        if not EMAIL.match(email):
            node.problems.add(f"{node.key('emails')}[{index}]", f"{email!r} is not an e-mail address")
    if not emails:
        node.problem("emails", "must list at least one address to notify")
    return AlertingSettings(tuple(dict.fromkeys(emails))), threshold


def _apis(root: Node, problems: Problems) -> tuple[Api, ...]:
    raw = root.raw("apis")
    if raw is None or raw == []:
        root.problem("apis", "is required: list the Kong services to track, e.g. [{name: HealthService}]")
        return ()
    if not isinstance(raw, list):
        root.problem("apis", f"{describe(raw)} is not a list")
        return ()
    latency_defaults, availability_defaults = objectives.read_defaults(root)
    apis: list[Api] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        path = f"{root.key('apis')}[{index}]"
        if not isinstance(item, Mapping):
            problems.add(path, f"{describe(item)} is not a mapping with at least a name")
            continue
        node = Node(item, path, problems)
        node.reject_unknown(API_KEYS)
        name = node.string("name", required=True) or f"api-{index}"
        if not KONG_NAME.match(name):
            node.problem("name", f"{name!r} is not a Kong service name (letters, digits, . - _ ~)")
        if name.lower() in seen:
            node.problem("name", f"{name!r} is already used by {root.key('apis')}[{seen[name.lower()]}]")
        seen.setdefault(name.lower(), index)
        route = node.string("route")
        if route is not None and not KONG_NAME.match(route):
            node.problem("route", f"{route!r} is not a Kong route name or id")
        latency_layer = objectives.api_layer(node, "latency", latency_defaults, objectives.LATENCY_KEYS)
        availability_layer = objectives.api_layer(node, "availability", availability_defaults,
                                                  objectives.AVAILABILITY_KEYS)
        apis.append(Api(
            name=name,
            route=route,
            latency=None if latency_layer is None else objectives.latency(
                latency_layer, node.key("latency"), problems),
            availability=None if availability_layer is None else objectives.availability(
                availability_layer, node.key("availability"), problems),
            sampling_rate=_rate(node, "samplingRate", None),
        ))
        if latency_layer is None and availability_layer is None:
            node.problem("name", f"{name!r} has both objectives switched off; remove it or keep one")
    return tuple(apis)
