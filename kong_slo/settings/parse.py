"""Stack config (the ``kong-slo`` namespace) → ``StackSettings``, with every problem collected."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from kong_slo.errors import SettingsError
from kong_slo.settings.dynatrace_section import read_dynatrace
from kong_slo.settings.model import (
    BROADER_PLUGIN_CHOICES,
    DEFAULT_IMAGES,
    DISTRIBUTIONS,
    LOCAL_ADMIN_URL,
    NARROWER_PLUGIN_CHOICES,
    TARGETS,
    TRACE_CONTEXT_CHOICES,
    Api,
    CollectorSettings,
    KongSettings,
    KongVersion,
    StackSettings,
)
from kong_slo.settings.objectives import AVAILABILITY_KEYS, LATENCY_KEYS, api_layer, read_defaults
from kong_slo.settings.objectives import availability as availability_objective
from kong_slo.settings.objectives import latency as latency_objective
from kong_slo.settings.reader import NAMESPACE, Node, Problems, describe, http_url
from kong_slo.settings.rules import (
    admin_url_problem,
    check_sli_source,
    check_target,
    check_tier,
    check_version_wishes,
)
from kong_slo.settings.scaling import SCALING_KEYS, read_scaling
from kong_slo.settings.ssh import read_ssh

TOP_KEYS = ("target", "collector", "kong", "dynatrace", "sloDefaults", "apis")
COLLECTOR_KEYS = ("distribution", "image", "allowedCidrs", "allowPublicIngress", "openGrpc", "instanceType",
                  "subnetId", "amiId", "publicIp", "traceSampling", *SCALING_KEYS)
KONG_KEYS = ("adminUrl", "adminToken", "workspace", "version", "samplingRate", "exportLogs", "collectorUrl",
             "caBundle", "ssh", "incomingTraceContext", "otherPlugins")
OTHER_PLUGIN_KEYS = ("broader", "narrower")
API_KEYS = ("name", "route", "latency", "availability", "samplingRate")

KONG_NAME = re.compile(r"^(?:[A-Za-z0-9._~-]|[^\x00-\x7f])+$")
"""Kong's ``typedefs.utf8_name`` (services, routes, workspaces): ASCII letters, digits and ``. - _ ~``, and any
non-ASCII character (``validate_utf8_name``: ``^[%w%.%-%_~\128-\244]+$`` over valid UTF-8)."""
KONG_NAME_MAX = 128
"""The longest service, route or workspace name kong-slo takes: the Dynatrace SLO named after an API
(``kong-slo <stack>: <API> availability``) must stay within Dynatrace's 200 characters."""
MAX_APIS = 5000
"""Two objectives each stay within Dynatrace's 10,000 SLOs per environment."""
PUBLIC_NETWORKS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def parse_settings(config: Mapping[str, Any], *, project: str, stack: str,
                   aws_region: str | None = None, written: Mapping[str, str] | None = None) -> StackSettings:
    """Check the ``kong-slo`` namespace (keys without the prefix) and build the settings.

    Secret values must already be ``Secret`` objects. ``written`` maps key paths to how a scalar that YAML
    read as another value was written (from the stack file). Raises ``SettingsError`` listing every
    problem, each prefixed with its key path, when anything is wrong.
    """
    problems = Problems(written=written or {}, stack=stack)
    root = Node(config, f"{NAMESPACE}:", problems)
    root.reject_unknown(TOP_KEYS)
    target = root.choice("target", TARGETS, "local")
    collector = _collector(root.child("collector") or Node({}, root.key("collector"), problems))
    kong = _kong(root.child("kong") or Node({}, root.key("kong"), problems), target)
    dynatrace = read_dynatrace(root.child("dynatrace"))
    apis = _apis(root, problems)
    settings = StackSettings(project, stack, target, aws_region, collector, kong, dynatrace, apis)
    check_target(settings, problems)
    check_tier(settings, problems)
    check_version_wishes(settings, problems)
    check_sli_source(settings, problems)
    if problems.lines:
        raise SettingsError(dict.fromkeys(problems.lines))
    return settings


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
    scaling = read_scaling(node)
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
        replicas=scaling.replicas,
        max_replicas=scaling.max_replicas,
        subnet_ids=scaling.subnet_ids,
        cpu_target=scaling.cpu_target,
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
    version_text = node.string("version")
    if version_text is not None:
        try:
            version = KongVersion.parse(version_text)
        except ValueError as error:
            node.problem("version", str(error))
        else:
            if version < KongVersion(3, 0):
                node.problem("version", f"Kong {version} is not supported; kong-slo needs Kong 3.0 or later")
    workspace = node.string("workspace")
    if workspace is not None:
        _check_kong_name(node, "workspace", workspace, "a Kong workspace name")
    admin_url = http_url(node, "adminUrl")
    if admin_url is not None and (credentials := admin_url_problem(admin_url)) is not None:
        node.problem("adminUrl", credentials)
    if admin_url is None and target == "local":
        admin_url = LOCAL_ADMIN_URL
    rate = _rate(node, "samplingRate", 1.0)
    assert rate is not None
    others = node.child("otherPlugins") or Node({}, node.key("otherPlugins"), node.problems)
    others.reject_unknown(OTHER_PLUGIN_KEYS)
    return KongSettings(
        admin_url=admin_url or "",
        admin_token=node.secret("adminToken"),
        workspace=workspace,
        version=version,
        sampling_rate=rate,
        export_logs=node.boolean("exportLogs", True) if node.has("exportLogs") else None,
        collector_url=http_url(node, "collectorUrl"),
        ca_bundle=node.string("caBundle"),
        ssh=read_ssh(node.child("ssh")),
        incoming_trace_context=node.choice("incomingTraceContext", TRACE_CONTEXT_CHOICES, "ignore"),
        broader_plugins=others.choice("broader", BROADER_PLUGIN_CHOICES, "stop"),
        narrower_plugins=others.choice("narrower", NARROWER_PLUGIN_CHOICES, "stop"),
    )


