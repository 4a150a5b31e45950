"""A stand-in for Kong's ``opentelemetry`` plugin on the wire: the OTLP/HTTP trace exports Kong sends.

What Kong puts in an export, from its source (Kong/kong ``kong/tracing/instrumentation.lua`` @3.0.0-@3.7.0,
``kong/observability/tracing/instrumentation.lua`` @3.8.0-@3.9.1, ``kong/plugins/opentelemetry/otlp.lua``
@3.0.0-@3.8.0 and ``kong/observability/otlp/init.lua`` @3.9.0; 3.12.0 is an Enterprise build and is taken as 3.9):
- one ``ExportTraceServiceRequest`` per plugin instance and batch (each API has its own plugin, so its own
  resource), protobuf, ``Content-Type: application/x-protobuf``, not compressed;
- resource attributes ``service.name`` (``kong`` unless the plugin's ``resource_attributes`` set it),
  ``service.instance.id`` (the node id) and ``service.version`` (the Kong version), plus the plugin's own;
- scope ``kong-internal`` version ``0.1.0`` on every release (``otlp.lua`` @3.0.0, @3.8.0; ``otlp/init.lua`` @3.9.0);
- per request one root span of kind SERVER (``span_kind = 2`` in ``_M.request``; no other span Kong starts is a
  SERVER span, @3.0.0 to @3.9.1), from the start of processing to the end of the body filter. Its name is
  ``"<METHOD> <path>"`` up to 3.2 (``local span_name = method .. " " .. path`` @3.0.0, @3.2.0) and ``kong`` from
  3.3 (``tracer.start_span("kong", …)`` @3.3.0). It carries ``http.method``, ``http.url`` (the request URI up to
  3.1, the full URL from 3.2), ``http.host``, ``http.scheme``, ``http.flavor``, ``net.peer.ip``; from 3.3
  ``http.client_ip``; from 3.5 ``kong.request.id``; the status (:func:`status_attribute`, 3.2+) and, from 3.4,
  ``http.route`` — both set in ``runloop_before_header_filter``, so a request whose client went away before
  Kong sent the response headers (nginx 499) carries neither, and its span ends when Kong logs it
  (``runloop_log_before`` finishes it at ``KONG_BODY_FILTER_ENDED_AT_NS``, nil then: now);
- with ``tracing_instrumentations = all``, children: the router, one access and one header-filter span per
  plugin, and a balancer span (kind CLIENT) per upstream try (``http.status_code`` only on a failed try).
  Up to 3.2 they are named ``router``, ``access phase: <plugin>``, ``header_filter phase: <plugin>``,
  ``balancer try #<n>``; from 3.3 ``kong.router``, ``kong.access.plugin.<plugin>``,
  ``kong.header_filter.plugin.<plugin>``, ``kong.balancer``.
Whether a request is exported at all (a caller's ``sampled=0`` against the plugin's propagation settings, the
plugin's sampling rate) and which attribute carries the status are Kong's rules in
:mod:`tests.fakes.kong_tracing_rules`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.fakes.kong_tracing_rules import exports_spans, parent_sampled, status_attribute

SERVER = trace_pb2.Span.SpanKind.SPAN_KIND_SERVER
CLIENT = trace_pb2.Span.SpanKind.SPAN_KIND_CLIENT
INTERNAL = trace_pb2.Span.SpanKind.SPAN_KIND_INTERNAL
VERSIONS = ("3.0.0", "3.1.1", "3.2.0", "3.3.0", "3.4.2", "3.5.0", "3.9.1", "3.12.0")
"""One release per shape of Kong's spans that kong-slo supports (3.0 on); the e2e tests feed each."""
SCOPE = "kong-internal"
"""The instrumentation scope of every span Kong exports."""
BATCH_SIZE = 200
"""Kong's plugin queue default ``max_batch_size``."""


@dataclass(frozen=True)
class KongRequest:
    """One request through Kong, as the SLOs see it."""

    api: str
    duration_ms: float
    status: int | None
    """The response status; None when the client went away before Kong sent the headers (nginx logs 499)."""
    route: str = "/"
    method: str = "GET"
    plugins: tuple[str, ...] = ("opentelemetry",)
    traceparent: str | None = None
    """The caller's W3C trace context, if it sent one."""

    @property
    def path(self) -> str:
        return f"{self.route.rstrip('/')}/1"


def _value(value: object) -> common_pb2.AnyValue:
    if isinstance(value, bool):
        return common_pb2.AnyValue(bool_value=value)
    if isinstance(value, int):
        return common_pb2.AnyValue(int_value=value)
    if isinstance(value, float):
        return common_pb2.AnyValue(double_value=value)
    return common_pb2.AnyValue(string_value=str(value))


def _attributes(values: dict[str, object]) -> list[common_pb2.KeyValue]:
    return [common_pb2.KeyValue(key=key, value=_value(value)) for key, value in values.items()]


