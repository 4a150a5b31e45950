"""OTLP/HTTP ingest as Dynatrace does it at ``/api/v2/otlp/v1/{traces,metrics,logs}``.

Rules, from Dynatrace's OTLP API documentation ("OpenTelemetry metrics limitations", "OTLP API"):
- HTTP with protobuf bodies only; any other content type gets 415. gzip request bodies are accepted.
- Metrics are delta only: a monotonic *cumulative* sum is dropped (reported as rejected points in the
  partial-success answer), a non-monotonic cumulative sum is kept as a gauge.
- A monotonic delta sum ``x`` is stored under the key ``x.count``; gauges and non-monotonic sums under ``x``.
- Data-point attributes, scope attributes and resource attributes become the point's dimensions.
- Explicit-bucket histograms are kept apart (their key and count), so tests can see what would be ingested.
"""

from __future__ import annotations

import gzip
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

from tests.fakes.dynatrace_metrics import MetricStore

PROTOBUF = "application/x-protobuf"
CUMULATIVE = metrics_pb2.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


@dataclass(frozen=True)
class IngestedSpan:
    name: str
    kind: int
    trace_id: str
    service: str | None
    attributes: dict[str, Any]


@dataclass
class OtlpIngest:
    """What arrived over OTLP. ``available = False`` answers 503 (counted in ``refused``), as an ingest that is
    down behind its load balancer would."""

    metrics: MetricStore
    spans: list[IngestedSpan] = field(default_factory=list)
    histograms: list[tuple[str, int]] = field(default_factory=list)
    log_records: int = 0
    rejected_points: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    """Requests answered 503 while unavailable, by signal (``traces``, ``metrics``, ``logs``)."""
    available: bool = True
    keep_spans: bool = True
    """False: traces are accepted without being decoded (a cheap sink for load benchmarks)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, signal: str, headers: Any, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        """Answer one OTLP request: status, protobuf body and headers."""
        if not self.available:
            with self.lock:
                self.refused[signal] += 1
            return 503, b"", {"Retry-After": "1"}
        if (headers.get("Content-Type") or "").split(";")[0].strip() != PROTOBUF:
            return 415, b"", {}
        if (headers.get("Content-Encoding") or "").lower() == "gzip":
            raw = gzip.decompress(raw)
        handler = {"traces": self._traces, "metrics": self._metrics, "logs": self._logs}.get(signal)
        if handler is None:
            return 404, b"", {}
        with self.lock:
            body = handler(raw)
        return 200, body, {"Content-Type": PROTOBUF}

    def _traces(self, raw: bytes) -> bytes:
        if not self.keep_spans:
            return trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(raw)
        for resource_spans in request.resource_spans:
            resource = attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(IngestedSpan(span.name, span.kind, span.trace_id.hex(),
                                                   resource.get("service.name"), attributes(span.attributes)))
        return trace_service_pb2.ExportTraceServiceResponse().SerializeToString()

    def _metrics(self, raw: bytes) -> bytes:
        request = metrics_service_pb2.ExportMetricsServiceRequest.FromString(raw)
        rejected = 0
        for resource_metrics in request.resource_metrics:
            resource = attributes(resource_metrics.resource.attributes)
            for scope_metrics in resource_metrics.scope_metrics:
                scope = attributes(scope_metrics.scope.attributes)
                for metric in scope_metrics.metrics:
                    rejected += self._metric(metric, {**resource, **scope})
        self.rejected_points += rejected
        response = metrics_service_pb2.ExportMetricsServiceResponse()
        if rejected:
            response.partial_success.rejected_data_points = rejected
            response.partial_success.error_message = "cumulative sums are not supported; send delta temporality"
        return response.SerializeToString()

    def _metric(self, metric: metrics_pb2.Metric, context: dict[str, Any]) -> int:
        kind = metric.WhichOneof("data")
        if kind == "sum":
            cumulative = metric.sum.aggregation_temporality == CUMULATIVE
            if cumulative and metric.sum.is_monotonic:
                return len(metric.sum.data_points)
            key = metric.name + (".count" if metric.sum.is_monotonic else "")
            for point in metric.sum.data_points:
                self._add(key, context, point)
        elif kind == "gauge":
            for point in metric.gauge.data_points:
                self._add(metric.name, context, point)
        elif kind == "histogram":
            self.histograms.extend((metric.name, point.count) for point in metric.histogram.data_points)
        return 0

    def _add(self, key: str, context: dict[str, Any], point: metrics_pb2.NumberDataPoint) -> None:
        value = point.as_int if point.WhichOneof("value") == "as_int" else point.as_double
        dimensions = {name: str(value) for name, value in {**context, **attributes(point.attributes)}.items()}
        self.metrics.add(key, dimensions, value, point.time_unix_nano // 1_000_000)

    def _logs(self, raw: bytes) -> bytes:
        request = logs_service_pb2.ExportLogsServiceRequest.FromString(raw)
        self.log_records += sum(len(scope.log_records) for resource in request.resource_logs
                                for scope in resource.scope_logs)
        return logs_service_pb2.ExportLogsServiceResponse().SerializeToString()


def attributes(pairs: Any) -> dict[str, Any]:
    """OTLP key-value pairs as a plain dict (scalars only; arrays and maps as their text)."""
    return {pair.key: any_value(pair.value) for pair in pairs}


def any_value(value: common_pb2.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in ("string_value", "int_value", "double_value", "bool_value") else str(value)
