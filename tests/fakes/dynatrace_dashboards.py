"""Classic dashboards through the configuration API (``/api/config/v1/dashboards``), for the Dynatrace emulator.

As documented (https://docs.dynatrace.com/docs/dynatrace-api/configuration-api/dashboards-api: "Dashboards API",
its GET/POST/PUT/DELETE pages and the "Dashboard" JSON model) and as Dynatrace's Terraform provider models the
JSON (dynatrace-oss/terraform-provider-dynatrace ``dynatrace/api/v1/config/dashboards/settings``: ``dashboard.go``,
``dashboard_meta_data.go``, ``tile.go``, ``tile_bounds.go``, ``tile_type.go``):
- the token needs ``ReadConfig`` to read and ``WriteConfig`` to write (403 otherwise);
- ``GET /dashboards`` lists stubs ``{id, name, owner}``; ``GET /dashboards/{id}`` the dashboard (404 unknown);
- ``POST /dashboards`` creates with an id Dynatrace assigns (a body carrying ``id`` is refused) and answers 201
  ``{id, name}``; ``PUT /dashboards/{id}`` creates the dashboard under that id when it is new (201 ``{id, name}``)
  and replaces it otherwise (204); an ``id`` in the body must be the path's;
- ``DELETE /dashboards/{id}``: 204, 404 when unknown;
- the body: ``dashboardMetadata`` (required; ``name`` required) and ``tiles`` (required), nothing else but ``id``
  and ``metadata``; unknown keys refused at every level; each tile has ``name``, ``tileType`` (the documented
  enum) and ``bounds`` (``top``, ``left``, ``width``, ``height``, whole pixels ≥ 0 on the editor's 38-pixel grid);
  a ``MARKDOWN`` tile needs ``markdown``; a ``DATA_EXPLORER`` query's ``metricSelector`` must be a selector
  Dynatrace accepts (``dynatrace_selector_rules``). The owner is the token's owner when none is sent.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from tests.fakes.dynatrace_selector_parser import SelectorError
from tests.fakes.dynatrace_selector_rules import check

PREFIX = "/api/config/v1"
READ, WRITE = "ReadConfig", "WriteConfig"
TOP_KEYS = {"id", "metadata", "dashboardMetadata", "tiles"}
METADATA_KEYS = {"name", "shared", "owner", "sharingDetails", "dashboardFilter", "tags", "preset",
                 "validFilterKeys", "dynamicFilters", "tilesNameSize", "hasConsistentColors", "popularity"}
TILE_KEYS = {"name", "nameSize", "tileType", "configured", "bounds", "tileFilter", "assignedEntities", "metric",
             "customName", "query", "type", "timeFrameShift", "visualizationConfig", "limit", "filterConfig",
             "chartVisible", "markdown", "excludeMaintenanceWindows", "queries", "visualConfig", "queriesSettings",
             "metricExpressions", "isAutoRefreshDisabled"}
TILE_TYPES = frozenset({"APPLICATION", "APPLICATIONS", "APPLICATIONS_MOST_ACTIVE", "APPLICATION_METHOD",
    "APPLICATION_WORLDMAP", "AWS", "BOUNCE_RATE", "CUSTOM_APPLICATION", "CUSTOM_CHARTING", "DATABASE",
    "DATABASES_OVERVIEW", "DATA_EXPLORER", "DCRUM_APPLICATION", "DCRUM_SERVICES", "DEM_KEY_USER_ACTION",
    "DEVICE_APPLICATION_METHOD", "DOCKER", "DTAQL", "HEADER", "HOST", "HOSTS", "LOG_ANALYTICS", "MARKDOWN",
    "MOBILE_APPLICATION", "NETWORK", "NETWORK_MEDIUM", "OPENSTACK", "OPENSTACK_AV_ZONE", "OPENSTACK_PROJECT",
    "OPEN_PROBLEMS", "PROCESS_GROUPS_ONE", "PURE_MODEL", "RESOURCES", "SCALABLE_LIST", "SERVICES",
    "SERVICE_VERSATILE", "SESSION_METRICS", "SLO", "SYNTHETIC_HTTP_MONITOR", "SYNTHETIC_SINGLE_EXT_TEST",
    "SYNTHETIC_SINGLE_WEBCHECK", "SYNTHETIC_TESTS", "THIRD_PARTY_MOST_ACTIVE", "UEM_ACTIVE_SESSIONS",
    "UEM_CONVERSIONS_OVERALL", "UEM_CONVERSIONS_PER_GOAL", "UEM_JSERRORS_OVERALL", "UEM_KEY_USER_ACTIONS", "USERS",
    "VIRTUALIZATION"})
BOUNDS = ("top", "left", "width", "height")
GRID = 38
OWNER = "sre@example.com"
Reply = tuple[int, Any, dict[str, str]]


def _error(code: int, message: str, violations: list[str] | None = None) -> Reply:
    found = [{"path": line.split(": ", 1)[0], "message": line.split(": ", 1)[-1], "parameterLocation": "PAYLOAD_BODY",
              "location": None} for line in violations or []]
    return code, {"error": {"code": code, "message": message, "constraintViolations": found}}, {}


def _unknown(where: str, value: dict[str, Any], allowed: set[str]) -> list[str]:
    return [f"{where}{key}: unknown property" for key in sorted(set(value) - allowed)]


def tile_problems(index: int, tile: Any) -> list[str]:
    where = f"tiles[{index}]."
    if not isinstance(tile, dict):
        return [f"tiles[{index}]: must be an object"]
    problems = _unknown(where, tile, TILE_KEYS)
    if not isinstance(tile.get("name"), str):
        problems.append(f"{where}name: must not be null")
    if tile.get("tileType") not in TILE_TYPES:
        problems.append(f"{where}tileType: must be one of the documented tile types")
    bounds = tile.get("bounds")
    if not isinstance(bounds, dict) or set(bounds) != set(BOUNDS):
        problems.append(f"{where}bounds: must hold exactly top, left, width and height")
    elif not all(isinstance(bounds[key], int) and bounds[key] >= 0 and bounds[key] % GRID == 0 for key in BOUNDS):
        problems.append(f"{where}bounds: must be whole pixels >= 0 on the {GRID}-pixel grid")
    if tile.get("tileType") == "MARKDOWN" and not isinstance(tile.get("markdown"), str):
        problems.append(f"{where}markdown: must not be null for a MARKDOWN tile")
    for query in tile.get("queries") or []:
        try:
            check(str(query.get("metricSelector") or ""))
        except SelectorError as error:
            problems.append(f"{where}queries: the metric selector is invalid: {error}")
    return problems


def dashboard_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["body: must be a dashboard object"]
    problems = _unknown("", body, TOP_KEYS)
    metadata = body.get("dashboardMetadata")
    if not isinstance(metadata, dict):
        problems.append("dashboardMetadata: must not be null")
    else:
        problems += _unknown("dashboardMetadata.", metadata, METADATA_KEYS)
        if not isinstance(metadata.get("name"), str) or not metadata["name"].strip():
            problems.append("dashboardMetadata.name: must not be blank")
        tags = metadata.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            problems.append("dashboardMetadata.tags: must be a set of strings")
    if not isinstance(body.get("tiles"), list):
        problems.append("tiles: must not be null")
    else:
        for index, tile in enumerate(body["tiles"]):
            problems += tile_problems(index, tile)
    return problems


class ConfigDashboards:
    """The emulator's classic dashboards; ``FakeDynatrace`` hands it every ``/api/config/v1`` call."""

    def __init__(self) -> None:
        self.dashboards: dict[str, dict[str, Any]] = {}

    def handle(self, method: str, path: str, body: Any, scopes: set[str]) -> Reply:
        needed = READ if method == "GET" else WRITE
        if needed not in scopes:
            return _error(403, f"Token is missing required scope. Use one of: {needed}")
        if path == "/dashboards" and method == "GET":
            stubs = [{"id": key, "name": item["dashboardMetadata"]["name"], "owner": item["dashboardMetadata"]["owner"]}
                     for key, item in self.dashboards.items()]
            return 200, {"dashboards": stubs}, {}
        if path == "/dashboards" and method == "POST":
            if isinstance(body, dict) and body.get("id"):
                return _error(400, "Constraints violated.", ["id: must be null (Dynatrace assigns the id)"])
            return self.store(str(uuid.uuid4()), body, created=True)
        match = re.fullmatch(r"/dashboards/([^/]+)", path)
        if match is None:
            return _error(404, f"{method} {path} not found")
        dashboard_id = match.group(1)
        if method == "PUT":
            if isinstance(body, dict) and body.get("id") not in (None, dashboard_id):
                return _error(400, "Constraints violated.", ["id: must match the id in the path"])
            return self.store(dashboard_id, body, created=dashboard_id not in self.dashboards)
        if dashboard_id not in self.dashboards:
            return _error(404, f"Dashboard {dashboard_id} not found")
        if method == "DELETE":
            del self.dashboards[dashboard_id]
            return 204, None, {}
        if method == "GET":
            return 200, copy.deepcopy(self.dashboards[dashboard_id]), {}
        return _error(405, f"{method} not allowed")

    def store(self, dashboard_id: str, body: Any, *, created: bool) -> Reply:
        problems = dashboard_problems(body)
        if problems:
            return _error(400, "Constraints violated.", problems)
        stored = copy.deepcopy(body)
        stored["id"] = dashboard_id
        stored["metadata"] = {"configurationVersions": [6], "clusterVersion": "1.320.0"}
        stored["dashboardMetadata"].setdefault("owner", OWNER)
        stored["dashboardMetadata"].setdefault("shared", False)
        stored["dashboardMetadata"].setdefault("tags", [])
        for tile in stored["tiles"]:
            tile.setdefault("configured", True)
            tile.setdefault("tileFilter", {})
            tile.setdefault("isAutoRefreshDisabled", False)
        self.dashboards[dashboard_id] = stored
        return (201, {"id": dashboard_id, "name": stored["dashboardMetadata"]["name"]}, {}) if created else \
            (204, None, {})
