"""``ServiceLevelObjective``: a classic Dynatrace SLO (``/api/v2/slo``) as a Pulumi dynamic resource.

- create: adopt an SLO of the same name if one exists (never a duplicate), found in one paged list of the
  stack's SLOs shared by all creates (``listing``); otherwise POST, take the id from ``Location`` and poll by
  id (bounded) until Dynatrace reads it back. "Metric selector is invalid" right after new
  metrics appear is transient and retried for a bounded time. A POST whose answer was lost but which
  was applied is recognised by its name and taken over.
- diff: only the payload keys we send, floats rounded; a new ``metricName`` (immutable in Dynatrace) or
  environment is a replacement, deleting first because names are unique.
- update: PUT. delete: DELETE, where 404 means already done.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from kong_slo.dynamic_resource import DynamicResource
from kong_slo.dynatrace import listing
from kong_slo.dynatrace.client import DynatraceClient, DynatraceError, OutcomeUnknown, error_message
from kong_slo.dynatrace.provider import DynatraceProvider, differing_keys, normalised
from kong_slo.objectives.sli import METRIC_NAME_PATTERN, selector_string

TRANSIENT_CREATE_ERRORS = re.compile(r"metric selector is invalid|calc:|HTTP Status 400", re.IGNORECASE)
DUPLICATE_ERRORS = re.compile(r"identical|unique|already exists|duplicate", re.IGNORECASE)
"""How Dynatrace words a clash on ``name``/``metricName``, e.g. "There is another SLO with an identical name
defined. Please make your SLO name unique…" (a 400, from the settings schema behind the classic API)."""
REQUIRED_KEYS = ("name", "metricName", "metricExpression", "evaluationType", "target", "warning", "timeframe")


