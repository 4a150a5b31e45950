"""The collector host as plain values: firewall rules, AMI lookup, user data, names and its OTLP URL.

Pure functions of the settings, so every rule the host must obey is tested without Pulumi.
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from kong_slo.collector.model import OTLP_GRPC_PORT, OTLP_HTTP_PORT
from kong_slo.errors import KongSloError
from kong_slo.settings import CollectorSettings, StackSettings

HTTPS_PORT = 443
HTTP_PORT = 80

CANONICAL_OWNER = "099720109477"
UBUNTU_RELEASE = "noble-24.04"
USER_DATA_LIMIT = 16 * 1024
"""EC2 refuses user data above 16 KB, counted before base64 encoding."""

ROOT_VOLUME_GB = 20
ROOT_VOLUME_TYPE = "gp3"
QUEUE_VOLUME_GB = 10
"""The single host's queue volume: the counts' 4 GiB queue, 1 GiB each for traces and logs, and room to compact."""
QUEUE_VOLUME_TYPE = "gp3"
QUEUE_VOLUME_DEVICE = "/dev/sdf"
"""The name EC2 is asked to attach the queue volume under; Nitro hosts show it as an NVMe disk of another name,
so the host finds the volume by its label (or, new, as the one blank EBS disk), not by this name."""
METADATA_OPTIONS = {
    "http_endpoint": "enabled",
    "http_tokens": "required",
    # 1 hop: the host reads its token; the containers on the Docker bridge get no role credentials.
    "http_put_response_hop_limit": 1,
}
"""IMDSv2 only, for the host and for every instance of a tier."""

ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"

# Graviton families carry a "g" after the generation digit (t4g, m7gd, c6gn); a1 is the first Graviton.
_GRAVITON = re.compile(r"^(a1|[a-z]+\d+[a-z]*g[a-z]*)\.")


@dataclass(frozen=True)
class Rule:
    """One security-group rule: a TCP port open to (or towards) the listed IPv4 and IPv6 blocks."""

    port: int
    cidr_blocks: tuple[str, ...]
    ipv6_cidr_blocks: tuple[str, ...]
    description: str
    protocol: str = "tcp"


@dataclass(frozen=True)
class UserData:
    """User data for EC2: plain ``text`` when it fits, else gzip in ``base64`` (cloud-init unpacks it)."""

    text: str | None
    base64: str | None
    size: int
    """Bytes EC2 counts against its 16 KB limit."""


def split_families(cidrs: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """IPv4 and IPv6 blocks of ``cidrs``, each in the given order."""
    v4 = tuple(cidr for cidr in cidrs if ipaddress.ip_network(cidr, strict=False).version == 4)
    v6 = tuple(cidr for cidr in cidrs if ipaddress.ip_network(cidr, strict=False).version == 6)
    return v4, v6


def ingress_rules(collector: CollectorSettings) -> tuple[Rule, ...]:
    """OTLP/HTTP (and OTLP/gRPC when ``openGrpc``) from ``allowedCidrs`` only; nothing else, no SSH."""
    if not collector.allowed_cidrs:
        raise KongSloError("kong-slo:collector.allowedCidrs is empty: nobody could send OTLP to the collector")
    v4, v6 = split_families(collector.allowed_cidrs)
    rules = [Rule(OTLP_HTTP_PORT, v4, v6, "OTLP/HTTP from Kong")]
    if collector.open_grpc:
        rules.append(Rule(OTLP_GRPC_PORT, v4, v6, "OTLP/gRPC from Kong"))
    return tuple(rules)


def dynatrace_port(settings: StackSettings) -> int | None:
    """The port of the Dynatrace URL the collector exports to (an ActiveGate listens on 9999), or None."""
    if settings.dynatrace is None:
        return None
    parts = urlsplit(settings.dynatrace.environment_url)
    return parts.port or (HTTPS_PORT if parts.scheme == "https" else HTTP_PORT)


def egress_rules(settings: StackSettings) -> tuple[Rule, ...]:
    """What the host must reach; everything else is closed.

    443: Dynatrace, the SSM endpoints (token and Session Manager), the collector image's registry.
    80: Ubuntu's apt mirrors (Docker comes from them), which serve over plain HTTP; apt verifies
    every package against the signed indexes. The Dynatrace URL's own port when it is another (an environment
    ActiveGate: 9999). Security groups do not filter the Amazon-provided DNS resolver, the time service or instance
    metadata; a VPC with its own DNS servers needs a rule for port 53 as well.
    """
    rules = [Rule(HTTPS_PORT, (ANYWHERE_V4,), (ANYWHERE_V6,), "HTTPS: Dynatrace, SSM, registries"),
             Rule(HTTP_PORT, (ANYWHERE_V4,), (ANYWHERE_V6,), "HTTP: Ubuntu apt mirrors")]
    port = dynatrace_port(settings)
    if port not in (None, HTTPS_PORT, HTTP_PORT):
        rules.append(Rule(port, (ANYWHERE_V4,), (ANYWHERE_V6,), "Dynatrace (the environment URL's port)"))
    return tuple(rules)


def architecture_of(instance_type: str) -> str:
    """``arm64`` for Graviton instance types, ``amd64`` otherwise (Ubuntu's names for both)."""
    return "arm64" if _GRAVITON.match(instance_type.lower()) else "amd64"


def ubuntu_ami_name(instance_type: str) -> str:
    """The name pattern of Canonical's current Ubuntu LTS server images for this instance type."""
    return f"ubuntu/images/hvm-ssd-gp3/ubuntu-{UBUNTU_RELEASE}-{architecture_of(instance_type)}-server-*"


def encode_user_data(cloud_init: str) -> UserData:
    """Plain text when the cloud-config fits in 16 KB; otherwise gzip (byte-stable, so an unchanged
    config never rolls the host) passed as base64. Raises when even the compressed form is too big."""
    raw = cloud_init.encode("utf-8")
    if len(raw) <= USER_DATA_LIMIT:
        return UserData(text=cloud_init, base64=None, size=len(raw))
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    if len(packed) > USER_DATA_LIMIT:
        raise KongSloError(
            f"the collector's cloud-init is {len(raw)} bytes ({len(packed)} gzipped); EC2 accepts at most "
            f"{USER_DATA_LIMIT} bytes of user data")
    return UserData(text=None, base64=base64.b64encode(packed).decode("ascii"), size=len(packed))


def token_parameter_name(settings: StackSettings) -> str:
    """The SSM parameter holding the Dynatrace token: fixed per stack, so the user data can name it."""
    return f"/{settings.project}/{settings.stack}/dynatrace-api-token"


def host_name(settings: StackSettings) -> str:
    """The ``Name`` tag of the host and its security group."""
    return f"{settings.project}-{settings.stack}-collector"


def private_otlp_url(private_ip: str) -> str:
    """OTLP/HTTP on the host's private IP: what Kong uses unless ``kong.collectorUrl`` says otherwise."""
    return f"http://{private_ip}:{OTLP_HTTP_PORT}"
