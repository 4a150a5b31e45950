"""A whole deployed stack for ``kong-slo doctor`` tests: the Kong and Dynatrace emulators holding what
``pulumi up`` leaves behind, and a stand-in collector (a tiny HTTP server on 127.0.0.1 answering like the
health_check extension and the OTLP/HTTP receiver). Tests break one link and read what doctor says."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kong_slo.cli import main
from kong_slo.dynatrace.alerting import (
    ALERTING_PROFILE_SCHEMA,
    METRIC_EVENT_SCHEMA,
    NOTIFICATION_SCHEMA,
    alerting_profile_value,
    burn_rate_alerts,
    email_notification_value,
    notification_external_id,
    profile_external_id,
)
from kong_slo.kong.payload import plugin_body
from kong_slo.objectives.sli import slo_definitions, slo_payload
from kong_slo.secrets import Secret
from kong_slo.settings import KongVersion, StackSettings, load_stack_file
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_schema import RELEASES
from tests.fakes.loopback_server import LoopbackServer
from tests.unit.stack_files import write_aws_stack

DT_TOKEN = "dt0c01.DOCTORPUBLIC.DOCTORSECRETPARTNEVERSHOWN"
KONG_TOKEN = "kong-admin-token-DOCTOR-NEVER-SHOWN"
STACK = "ci"
EMAILS = ["sre@example.com"]


class _CollectorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/":
            self._reply(200, {"status": "Server available", "upSince": "2026-01-05T09:00:00Z"})
        else:
            self._reply(405, {"code": 405, "message": "method not allowed"})  # OTLP/HTTP takes POST only

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StandInCollector:
    """A health endpoint and OTLP port on one loopback port. ``stop`` may come early (the collector going down);
    the context manager stops it in any case."""

    def __init__(self) -> None:
        self.http = LoopbackServer(_CollectorHandler)
        self.url = self.http.url

    def __enter__(self) -> StandInCollector:
        self.http.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.http.stop()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


@dataclass
class Chain:
    kong: FakeKong
    dynatrace: FakeDynatrace
    collector: StandInCollector
    directory: Path
    kong_overrides: dict[str, Any] = field(default_factory=dict)
    apis: list[dict[str, Any]] = field(default_factory=lambda: [{"name": "HealthService"}, {"name": "Orders"}])

    collector_elsewhere: str | None = None
    """Where the stack says the collector is, when not the stand-in (e.g. a name only Kong's network knows)."""

    @property
    def collector_url(self) -> str:
        return self.collector_elsewhere or self.collector.url

    def stack_file(self) -> Path:
        kong = {"adminUrl": self.kong.url, "collectorUrl": self.collector_url, "adminToken": Secret(KONG_TOKEN),
                **self.kong_overrides}
        return write_aws_stack(self.directory, STACK, kong=kong, apis=self.apis,
                               dynatrace={"environmentUrl": "https://abc12345.live.dynatrace.com",
                                          "apiToken": Secret(DT_TOKEN), "alerting": {"emails": EMAILS}})

    def settings(self) -> StackSettings:
        return load_stack_file(self.stack_file(), STACK)

    def deploy(self, *, skip_plugin: str | None = None, skip_slo: str | None = None,
               skip_alert: str | None = None, data: bool = True) -> None:
        """What `pulumi up` leaves: services with a route each, a plugin per API, SLOs, alerting, and (with
        ``data``) a few counted calls per API in the last minutes."""
        settings = self.settings()
        for api in settings.apis:
            self.kong.add_service(api.name)
            self.kong.add_route(f"{api.name.lower()}-route", api.name)
            if api.name != skip_plugin:
                body = plugin_body(api, stack=STACK, collector_url=self.collector_url,
                                   export_logs=settings.kong.export_logs, version=_kong_version(self.kong))
                if api.route:
                    self.kong.add_plugin(body, route=api.route)
                else:
                    self.kong.add_plugin(body, service=api.name)
        for definition in slo_definitions(settings):
            if definition.name != skip_slo:
                self.add_slo(slo_payload(definition))
                self.dynatrace.evaluate(definition.name, 99.9, 0.1)
            if definition.name != skip_alert:
                for _, ext_id, value in burn_rate_alerts(settings.project, STACK, definition,
                                                         settings.dynatrace.alerting.burn_rate):
                    self.add_setting(METRIC_EVENT_SCHEMA, ext_id, value)
        profile = self.add_setting(ALERTING_PROFILE_SCHEMA, profile_external_id(settings.project, STACK),
                                   alerting_profile_value(STACK))
        self.add_setting(NOTIFICATION_SCHEMA, notification_external_id(settings.project, STACK),
                         email_notification_value(STACK, EMAILS, profile))
        if data:
            for api in settings.apis:
                self.count_calls(api.name, 12)
        self.kong.reset_counts()
        self.dynatrace.reset_calls()

    def add_slo(self, payload: dict[str, Any]) -> None:
        self.dynatrace.slos[f"slo-{len(self.dynatrace.slos)}"] = self.dynatrace.stored(payload)

    def add_setting(self, schema: str, ext_id: str, value: dict[str, Any]) -> str:
        item = self.dynatrace.settings_item({"schemaId": schema, "externalId": ext_id, "value": value})
        assert item["code"] == 200, item
        return str(item["objectId"])

    def count_calls(self, api: str, calls: float, minutes_ago: float = 2) -> None:
        when = int((time.time() - minutes_ago * 60) * 1000)
        for latency in ("good", "bad"):
            self.dynatrace.metrics.add(CALLS_METRIC_KEY, {"service.name": api, "slo.latency": latency,
                                                          "slo.outcome": "success"}, calls / 2, when)

    def doctor(self, *extra: str) -> int:
        health = [] if self.collector_elsewhere else ["--collector-health-url", f"{self.collector_url}/"]
        return main(["doctor", "--config-file", str(self.stack_file()), "--environment-url", self.dynatrace.url,
                     *health, *extra])


def _kong_version(kong: FakeKong) -> KongVersion:
    return KongVersion.parse(RELEASES[kong.version])


@contextlib.contextmanager
def chain(directory: Path, **kong_options: Any) -> Iterator[Chain]:
    """A healthy chain's emulators (nothing deployed yet: call ``deploy``)."""
    options = {"tracing_instrumentations": ("all",), "tracing_sampling_rate": 1.0, "token": KONG_TOKEN,
               **kong_options}
    with FakeKong(**options) as kong, FakeDynatrace(DT_TOKEN, read_lag=0, require_known_metrics=False) as dynatrace, \
            StandInCollector() as collector:
        yield Chain(kong, dynatrace, collector, directory)