def _payload_check(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["payload must be an object"]
    problems = [f"payload.{key} is missing" for key in REQUIRED_KEYS if payload.get(key) in (None, "")]
    metric = payload.get("metricName")
    if isinstance(metric, str) and not (METRIC_NAME_PATTERN.match(metric) and len(metric) <= 220):
        problems.append(f"payload.metricName {metric!r} must match [a-z][a-z0-9_]* and be at most 220 characters")
    target, warning = payload.get("target"), payload.get("warning")
    if isinstance(target, int | float) and isinstance(warning, int | float) and not 0 <= target < warning <= 100:
        problems.append(f"payload.warning ({warning}) must be greater than payload.target ({target}), "
                        "both between 0 and 100")
    return problems


class ServiceLevelObjectiveProvider(DynatraceProvider):
    """CRUD for one classic SLO. Timing knobs are class attributes so pickles stay identical."""

    create_attempts: ClassVar[int] = 60
    create_retry_delay: ClassVar[float] = 2.0
    visibility_polls: ClassVar[int] = 30
    visibility_delay: ClassVar[float] = 1.0

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure("payload", problem) for problem in _payload_check(news.get("payload"))]
        failures += self.environment_url_failures(news)
        inputs = dict(news)
        if isinstance(inputs.get("payload"), dict):
            inputs["payload"] = {**inputs["payload"], "enabled": True}
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old_payload, new_payload = olds.get("payload") or {}, news.get("payload") or {}
        changed = set(differing_keys(new_payload, old_payload)) | (set(old_payload) - set(new_payload))
        replaces = []
        if "metricName" in changed:
            replaces.append("payload")
        if normalised(olds.get("environment_url")) != normalised(news.get("environment_url")):
            replaces.append("environment_url")
        return DiffResult(changes=bool(changed) or bool(replaces), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        payload, key = props["payload"], _listing_key(props)
        with self.client(props["environment_url"]) as client:
            listed = listing.SLOS.find(key, payload["name"], lambda: _stack_slos(client, payload["name"]))
            existing = client.find_slo_by_name(payload["name"]) if listed is not None else None  # confirm afresh
            if existing is not None:
                slo_id = self._adopt(client, existing, payload)
                return CreateResult(slo_id, self._outs(props, slo_id, adopted=True))
            slo_id = self._post(client, payload)
            listing.SLOS.remember(key, payload["name"], {"id": slo_id, "name": payload["name"]})
            self._wait_until_readable(client, slo_id)
        return CreateResult(slo_id, self._outs(props, slo_id, adopted=False))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props["environment_url"]) as client:
            remote = client.get_slo(id_)
        if remote is None:
            return ReadResult("", {})
        payload = dict(props.get("payload") or {})
        for key in payload:
            if key in remote:
                payload[key] = remote[key]
        inputs = {"payload": payload, "environment_url": props["environment_url"]}
        return ReadResult(id_, {**props, **inputs, "slo_id": id_}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client(news["environment_url"]) as client:
            response = client.update_slo(id_, news["payload"])
            if response.status_code == 404:
                raise DynatraceError(f"SLO {id_} ({news['payload']['name']!r}) no longer exists in Dynatrace; "
                                     "run `pulumi refresh` so the next `pulumi up` creates it again", status=404)
            client.expect(response, f"update SLO {news['payload']['name']!r}", 200, 204)
        return UpdateResult(self._outs(news, id_, adopted=bool(olds.get("adopted"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props["environment_url"]) as client:
            client.delete_slo(id_)
        listing.SLOS.forget(_listing_key(props), (props.get("payload") or {}).get("name", ""))

    # -- steps --------------------------------------------------------------------------------------

    @staticmethod
    def _outs(props: dict[str, Any], slo_id: str, *, adopted: bool) -> dict[str, Any]:
        return {"payload": props["payload"], "environment_url": props["environment_url"], "slo_id": slo_id,
                "adopted": adopted}

    def _adopt(self, client: DynatraceClient, existing: dict[str, Any], payload: dict[str, Any]) -> str:
        slo_id = str(existing["id"])
        if existing.get("metricName") and existing["metricName"] != payload["metricName"]:
            raise DynatraceError(
                f"an SLO named {payload['name']!r} already exists ({slo_id}) with metricName "
                f"{existing['metricName']!r}, not {payload['metricName']!r}; metricName cannot change, so "
                "delete or rename that SLO before deploying this one", status=409)
        if differing_keys(payload, existing):
            response = client.update_slo(slo_id, payload)
            client.expect(response, f"adopt SLO {payload['name']!r}", 200, 204)
        return slo_id

    def _post(self, client: DynatraceClient, payload: dict[str, Any]) -> str:
        what = f"create SLO {payload['name']!r}"
        unknown, message = 0, f"{what}: no answer"
        for attempt in range(self.create_attempts):
            try:
                response = client.create_slo(payload)
            except OutcomeUnknown as error:
                # The POST may have been applied: look before posting again. A lagging list that misses it
                # is still safe, because names are unique and the next POST lands in the branch below.
                existing = client.find_slo_by_name(payload["name"])
                if existing is not None:
                    return self._adopt(client, existing, payload)
                unknown += 1
                if unknown >= client.policy.attempts:
                    raise DynatraceError(f"{error}; gave up after {unknown} tries without an answer (a later "
                                         "`pulumi up` adopts the SLO by name if one of them created it)",
                                         status=error.status) from None
                self.sleep(client.policy.backoff(unknown))
                continue
            if response.status_code == 201:
                return _id_from_location(response.headers.get("Location"), what)
            message = error_message(response, what)
            if response.status_code == 409 or (response.status_code == 400 and DUPLICATE_ERRORS.search(message)):
                # An earlier POST whose answer was lost was applied: take that SLO over.
                slo_id = self._find_own(client, payload)
                if slo_id is not None:
                    return slo_id
                raise DynatraceError(message, status=response.status_code)
            if response.status_code == 400 and TRANSIENT_CREATE_ERRORS.search(message):
                if attempt + 1 < self.create_attempts:
                    self.sleep(self.create_retry_delay)
                continue
            raise DynatraceError(message, status=response.status_code)
        raise DynatraceError(f"{what}: the metric expression stayed invalid for {self.create_attempts} attempts "
                             f"({message})", status=400)

    def _find_own(self, client: DynatraceClient, payload: dict[str, Any]) -> str | None:
        for poll in range(self.visibility_polls):
            existing = client.find_slo_by_name(payload["name"])
            if existing is not None:
                return self._adopt(client, existing, payload)
            if poll + 1 < self.visibility_polls:
                self.sleep(self.visibility_delay)
        return None

    def _wait_until_readable(self, client: DynatraceClient, slo_id: str) -> None:
        """Poll by id until Dynatrace reads the new SLO back; bounded, because the SLO exists either way and a
        later run adopts it by name."""
        for poll in range(self.visibility_polls):
            if client.get_slo(slo_id) is not None:
                return
            if poll + 1 < self.visibility_polls:
                self.sleep(self.visibility_delay)


def _listing_key(props: dict[str, Any]) -> tuple[str, ...]:
    return (normalised(props["environment_url"]).rstrip("/"), "slo",
            listing.name_prefix((props.get("payload") or {}).get("name", "")))


def _stack_slos(client: DynatraceClient, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The stack's SLOs by name, from one paged list of the names sharing ``name``'s stack prefix."""
    prefix = listing.name_prefix(name)
    for slo in client.list_slos(f"text({selector_string(prefix)})"):
        if str(slo.get("name", "")).startswith(prefix):
            yield str(slo["name"]), slo


def _id_from_location(location: str | None, what: str) -> str:
    path = (location or "").split("?", 1)[0].rstrip("/")
    slo_id = path.rsplit("/", 1)[-1]
    if not slo_id:
        raise DynatraceError(f"{what}: HTTP 201 without a Location header; cannot tell the new SLO's id")
    return slo_id


class ServiceLevelObjective(DynamicResource, module="dynatrace", name="ServiceLevelObjective"):
    """A classic Dynatrace SLO. ``payload`` is ``kong_slo.objectives.sli.slo_payload(...)``; the token comes from the
    ``kong-slo:dynatrace`` stack config (``apiToken``) or ``DT_API_TOKEN``, never from inputs."""

    slo_id: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    """True when an SLO of the same name already existed and was taken over instead of duplicated."""

    def __init__(self, name: str, *, payload: pulumi.Input[dict[str, Any]], environment_url: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ServiceLevelObjectiveProvider(), name,
                         {"payload": payload, "environment_url": environment_url, "slo_id": None, "adopted": None},
                         opts)
