"""Run the Pulumi program (``__main__.py``) under Pulumi mocks and record everything it declares.

``run_program(config, stack=...)`` takes the ``config:`` mapping of a stack file, turns every
``{secure: ...}`` into a secret config value holding a recognisable sentinel, runs the program with
``runpy`` against a recording mock monitor, and returns a ``ProgramRun``: every registered resource
(type, name, inputs, which inputs were secret, parent) and every stack output (value, known, secret).
``preview=True`` runs it as ``pulumi preview`` does: computed outputs of resources stay unknown.
"""

from __future__ import annotations

import copy
import hashlib
import json
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from kong_slo.kong.adoption import scope_of_inputs
from kong_slo.kong.payload import plugin_id
from kong_slo.secrets import Secret
from kong_slo.settings import StackSettings, parse_settings
from tests.conftest import stack_path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "__main__.py"
PROJECT = "kong-slo"
ACCOUNT = "123456789012"
SENTINEL_PREFIX = "dt0c01.SENTINEL"


def sentinel(path: str) -> str:
    """The stand-in value of the secret at ``path`` (``kong-slo:dynatrace.apiToken``): unique, greppable, and
    shaped like the token the key takes (a platform token starts ``dt0s16.``)."""
    digest = hashlib.sha256(path.encode()).hexdigest().upper()
    prefix = SENTINEL_PREFIX.replace("dt0c01", "dt0s16") if path.endswith("platformToken") else SENTINEL_PREFIX
    return f"{prefix}{digest[:24]}.{digest[24:64]}"


@dataclass(frozen=True)
class RegisteredResource:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    """Top-level input keys whose value was a Pulumi secret."""
    parent: str
    custom: bool
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    dependencies: tuple[str, ...] = ()
    """URNs named in ``depends_on``."""
    replacement_trigger: Any = None
    alias_types: tuple[str, ...] = ()
    """The types named in the resource's own ``aliases`` (not those inherited from its parent)."""


@dataclass(frozen=True)
class StackOutput:
    value: Any
    known: bool
    secret: bool


@dataclass
class ProgramRun:
    resources: list[RegisteredResource]
    outputs: dict[str, StackOutput]
    invokes: list[tuple[str, dict[str, Any]]]
    secrets: dict[str, str]
    """Sentinel value of every secret config path."""

    def of_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str) -> RegisteredResource:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, found {[resource.name for resource in found]}"
        return found[0]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(resource for resource in self.resources if resource.urn == urn)

    def output(self, name: str) -> Any:
        assert name in self.outputs, f"stack output {name!r} missing; have {sorted(self.outputs)}"
        return self.outputs[name].value


@dataclass
class ProgramFailure(Exception):
    error: BaseException
    resources: list[RegisteredResource] = field(default_factory=list)


CallHandler = Callable[[dict[str, Any]], dict[str, Any]]


ROOT_DEVICE = "/dev/sda1"
"""The root device of Canonical's Ubuntu images; a fixed ``amiId`` is answered with ``/dev/xvda``."""


def _ami(args: dict[str, Any]) -> dict[str, Any]:
    filters = {item["name"]: item["values"][0] for item in args.get("filters", [])}
    if "image-id" in filters:
        return {"id": filters["image-id"], "imageId": filters["image-id"], "architecture": "x86_64",
                "name": "custom", "rootDeviceName": "/dev/xvda"}
    pattern = filters["name"]
    architecture = "arm64" if "-arm64-" in pattern else "x86_64"
    image = "ami-0a1b2c3d4e5f60718" if architecture == "x86_64" else "ami-0f9e8d7c6b5a40312"
    return {"id": image, "imageId": image, "architecture": architecture, "name": pattern.replace("*", "20250101"),
            "rootDeviceName": ROOT_DEVICE}


ZONES = "abc"
OTHER_VPC_SUBNET_PREFIX = "subnet-0ff"
"""Subnets whose ID starts so lie in another VPC than every other subnet (to test the refusal)."""


