"""What the collector deployment is made of, computed from the stack settings (pure, no I/O).

The templates in ``templates/`` lay these values out; everything that needs a decision (histogram
buckets, which APIs share which OTTL rules, memory sizing, the components a distribution ships)
is decided here so it can be tested without rendering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kong_slo import telemetry
from kong_slo.settings import Api, StackSettings

OTLP_HTTP_PORT = 4318
OTLP_GRPC_PORT = 4317
HEALTH_PORT = 13133
COLLECTOR_CONFIG_PATH = "/etc/otelcol/config.yaml"
"""Where the rendered config is mounted in the collector container."""
QUEUE_DIRECTORY = "/var/lib/otelcol/file_storage"
"""The persistent sending queue (``file_storage``); must exist and be writable by ``COLLECTOR_UID``."""
COLLECTOR_UID = 10001
"""Both collector images run as this uid on a ``scratch`` base."""
TOKEN_ENV_VAR = "DT_API_TOKEN"
TOKEN_ENV_FILE = "collector.env"
"""The env file holding ``DT_API_TOKEN=...``, next to docker-compose.yml; never rendered, only referenced."""

CONTAINER_MEMORY_MIB = 1024
MEMORY_LIMIT_MIB = 800
"""memory_limiter hard limit, below the container limit so the collector refuses data before the OOM killer."""
MEMORY_SPIKE_MIB = 160
GOMEMLIMIT_MIB = 640
"""About 80 % of the memory_limiter's hard limit, as Dynatrace recommends."""

DEFAULT_BUCKETS_MS = (2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000)
"""The spanmetrics connector's default explicit buckets; every SLO threshold is added to them."""

STATUS_CODE = f'attributes["{telemetry.STATUS_ATTRIBUTE}"]'
SPAN_DURATION_NS = "end_time_unix_nano - start_time_unix_nano"

DYNATRACE_COMPONENTS: Mapping[str, frozenset[str]] = {
    "receivers": frozenset({
        "otlp", "filelog", "fluentforward", "hostmetrics", "jaeger", "journald", "netflow", "prometheus", "statsd",
        "syslog", "zipkin", "k8sobjects", "kubeletstats", "k8s_cluster", "k8sevents", "kafka", "kafkametrics"}),
    "processors": frozenset({
        "batch", "memory_limiter", "attributes", "cumulativetodelta", "filter", "k8sattributes", "metricstarttime",
        "probabilistic_sampler", "redaction", "resourcedetection", "resource", "tail_sampling", "genainormalizer",
        "transform"}),
    "exporters": frozenset({"debug", "otlp", "otlp_grpc", "otlphttp", "otlp_http", "loadbalancing", "kafka"}),
    "extensions": frozenset({"zpages", "bearertokenauth", "oidc", "k8s_leader_elector", "health_check",
                             "file_storage"}),
    "connectors": frozenset({"forward", "spanmetrics"}),
}
"""Component types the Dynatrace distribution ships (its builder manifest); nothing else may be configured."""


def ottl_string(text: str) -> str:
    """``text`` as an OTTL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def attribute(name: str) -> str:
    return f"attributes[{ottl_string(name)}]"


def set_attribute(name: str, value: str, where: str | None = None) -> str:
    statement = f"set({attribute(name)}, {ottl_string(value)})"
    return statement if where is None else f"{statement} where {where}"


def histogram_buckets(thresholds_ms: Iterable[int]) -> tuple[int, ...]:
    """The default buckets plus a boundary at every threshold, so "within the threshold" is exact."""
    return tuple(sorted({*DEFAULT_BUCKETS_MS, *thresholds_ms}))


def failure_condition(fail_on: Iterable[str]) -> str:
    """An OTTL condition true when the span's status code matches a ``failOn`` entry (``5xx``, ``404``, ...)."""
    classes = sorted({int(entry[0]) for entry in fail_on if entry.lower().endswith("xx")})
    codes = sorted({int(entry) for entry in fail_on
                    if not entry.lower().endswith("xx") and int(entry) // 100 not in classes})
    parts = [f"({STATUS_CODE} >= {digit}00 and {STATUS_CODE} <= {digit}99)" for digit in classes]
    parts += [f"{STATUS_CODE} == {code}" for code in codes]
    if not parts:
        raise ValueError("failOn names no status")
    return " or ".join(parts)


def latency_statements(threshold_ms: int) -> tuple[str, ...]:
    """Mark a span bad, then good when Kong answered within the threshold (inclusive, like the bucket)."""
    return (
        set_attribute(telemetry.LATENCY_DIMENSION, telemetry.LATENCY_BAD),
        set_attribute(telemetry.LATENCY_DIMENSION, telemetry.LATENCY_GOOD,
                      f"{SPAN_DURATION_NS} <= {threshold_ms * 1_000_000}"),
    )


def outcome_statements(fail_on: tuple[str, ...]) -> tuple[str, ...]:
    """Mark a span a success, then a failure when its status code is one the API counts as failing."""
    return (
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_SUCCESS),
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_FAILURE, failure_condition(fail_on)),
    )


@dataclass(frozen=True)
class SloRule:
    """APIs sharing the same objectives, and the OTTL statements that mark their spans."""

    services: tuple[str, ...]
    threshold_ms: int | None
    fail_on: tuple[str, ...] | None

    @property
    def conditions(self) -> tuple[str, ...]:
        """One per API (the transform processor ORs a group's conditions)."""
        return tuple(f"resource.{attribute(telemetry.SERVICE_DIMENSION)} == {ottl_string(name)}"
                     for name in self.services)

    @property
    def statements(self) -> tuple[str, ...]:
        latency = () if self.threshold_ms is None else latency_statements(self.threshold_ms)
        outcome = () if self.fail_on is None else outcome_statements(self.fail_on)
        return latency + outcome

    @property
    def summary(self) -> str:
        latency = "no latency objective" if self.threshold_ms is None else f"good within {self.threshold_ms} ms"
        outcome = "no availability objective" if self.fail_on is None else f"failed on {', '.join(self.fail_on)}"
        return f"{latency}; {outcome}"


def _objective_key(api: Api) -> tuple[int | None, tuple[str, ...] | None]:
    return (None if api.latency is None else api.latency.threshold_ms,
            None if api.availability is None else api.availability.fail_on)


def slo_rules(apis: Iterable[Api]) -> tuple[SloRule, ...]:
    """Group APIs with identical objectives, in the order the stack lists them, to keep the config small."""
    groups: dict[tuple[int | None, tuple[str, ...] | None], list[str]] = {}
    for api in apis:
        groups.setdefault(_objective_key(api), []).append(api.name)
    return tuple(SloRule(tuple(names), threshold, fail_on) for (threshold, fail_on), names in groups.items())


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
    exporter: str
    """``otlphttp/dynatrace``, or ``debug`` when no Dynatrace is configured."""
    otlp_endpoint: str | None
    sampling_percentage: str | None
    """``None`` when every trace is forwarded."""
    rules: tuple[SloRule, ...]
    buckets_ms: tuple[int, ...]

    @property
    def persistent_queue(self) -> bool:
        return self.otlp_endpoint is not None


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
        exporter="debug" if endpoint is None else "otlphttp/dynatrace",
        otlp_endpoint=endpoint,
        sampling_percentage=None if sampling >= 1 else sampling_percentage(sampling),
        rules=slo_rules(settings.apis),
        buckets_ms=histogram_buckets(api.latency.threshold_ms for api in settings.apis if api.latency is not None),
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
