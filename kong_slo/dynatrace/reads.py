"""Read-only Dynatrace calls beyond the SLO and settings lifecycle: what a token may do, whether a metric
exists and what it recorded lately, and every settings object of a schema. Used by ``kong-slo doctor``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kong_slo.dynatrace.client import DynatraceClient

TOKEN_LOOKUP_PATH = "/apiTokens/lookup"
"""``POST /api/v2/apiTokens/lookup`` with ``{"token": …}``: the token's metadata (``scopes``, ``enabled``,
``expirationDate``). Any scope may call it. A POST, but it changes nothing."""


def lookup_token(client: DynatraceClient, token: str) -> dict[str, Any]:
    """The metadata of ``token`` (normally the one the client authenticates with). The token travels in the
    body only; error messages never contain it."""
    what = "look up the API token"
    return client.expect(client.request("POST", TOKEN_LOOKUP_PATH, json={"token": token}, what=what), what,
                         200).json()


def metric_descriptor(client: DynatraceClient, key: str) -> dict[str, Any] | None:
    """``GET /metrics/{key}`` (scope ``metrics.read``); None when Dynatrace knows no such metric."""
    return client.read_or_none(f"/metrics/{quote(key, safe='')}", what=f"read metric {key}")


def query_series(client: DynatraceClient, selector: str, *, since: str,
                 resolution: str = "Inf") -> list[dict[str, Any]]:
    """The series of ``GET /metrics/query`` for one selector from ``since`` (``now-30m``) to now: each
    ``{dimensionMap, timestamps, values}``. ``resolution=Inf`` gives one value per series."""
    what = f"query {selector}"
    params: dict[str, Any] = {"metricSelector": selector, "from": since, "resolution": resolution}
    series: list[dict[str, Any]] = []
    while True:
        body = client.expect(client.request("GET", "/metrics/query", params=params, what=what), what, 200).json()
        for result in body.get("result") or []:
            series.extend(result.get("data") or [])
        next_key = body.get("nextPageKey")
        if not next_key:
            return series
        params = {"nextPageKey": next_key}


def list_settings(client: DynatraceClient, schema_id: str) -> list[dict[str, Any]]:
    """Every environment-scoped object of ``schema_id`` (``objectId``, ``externalId``, ``value``)."""
    params: dict[str, Any] = {"schemaIds": schema_id, "scopes": "environment",
                              "fields": "objectId,externalId,value", "pageSize": 500}
    what = f"list {schema_id}"
    items: list[dict[str, Any]] = []
    while True:
        body = client.expect(client.request("GET", "/settings/objects", params=params, what=what), what, 200).json()
        items.extend(body.get("items") or [])
        next_key = body.get("nextPageKey")
        if not next_key:
            return items
        params = {"nextPageKey": next_key}