def _check_kong_name(node: Node, key: str, name: str, what: str) -> None:
    if len(name) > KONG_NAME_MAX:
        node.problem(key, f"{describe(name)} has {len(name)} characters; names are limited to {KONG_NAME_MAX} "
                          "(Dynatrace SLO names, which contain them, to 200)")
    elif not KONG_NAME.match(name) or not _valid_utf8(name):
        node.problem(key, f"{name!r} is not {what} (letters, digits, . - _ ~ and non-ASCII letters such as ü)")


def _valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 sequence, so Kong's validate_utf8 refuses it
        return False
    return True


def _apis(root: Node, problems: Problems) -> tuple[Api, ...]:
    raw = root.raw("apis")
    if raw is None or raw == []:
        root.problem("apis", "is required: list the Kong services to track, e.g. [{name: HealthService}]")
        return ()
    if not isinstance(raw, list):
        root.problem("apis", f"{describe(raw)} is not a list")
        return ()
    if len(raw) > MAX_APIS:
        root.problem("apis", f"lists {len(raw)} APIs; a stack tracks at most {MAX_APIS} (two objectives each stay "
                             "within Dynatrace's 10,000 SLOs per environment): split them over several stacks")
        return ()
    latency_defaults, availability_defaults = read_defaults(root)
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
        _check_kong_name(node, "name", name, "a Kong service name")
        if name.lower() in seen:
            first = seen[name.lower()]
            other = raw[first].get("name") if isinstance(raw[first], Mapping) else None
            case = (f" as {other!r}: kong-slo compares API names without regard to case, so names that differ "
                    "only in case are one API") if isinstance(other, str) and other != name else ""
            node.problem("name", f"{name!r} is already used by {root.key('apis')}[{first}]{case}")
        seen.setdefault(name.lower(), index)
        route = node.string("route")
        if route is not None:
            _check_kong_name(node, "route", route, "a Kong route name or id")
        latency_layer = api_layer(node, "latency", latency_defaults, LATENCY_KEYS)
        availability_layer = api_layer(node, "availability", availability_defaults, AVAILABILITY_KEYS)
        apis.append(Api(
            name=name,
            route=route,
            latency=None if latency_layer is None else latency_objective(
                latency_layer, node.key("latency"), problems),
            availability=None if availability_layer is None else availability_objective(
                availability_layer, node.key("availability"), problems),
            sampling_rate=_rate(node, "samplingRate", None),
        ))
        if latency_layer is None and availability_layer is None:
            node.problem("name", f"{name!r} has both objectives switched off; remove it or keep one")
    return tuple(apis)
