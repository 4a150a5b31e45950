"""A client for Latest Dynatrace's platform SLO API (``<apps URL>/platform/slo/v1``), Bearer-authenticated.

It shares the classic client's retrying transport, error wording and once-only POST (``DynatraceClient``):
429, 5xx and dropped connections are retried with backoff, a create whose answer was lost raises
``OutcomeUnknown`` so the caller looks before posting again. Writes to an existing SLO carry the
``optimistic-locking-version`` the last read returned; Dynatrace answers 409 when it is stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests

from kong_slo.dynatrace.client import DEFAULT_POLICY, DynatraceClient, DynatraceError, checked_url
from kong_slo.http import RetryPolicy

SLO_API_PATH = "/platform/slo/v1"
SETTINGS_API_PATH = "/platform/classic/environment-api/v2"
"""Settings 2.0 through the platform (Bearer auth); its ``/settings/objects`` calls are the classic ones."""
PAGE_SIZE = 500
EVALUATION_STARTS = 3
"""Evaluations started afresh after a poll answered 410 Gone, at most."""
EVALUATION_POLLS = 10
EVALUATION_POLL_MS = 3000


def platform_base(platform_url: str, api_path: str = SLO_API_PATH) -> str:
    """``<apps URL><api_path>``; refuses the ``.live.`` host, which does not serve platform APIs."""
    url, parts = checked_url(platform_url, "bearer token")
    if ".live." in (parts.hostname or ""):
        raise DynatraceError(f"{platform_url!r} is the classic (live) host; platform SLOs live on "
                             f"{url.replace('.live.', '.apps.', 1)!r}")
    return url if url.endswith(api_path) else f"{url}{api_path}"


class PlatformClient(DynatraceClient):
    """One platform API of a Latest Dynatrace environment: the SLO API, or with ``api_path=SETTINGS_API_PATH``
    Settings 2.0 (the classic client's settings methods then apply). Create one per operation."""

    def __init__(self, platform_url: str, bearer_token: str, *, policy: RetryPolicy | None = None,
                 api_path: str = SLO_API_PATH) -> None:
        self.base = platform_base(platform_url, api_path)
        self.policy = policy or DEFAULT_POLICY
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {bearer_token}", "Accept": "application/json"})
        self.calls = 0

    def list_platform_slos(self) -> Iterator[dict[str, Any]]:
        """Every SLO, following ``nextPageKey`` (sent alone, as the API requires)."""
        params: dict[str, Any] = {"page-size": PAGE_SIZE}
        while True:
            body = self.expect(self.request("GET", "/slos", params=params, what="list SLOs"), "list SLOs", 200).json()
            yield from body.get("slos") or []
            next_key = body.get("nextPageKey")
            if not next_key:
                return
            params = {"page-key": next_key}

    def find_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        """The SLO with this ``externalId``. The list filter covers only id, name and tags, so this reads the
        list and matches here."""
        return next((slo for slo in self.list_platform_slos() if slo.get("externalId") == external_id), None)

    def get_platform_slo(self, slo_id: str) -> dict[str, Any] | None:
        return self.read_or_none(f"/slos/{quote(slo_id, safe='')}", what=f"read SLO {slo_id}")

    def create_platform_slo(self, payload: dict[str, Any]) -> requests.Response:
        """POST once (see ``post_once``); a 201 carries the stored SLO with ``id`` and ``version``."""
        return self.post_once("/slos", payload, what=f"create SLO {payload.get('name')!r}")

    def update_platform_slo(self, slo_id: str, version: str, payload: dict[str, Any]) -> requests.Response:
        return self.request("PUT", f"/slos/{quote(slo_id, safe='')}", params={"optimistic-locking-version": version},
                            json=payload, what=f"update SLO {payload.get('name')!r}")

    def delete_platform_slo(self, slo_id: str, version: str) -> requests.Response:
        return self.request("DELETE", f"/slos/{quote(slo_id, safe='')}",
                            params={"optimistic-locking-version": version}, what=f"delete SLO {slo_id}")

    def evaluate_platform_slo(self, slo_id: str) -> list[dict[str, Any]]:
        """Evaluate now: ``evaluation:start``, then poll with the token until results arrive (bounded). A poll
        answered 410 Gone (the evaluation's time to live ran out) starts a new evaluation, once per attempt."""
        what = f"evaluate SLO {slo_id}"
        results: list[dict[str, Any]] = []
        for _ in range(EVALUATION_STARTS):
            started = self.expect(self.request("POST", "/slos/evaluation:start", json={"id": slo_id}, what=what),
                                  what, 200, 201, 202).json()
            results = started.get("evaluationResults") or []
            token = started.get("evaluationToken")
            for _ in range(EVALUATION_POLLS):
                if results or not token:
                    return results
                params = {"evaluation-token": token, "request-timeout-milliseconds": EVALUATION_POLL_MS}
                response = self.request("GET", "/slos/evaluation:poll", params=params, what=what)
                if response.status_code == 410:
                    break
                results = self.expect(response, what, 200, 202).json().get("evaluationResults") or []
            else:
                return results
        raise DynatraceError(f"{what}: the evaluation expired before it finished (410 Gone), "
                             f"{EVALUATION_STARTS} times", status=410)
