"""``KongRoute``: a Kong service and one route in front of an upstream, for the local stack's demo APIs.

On the local stack every API of the stack file gets a service (named after the API) that proxies to the
demo upstream, and a route ``/<api name in lower case>``; the API's ``opentelemetry`` plugin then attaches
to that service. Both are written with ``PUT`` by name, so a retried or repeated create never duplicates.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi import dynamic

from kong_slo.dynamic_resource import DynamicResource
from kong_slo.http import RetryPolicy
from kong_slo.kong.admin import KongAdmin
from kong_slo.kong.payload import ownership_tags

INPUT_KEYS = ("service", "route", "path", "upstream_url", "admin_url", "stack")
REPLACE_KEYS = ("service", "route", "admin_url")


def route_path(api_name: str) -> str:
    """The proxy path of an API on the local stack: ``/healthservice`` for ``HealthService``."""
    return f"/{api_name.lower()}"


class KongRouteProvider(dynamic.ResourceProvider):
    """CRUD for a service and its route. The local Kong has no RBAC, so no credentials are involved."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self._policy = policy

    def _admin(self, props: dict[str, Any]) -> KongAdmin:
        return KongAdmin(props["admin_url"], policy=self._policy)

    def _write(self, props: dict[str, Any]) -> dict[str, Any]:
        tags = ownership_tags(props["stack"])
        with self._admin(props) as kong:
            service = kong.put_service(props["service"], props["upstream_url"], tags)
            route = kong.put_route(props["route"], props["service"], [props["path"]], tags)
        return {**{key: props[key] for key in INPUT_KEYS}, "service_id": service["id"], "route_id": route["id"]}

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(props["service"], self._write(props))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = [key for key in REPLACE_KEYS if olds.get(key) != news.get(key)]
        changed = [key for key in INPUT_KEYS if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._write(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._admin(props) as kong:
            kong.delete_route(props["route"])
            kong.delete_service(props["service"])


class KongRoute(DynamicResource, module="kong", name="KongRoute"):
    """A Kong service named ``service`` proxying to ``upstream_url``, with the route ``route`` on ``path``."""

    service_id: pulumi.Output[str]
    route_id: pulumi.Output[str]

    def __init__(self, name: str, *, service: str, path: str, upstream_url: pulumi.Input[str],
                 admin_url: pulumi.Input[str], stack: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(KongRouteProvider(), name, {
            "service": service, "route": f"{service}-route", "path": path, "upstream_url": upstream_url,
            "admin_url": admin_url, "stack": stack, "service_id": None, "route_id": None,
        }, opts)
