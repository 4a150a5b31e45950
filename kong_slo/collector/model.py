"""What the collector deployment is made of, computed from the stack settings (pure, no I/O).

The templates in ``templates/`` lay these values out; everything that needs a decision (the OTTL rules, memory
sizing, the components a distribution ships) is decided here so it can be tested without rendering. Nothing here
depends on the stack's APIs or objectives: each API's plugin sends its objectives with every request
(``telemetry.LATENCY_OBJECTIVE_ATTRIBUTE``, ``telemetry.FAIL_ON_ATTRIBUTE``), so adding an API or changing an
objective leaves the collector as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kong_slo import telemetry
from kong_slo.kong.release_facts import NEWER_STATUS_ATTRIBUTE
from kong_slo.settings import StackSettings

OTLP_HTTP_PORT = 4318
OTLP_GRPC_PORT = 4317
HEALTH_PORT = 13133
COLLECTOR_CONFIG_PATH = "/etc/otelcol/config.yaml"
"""Where the rendered config is mounted in the collector container."""
QUEUE_DIRECTORY = "/var/lib/otelcol/file_storage"
"""The persistent sending queue (``file_storage``); must exist and be writable by ``COLLECTOR_UID``."""
QUEUE_HOST_DIRECTORY = "/var/lib/kong-slo/queue"
"""On a single aws host, where the queue volume (an EBS volume that outlives the instance) is mounted."""
QUEUE_VOLUME_LABEL = "kongslo-queue"
"""The ext4 label the queue volume gets when it is formatted, blank, on first attach (at most 16 characters)."""
QUEUE_VOLUME_WAIT_SECONDS = 600
"""How long the host waits for the queue volume to be attached after it boots (Pulumi attaches it then)."""
COLLECTOR_UID = 10001
"""Both collector images run as this uid on a ``scratch`` base."""
TOKEN_ENV_VAR = "DT_API_TOKEN"
TOKEN_ENV_FILE = "collector.env"
"""The env file holding ``DT_API_TOKEN=...``, next to docker-compose.yml; never rendered, only referenced."""
TOKEN_FILE = "/etc/otelcol/dynatrace-api-token"
"""On the local stack the token is a read-only file in the container (no container environment holds it)."""
LOCAL_TOKEN_SOURCE = "dynatrace-api-token"
"""The token file next to docker-compose.yml when the local stack runs through Compose."""

CONTAINER_MEMORY_MIB = 1024
MEMORY_LIMIT_MIB = 800
"""memory_limiter hard limit, below the container limit so the collector refuses data before the OOM killer."""
MEMORY_SPIKE_MIB = 160
GOMEMLIMIT_MIB = 640
"""About 80 % of the memory_limiter's hard limit, as Dynatrace recommends."""

# OTTL paths carry their context prefix (`span.`, `resource.`), as the transform processor asks since 0.1xx.
STATUS_CODE = f'span.attributes["{telemetry.STATUS_ATTRIBUTE}"]'
NEWER_STATUS_CODE = f'span.attributes["{NEWER_STATUS_ATTRIBUTE}"]'
STATUS_FALLBACK = f"set({STATUS_CODE}, {NEWER_STATUS_CODE}) where {STATUS_CODE} == nil and {NEWER_STATUS_CODE} != nil"
"""A span carrying its status under the current semantic-convention name is judged by it too. (Setting nil is
deprecated in OTTL: the collector warns on every span, and a future release will delete the attribute.)"""
SPAN_DURATION_NS = "span.end_time_unix_nano - span.start_time_unix_nano"
EXPORTER = "otlp_http/dynatrace"
"""Traces and logs to Dynatrace. The OTLP/HTTP exporter's type is ``otlp_http`` (``otlphttp`` is a deprecated alias
since collector 0.144)."""
COUNTS_EXPORTER = "otlp_http/dynatrace_counts"
"""The SLO counter to Dynatrace, on an exporter of its own: it waits out any outage and never drops a count."""
TELEMETRY_PORT = 8888
"""The collector's own metrics (Prometheus text), where ``kong-slo doctor`` reads what was refused or dropped."""
FLUSH_SECONDS = 15
"""The span metrics connector's flush interval: it hands over its counts this often, and not at shutdown."""
DRAIN_SECONDS = FLUSH_SECONDS + 10
"""How long a collector that no longer receives keeps running before it stops: past one flush, so its last
counts reach the sending queue."""
COUNTS_QUEUE_MIB = 4096
"""The counts' persistent queue, in bytes of requests on disk (see README: Durability for what it holds)."""
DATA_QUEUE_MIB = 1024
"""Traces' and logs' persistent queue each; when full, new spans and logs are dropped (and counted as such)."""
SPAN_METRICS = "span_metrics"
"""The span metrics connector's type (``spanmetrics`` is a deprecated alias since contrib 0.155)."""

