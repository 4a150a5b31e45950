"""An in-process stand-in for the parts of the Dynatrace Environment API v2 kong-slo uses.

It behaves like the real service where that matters to a client; this module holds the state, the controls and
the routing, and each API lives in a module of its own: the classic SLO API in ``dynatrace_slo_api.py``,
Settings 2.0 in ``dynatrace_settings_api.py``, and (below) the others. Faults can be queued: 429 with ``Retry-After`` or
``X-RateLimit-Reset`` (seconds or µs), 5xx before or after the write was applied, slow replies, connections
dropped before or after the write was applied, and transient "Metric selector is invalid" answers.

The platform SLO API, the SSO token endpoint and Settings 2.0 through the platform (Bearer auth) live in
``dynatrace_platform.py`` (``fake.platform``); the data points both evaluators read in ``fake.metrics``.

Binds to 127.0.0.1 on a free port; use it as a context manager so it always shuts down.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import dynatrace_ingest, dynatrace_problems, dynatrace_settings_api, dynatrace_slo_api
from tests.fakes.dynatrace_dashboards import ConfigDashboards
from tests.fakes.dynatrace_documents import BASE as DOCUMENTS
from tests.fakes.dynatrace_documents import Documents
from tests.fakes.dynatrace_grail_query import EXECUTE as QUERY_EXECUTE
from tests.fakes.dynatrace_grail_query import GrailQueries
from tests.fakes.dynatrace_metrics import MetricStore
from tests.fakes.dynatrace_otlp import OtlpIngest
from tests.fakes.dynatrace_platform import EVALUATION_START, PLATFORM_SETTINGS, PlatformSlos
from tests.fakes.dynatrace_slo_api import Evaluation
from tests.fakes.dynatrace_tokens import (
    READ_ONLY_POSTS,
    TokenInfo,
    missing_ingest_scope,
    missing_scope,
    token_route,
)
from tests.fakes.loopback_server import LoopbackServer


@dataclass
class Fault:
    """One injected misbehaviour for the next request matching ``method`` and ``path`` (a regex)."""

    kind: str
    """``429``, ``500``, ``503``, ``500-after`` (a 500 after the write), ``slow``, ``drop`` (before the write),
    ``drop-after`` (after the write), ``invalid-selector``."""
    method: str = ".*"
    path: str = ".*"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeDynatrace:
    """The emulator's state and controls. ``url`` is the environment URL (``prefix`` emulates Managed)."""

    def __init__(self, token: str = "dt0c01.FAKE.TOKEN", *, prefix: str = "", read_lag: int = 2,
                 page_size_cap: int = 500, unique_external_ids: bool = True,
                 require_known_metrics: bool = True) -> None:
        self.token = token
        self.prefix = prefix.rstrip("/")
        self.read_lag = read_lag
        self.page_size_cap = page_size_cap
        self.unique_external_ids = unique_external_ids
        self.slos: dict[str, dict[str, Any]] = {}
        self.hidden_reads: dict[str, int] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        self.evaluations: dict[str, Evaluation] = {}
        self.metrics = MetricStore()
        self.otlp = OtlpIngest(self.metrics)
        self.token_info = TokenInfo()
        self.evaluation_errors: dict[str, str] = {}
        self.require_known_metrics = require_known_metrics
        """Refuse an SLO on a custom metric key never ingested nor declared, as Dynatrace does."""
        self.clock = dynatrace_ingest.default_clock
        self.platform = PlatformSlos(self.metrics)
        """The platform SLO API (``/platform/slo/v1``, Bearer auth) and the SSO token endpoint."""
        self.dashboards = ConfigDashboards()
        """Classic dashboards (``/api/config/v1/dashboards``, Api-Token with ReadConfig/WriteConfig)."""
        self.documents = Documents()
        """Latest Dynatrace documents (``/platform/document/v1``, Bearer)."""
        self.grail = GrailQueries()
        """The Grail DQL query API (``/platform/storage/query/v1``, Bearer)."""
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self.auth_headers: list[str] = []
        self.lock = threading.RLock()
        self.http = LoopbackServer(_handler(self), poll_interval=0.05)

    @property
    def url(self) -> str:
        return f"{self.http.url}{self.prefix}"

    def __enter__(self) -> FakeDynatrace:
        self.http.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.http.stop()

    # -- controls -----------------------------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def evaluate(self, name: str, percentage: float, burn_rate: float) -> None:
        """Set what evaluated reads report for the SLO called ``name``."""
        self.evaluations[name] = Evaluation(percentage, burn_rate)

    def fail_evaluation(self, name: str, error: str) -> None:
        """Make the SLO called ``name`` report ``error`` (as Dynatrace does when, say, an operand has no data)."""
        self.evaluation_errors[name] = error

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return sum(1 for m, p in self.calls if (method is None or m == method) and (path is None or p.startswith(path)))

    def writes(self) -> int:
        """Calls that change something: token lookups and SLO evaluations are POSTs that only read."""
        return sum(1 for method, path in self.calls if method in ("POST", "PUT", "PATCH", "DELETE")
                   and path not in READ_ONLY_POSTS and path not in (EVALUATION_START, QUERY_EXECUTE))

    def per_method(self) -> Counter[str]:
        return Counter(method for method, _ in self.calls)

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    def stored(self, body: dict[str, Any]) -> dict[str, Any]:
        """An SLO payload as the SLO API stores it, to seed ``slos`` with."""
        return dynatrace_slo_api.stored(body)

    def settings_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Create one Settings 2.0 object as a POST would; the item's result (code and objectId, or error)."""
        return dynatrace_settings_api.settings_item(self, item)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if re.fullmatch(fault.method, method) and re.search(fault.path, path):
                    return self.faults.pop(index)
        return None