DEFAULT_SUBNETS = ("subnet-0d3fa0000000000b2", "subnet-0d3fa0000000000a1", "subnet-0d3fa0000000000c3")
"""The default VPC's default subnets, one per zone, in the unsorted order EC2 may list them."""


def subnet_facts(subnet_id: str) -> dict[str, Any]:
    """What ``getSubnet`` answers: a /24 and a zone derived from the ID (its last hex digit picks a, b or c); the
    default VPC's subnets give instances a public address, as AWS's default subnets do."""
    digits = subnet_id.removeprefix("subnet-")
    vpc = "vpc-0other000000002" if subnet_id.startswith(OTHER_VPC_SUBNET_PREFIX) else "vpc-0subnet0000000001"
    return {"id": subnet_id, "vpcId": vpc, "cidrBlock": f"10.0.{int(digits[-2:], 16)}.0/24",
            "availabilityZone": f"eu-west-1{ZONES[int(digits[-1], 16) % len(ZONES)]}",
            "mapPublicIpOnLaunch": subnet_id in DEFAULT_SUBNETS}




def _default_subnets(args: dict[str, Any]) -> dict[str, Any]:
    filters = {item["name"]: item["values"] for item in args.get("filters", [])}
    assert filters == {"vpc-id": ["vpc-0default000000001"], "default-for-az": ["true"]}, filters
    return {"id": "eu-west-1", "ids": list(DEFAULT_SUBNETS)}


CALL_HANDLERS: dict[str, CallHandler] = {
    "aws:ec2/getAmi:getAmi": _ami,
    "aws:ec2/getSubnet:getSubnet": lambda args: subnet_facts(args["id"]),
    "aws:ec2/getSubnets:getSubnets": _default_subnets,
    "aws:ec2/getVpc:getVpc": lambda args: {"id": "vpc-0default000000001", "default": True,
                                           "cidrBlock": "172.31.0.0/16"},
}
"""Invoke results by token (schema camelCase keys). Other program tests add their own handlers here."""


