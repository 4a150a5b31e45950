"""A small client for the parts of the Dynatrace Environment API v2 kong-slo uses: classic SLOs and
Settings 2.0 objects.

Every request has a timeout; 429, 5xx and connection errors are retried with capped backoff that honours
``Retry-After``, else ``X-RateLimit-Reset``. The token goes into the ``Authorization`` header only: it is
never part of a URL, a log line or an error message.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

import requests

from kong_slo.http import ApiError, RetryPolicy, is_loopback_host, retry_after_seconds, send, what_came_back
from kong_slo.objectives.sli import selector_string
from kong_slo.settings.rules import environment_url_problem

RESET_MICROSECONDS_ABOVE = 1e14
"""``X-RateLimit-Reset`` is documented in µs, but some clients treat it as seconds: above this it is µs."""
DISABLED_SLO = "disabled SLO"
"""Dynatrace refuses ``GET /slo/{id}`` for a disabled SLO ("Cannot access a disabled SLO.")."""


class DynatraceError(ApiError):
    """Dynatrace answered with an error; the message lists its ``constraintViolations``."""


class OutcomeUnknown(DynatraceError):
    """A create got no usable answer (timeout, dropped connection, 5xx): the object may or may not exist now."""


def checked_url(environment_url: str, credential: str) -> tuple[str, SplitResult]:
    """The URL without trailing slashes, and its parts; refuses anything but https, or http to this machine."""
    url = environment_url.strip().rstrip("/")
    shape = environment_url_problem(url)
    if shape is not None:
        raise DynatraceError(shape)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DynatraceError(f"{environment_url!r} is not an http(s) URL of a Dynatrace environment")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise DynatraceError(f"{environment_url!r} uses plain http; the {credential} would cross the network "
                             "unencrypted, so use https (http is accepted only for this machine)")
    return url, parts


ENVIRONMENT_API_PATH = "/api/v2"
CONFIG_API_PATH = "/api/config/v1"
"""The configuration API v1 (classic dashboards): same host and token as the Environment API v2."""


def api_base(environment_url: str, api_path: str = ENVIRONMENT_API_PATH) -> str:
    """``<environment URL>/api/v2`` (or another ``api_path`` of the environment, such as ``/api/config/v1``). Any
    base works (SaaS, Managed ``/e/<id>``, ActiveGate, a local stand-in, one already ending in ``/api/v2``) except
    the platform ``.apps.`` host, which does not serve these APIs, and plain http to another machine."""
    url, parts = checked_url(environment_url, "API token")
    if ".apps." in (parts.hostname or ""):
        raise DynatraceError(f"{environment_url!r} is the platform (apps) host; the SLO and settings APIs "
                             "live on the environment (.live.) host")
    return url.removesuffix(ENVIRONMENT_API_PATH) + api_path


def rate_limit_wait(response: requests.Response, now: float | None = None) -> float | None:
    """Seconds to wait before retrying: ``Retry-After``, else until ``X-RateLimit-Reset``; None if neither."""
    hinted = retry_after_seconds(response.headers)
    if hinted is not None:
        return hinted
    reset = response.headers.get("X-RateLimit-Reset")
    if reset is None:
        return None
    try:
        value = float(reset)
    except ValueError:
        return None
    seconds = value / 1e6 if value > RESET_MICROSECONDS_ABOVE else value
    return max(0.0, seconds - (time.time() if now is None else now))


def error_message(response: requests.Response, what: str) -> str:
    """``<what>: HTTP <code>: <message> (<path>: <violation>; …)`` from Dynatrace's error envelope."""
    try:
        body = response.json()
    except ValueError:
        return f"{what}: HTTP {response.status_code} with {what_came_back(response)}"
    error = body.get("error", body) if isinstance(body, dict) else {}
    message = str(error.get("message") or "").strip() if isinstance(error, dict) else ""
    violations = error.get("constraintViolations") if isinstance(error, dict) else None
    if isinstance(error, dict) and not violations and isinstance(error.get("details"), dict):
        violations = error["details"].get("constraintViolations")  # the platform APIs' error envelope
    details = [f"{item.get('path') or item.get('location') or '?'}: {item.get('message')}"
               for item in violations or [] if isinstance(item, dict)]
    line = f"{what}: HTTP {response.status_code}" + (f": {message}" if message else "")
    return line + (f" ({'; '.join(details)})" if details else "")


