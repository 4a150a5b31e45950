"""An in-process stand-in for the parts of the Dynatrace Environment API v2 kong-slo uses.

It behaves like the real service where that matters to a client: POST /slo answers 201 with an empty body
and a ``Location`` header; reads lag behind writes; ``name`` and ``metricName`` are unique and ``metricName``
cannot change; ``enabled`` is false when omitted and disabled SLOs cannot be read by id; ``warning`` must
exceed ``target``; a clash on ``name``/``metricName`` is a 400 worded as Dynatrace words it; floats come
back slightly off; errors carry ``constraintViolations``. Settings 2.0 takes and returns arrays (207 on mixed
results) and keeps ``externalId`` unique per schema (``unique_external_ids=False`` stops that, to prove a
client needs no server-side help to stay single). Faults can be queued: 429 with ``Retry-After`` or
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
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes import dynatrace_ingest, dynatrace_problems
from tests.fakes.dynatrace_dashboards import ConfigDashboards
from tests.fakes.dynatrace_detectors import detector_problems
from tests.fakes.dynatrace_documents import BASE as DOCUMENTS
from tests.fakes.dynatrace_documents import Documents
from tests.fakes.dynatrace_grail_query import EXECUTE as QUERY_EXECUTE
from tests.fakes.dynatrace_grail_query import GrailQueries
from tests.fakes.dynatrace_metrics import MetricStore
from tests.fakes.dynatrace_otlp import OtlpIngest
from tests.fakes.dynatrace_platform import EVALUATION_START, PLATFORM_SETTINGS, PlatformSlos
from tests.fakes.dynatrace_settings_rules import value_problems
from tests.fakes.dynatrace_tokens import (
    READ_ONLY_POSTS,
    TokenInfo,
    missing_ingest_scope,
    missing_scope,
    token_route,
)

METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FLOAT_DRIFT = 0.0000015
SCHEMAS = ("builtin:alerting.profile", "builtin:problem.notifications", "builtin:anomaly-detection.metric-events",
           "builtin:davis.anomaly-detectors")
SETTINGS_DEFAULTS: dict[str, dict[str, Any]] = {
    "builtin:alerting.profile": {"managementZone": None, "eventFilters": []},
    "builtin:problem.notifications": {"enabled": True},
    "builtin:anomaly-detection.metric-events": {"eventEntityDimensionKey": None, "legacyId": None},
}


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


@dataclass
class Evaluation:
    percentage: float
    burn_rate: float


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
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def __enter__(self) -> FakeDynatrace:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

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

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if re.fullmatch(fault.method, method) and re.search(fault.path, path):
                    return self.faults.pop(index)
        return None

    # -- SLO API ------------------------------------------------------------------------------------

    def slo_violations(self, body: dict[str, Any], own_id: str | None) -> tuple[int, list[dict[str, str]]]:
        problems: list[tuple[str, str]] = []
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            problems.append(("name", "size must be between 1 and 200"))
        if body.get("evaluationType") != "AGGREGATE":
            problems.append(("evaluationType", "must be AGGREGATE"))
        expression = body.get("metricExpression")
        if not isinstance(expression, str) or not expression or expression != expression.strip():
            problems.append(("metricExpression", "must not be empty or surrounded by whitespace"))
        metric = body.get("metricName")
        if not isinstance(metric, str) or not METRIC_NAME.match(metric) or len(metric) > 220:
            problems.append(("metricName", "is not a valid metric name"))
        target, warning = body.get("target"), body.get("warning")
        if not isinstance(target, int | float) or not isinstance(warning, int | float):
            problems.append(("target", "target and warning are required"))
        elif warning <= target:
            problems.append(("warning", "The warning threshold must be greater than the target"))
        if not isinstance(body.get("timeframe"), str) or not 3 <= len(body["timeframe"]) <= 60:
            problems.append(("timeframe", "size must be between 3 and 60"))
        if problems:
            return 400, [_violation(path, message) for path, message in problems]
        conflicts = []
        for slo_id, slo in self.slos.items():
            if slo_id == own_id:
                continue
            if slo["name"] == name:
                conflicts.append(_violation("builtin:monitoring.slo/0/name", "There is another SLO with an identical "
                                            "name defined. Please make your SLO name unique to save your changes."))
            if slo["metricName"] == metric:
                conflicts.append(_violation("builtin:monitoring.slo/0/metricName", "There is another SLO with an "
                                            "identical metric name defined. Please make your SLO metric name unique "
                                            "to save your changes."))
        if own_id is not None and self.slos[own_id]["metricName"] != metric:
            return 400, [_violation("metricName", "metricName cannot be changed after creation")]
        return (400, conflicts) if conflicts else (0, [])

    def stored(self, body: dict[str, Any]) -> dict[str, Any]:
        slo = {key: value for key, value in body.items() if key not in ("id",)}
        slo.setdefault("enabled", False)
        for key in ("target", "warning"):
            slo[key] = float(slo[key]) + FLOAT_DRIFT
        return slo

    def visible(self, slo_id: str) -> bool:
        """Reads lag behind writes: the first ``read_lag`` reads after a create do not see the SLO."""
        remaining = self.hidden_reads.get(slo_id, 0)
        if remaining > 0:
            self.hidden_reads[slo_id] = remaining - 1
            return False
        return slo_id in self.slos

    def rendered(self, slo_id: str, evaluate: bool) -> dict[str, Any]:
        slo = dict(self.slos[slo_id], id=slo_id)
        metric = slo["metricName"]
        slo.update(metricKey=f"func:slo.{metric}", errorBudgetMetricKey=f"func:slo.errorBudget.{metric}",
                   burnRateMetricKey=f"func:slo.errorBudgetBurnRate.{metric}",
                   error=self.evaluation_errors.get(slo["name"], "NONE"),
                   relatedOpenProblems=0, relatedTotalProblems=0)
        evaluation = (self.evaluations.get(slo["name"]) or self.evaluated(slo)) if evaluate else None
        if evaluation is None or slo["error"] != "NONE":
            slo.update(status="SUCCESS" if slo["error"] == "NONE" else "FAILURE", evaluatedPercentage=-1.0,
                       errorBudget=-1.0)
            return slo
        target, warning = slo["target"], slo["warning"]
        status = "SUCCESS" if evaluation.percentage >= warning else "WARNING" if evaluation.percentage >= target \
            else "FAILURE"
        fast = (slo.get("errorBudgetBurnRate") or {}).get("fastBurnThreshold", 10)
        kind = "NONE" if evaluation.burn_rate < 1 else "FAST" if evaluation.burn_rate >= fast else "SLOW"
        slo.update(status=status, evaluatedPercentage=evaluation.percentage,
                   errorBudget=evaluation.percentage - target,
                   errorBudgetBurnRate={"burnRateVisualizationEnabled": True, "fastBurnThreshold": fast,
                                        "burnRateType": kind, "burnRateValue": evaluation.burn_rate,
                                        "estimatedTimeToConsumeErrorBudget": 1.0, "sloValue": evaluation.percentage})
        return slo

    def evaluated(self, slo: dict[str, Any]) -> Evaluation | None:
        found = dynatrace_ingest.slo_evaluation(self, slo)
        return Evaluation(*found) if found else None

    def matches(self, slo_id: str, slo: dict[str, Any], selector: str | None) -> bool:
        if not selector:
            return True
        for kind, value in re.findall(r'(\w+)\("((?:[^"~]|~.)*)"\)', selector):
            value = re.sub(r"~(.)", r"\1", value)
            if kind == "id" and slo_id != value:
                return False
            if kind == "name" and slo["name"] != value:
                return False
            if kind == "text" and value.lower() not in slo["name"].lower():
                return False
        return True

    # -- Settings 2.0 -------------------------------------------------------------------------------

    def value_refusal(self, schema: str, value: dict[str, Any]) -> dict[str, Any] | None:
        """The item error for a value its schema refuses (typed properties, the metric selector), or None."""
        problems = value_problems(schema, value)
        if problems:
            return _item_error(400, "; ".join(problems), problems[0].split(":", 1)[0])
        refused = dynatrace_ingest.metric_event_refusal(self, schema, value)
        return _item_error(400, refused, "queryDefinition/metricSelector") if refused else None

    def settings_item(self, item: dict[str, Any]) -> dict[str, Any]:
        schema, ext_id, value = item.get("schemaId"), item.get("externalId"), item.get("value")
        if schema not in SCHEMAS:
            return _item_error(404, f"Schema {schema} not found")
        if not isinstance(value, dict):
            return _item_error(400, "value is required", "value")
        taken = any(o["schemaId"] == schema and o.get("externalId") == ext_id for o in self.settings.values())
        if ext_id and self.unique_external_ids and taken:
            return _item_error(400, f"An object with external ID {ext_id} already exists", "externalId")
        refused = self.value_refusal(schema, value)
        if refused:
            return refused
        if schema == "builtin:davis.anomaly-detectors" and detector_problems(value):
            return _item_error(400, "; ".join(detector_problems(value)), "value")
        if schema == "builtin:problem.notifications" and value.get("alertingProfile") not in self.settings:
            return _item_error(400, "Alerting profile does not exist", "alertingProfile")
        object_id = f"vu9U3hXa3q0AAAA{uuid.uuid4().hex}"
        self.settings[object_id] = {"objectId": object_id, "schemaId": schema, "scope": "environment",
                                    "externalId": ext_id, "schemaVersion": "1.0.0",
                                    "updateToken": uuid.uuid4().hex,
                                    "value": {**SETTINGS_DEFAULTS.get(schema, {}), **value}}
        return {"code": 200, "objectId": object_id}


def _violation(path: str, message: str) -> dict[str, str]:
    return {"path": path, "message": message, "parameterLocation": "PAYLOAD_BODY", "location": None}


def _item_error(code: int, message: str, path: str | None = None) -> dict[str, Any]:
    violations = [_violation(path, message)] if path else []
    return {"code": code, "error": {"code": code, "message": message, "constraintViolations": violations}}


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
            if path == "/slo" and method == "GET":
                return self.list_slos(query)
            if path == "/slo" and method == "POST":
                if fault and fault.kind == "invalid-selector":
                    return 400, {"error": {"code": 400, "message": "Metric selector is invalid: the metric "
                                           "kong.slo.calls.count does not exist", "constraintViolations": []}}, {}
                code, violations = fake.slo_violations(body, None)
                if code:
                    return code, {"error": {"code": code, "message": f"Validation failed for {len(violations)} "
                                            "Validators.",
                                            "constraintViolations": violations}}, {}
                slo_id = str(uuid.uuid4())
                fake.slos[slo_id] = fake.stored(body)
                fake.hidden_reads[slo_id] = fake.read_lag
                return 201, None, {"Location": f"{fake.url}/api/v2/slo/{slo_id}"}
            match = re.fullmatch(r"/slo/([^/]+)", path)
            if match:
                return self.one_slo(method, match.group(1), body)
            if path == "/settings/objects" and method == "GET":
                return self.list_settings(query)
            if path == "/settings/objects" and method == "POST":
                items = [fake.settings_item(item) for item in body]
                codes = {item["code"] == 200 for item in items}
                status = 200 if codes == {True} else 207 if len(codes) == 2 else items[0]["code"]
                return status, items, {}
            match = re.fullmatch(r"/settings/objects/([^/]+)", path)
            if match:
                return self.one_setting(method, match.group(1), body)
            return 404, {"error": {"code": 404, "message": f"{method} {path} not found"}}, {}

        def list_slos(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
            if "nextPageKey" in query:
                if len(query) > 1:
                    return 400, {"error": {"code": 400, "message": "nextPageKey must be the only parameter"}}, {}
                query = json.loads(query["nextPageKey"])
            enabled = query.get("enabledSlos", "true")
            evaluate = query.get("evaluate") == "true"
            page_size = min(int(query.get("pageSize", 10)), 25 if evaluate else fake.page_size_cap)
            found = [fake.rendered(slo_id, evaluate) for slo_id, slo in sorted(fake.slos.items(),
                                                                                 key=lambda kv: kv[1]["name"])
                     if fake.matches(slo_id, slo, query.get("sloSelector")) and fake.visible(slo_id)
                     and (enabled == "all" or str(slo["enabled"]).lower() == enabled)]
            start = int(query.get("start", 0))
            page = found[start:start + page_size]
            next_key = None
            if start + page_size < len(found):
                next_key = json.dumps({**query, "start": start + page_size})
            return 200, {"slo": page, "pageSize": page_size, "totalCount": len(found), "nextPageKey": next_key}, {}

        def one_slo(self, method: str, slo_id: str, body: Any) -> tuple[int, Any, dict[str, str]]:
            if slo_id not in fake.slos:
                return 404, {"error": {"code": 404, "message": f"SLO {slo_id} not found"}}, {}
            if method == "DELETE":
                del fake.slos[slo_id]
                return 204, None, {}
            if method == "PUT":
                code, violations = fake.slo_violations(body, slo_id)
                if code:
                    return code, {"error": {"code": code, "message": "constraint violations",
                                            "constraintViolations": violations}}, {}
                fake.slos[slo_id] = fake.stored(body)
                return 200, None, {}
            if not fake.visible(slo_id):
                return 404, {"error": {"code": 404, "message": f"SLO {slo_id} not found"}}, {}
            if not fake.slos[slo_id]["enabled"]:
                return 400, {"error": {"code": 400, "message": "Cannot access a disabled SLO."}}, {}
            return 200, fake.rendered(slo_id, True), {}

        def list_settings(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
            if "nextPageKey" in query:
                query = json.loads(query["nextPageKey"])
            schemas = set(query.get("schemaIds", "").split(","))
            external = set(filter(None, query.get("externalIds", "").split(",")))
            found = [obj for obj in fake.settings.values() if obj["schemaId"] in schemas
                     and (not external or obj.get("externalId") in external)]
            size = min(int(query.get("pageSize", 100)), 500)
            start = int(query.get("start", 0))
            next_key = json.dumps({**query, "start": start + size}) if start + size < len(found) else None
            return 200, {"items": found[start:start + size], "totalCount": len(found), "pageSize": size,
                         "nextPageKey": next_key}, {}

        def one_setting(self, method: str, object_id: str, body: Any) -> tuple[int, Any, dict[str, str]]:
            obj = fake.settings.get(object_id)
            if obj is None:
                return 404, {"error": {"code": 404, "message": f"Settings object {object_id} not found"}}, {}
            if method == "DELETE":
                del fake.settings[object_id]
                return 204, None, {}
            if method == "PUT":
                value = body.get("value") if isinstance(body, dict) else None
                refused = fake.value_refusal(obj["schemaId"], value) if isinstance(value, dict) else \
                    _item_error(400, "value is required", "value")
                if refused:
                    return 400, {"error": refused["error"]}, {}
                obj["value"] = {**SETTINGS_DEFAULTS.get(obj["schemaId"], {}), **body["value"]}
                obj["updateToken"] = uuid.uuid4().hex
                return 200, {"code": 200, "objectId": object_id}, {}
            return 200, obj, {}

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
