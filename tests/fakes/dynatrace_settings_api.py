"""Settings 2.0 of the Dynatrace emulator (``/api/v2/settings/objects``): typed values, ``externalId`` per schema.

It takes and returns arrays (207 on mixed results) and keeps ``externalId`` unique per schema
(``unique_external_ids=False`` stops that, to prove a client needs no server-side help to stay single); a value its
schema refuses (typed properties, the metric selector of a metric event, a detector) is an item error.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from tests.fakes import dynatrace_ingest
from tests.fakes.dynatrace_detectors import detector_problems
from tests.fakes.dynatrace_replies import Reply, item_error
from tests.fakes.dynatrace_settings_rules import value_problems

if TYPE_CHECKING:
    from tests.fakes.dynatrace import FakeDynatrace

SCHEMAS = ("builtin:alerting.profile", "builtin:problem.notifications", "builtin:anomaly-detection.metric-events",
           "builtin:davis.anomaly-detectors")
SETTINGS_DEFAULTS: dict[str, dict[str, Any]] = {
    "builtin:alerting.profile": {"managementZone": None, "eventFilters": []},
    "builtin:problem.notifications": {"enabled": True},
    "builtin:anomaly-detection.metric-events": {"eventEntityDimensionKey": None, "legacyId": None},
}


def route(fake: FakeDynatrace, method: str, path: str, query: dict[str, str], body: Any) -> Reply | None:
    """The reply to a request under ``/settings/objects``, or None for another path."""
    if path == "/settings/objects" and method == "GET":
        return _list(fake, query)
    if path == "/settings/objects" and method == "POST":
        items = [settings_item(fake, item) for item in body]
        codes = {item["code"] == 200 for item in items}
        status = 200 if codes == {True} else 207 if len(codes) == 2 else items[0]["code"]
        return status, items, {}
    match = re.fullmatch(r"/settings/objects/([^/]+)", path)
    return _one(fake, method, match.group(1), body) if match else None


def value_refusal(fake: FakeDynatrace, schema: str, value: dict[str, Any]) -> dict[str, Any] | None:
    """The item error for a value its schema refuses, on a create or an update alike: typed properties, the metric
    selector of a metric event, a detector's analyzer, a notification's alerting profile; or None."""
    problems = value_problems(schema, value)
    if problems:
        return item_error(400, "; ".join(problems), problems[0].split(":", 1)[0])
    refused = dynatrace_ingest.metric_event_refusal(fake, schema, value)
    if refused:
        return item_error(400, refused, "queryDefinition/metricSelector")
    if schema == "builtin:davis.anomaly-detectors" and detector_problems(value):
        return item_error(400, "; ".join(detector_problems(value)), "value")
    if schema == "builtin:problem.notifications" and value.get("alertingProfile") not in fake.settings:
        return item_error(400, "Alerting profile does not exist", "alertingProfile")
    return None


def settings_item(fake: FakeDynatrace, item: dict[str, Any]) -> dict[str, Any]:
    schema, ext_id, value = item.get("schemaId"), item.get("externalId"), item.get("value")
    if schema not in SCHEMAS:
        return item_error(404, f"Schema {schema} not found")
    if not isinstance(value, dict):
        return item_error(400, "value is required", "value")
    taken = any(o["schemaId"] == schema and o.get("externalId") == ext_id for o in fake.settings.values())
    if ext_id and fake.unique_external_ids and taken:
        return item_error(400, f"An object with external ID {ext_id} already exists", "externalId")
    refused = value_refusal(fake, schema, value)
    if refused:
        return refused
    object_id = f"vu9U3hXa3q0AAAA{uuid.uuid4().hex}"
    fake.settings[object_id] = {"objectId": object_id, "schemaId": schema, "scope": "environment",
                                "externalId": ext_id, "schemaVersion": "1.0.0",
                                "updateToken": uuid.uuid4().hex,
                                "value": {**SETTINGS_DEFAULTS.get(schema, {}), **value}}
    return {"code": 200, "objectId": object_id}


def _list(fake: FakeDynatrace, query: dict[str, str]) -> Reply:
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


def _one(fake: FakeDynatrace, method: str, object_id: str, body: Any) -> Reply:
    obj = fake.settings.get(object_id)
    if obj is None:
        return 404, {"error": {"code": 404, "message": f"Settings object {object_id} not found"}}, {}
    if method == "DELETE":
        del fake.settings[object_id]
        return 204, None, {}
    if method == "PUT":
        value = body.get("value") if isinstance(body, dict) else None
        refused = value_refusal(fake, obj["schemaId"], value) if isinstance(value, dict) else \
            item_error(400, "value is required", "value")
        if refused:
            return 400, {"error": refused["error"]}, {}
        obj["value"] = {**SETTINGS_DEFAULTS.get(obj["schemaId"], {}), **body["value"]}
        obj["updateToken"] = uuid.uuid4().hex
        return 200, {"code": 200, "objectId": object_id}, {}
    return 200, obj, {}