def _release(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def root_span_name(request: KongRequest, version: str) -> str:
    """``"<METHOD> <path>"`` up to 3.2 (instrumentation.lua@3.2.0), ``kong`` from 3.3 (@3.3.0)."""
    return "kong" if _release(version) >= (3, 3) else f"{request.method} {request.path}"


def _root_attributes(request: KongRequest, version: str, rng: random.Random) -> dict[str, object]:
    release = _release(version)
    url = f"http://kong.example:8000{request.path}" if release >= (3, 2) else request.path
    values: dict[str, object] = {"http.method": request.method, "http.url": url, "http.host": "kong.example",
                                 "http.scheme": "http", "http.flavor": "1.1"}
    if release >= (3, 3):
        values["http.client_ip"] = "10.0.0.7"
    values["net.peer.ip"] = "10.0.0.7"
    if release >= (3, 5):
        values["kong.request.id"] = rng.randbytes(12).hex()
    if request.status is not None:  # runloop_before_header_filter: only once response headers go out
        if (attribute := status_attribute(version)) is not None:
            values[attribute] = request.status
        if release >= (3, 4):
            values["http.route"] = request.route
    return values


def request_spans(request: KongRequest, version: str, *, end_ns: int, rng: random.Random) -> list[trace_pb2.Span]:
    """The spans Kong exports for one request: the root span first, then its children."""
    trace_id = rng.randbytes(16)
    parent_id = b""
    if parent_sampled(request.traceparent):  # a sampled caller's trace continues through Kong
        trace_id, parent_id = bytes.fromhex(request.traceparent[3:35]), bytes.fromhex(request.traceparent[36:52])
    root_id = rng.randbytes(8)
    start_ns = end_ns - int(request.duration_ms * 1_000_000)
    root = trace_pb2.Span(trace_id=trace_id, span_id=root_id, parent_span_id=parent_id,
                          name=root_span_name(request, version), kind=SERVER, start_time_unix_nano=start_ns,
                          end_time_unix_nano=end_ns, attributes=_attributes(_root_attributes(request, version, rng)))

    def child(name: str, kind: int, begin: float, end: float, **attributes: object) -> trace_pb2.Span:
        length = end_ns - start_ns
        return trace_pb2.Span(trace_id=trace_id, span_id=rng.randbytes(8), parent_span_id=root_id, name=name,
                              kind=kind, start_time_unix_nano=start_ns + int(length * begin),
                              end_time_unix_nano=start_ns + int(length * end), attributes=_attributes(attributes))

    new_names = _release(version) >= (3, 3)
    children = [child("kong.router" if new_names else "router", INTERNAL, 0.0, 0.01)]
    for plugin in request.plugins:
        name = f"kong.access.plugin.{plugin}" if new_names else f"access phase: {plugin}"
        children.append(child(name, INTERNAL, 0.01, 0.02))
    upstream: dict[str, object] = {"net.peer.ip": "10.0.1.20", "net.peer.port": 8080}
    children.append(child("kong.balancer" if new_names else "balancer try #1", CLIENT, 0.02, 0.98, **upstream))
    if request.status is not None:  # the header filter runs only when Kong answers
        for plugin in request.plugins:
            name = f"kong.header_filter.plugin.{plugin}" if new_names else f"header_filter phase: {plugin}"
            children.append(child(name, INTERNAL, 0.98, 0.99))
    return [root, *children]


def export_requests(requests_: Sequence[KongRequest], version: str, *, seed: int = 0, end_ns: int | None = None,
                    plugin_configs: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> list[trace_service_pb2.ExportTraceServiceRequest]:
    """The OTLP exports Kong sends for ``requests_``: per API (plugin instance), batches of ``BATCH_SIZE``, only
    for the requests Kong exports under each API's plugin config (``plugin_configs``, by API; none: defaults)."""
    rng = random.Random(seed)
    now = end_ns or _now_ns()
    by_api: dict[str, list[KongRequest]] = {}
    for request in requests_:
        config = dict((plugin_configs or {}).get(request.api) or {})
        if exports_spans(version, config, request.traceparent):
            by_api.setdefault(request.api, []).append(request)
    exports = []
    for api, api_requests in by_api.items():
        own = dict(((plugin_configs or {}).get(api) or {}).get("resource_attributes") or {"service.name": api})
        resource = _attributes({"service.name": "kong", **own, "service.instance.id": "0e6b1f9a-kong-node",
                                "service.version": version})
        for first in range(0, len(api_requests), BATCH_SIZE):
            spans = [span for request in api_requests[first:first + BATCH_SIZE]
                     for span in request_spans(request, version, end_ns=now, rng=rng)]
            exports.append(trace_service_pb2.ExportTraceServiceRequest(resource_spans=[
                trace_pb2.ResourceSpans(resource={"attributes": resource}, scope_spans=[
                    trace_pb2.ScopeSpans(scope={"name": SCOPE, "version": "0.1.0"}, spans=spans)])]))
    return exports


def send(traces_url: str, exports: Iterable[trace_service_pb2.ExportTraceServiceRequest],
         session: requests.Session | None = None) -> int:
    """POST each export as Kong does; returns how many were accepted (2xx)."""
    http = session or requests.Session()
    accepted = 0
    for export in exports:
        reply = http.post(traces_url, data=export.SerializeToString(), timeout=10,
                          headers={"Content-Type": "application/x-protobuf", "User-Agent": "kong"})
        accepted += reply.ok
    return accepted


def _now_ns() -> int:
    return time.time_ns()