DYNATRACE_COMPONENTS: Mapping[str, frozenset[str]] = {
    "receivers": frozenset({
        "otlp", "filelog", "fluentforward", "hostmetrics", "jaeger", "journald", "netflow", "prometheus", "statsd",
        "syslog", "zipkin", "k8sobjects", "kubeletstats", "k8s_cluster", "k8sevents", "kafka", "kafkametrics"}),
    "processors": frozenset({
        "batch", "memory_limiter", "attributes", "cumulativetodelta", "cumulative_to_delta", "filter", "k8sattributes",
        "metricstarttime", "probabilistic_sampler", "redaction", "resourcedetection", "resource", "tail_sampling",
        "genainormalizer", "transform"}),
    "exporters": frozenset({"debug", "otlp", "otlp_grpc", "otlphttp", "otlp_http", "loadbalancing", "kafka"}),
    "extensions": frozenset({"zpages", "bearertokenauth", "oidc", "k8s_leader_elector", "health_check",
                             "file_storage"}),
    "connectors": frozenset({"forward", "spanmetrics", "span_metrics"}),
}
"""Component types the Dynatrace distribution ships (its builder manifest); nothing else may be configured."""


def ottl_string(text: str) -> str:
    """``text`` as an OTTL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


REQUEST_SPAN_DROP = (f"instrumentation_scope.name != {ottl_string(telemetry.KONG_SCOPE)}"
                     " or kind != SPAN_KIND_SERVER")
"""The filter's drop condition: everything but Kong's request span, which is the one SERVER span in Kong's scope on
every release from 3.0 (its children are INTERNAL or CLIENT; a caller's span, its parent when Kong continues a
trace, belongs to the caller's scope and process). Not by name: Kong 3.0-3.2 name it ``"<METHOD> <path>"``."""


def attribute(name: str) -> str:
    return f"span.attributes[{ottl_string(name)}]"


def resource_attribute(name: str) -> str:
    return f"resource.attributes[{ottl_string(name)}]"


def set_attribute(name: str, value: str, where: str | None = None) -> str:
    statement = f"set({attribute(name)}, {ottl_string(value)})"
    return statement if where is None else f"{statement} where {where}"


def _objective(name: str, default: str) -> tuple[str, str]:
    """Copy the API's objective from the resource to the span (the API's plugin sends it), or the default."""
    return (f"set({attribute(name)}, {resource_attribute(name)}) where {resource_attribute(name)} != nil",
            set_attribute(name, default, f"{resource_attribute(name)} == nil"))


LATENCY = attribute(telemetry.LATENCY_OBJECTIVE_ATTRIBUTE)
FAIL_ON = attribute(telemetry.FAIL_ON_ATTRIBUTE)
OFF = ottl_string(telemetry.OBJECTIVE_OFF)


def _listed(item: str) -> str:
    return f"ContainsValue(Split({FAIL_ON}, {ottl_string(',')}), {item})"


STATUS_TEXT = f"Format({ottl_string('%d')}, [{STATUS_CODE}])"
STATUS_CLASS = f"Format({ottl_string('%dxx')}, [{STATUS_CODE} / 100])"
FAILED = f"{STATUS_CODE} != nil and ({_listed(STATUS_TEXT)} or {_listed(STATUS_CLASS)})"
"""True when the span's status code, or its class (``5xx``), is in the request's ``failOn`` list."""


@dataclass(frozen=True)
class SloRule:
    """OTTL statements of one context, run in order on every span the filter kept."""

    context: str
    statements: tuple[str, ...]
    summary: str


SLO_RULES = (
    SloRule("span", (
        *_objective(telemetry.LATENCY_OBJECTIVE_ATTRIBUTE, str(telemetry.DEFAULT_LATENCY_MS)),
        set_attribute(telemetry.LATENCY_DIMENSION, telemetry.LATENCY_BAD),
        set_attribute(telemetry.LATENCY_DIMENSION, telemetry.LATENCY_GOOD,
                      f"{SPAN_DURATION_NS} <= Int({LATENCY}) * 1000000"),
        f"delete_key(span.attributes, {ottl_string(telemetry.LATENCY_DIMENSION)}) where {LATENCY} == {OFF}",
    ), f"latency: good within the API's threshold (sent by its plugin; {telemetry.DEFAULT_LATENCY_MS} ms when it "
       "sends none)"),
    SloRule("span", (
        STATUS_FALLBACK,
        *_objective(telemetry.FAIL_ON_ATTRIBUTE, ",".join(telemetry.DEFAULT_FAIL_ON)),
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_UNKNOWN),
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_SUCCESS, f"{STATUS_CODE} != nil"),
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_FAILURE, FAILED),
        f"delete_key(span.attributes, {ottl_string(telemetry.OUTCOME_DIMENSION)}) where {FAIL_ON} == {OFF}",
    ), f"availability: fails on the API's failOn list (sent by its plugin; {','.join(telemetry.DEFAULT_FAIL_ON)} "
       "when it sends none)"),
    SloRule("span", tuple(f"delete_key(span.attributes, {ottl_string(name)})" for name in (
        telemetry.LATENCY_OBJECTIVE_ATTRIBUTE, telemetry.FAIL_ON_ATTRIBUTE)), "the objectives, once read"),
    SloRule("resource", tuple(f"delete_key(resource.attributes, {ottl_string(name)})" for name in (
        telemetry.LATENCY_OBJECTIVE_ATTRIBUTE, telemetry.FAIL_ON_ATTRIBUTE)), "and from the resource: no dimension"),
)
"""The marks, the same for every API: each request carries its API's objectives. An objective switched off (``off``)
removes its mark; an unreadable one leaves the mark as set before (OTTL's ``error_mode: ignore``)."""


