"""The stack settings as frozen dataclasses: what every other module of kong-slo reads."""

from __future__ import annotations

from dataclasses import dataclass

from kong_slo.secrets import Secret

DEFAULT_ADMIN_URL = "http://127.0.0.1:8001"
"""Kong's default ``admin_listen`` (kong.conf.default, 3.0 to 3.9): the Admin API on the node's loopback."""

TARGETS = ("aws", "local", "external")
DISTRIBUTIONS = ("dynatrace", "contrib")
SLI_SOURCES = ("collector", "service")
FLAVOURS = ("classic", "platform")
"""Which Dynatrace SLO API a stack uses: ``/api/v2/slo`` (classic) or ``/platform/slo/v1`` (Latest Dynatrace)."""
SSO_TOKEN_URL = "https://sso.dynatrace.com/sso/oauth2/token"
"""Where Dynatrace SSO issues OAuth client-credentials tokens for the platform APIs."""

DEFAULT_IMAGES = {
    "dynatrace": "ghcr.io/dynatrace/dynatrace-otel-collector/dynatrace-otel-collector:0.54.0",
    "contrib": "otel/opentelemetry-collector-contrib:0.160.0",
}
LOCAL_ADMIN_PORT = 8001
LOCAL_ADMIN_URL = f"http://127.0.0.1:{LOCAL_ADMIN_PORT}"
"""Where the local stack publishes Kong's Admin API; the default ``kong.adminUrl`` of target local."""