def _computed(type_: str, name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """A plausible id and the computed outputs AWS would return for a created resource."""
    token = hashlib.sha256(f"{type_}/{name}".encode()).hexdigest()
    arn = f"arn:aws:{type_.split(':')[1].split('/')[0]}:{region}:{ACCOUNT}:{name}"
    if type_ == "aws:ec2/instance:Instance":
        octet = int(token[:2], 16) % 250 + 4
        return f"i-0{token[:16]}", {"privateIp": f"10.0.1.{octet}", "publicIp": "", "arn": arn}
    if type_ == "aws:ec2/networkInterface:NetworkInterface":
        octet = int(token[:2], 16) % 250 + 4
        return f"eni-0{token[:16]}", {"privateIp": f"10.0.1.{octet}", "arn": arn}
    if type_ == "aws:ebs/volume:Volume":
        return f"vol-0{token[:16]}", {"arn": arn}
    if type_ == "aws:ec2/securityGroup:SecurityGroup":
        return f"sg-0{token[:16]}", {"arn": arn}
    if type_ == "aws:ec2/eip:Eip":
        return f"eipalloc-0{token[:16]}", {"publicIp": f"203.0.113.{int(token[:2], 16) % 250 + 4}",
                                          "allocationId": f"eipalloc-0{token[:16]}"}
    if type_ == "aws:lb/loadBalancer:LoadBalancer":
        dns = f"internal-{name}-{token[:8]}.elb.{region}.amazonaws.com"
        return f"{arn}/net/{token[:8]}", {"arn": f"{arn}/net/{token[:8]}", "dnsName": dns}
    if type_ in ("aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener"):
        return f"{arn}/{token[:8]}", {"arn": f"{arn}/{token[:8]}"}
    if type_ == "aws:ec2/launchTemplate:LaunchTemplate":
        return f"lt-0{token[:16]}", {"arn": arn, "latestVersion": 1, "defaultVersion": 1}
    if type_ == "aws:autoscaling/group:Group":
        return f"{name}-{token[:8]}", {"name": f"{name}-{token[:8]}", "arn": arn}
    if type_ == "aws:ssm/parameter:Parameter":
        return inputs["name"], {"arn": f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{inputs['name']}", "version": 1}
    if type_ in ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"):
        physical = inputs.get("name") or f"{name}-{token[:7]}"
        kind = "role" if type_.endswith("Role") else "instance-profile"
        return physical, {"name": physical, "arn": f"arn:aws:iam::{ACCOUNT}:{kind}/{physical}"}
    if type_ == "pulumi-python:dynamic/kong:OpenTelemetryPlugin":  # the id the provider writes the plugin under
        own_id = plugin_id(inputs["stack"], *scope_of_inputs(inputs), inputs.get("workspace"))
        return own_id, {"plugin_id": own_id, "adopted": False}
    return f"{name}-{token[:8]}", {}


def created_outputs(type_: str, name: str, inputs: dict[str, Any] | None = None,
                    region: str = "eu-west-1") -> dict[str, Any]:
    """The computed outputs the mocks give a created resource (an interface's ``privateIp``, ...)."""
    return _computed(type_, name, inputs or {}, region)[1]


def created_id(type_: str, name: str, inputs: dict[str, Any] | None = None, region: str = "eu-west-1") -> str:
    """The id the mocks give a created resource (for a load balancer or target group, its ARN)."""
    return _computed(type_, name, inputs or {}, region)[0]


class ProgramMocks(pulumi.runtime.Mocks):
    """Echoes inputs and adds computed outputs; in preview, computed outputs are left unknown."""

    def __init__(self, *, region: str, preview: bool) -> None:
        self.region = region
        self.preview = preview
        self.invokes: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, computed = _computed(args.typ, args.name, args.inputs, self.region)
        if self.preview:
            return None, dict(args.inputs)
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.invokes.append((args.token, dict(args.args)))
        handler = CALL_HANDLERS.get(args.token)
        if handler is None:
            raise NotImplementedError(f"no mock for invoke {args.token}; add one to CALL_HANDLERS")
        return handler(args.args)


def _trigger(request: Any) -> Any:
    """The ``replacement_trigger`` option's value, or ``None`` when it is not set."""
    if not request.HasField("replacement_trigger"):
        return None
    return rpc.deserialize_property(json_format.MessageToDict(request.replacement_trigger))


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also remembers each registration's parent, inputs and secret inputs."""

    def __init__(self, mocks: ProgramMocks) -> None:
        super().__init__(mocks)
        self.registered: list[RegisteredResource] = []

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method it overrides
        if request.type != "pulumi:pulumi:Stack":
            raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
            secret = frozenset(key for key, value in raw.items() if rpc.is_rpc_secret(value))
            inputs = {key: rpc.unwrap_rpc_secret(value) for key, value in raw.items()}
            self.registered.append(RegisteredResource(
                urn=self.make_urn(request.parent, request.type, request.name), type=request.type,
                name=request.name, inputs=inputs, secret_inputs=secret, parent=request.parent,
                custom=request.custom, ignore_changes=tuple(request.ignoreChanges),
                delete_before_replace=request.deleteBeforeReplace, dependencies=tuple(request.dependencies),
                replacement_trigger=_trigger(request),
                alias_types=tuple(alias.spec.type for alias in request.aliases if alias.HasField("spec"))))
        return super().RegisterResource(request)


def _engine_config(config: Mapping[str, Any]) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Stack-file config → what the engine hands a program: JSON strings, secret keys, sentinels."""
    secrets: dict[str, str] = {}

    def replace(value: Any, path: str) -> Any:
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secrets[path] = sentinel(path)
            return secrets[path]
        if isinstance(value, Mapping):
            return {key: replace(item, f"{path}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [replace(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return value

    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        before = len(secrets)
        plain = replace(value, key)
        values[key] = plain if isinstance(plain, str) else json.dumps(plain)
        if len(secrets) > before:
            secret_keys.append(key)
    return values, secret_keys, secrets


def read_config(stack_file: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a stack file."""
    document = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    return dict(document.get("config") or {})


async def _resolve(outputs: Mapping[str, Any]) -> dict[str, StackOutput]:
    resolved: dict[str, StackOutput] = {}
    for name, value in outputs.items():
        output = pulumi.Output.from_input(value)
        resolved[name] = StackOutput(value=await output.future(), known=await output.is_known(),
                                     secret=await output.is_secret())
    return resolved


def run_program(config: Mapping[str, Any], *, stack: str = "test", preview: bool = False) -> ProgramRun:
    """Run ``__main__.py`` for a stack whose file holds ``config``; raise ``ProgramFailure`` if it fails."""
    values, secret_keys, secrets = _engine_config(config)
    region = str(config.get("aws:region") or "eu-west-1")
    mocks = ProgramMocks(region=region, preview=preview)
    monitor = RecordingMonitor(mocks)
    runtime_settings.ROOT.set(None)
    set_all_config(values, secret_keys)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    runtime_settings.SETTINGS.rpc_manager.clear()
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(PROGRAM), run_name="__main__")))
        root = runtime_settings.get_root_resource()
        outputs = _sync_await(_resolve(getattr(root, "outputs", {})))
    except Exception as error:
        raise ProgramFailure(error, list(monitor.registered)) from error
    finally:
        set_all_config({}, [])
    return ProgramRun(list(monitor.registered), outputs, list(mocks.invokes), secrets)


