"""``ClassicDashboard``: a stack's dashboard through the configuration API (``/api/config/v1/dashboards``).

- identity: a client-chosen UUID per project and stack (``dashboard_sections.dashboard_id``), written with
  ``PUT /dashboards/{id}``, which creates the dashboard when the id is new (201) and replaces it otherwise (204).
  A retried or repeated create therefore lands on the same dashboard: never a second one.
- create: reads the id first; a dashboard already there (an earlier run whose state was lost) is adopted and
  rewritten only where it differs.
- diff: only the keys kong-slo sets (Dynatrace fills in tile defaults and the owner), tags as a set. Another
  id or environment is a replacement, the old one deleted first (the id is the identity).
- delete: ``DELETE /dashboards/{id}``; 404 is done.
- 429, 5xx and dropped connections are retried by the shared HTTP layer; every write is idempotent.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from kong_slo.dynamic_resource import DynamicResource, is_known
from kong_slo.dynatrace.client import CONFIG_API_PATH, DynatraceClient, DynatraceError
from kong_slo.dynatrace.provider import DynatraceProvider, differing_keys, normalised

IDENTITY = ("dashboard_id", "environment_url")


def get_dashboard(client: DynatraceClient, dashboard_id: str) -> dict[str, Any] | None:
    return client.read_or_none(f"/dashboards/{quote(dashboard_id, safe='')}", what=f"read dashboard {dashboard_id}")


def put_dashboard(client: DynatraceClient, dashboard_id: str, content: dict[str, Any]) -> None:
    """Create (201) or replace (204) the dashboard with this id; the body carries the same id."""
    what = f"write dashboard {content.get('dashboardMetadata', {}).get('name')!r}"
    body = {"id": dashboard_id, **content}
    response = client.request("PUT", f"/dashboards/{quote(dashboard_id, safe='')}", json=body, what=what)
    client.expect(response, what, 201, 204)


def delete_dashboard(client: DynatraceClient, dashboard_id: str) -> None:
    what = f"delete dashboard {dashboard_id}"
    response = client.request("DELETE", f"/dashboards/{quote(dashboard_id, safe='')}", what=what)
    if response.status_code != 404:
        client.expect(response, what, 204, 200)


def _content_problems(content: Any) -> list[str]:
    if not is_known(content):
        return []
    if not isinstance(content, dict):
        return ["content must be an object"]
    name = (content.get("dashboardMetadata") or {}).get("name") if isinstance(content.get("dashboardMetadata"),
                                                                              dict) else None
    problems = [] if isinstance(name, str) and name else ["content.dashboardMetadata.name is missing"]
    return problems + ([] if isinstance(content.get("tiles"), list) else ["content.tiles must be a list"])


class ClassicDashboardProvider(DynatraceProvider):
    """CRUD for one classic dashboard, on the configuration API v1; the token from ``configure()`` (never pickled)."""

    api_path: ClassVar[str] = CONFIG_API_PATH

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure("content", problem) for problem in _content_problems(news.get("content"))]
        if not isinstance(news.get("dashboard_id"), str) or not news["dashboard_id"]:
            failures.append(CheckFailure("dashboard_id", "dashboard_id must be a non-empty string"))
        return CheckResult(news, failures + self.environment_url_failures(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in IDENTITY if normalised(olds.get(key)) != normalised(news.get(key))]
        old, new = olds.get("content") or {}, news.get("content") or {}
        changed = not is_known(new) or bool(differing_keys(new, old) or set(old) - set(new))
        return DiffResult(changes=changed or bool(replaces), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        dashboard_id, content = props["dashboard_id"], props["content"]
        with self.client(props["environment_url"]) as client:
            existing = get_dashboard(client, dashboard_id)
            if existing is None or differing_keys(content, existing):
                put_dashboard(client, dashboard_id, content)
        return CreateResult(dashboard_id, {**props, "adopted": existing is not None})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props["environment_url"]) as client:
            remote = get_dashboard(client, id_)
        if remote is None:
            return ReadResult("", {})
        content = {key: remote.get(key, value) for key, value in (props.get("content") or {}).items()}
        inputs = {key: props[key] for key in IDENTITY} | {"content": content}
        return ReadResult(id_, {**props, **inputs}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client(news["environment_url"]) as client:
            if get_dashboard(client, id_) is None:
                raise DynatraceError(f"dashboard {id_} no longer exists; run `pulumi refresh` so the next "
                                     "`pulumi up` creates it again", status=404)
            put_dashboard(client, id_, news["content"])
        return UpdateResult({**news, "adopted": bool(olds.get("adopted"))})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props["environment_url"]) as client:
            delete_dashboard(client, id_)


class ClassicDashboard(DynamicResource, module="dynatrace", name="ClassicDashboard"):
    """A stack's classic dashboard. ``content`` is ``dashboard_content.classic_dashboard(...)``."""

    adopted: pulumi.Output[bool]
    """True when a dashboard with the stack's id already existed and was taken over."""

    def __init__(self, name: str, *, dashboard_id: str, content: pulumi.Input[dict[str, Any]],
                 environment_url: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ClassicDashboardProvider(), name,
                         {"dashboard_id": dashboard_id, "content": content, "environment_url": environment_url,
                          "adopted": None}, opts)