DEFAULT_POLICY = RetryPolicy(attempts=5, initial_delay=2.0, multiplier=1.5, max_delay=60.0, timeout=30.0)
"""Dynatrace's own advice for 429 and 503: back off from a few seconds, by 1.5, up to a minute."""


class DynatraceClient:
    """One environment. Create one per operation; it holds a ``requests.Session`` (never pickled)."""

    def __init__(self, environment_url: str, token: str, *, policy: RetryPolicy | None = None,
                 api_path: str = ENVIRONMENT_API_PATH) -> None:
        self.base = api_base(environment_url, api_path)
        self.policy = policy or DEFAULT_POLICY
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Api-Token {token}", "Accept": "application/json"})
        self.calls = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> DynatraceClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, what: str, **kwargs: Any) -> requests.Response:
        """Send with retries and return the response, whatever its status."""
        self.calls += 1
        return send(self.session, method, f"{self.base}{path}", policy=self.policy, wait_hint=rate_limit_wait,
                    describe=what, **kwargs)

    def post_once(self, path: str, body: Any, *, what: str, **kwargs: Any) -> requests.Response:
        """POST a create, which Dynatrace does not make idempotent, without ever repeating it blindly.
        ``body`` goes as JSON; ``kwargs`` (e.g. ``files`` for a multipart form) go to ``requests`` as they are.

        429 is retried (Dynatrace refused the request before acting on it). A timeout, a dropped connection
        or a 5xx raises ``OutcomeUnknown``: the caller looks the object up before posting again.
        """
        self.calls += 1
        once = dataclasses.replace(self.policy, attempts=1)
        for attempt in range(self.policy.attempts):
            try:
                response = send(self.session, "POST", f"{self.base}{path}", policy=once, describe=what, json=body,
                                **kwargs)
            except ApiError as error:
                raise OutcomeUnknown(str(error)) from None
            if response.status_code >= 500:
                raise OutcomeUnknown(error_message(response, what), status=response.status_code)
            if response.status_code != 429 or attempt + 1 == self.policy.attempts:
                return response
            hinted = rate_limit_wait(response)
            self.policy.sleep(self.policy.backoff(attempt) if hinted is None
                              else min(hinted, self.policy.max_delay * 2))
        raise AssertionError("unreachable")

    def expect(self, response: requests.Response, what: str, *ok: int) -> requests.Response:
        if response.status_code not in ok:
            raise DynatraceError(error_message(response, what), status=response.status_code,
                                 body=_json_or_none(response))
        return response

    def read_or_none(self, path: str, *, what: str) -> dict[str, Any] | None:
        """``GET path`` as JSON, or None when Dynatrace answers 404 (no such object)."""
        response = self.request("GET", path, what=what)
        if response.status_code == 404:
            return None
        return self.expect(response, what, 200).json()

    # -- classic SLOs -------------------------------------------------------------------------------

    def list_slos(self, selector: str | None = None, *, evaluate: bool = False) -> Iterator[dict[str, Any]]:
        """Every SLO (disabled ones too) matching ``selector``, following ``nextPageKey``."""
        params: dict[str, Any] = {"enabledSlos": "all", "pageSize": 25 if evaluate else 500}
        if selector:
            params["sloSelector"] = selector
        if evaluate:
            params["evaluate"] = "true"
        while True:
            response = self.expect(self.request("GET", "/slo", params=params, what="list SLOs"), "list SLOs", 200)
            body = response.json()
            yield from body.get("slo") or []
            next_key = body.get("nextPageKey")
            if not next_key:
                return
            params = {"nextPageKey": next_key}

    def find_slo_by_name(self, name: str) -> dict[str, Any] | None:
        return self._first_listed("name", name)

    def _first_listed(self, key: str, value: str) -> dict[str, Any] | None:
        """The first listed SLO whose ``key`` (``id`` or ``name``, a selector of the same name) is ``value``."""
        return next((slo for slo in self.list_slos(f"{key}({selector_string(value)})") if slo.get(key) == value),
                    None)

    def get_slo(self, slo_id: str) -> dict[str, Any] | None:
        """The SLO, or None when it does not exist (404). A disabled SLO, which Dynatrace will not read by id,
        comes from the list instead."""
        what = f"read SLO {slo_id}"
        response = self.request("GET", f"/slo/{quote(slo_id, safe='')}", what=what)
        if response.status_code == 404:
            return None
        if response.status_code == 400 and DISABLED_SLO in error_message(response, what):
            return self._first_listed("id", slo_id)
        return self.expect(response, what, 200).json()

    def create_slo(self, payload: dict[str, Any]) -> requests.Response:
        """POST the SLO once (see ``post_once``); a 201 carries the id in ``Location``."""
        return self.post_once("/slo", payload, what=f"create SLO {payload.get('name')!r}")

    def update_slo(self, slo_id: str, payload: dict[str, Any]) -> requests.Response:
        return self.request("PUT", f"/slo/{quote(slo_id, safe='')}", json=payload,
                            what=f"update SLO {payload.get('name')!r}")

    def delete_slo(self, slo_id: str) -> bool:
        """Delete; False when it was already gone."""
        return self._delete(f"/slo/{quote(slo_id, safe='')}", f"delete SLO {slo_id}")

    # -- metrics ------------------------------------------------------------------------------------

    def ingest_metrics(self, lines: list[str]) -> dict[str, Any]:
        """POST line-protocol lines (``metrics.ingest`` scope). Dynatrace answers 202 with ``linesOk`` and
        ``linesInvalid``; an answer without a single accepted line is an error."""
        what = "ingest metric lines"
        response = self.request("POST", "/metrics/ingest", data="\n".join(lines).encode(),
                                headers={"Content-Type": "text/plain; charset=utf-8"}, what=what)
        body = self.expect(response, what, 202).json()
        if body.get("linesInvalid"):
            raise DynatraceError(error_message(response, what) + f" ({body['linesInvalid']} invalid lines)",
                                 status=response.status_code, body=body)
        return body

    def metric_known(self, key: str) -> bool:
        """Whether Dynatrace knows the metric ``key`` (``metrics.read`` scope): its descriptor exists."""
        return self.read_or_none(f"/metrics/{quote(key, safe='')}", what=f"read metric {key}") is not None

    # -- Settings 2.0 -------------------------------------------------------------------------------

    def list_settings(self, schema_id: str) -> Iterator[dict[str, Any]]:
        """Every environment-scoped object of ``schema_id``, following ``nextPageKey``."""
        params: dict[str, Any] = {"schemaIds": schema_id, "scopes": "environment",
                                  "fields": "objectId,value,externalId,updateToken,schemaVersion", "pageSize": 500}
        what = f"list {schema_id}"
        while True:
            body = self.expect(self.request("GET", "/settings/objects", params=params, what=what), what, 200).json()
            yield from body.get("items") or []
            next_key = body.get("nextPageKey")
            if not next_key:
                return
            params = {"nextPageKey": next_key}

    def find_settings(self, schema_id: str, external_id: str) -> dict[str, Any] | None:
        """The environment-scoped object of ``schema_id`` with this ``externalId``, or None."""
        params: dict[str, Any] = {"schemaIds": schema_id, "scopes": "environment", "externalIds": external_id,
                                  "fields": "objectId,value,externalId,updateToken,schemaVersion",
                                  "pageSize": 500}
        what = f"look up {schema_id} {external_id!r}"
        while True:
            body = self.expect(self.request("GET", "/settings/objects", params=params, what=what), what, 200).json()
            for item in body.get("items") or []:
                if item.get("externalId") == external_id:
                    return item
            next_key = body.get("nextPageKey")
            if not next_key:
                return None
            params = {"nextPageKey": next_key}

    def create_settings(self, schema_id: str, external_id: str, value: dict[str, Any]) -> requests.Response:
        """POST one object once (see ``post_once``); the answer is an array with one item."""
        body = [{"schemaId": schema_id, "scope": "environment", "externalId": external_id, "value": value}]
        return self.post_once("/settings/objects", body, what=f"create {schema_id} {external_id!r}")

    def get_settings(self, object_id: str) -> dict[str, Any] | None:
        return self.read_or_none(f"/settings/objects/{quote(object_id, safe='')}",
                                 what=f"read settings object {object_id}")

    def update_settings(self, object_id: str, value: dict[str, Any]) -> None:
        what = f"update settings object {object_id}"
        response = self.request("PUT", f"/settings/objects/{quote(object_id, safe='')}", json={"value": value},
                                what=what)
        self.expect(response, what, 200)

    def delete_settings(self, object_id: str) -> bool:
        """Delete; False when it was already gone."""
        return self._delete(f"/settings/objects/{quote(object_id, safe='')}", f"delete settings object {object_id}")

    def _delete(self, path: str, what: str) -> bool:
        response = self.request("DELETE", path, what=what)
        if response.status_code == 404:
            return False
        self.expect(response, what, 204, 200)
        return True


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