@dataclass(frozen=True, order=True)
class KongVersion:
    """A Kong release line, compared by (major, minor)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> KongVersion:
        """Parse ``3.9``, ``3.9.1`` or an Enterprise ``3.4.3.5``; raises ValueError otherwise."""
        parts = str(text).strip().split(".")
        if len(parts) < 2 or not all(part.isdigit() for part in parts[:2]):
            raise ValueError(f"{text!r} is not a Kong version such as 3.9 or 3.9.1")
        return cls(int(parts[0]), int(parts[1]))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class LatencyObjective:
    """Good when Kong answered within ``threshold_ms``."""

    threshold_ms: int
    target: float
    warning: float
    window: str


@dataclass(frozen=True)
class AvailabilityObjective:
    """Good when the status code matches none of ``fail_on`` (``5xx``, ``404``, ...)."""

    target: float
    warning: float
    window: str
    fail_on: tuple[str, ...]


@dataclass(frozen=True)
class Api:
    """One API: a Kong service (and optionally one of its routes) with its objectives."""

    name: str
    route: str | None
    latency: LatencyObjective | None
    availability: AvailabilityObjective | None
    sampling_rate: float | None


@dataclass(frozen=True)
class CollectorSettings:
    distribution: str
    image: str
    allowed_cidrs: tuple[str, ...]
    allow_public_ingress: bool
    open_grpc: bool
    instance_type: str
    subnet_id: str | None
    ami_id: str | None
    public_ip: bool
    trace_sampling: float
    replicas: int = 1
    """Instances always running (the group's minimum)."""
    max_replicas: int = 1
    """The most instances CPU scaling may add; above 1 the collector is a tier behind a load balancer."""
    subnet_ids: tuple[str, ...] = ()
    """The tier's subnets, one per availability zone (``subnet_id`` is the single host's)."""
    cpu_target: float = 60.0
    """Average CPU percentage target tracking holds the tier at."""

    @property
    def is_tier(self) -> bool:
        """Whether the collector runs as an Auto Scaling group behind a load balancer rather than one host."""
        return self.max_replicas > 1


@dataclass(frozen=True)
class SshSettings:
    host: str
    user: str
    port: int
    private_key: Secret
    conf_path: str
    restart_command: str
    host_key: str | None = None
    """The host's public key (``ssh-ed25519 AAAA…``); when set, a host presenting another key is refused."""
    admin_url: str = DEFAULT_ADMIN_URL
    """The node's own Admin API as the node itself reaches it (Kong's default ``admin_listen``): after the patch,
    what the node runs with is read back there, over the same SSH session."""


TRACE_CONTEXT_CHOICES = ("ignore", "honour")
BROADER_PLUGIN_CHOICES = ("stop", "replace")
NARROWER_PLUGIN_CHOICES = ("stop", "keep")


@dataclass(frozen=True)
class KongSettings:
    admin_url: str
    admin_token: Secret | None
    workspace: str | None
    version: KongVersion | None
    sampling_rate: float
    export_logs: bool | None
    """``None``: export logs wherever the Kong version supports it (3.8+)."""
    collector_url: str | None
    ca_bundle: str | None
    ssh: tuple[SshSettings, ...]
    """The Kong nodes whose kong.conf kong-slo patches (``kong.ssh``); empty when it patches none."""
    incoming_trace_context: str = "ignore"
    """``ignore``: Kong reads no caller's trace context, so every request is counted; ``honour``: Kong continues
    the caller's trace, and requests the caller did not sample are not counted."""
    broader_plugins: str = "stop"
    """What to do about global (or, for a route, service) ``opentelemetry`` plugins whose requests kong-slo's
    plugin takes over: ``stop`` or ``replace``."""
    narrower_plugins: str = "stop"
    """What to do about route, consumer or consumer-group ``opentelemetry`` plugins that take requests away from
    kong-slo's plugin: ``stop`` or ``keep`` (their requests go uncounted)."""


@dataclass(frozen=True)
class BurnRatePolicy:
    """Multiwindow, multi-burn-rate alerting (Google SRE workbook, ch. 5), as burn-rate factors for a 30-day
    objective; windows scale to each objective's own window (``kong_slo.objectives.burn_rate``)."""

    page_factor: float = 14.4
    """Page when the 1 h (and 5 min) burn rate is above this: 2 % of a 30-day budget in an hour."""
    slow_page_factor: float = 6.0
    """Page when the 6 h (and 30 min) burn rate is above this: 5 % of the budget in 6 hours."""
    ticket_factor: float = 1.0
    """Raise a ticket when the 3 d (and 6 h) burn rate is above this: 10 % of the budget in 3 days."""
    min_requests: int = 1000
    """Fewest requests a long window is judged on; a quieter window counts as if it had served this many."""


@dataclass(frozen=True)
class AlertingSettings:
    """One alerting profile and e-mail notification; burn-rate alerts per SLO."""

    emails: tuple[str, ...]
    burn_rate: BurnRatePolicy = BurnRatePolicy()


@dataclass(frozen=True)
class OAuthClient:
    """An OAuth client (Account Management → Identity & access management → OAuth clients)."""

    client_id: str
    client_secret: Secret
    account_urn: str
    """``urn:dtaccount:<account uuid>``, sent as the token request's ``resource``."""
    token_url: str


@dataclass(frozen=True)
class PlatformSettings:
    """How kong-slo reaches the platform APIs of a Latest Dynatrace environment: a platform token or an OAuth
    client, exactly one of them."""

    url: str
    """``https://<env-id>.apps.dynatrace.com``."""
    token: Secret | None
    oauth: OAuthClient | None
    detector_actor: str | None = None
    """The service user (UUID) burn-rate detectors run their queries as; by default the token's own identity."""


@dataclass(frozen=True)
class DynatraceSettings:
    environment_url: str
    api_token: Secret
    sli_source: str
    fast_burn_threshold: float
    """Burn rate from which Dynatrace shows an SLO as burning fast (colour only; alerts follow ``BurnRatePolicy``)."""
    alerting: AlertingSettings | None
    flavour: str = "classic"
    """``classic`` or ``platform`` (see ``FLAVOURS``)."""
    platform: PlatformSettings | None = None
    """Set when ``flavour`` is ``platform``; ``environment_url`` is then the matching ``.live.`` host (OTLP)."""


@dataclass(frozen=True)
class StackSettings:
    """Everything one stack file asks for, checked and with every default applied."""

    project: str
    stack: str
    target: str
    aws_region: str | None
    collector: CollectorSettings
    kong: KongSettings
    dynatrace: DynatraceSettings | None
    apis: tuple[Api, ...]
