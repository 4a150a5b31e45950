"""The platform SLO API of Latest Dynatrace (``/platform/slo/v1``) and the SSO token endpoint, for the emulator.

As documented (https://docs.dynatrace.com/docs/dynatrace-api/platform-api/platform-slo-v1) and as Dynatrace's own
clients call it (dynatrace-oss/dtctl ``sdk/api/slo/slo.go``):
- ``Authorization: Bearer`` with a platform token or an OAuth access token; reads need ``slo:slos:read``, writes
  ``slo:slos:write`` (403 otherwise), anything else is 401;
- ``GET /slos`` pages with ``page-size`` (≤ 500), ``page`` (1-based) or ``page-key`` (never with ``page``; here,
  as the reference notes, never with ``page-size`` either) and answers ``{slos, totalCount, nextPageKey}``;
- ``POST /slos`` answers 201 with the stored SLO, ``id`` and ``version`` included;
- ``PUT``/``DELETE /slos/{id}`` need ``optimistic-locking-version``; a stale one is 409, a missing one 400;
- exactly one of ``sliReference``/``customSli``, else 400; the indicator must be DQL the emulator understands;
- ``POST /slos/evaluation:start`` then ``GET /slos/evaluation:poll?evaluation-token=`` evaluate the SLI over the
  metric store: the SLO's value is the mean of the ``sli`` series over the criterion's timeframe (the
  emulator's reading of the docs; unverified against a tenant). The poll's documented answers are 200, 400, 401,
  403, 410, 429 and 5xx, the start's example carrying ``ttlSeconds``; ``gone_polls`` makes the next polls answer
  410 Gone, as for an evaluation whose time to live ran out.
Neither ``externalId`` nor ``name`` is unique here: a client must find its own SLO rather than rely on a clash.

The token endpoint (``POST /sso/oauth2/token``, form-encoded ``grant_type=client_credentials``, ``client_id``,
``client_secret``, ``scope``, ``resource``) issues access tokens carrying the requested scopes.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.dynatrace_documents import SCOPES as DOCUMENT_SCOPES
from tests.fakes.dynatrace_dql import DqlError, Parser, evaluate
from tests.fakes.dynatrace_metrics import MetricStore

BASE = "/platform/slo/v1"
EVALUATION_START = f"{BASE}/slos/evaluation:start"
PLATFORM_SETTINGS = "/platform/classic/environment-api/v2"
TOKEN_PATH = "/sso/oauth2/token"
READ, WRITE = "slo:slos:read", "slo:slos:write"
SETTINGS_READ, SETTINGS_WRITE = "settings:objects:read", "settings:objects:write"
DETECTOR_SCOPES = frozenset({"storage:metrics:read", "davis:analyzers:execute"})
"""What a detector without a service-user actor runs with: "Grail-specific permissions for the data you want to
query (such as … ``storage:metrics:read``)" and "If you plan to run custom alerts without using service user as an
actor, ``davis:analyzers:execute`` is a mandatory permission" (Set up anomaly detectors via API)."""
GRAIL_READ_SCOPES = frozenset({"storage:buckets:read", "storage:events:read"})
"""Reading Grail through the query API (the report): the bucket permission and the events table's."""
PLATFORM_TOKEN_SCOPES = frozenset({READ, WRITE, SETTINGS_READ, SETTINGS_WRITE, *DETECTOR_SCOPES, *DOCUMENT_SCOPES,
                                   *GRAIL_READ_SCOPES})
Reply = tuple[int, Any, dict[str, str]]


def _error(code: int, message: str, details: dict[str, Any] | None = None) -> Reply:
    return code, {"error": {"code": code, "message": message, "details": details or {}}}, {}


def _violations(problems: list[str]) -> list[dict[str, str]]:
    """``path: message`` lines as the platform error envelope's ``details.constraintViolations``."""
    return [dict(zip(("path", "message"), line.split(": ", 1), strict=True)) if ": " in line
            else {"path": "", "message": line} for line in problems]