def stack_config(stack: str, **overrides: Any) -> dict[str, Any]:
    """The ``config:`` mapping of stack ``stack``'s file (deployed or example); ``overrides`` replace top-level keys
    (``**{"kong-slo:apis": [...]}``)."""
    config = read_config(stack_path(stack))
    config.update(copy.deepcopy(overrides))
    return config


def aws_config(**sections: Any) -> dict[str, Any]:
    """A valid ``aws`` stack config with one API; each keyword replaces the ``kong-slo:<keyword>`` section."""
    config: dict[str, Any] = {
        "aws:region": "eu-west-1",
        "kong-slo:target": "aws",
        "kong-slo:collector": {"allowedCidrs": ["10.0.0.0/16"]},
        "kong-slo:kong": {"adminUrl": "http://kong.internal:8001", "version": "3.9"},
        "kong-slo:dynatrace": {"environmentUrl": "https://abc12345.live.dynatrace.com",
                               "apiToken": {"secure": "v1:encrypted"}},
        "kong-slo:apis": [{"name": "HealthService"}],
    }
    config.update({f"kong-slo:{key}": copy.deepcopy(value) for key, value in sections.items()})
    return config


def run_stack_file(stack_file: Path, *, preview: bool = False) -> ProgramRun:
    """``run_program`` for ``stacks/Pulumi.<stack>.yaml``."""
    stack = stack_file.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    return run_program(read_config(stack_file), stack=stack, preview=preview)



def settings_of(config: Mapping[str, Any], *, stack: str = "test") -> StackSettings:
    """The settings the program derives from ``config``, secrets holding their sentinels."""

    def wrap(value: Any, path: str) -> Any:
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            return Secret(sentinel(path))
        if isinstance(value, Mapping):
            return {key: wrap(item, f"{path}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [wrap(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return value

    namespace = {key.split(":", 1)[1]: wrap(value, key) for key, value in config.items()
                 if key.startswith("kong-slo:")}
    region = config.get("aws:region")
    return parse_settings(namespace, project=PROJECT, stack=stack, aws_region=region)