def sampling_percentage(share: float) -> str:
    """``traceSampling`` (a share in (0, 1]) as the probabilistic sampler's percentage, without float noise."""
    return f"{round(share * 100, 6):g}"


@dataclass(frozen=True)
class CollectorModel:
    """Every value the collector config, the compose file and the cloud-init need."""

    stack: str
    image: str
    distribution: str
    open_grpc: bool
    loopback_only: bool
    """Publish OTLP on 127.0.0.1 only (target local); on aws the security group restricts 4318."""
    health_published: bool
    """Publish the health endpoint beyond 127.0.0.1, for a load balancer's health checks (a tier); the security
    group admits the load balancer's subnets only."""
    queue_volume: bool
    """The queue lives on the host's queue volume (a single aws host), not in a Docker volume on the root disk."""
    exporter: str
    """``otlp_http/dynatrace``, or ``debug`` when no Dynatrace is configured."""
    counts_exporter: str
    """``otlp_http/dynatrace_counts``, or ``debug`` when no Dynatrace is configured."""
    otlp_endpoint: str | None
    sampling_percentage: str | None
    """``None`` when every trace is forwarded."""

    @property
    def rules(self) -> tuple[SloRule, ...]:
        return SLO_RULES

    @property
    def request_span_drop(self) -> str:
        """The filter condition that keeps only Kong's request span (:data:`REQUEST_SPAN_DROP`)."""
        return REQUEST_SPAN_DROP

    @property
    def persistent_queue(self) -> bool:
        return self.otlp_endpoint is not None

    @property
    def exporters(self) -> tuple[str, ...]:
        """Every exporter the config defines (one ``debug`` stands in for both without Dynatrace)."""
        return tuple(dict.fromkeys((self.counts_exporter, self.exporter)))

    @property
    def token_file(self) -> str | None:
        """Where the container reads the token from a file (local), or ``None`` (aws: an env file)."""
        return TOKEN_FILE if self.loopback_only and self.otlp_endpoint is not None else None

    @property
    def token_reference(self) -> str:
        """How the collector config refers to the token: never the value itself."""
        return f"${{file:{TOKEN_FILE}}}" if self.token_file else f"${{env:{TOKEN_ENV_VAR}}}"


def collector_model(settings: StackSettings) -> CollectorModel:
    dynatrace = settings.dynatrace
    endpoint = None if dynatrace is None else f"{dynatrace.environment_url.rstrip('/')}/api/v2/otlp"
    sampling = settings.collector.trace_sampling
    return CollectorModel(
        stack=settings.stack,
        image=settings.collector.image,
        distribution=settings.collector.distribution,
        open_grpc=settings.collector.open_grpc,
        loopback_only=settings.target == "local",
        health_published=settings.collector.is_tier,
        queue_volume=settings.target == "aws" and not settings.collector.is_tier,
        exporter="debug" if endpoint is None else EXPORTER,
        counts_exporter="debug" if endpoint is None else COUNTS_EXPORTER,
        otlp_endpoint=endpoint,
        sampling_percentage=None if sampling >= 1 else sampling_percentage(sampling),
    )


def components_outside(document: Mapping[str, object], allowed: Mapping[str, frozenset[str]]) -> list[str]:
    """``kind/id`` of every configured component whose type is not in ``allowed``."""
    outside: list[str] = []
    for kind, names in allowed.items():
        section = document.get(kind) or {}
        if not isinstance(section, Mapping):
            continue
        outside += [f"{kind}/{component_id}" for component_id in section
                    if str(component_id).split("/", 1)[0] not in names]
    return outside