@dataclass
class PlatformSlos:
    """State and rules of the platform SLO API; ``FakeDynatrace`` hands it every ``/platform/`` and SSO call."""

    metrics: MetricStore
    platform_token: str = "dt0s16.FAKE.PLATFORMTOKEN"
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)
    """OAuth client id → (secret, account URN)."""
    slos: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, set[str]] = field(default_factory=dict)
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)
    now_ms: int | None = None
    """The evaluation clock; wall-clock time when None."""
    platform_token_scopes: frozenset[str] = PLATFORM_TOKEN_SCOPES
    """What the platform token was given; tests take scopes away."""
    gone_polls: int = 0
    """How many of the next ``evaluation:poll`` calls answer 410 Gone (the evaluation expired)."""

    @staticmethod
    def owns(path: str) -> bool:
        return path.startswith("/platform/") or path == TOKEN_PATH

    def add_client(self, client_id: str, secret: str, account_urn: str) -> None:
        self.clients[client_id] = (secret, account_urn)

    def handle(self, method: str, path: str, query_text: str, raw: bytes, authorization: str) -> Reply:
        if path == TOKEN_PATH and method == "POST":
            return self.issue_token(raw.decode())
        scopes = self.scopes_of(authorization)
        if scopes is None:
            return _error(401, "Authentication required")
        needed = READ if method == "GET" or path.endswith("evaluation:start") else WRITE
        if needed not in scopes:
            return _error(403, f"Missing scope {needed}")
        query = {key: values[0] for key, values in parse_qs(query_text).items()}
        body = json.loads(raw) if raw else None
        if path == f"{BASE}/slos" and method == "GET":
            return self.list(query)
        if path == f"{BASE}/slos" and method == "POST":
            return self.create(body)
        if path == f"{BASE}/slos/evaluation:start" and method == "POST":
            return self.start_evaluation(body)
        if path == f"{BASE}/slos/evaluation:poll" and method == "GET":
            if self.gone_polls > 0:
                self.gone_polls -= 1
                self.evaluations.pop(query.get("evaluation-token", ""), None)
                return _error(410, "The evaluation is no longer available")
            result = self.evaluations.get(query.get("evaluation-token", ""))
            return (200, result, {}) if result else _error(404, "Evaluation token not found")
        if path.startswith(f"{BASE}/slos/"):
            return self.one(method, path.removeprefix(f"{BASE}/slos/"), query, body)
        return _error(404, f"{method} {path} not found")

    # -- auth ---------------------------------------------------------------------------------------

    def scopes_of(self, authorization: str) -> set[str] | None:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            return None
        if token == self.platform_token:
            return set(self.platform_token_scopes)
        return self.access_tokens.get(token)

    def settings_refusal(self, method: str, authorization: str, body: Any = None) -> tuple[int, Any] | None:
        """Why a Settings call through the platform is refused (401, 403 with the missing scope), or None. Writing
        a detector that runs as its writer (no actor) takes the scopes its query runs with."""
        scopes = self.scopes_of(authorization)
        if scopes is None:
            return 401, {"error": {"code": 401, "message": "Authentication required"}}
        needed = {SETTINGS_READ if method == "GET" else SETTINGS_WRITE}
        items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
        if any(isinstance(item, dict) and item.get("schemaId") == "builtin:davis.anomaly-detectors"
               and not ((item.get("value") or {}).get("executionSettings") or {}).get("actor") for item in items):
            needed |= DETECTOR_SCOPES
        missing = sorted(needed - scopes)
        if missing:
            return 403, {"error": {"code": 403, "message": f"Missing scope {' '.join(missing)}"}}
        return None

    def issue_token(self, form_text: str) -> Reply:
        form = {key: values[0] for key, values in parse_qs(form_text).items()}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, {}
        known = self.clients.get(form.get("client_id", ""))
        if known is None or known[0] != form.get("client_secret"):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {}
        if form.get("resource") != known[1]:
            return 400, {"error": "invalid_request", "error_description": "resource is not the client's account"}, {}
        token = f"eyFAKE.{uuid.uuid4().hex}"
        scopes = set(form.get("scope", "").split())
        self.access_tokens[token] = scopes
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                     "scope": " ".join(sorted(scopes))}, {}

    # -- SLOs ---------------------------------------------------------------------------------------

    def violations(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["body: must be an object"]
        problems = []
        if not isinstance(body.get("name"), str) or not 1 <= len(body["name"]) <= 200:
            problems.append("name: size must be between 1 and 200")
        if len(str(body.get("description") or "")) > 250:
            problems.append("description: size must be at most 250")
        if ("customSli" in body) == ("sliReference" in body):
            problems.append("Exactly one of sliReference or customSli must be set")
        indicator = (body.get("customSli") or {}).get("indicator") if isinstance(body.get("customSli"), dict) else None
        if "customSli" in body:
            try:
                Parser(str(indicator or "")).query(0)
            except DqlError as error:
                problems.append(f"customSli.indicator: {error}")
        criteria = body.get("criteria")
        if not isinstance(criteria, list) or not criteria:
            problems.append("criteria: must hold at least one criterion")
        for index, item in enumerate(criteria if isinstance(criteria, list) else []):
            target, warning = item.get("target"), item.get("warning")
            if not isinstance(target, int | float) or not 0 <= target <= 100:
                problems.append(f"criteria[{index}].target: must be between 0 and 100")
            elif warning is not None and not (isinstance(warning, int | float) and target < warning <= 100):
                problems.append(f"criteria[{index}].warning: must be greater than the target")
            if not str(item.get("timeframeFrom", "")).startswith("now-"):
                problems.append(f"criteria[{index}].timeframeFrom: must be a relative time such as now-1h")
        if len(str(body.get("externalId") or "")) > 500:
            problems.append("externalId: size must be at most 500")
        return problems

    def store(self, slo_id: str, body: dict[str, Any]) -> dict[str, Any]:
        kept = {key: value for key, value in body.items() if key not in ("id", "version")}
        kept.setdefault("tags", [])
        kept.setdefault("description", "")
        self.slos[slo_id] = {**kept, "id": slo_id, "version": uuid.uuid4().hex[:12]}
        return self.slos[slo_id]

    def list(self, query: dict[str, str]) -> Reply:
        if "page-key" in query:
            if set(query) - {"page-key"}:
                return _error(400, "page-key cannot be combined with other parameters")
            query = json.loads(query["page-key"])
        if "filter" in query or "sort" in query:
            return _error(400, "filter and sort are not emulated")
        size = int(query.get("page-size", 10))
        if not 1 <= size <= 500:
            return _error(400, "page-size must be between 1 and 500")
        start = (int(query.get("page", 1)) - 1) * size
        found = sorted(self.slos.values(), key=lambda slo: slo["name"])
        next_key = json.dumps({"page-size": str(size), "page": str(start // size + 2)}) \
            if start + size < len(found) else None
        return 200, {"slos": found[start:start + size], "totalCount": len(found), "nextPageKey": next_key}, {}

    def create(self, body: Any) -> Reply:
        problems = self.violations(body)
        if problems:
            return _error(400, "Constraints violated.", {"constraintViolations": _violations(problems)})
        return 201, self.store(str(uuid.uuid4()), body), {}

    def one(self, method: str, slo_id: str, query: dict[str, str], body: Any) -> Reply:
        current = self.slos.get(slo_id)
        if current is None:
            return _error(404, f"SLO {slo_id} not found")
        if method == "GET":
            return 200, current, {}
        version = query.get("optimistic-locking-version")
        if not version:
            return _error(400, "optimistic-locking-version is required")
        if version != current["version"]:
            return _error(409, "The SLO was modified in the meantime; read it again and retry",
                          {"currentVersion": current["version"]})
        if method == "DELETE":
            del self.slos[slo_id]
            return 204, None, {}
        if method == "PUT":
            problems = self.violations(body)
            if problems:
                return _error(400, "Constraints violated.", {"constraintViolations": _violations(problems)})
            return 200, self.store(slo_id, body), {}
        return _error(405, f"{method} not allowed")

    # -- evaluation ---------------------------------------------------------------------------------

    def evaluate_slo(self, slo: dict[str, Any]) -> list[dict[str, Any]]:
        now = self.now_ms if self.now_ms is not None else int(time.time() * 1000)
        results = []
        for criterion in slo["criteria"]:
            from_ms = Parser(f"timeseries sum(x), from: {criterion['timeframeFrom']}").query(now).from_ms
            indicator = (slo.get("customSli") or {}).get("indicator", "")
            values = [value for record in evaluate(indicator, self.metrics, now_ms=now, from_ms=from_ms)
                      for value in record.get("sli") or [] if value is not None]
            label = f"{criterion['timeframeFrom']} - {criterion.get('timeframeTo', 'now')}"
            if not values:
                results.append({"criteria": label, "status": "NOT_EVALUATED", "message": "No data"})
                continue
            value = sum(values) / len(values)
            warning = criterion.get("warning")
            status = "SUCCESS" if warning is None or value >= warning else "WARNING"
            if value < criterion["target"]:
                status = "FAILURE"
            results.append({"criteria": label, "status": status, "value": value,
                            "errorBudget": value - criterion["target"]})
        return results

    def start_evaluation(self, body: Any) -> Reply:
        slo = self.slos.get(str((body or {}).get("id")))
        if slo is None:
            return _error(404, "SLO not found")
        token = uuid.uuid4().hex
        self.evaluations[token] = {"definition": slo, "evaluationResults": self.evaluate_slo(slo),
                                   "evaluationToken": token, "ttlSeconds": 60}
        return 202, {"evaluationToken": token, "ttlSeconds": 60}, {}
