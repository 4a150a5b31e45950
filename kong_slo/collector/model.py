"""What the collector deployment is made of, computed from the stack settings (pure, no I/O).

The templates in ``templates/`` lay these values out; everything that needs a decision (histogram
buckets, which APIs share which OTTL rules, memory sizing, the components a distribution ships)
is decided here so it can be tested without rendering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from kong_slo import telemetry
from kong_slo.kong.release_facts import NEWER_STATUS_ATTRIBUTE
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

T = TypeVar("T")

# OTTL paths carry their context prefix (`span.`, `resource.`), as the transform processor asks since 0.1xx.
STATUS_CODE = f'span.attributes["{telemetry.STATUS_ATTRIBUTE}"]'
NEWER_STATUS_CODE = f'span.attributes["{NEWER_STATUS_ATTRIBUTE}"]'
STATUS_FALLBACK = f"set({STATUS_CODE}, {NEWER_STATUS_CODE}) where {STATUS_CODE} == nil and {NEWER_STATUS_CODE} != nil"
"""A span carrying its status under the current semantic-convention name is judged by it too. (Setting nil is
deprecated in OTTL: the collector warns on every span, and a future release will delete the attribute.)"""
SPAN_DURATION_NS = "span.end_time_unix_nano - span.start_time_unix_nano"
EXPORTER = "otlp_http/dynatrace"
"""The OTLP/HTTP exporter's type is ``otlp_http`` (``otlphttp`` is a deprecated alias since collector 0.144)."""
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


def set_attribute(name: str, value: str, where: str | None = None) -> str:
    statement = f"set({attribute(name)}, {ottl_string(value)})"
    return statement if where is None else f"{statement} where {where}"


def _status_ranges(fail_on: Iterable[str]) -> list[tuple[int, int]]:
    """Inclusive status ranges: classes (``5xx``) and codes (``404``), merged where they touch or overlap."""
    ranges = sorted((int(entry[0]) * 100, int(entry[0]) * 100 + 99) if entry.lower().endswith("xx")
                    else (int(entry), int(entry)) for entry in fail_on)
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def failure_condition(fail_on: Iterable[str]) -> str:
    """An OTTL condition true when the span's status code matches a ``failOn`` entry (``5xx``, ``404``, ...).

    A span without a status code compares false everywhere; ``outcome_statements`` marks it ``unknown``."""
    parts = [f"{STATUS_CODE} == {low}" if low == high else f"({STATUS_CODE} >= {low} and {STATUS_CODE} <= {high})"
             for low, high in _status_ranges(fail_on)]
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
    """Mark a span ``unknown``; a success once it has a status code; a failure when that code is one the API
    counts as failing. A span without a status is never a success (the availability SLI counts successes)."""
    return (
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_UNKNOWN),
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_SUCCESS, f"{STATUS_CODE} != nil"),
        set_attribute(telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_FAILURE, failure_condition(fail_on)),
    )


def unmark_statement(dimension: str) -> str:
    return f"delete_key(span.attributes, {ottl_string(dimension)})"


@dataclass(frozen=True)
class SloRule:
    """OTTL statements and the APIs they apply to (``services`` empty: every span)."""

    services: tuple[str, ...]
    statements: tuple[str, ...]
    summary: str

    @property
    def conditions(self) -> tuple[str, ...]:
        """One per API (the transform processor ORs a group's conditions)."""
        return tuple(f"resource.attributes[{ottl_string(telemetry.SERVICE_DIMENSION)}] == {ottl_string(name)}"
                     for name in self.services)


def _grouped(pairs: Iterable[tuple[T, str]]) -> dict[T, tuple[str, ...]]:
    groups: dict[T, list[str]] = {}
    for key, name in pairs:
        groups.setdefault(key, []).append(name)
    return {key: tuple(names) for key, names in groups.items()}


def _most_common(groups: Mapping[T, tuple[str, ...]]) -> T | None:
    """The key most APIs share (the first listed on a tie)."""
    return max(groups, key=lambda key: len(groups[key]), default=None)


def slo_rules(apis: Iterable[Api]) -> tuple[SloRule, ...]:
    """The transform rules, sized by the exceptions rather than by the number of APIs.

    First every span gets the marks of the most common latency threshold and failOn list; then the APIs
    with another threshold or list get theirs (APIs sharing one share a rule, in stack order), and the
    APIs with an objective switched off lose that mark. Later statements win, so each API ends up with
    exactly its own objectives. Spans of services the stack does not list are marked by the first rule,
    which no SLO reads.
    """
    apis = tuple(apis)
    latency = _grouped((api.latency.threshold_ms, api.name) for api in apis if api.latency is not None)
    outcome = _grouped((api.availability.fail_on, api.name) for api in apis if api.availability is not None)
    base_threshold, base_fail_on = _most_common(latency), _most_common(outcome)

    parts: list[tuple[tuple[str, ...], tuple[str, ...], str]] = []
    base_statements: tuple[str, ...] = ()
    base_summary: list[str] = []
    if base_threshold is not None:
        base_statements += latency_statements(base_threshold)
        base_summary.append(f"latency good within {base_threshold} ms")
    if base_fail_on is not None:
        base_statements += (STATUS_FALLBACK, *outcome_statements(base_fail_on))
        base_summary.append(f"availability fails on {', '.join(base_fail_on)}")
    parts.append(((), base_statements, "; ".join(base_summary)))
    parts += [(names, latency_statements(threshold), f"latency good within {threshold} ms")
              for threshold, names in latency.items() if threshold != base_threshold]
    parts += [(names, outcome_statements(fail_on), f"availability fails on {', '.join(fail_on)}")
              for fail_on, names in outcome.items() if fail_on != base_fail_on]
    for dimension, base, label, has_objective in (
            (telemetry.LATENCY_DIMENSION, base_threshold, "latency", lambda api: api.latency is not None),
            (telemetry.OUTCOME_DIMENSION, base_fail_on, "availability", lambda api: api.availability is not None)):
        without = tuple(api.name for api in apis if not has_objective(api))
        if base is not None and without:
            parts.append((without, (unmark_statement(dimension),), f"no {label} objective"))

    rules: dict[tuple[str, ...], SloRule] = {}
    for names, statements, summary in parts:
        known = rules.get(names)
        rules[names] = SloRule(names, statements, summary) if known is None else SloRule(
            names, known.statements + statements, f"{known.summary}; {summary}")
    return tuple(rule for rule in rules.values() if rule.statements)


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
    exporter: str
    """``otlp_http/dynatrace``, or ``debug`` when no Dynatrace is configured."""
    otlp_endpoint: str | None
    sampling_percentage: str | None
    """``None`` when every trace is forwarded."""
    rules: tuple[SloRule, ...]

    @property
    def request_span_drop(self) -> str:
        """The filter condition that keeps only Kong's request span (:data:`REQUEST_SPAN_DROP`)."""
        return REQUEST_SPAN_DROP

    @property
    def persistent_queue(self) -> bool:
        return self.otlp_endpoint is not None

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
        exporter="debug" if endpoint is None else EXPORTER,
        otlp_endpoint=endpoint,
        sampling_percentage=None if sampling >= 1 else sampling_percentage(sampling),
        rules=slo_rules(settings.apis),
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
