"""Link 3, the collector's own account: what it refused, dropped or is holding, from its own metrics (the
Prometheus text it serves on port 8888; the rendered config publishes it on the host's loopback).

The counts' exporter retries 429, 502, 503, 504 and lost connections for as long as it takes; every other answer
(400, 401, 403, 413, 500) is final, and the points are dropped (exporter/otlphttpexporter ``isRetryableStatusCode``
at 0.160.0). The collector counts them in ``otelcol_exporter_send_failed_metric_points``: doctor turns a non-zero
count into a problem, since each point is an SLO count lost. Spans the receiver refused (the memory limiter) and
spans or logs dropped for room are reported too: refused spans are requests not counted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kong_slo.collector.model import COUNTS_EXPORTER, EXPORTER
from kong_slo.doctor.reach import probe
from kong_slo.doctor.report import Check, ok, problem, skipped

LINK = "collector"
SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)')
LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')
TOKEN_FIX = ("the collector's Dynatrace token was refused or lacks a scope: check it (the dynatrace link below), "
             "put a working one in place and restart the collector")


@dataclass(frozen=True)
class Telemetry:
    """Sums of the collector's counters, by metric (without a ``_total`` suffix) and component label."""

    values: dict[tuple[str, str], float]

    def get(self, metric: str, component: str) -> float:
        return self.values.get((metric, component), 0.0)


def parse(text: str) -> Telemetry:
    """The Prometheus text exposition, summed per metric and ``exporter``/``receiver`` label."""
    values: dict[tuple[str, str], float] = defaultdict(float)
    for line in text.splitlines():
        match = SAMPLE.match(line.strip())
        if not match:
            continue
        labels = dict(LABEL.findall(match.group("labels") or ""))
        component = labels.get("exporter") or labels.get("receiver") or ""
        try:
            value = float(match.group("value"))
        except ValueError:
            continue
        values[(match.group("name").removesuffix("_total"), component)] += value
    return Telemetry(dict(values))


def check_telemetry(url: str | None, logs: str) -> list[Check]:
    """The collector's account of what it lost, read at ``url`` (``http://host:8888/metrics``)."""
    name = "collector.losses"
    if url is None:
        return [skipped(LINK, name, "not checked: pass --collector-telemetry-url (port 8888 on the collector's "
                        "host, published on its loopback) to read what the collector refused or dropped")]
    result = probe(url)
    if result.response is None:
        reason = "nothing listens" if result.refused else result.unreachable
        return [skipped(LINK, name, f"the collector's metrics at {url} not reachable from here ({reason}); run "
                        "doctor on the collector's host, or pass --collector-telemetry-url through a port forward")]
    if result.response.status_code != 200:
        return [problem(LINK, name, f"the collector's metrics at {url} answered {result.response.status_code}",
                        f"check the collector's telemetry settings and its log: {logs}")]
    return assess(parse(result.response.text), logs)


def assess(telemetry: Telemetry, logs: str) -> list[Check]:
    checks = []
    lost = telemetry.get("otelcol_exporter_send_failed_metric_points", COUNTS_EXPORTER)
    unqueued = telemetry.get("otelcol_exporter_enqueue_failed_metric_points", COUNTS_EXPORTER)
    if lost or unqueued:
        checks.append(problem(LINK, "collector.counts", f"{lost + unqueued:.0f} SLO count points were dropped since "
                              "the collector started: Dynatrace refused them for good (401/403: token; 400/413: "
                              "the request; 500: Dynatrace)", f"{TOKEN_FIX}; the reason is in its log: {logs}"))
    else:
        sent = telemetry.get("otelcol_exporter_sent_metric_points", COUNTS_EXPORTER)
        waiting = telemetry.get("otelcol_exporter_queue_size", COUNTS_EXPORTER)
        checks.append(ok(LINK, "collector.counts", f"no SLO count dropped ({sent:.0f} points sent since start, "
                         f"{waiting:.0f} bytes queued)"))
    refused = telemetry.get("otelcol_receiver_refused_spans", "otlp")
    if refused:
        checks.append(problem(LINK, "collector.refused", f"{refused:.0f} spans from Kong were refused (the memory "
                              "limiter): those requests were not counted", "give the collector more memory or "
                              f"instances (README: A collector tier); its log: {logs}"))
    dropped = sum(telemetry.get(metric, EXPORTER) for metric in (
        "otelcol_exporter_send_failed_spans", "otelcol_exporter_enqueue_failed_spans",
        "otelcol_exporter_send_failed_log_records", "otelcol_exporter_enqueue_failed_log_records"))
    if dropped:
        checks.append(problem(LINK, "collector.traces", f"{dropped:.0f} spans and log records were dropped (refused "
                              "by Dynatrace, or no room left in the queue); the SLO counts are not affected",
                              f"{TOKEN_FIX}; its log: {logs}"))
    return checks