def _handler(fake: FakeDynatrace) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm adds ~40 ms per reply.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *_: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.handle_any("GET")

        def do_POST(self) -> None:
            self.handle_any("POST")

        def do_PUT(self) -> None:
            self.handle_any("PUT")

        def do_DELETE(self) -> None:
            self.handle_any("DELETE")

        def do_PATCH(self) -> None:
            self.handle_any("PATCH")

        def handle_any(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path = parts.path
            with fake.lock:
                fake.calls.append((method, path.removeprefix(f"{fake.prefix}/api/v2")))
                fake.auth_headers.append(self.headers.get("Authorization") or "")
            fault = fake.take_fault(method, path)
            if fault and fault.kind == "drop":
                return self.drop()
            if fault and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault and fault.kind in ("429", "500", "503"):
                message = "Too many requests." if fault.kind == "429" else "Internal error"
                return self.reply(int(fault.kind), {"error": {"code": int(fault.kind), "message": message,
                                                              "constraintViolations": None}}, fault.headers)
            authorization = self.headers.get("Authorization") or ""
            prefix = f"{fake.prefix}/api/v2"
            through_platform = path.startswith(PLATFORM_SETTINGS)
            if through_platform:  # Settings 2.0 through the platform: Bearer auth, same objects
                refused = fake.platform.settings_refusal(method, authorization, json.loads(raw) if raw else None)
                if refused:
                    return self.reply(*refused)
                path = prefix + path.removeprefix(PLATFORM_SETTINGS)
            elif path.startswith(DOCUMENTS):
                with fake.lock:
                    reply = fake.documents.handle(method, path, parts.query, raw,
                                                  self.headers.get("Content-Type") or "",
                                                  fake.platform.scopes_of(authorization))
                return self.answer(fault, *reply)
            elif fake.grail.owns(path):
                with fake.lock:
                    reply = fake.grail.handle(fake, method, path, parts.query, raw,
                                              fake.platform.scopes_of(authorization))
                return self.answer(fault, *reply)
            elif fake.platform.owns(path):
                with fake.lock:
                    reply = fake.platform.handle(method, path, parts.query, raw, authorization)
                return self.answer(fault, *reply)
            elif authorization != f"Api-Token {fake.token}":
                return self.reply(401, {"error": {"code": 401, "message": "Missing authorization parameter."}})
            elif not fake.token_info.enabled:  # a revoked or disabled token: refused before anything else
                return self.reply(401, {"error": {"code": 401, "message": "Token is disabled."}})
            if path.startswith(f"{prefix}/otlp/v1/"):
                signal = path.rsplit("/", 1)[1]
                if (refused := missing_ingest_scope(fake.token_info, signal)) is not None:
                    return self.reply(*refused)
                return self.reply_raw(*fake.otlp.handle(signal, self.headers, raw))
            if path.startswith(f"{fake.prefix}/api/config/v1/"):
                with fake.lock:
                    reply = fake.dashboards.handle(method, path.removeprefix(f"{fake.prefix}/api/config/v1"),
                                                   json.loads(raw) if raw else None, fake.token_info.scopes)
                return self.answer(fault, *reply)
            if not path.startswith(prefix):
                return self.reply(404, {"error": {"code": 404, "message": "Not found"}})
            body = json.loads(raw) if raw and not path.endswith("/metrics/ingest") else None
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            with fake.lock:
                status, payload, headers = self.route(method, path[len(prefix):], query, body, fault, raw,
                                                      through_platform)
            self.answer(fault, status, payload, headers)

        def answer(self, fault: Fault | None, status: int, payload: Any, headers: dict[str, str]) -> None:
            """Reply, unless a fault drops the connection or turns the reply into a 500 after the write."""
            if fault and fault.kind == "drop-after":
                return self.drop()
            if fault and fault.kind == "500-after":
                return self.reply(500, {"error": {"code": 500, "message": "Internal error"}})
            self.reply(status, payload, headers)

        def route(self, method: str, path: str, query: dict[str, str], body: Any, fault: Fault | None,
                  raw: bytes = b"", through_platform: bool = False) -> tuple[int, Any, dict[str, str]]:
            if (tokens := token_route(fake.token, fake.token_info, method, path, body)) is not None:
                return tokens
            if not through_platform and (refused := missing_scope(fake.token_info, method, path)) is not None:
                return refused
            if path.startswith("/metrics"):
                return dynatrace_ingest.route(fake, method, path, query, raw)
            if path == "/problems":
                return dynatrace_problems.route(fake, method, query)
            if path.startswith("/slo") and method in ("POST", "PUT") and isinstance(body, dict):
                refused = dynatrace_ingest.unknown_metric_error(fake, body.get("metricExpression"))
                if refused:
                    return 400, refused, {}
            reply = (dynatrace_slo_api.route(fake, method, path, query, body, fault)
                     or dynatrace_settings_api.route(fake, method, path, query, body))
            if reply is not None:
                return reply
            return 404, {"error": {"code": 404, "message": f"{method} {path} not found"}}, {}

        def reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            content = {"Content-Type": "application/json"} if data else {}
            self.reply_raw(status, data, {**content, **(headers or {})})

        def reply_raw(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler
