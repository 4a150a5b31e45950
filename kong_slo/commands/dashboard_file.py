"""``dashboard.json`` for ``kong-slo render``: the request that writes the stack's dashboard, for review. Pure."""

from __future__ import annotations

import json
from typing import Any

from kong_slo.dynatrace.classic.dashboard_content import classic_dashboard
from kong_slo.dynatrace.client import CONFIG_API_PATH
from kong_slo.dynatrace.dashboard_sections import dashboard_external_id, dashboard_id, dashboard_name
from kong_slo.dynatrace.platform.dashboard import DOCUMENT_API_PATH
from kong_slo.dynatrace.platform.dashboard_content import platform_dashboard
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings import StackSettings


def dashboard_request(settings: StackSettings) -> dict[str, Any] | None:
    """Classic: the ``PUT`` of the dashboard JSON under its stable id. Platform: the document's form fields and
    content. None without a Dynatrace environment or without objectives."""
    dynatrace, definitions = settings.dynatrace, slo_definitions(settings)
    if dynatrace is None or not definitions:
        return None
    if dynatrace.platform is not None:
        return {"method": "POST", "path": f"{DOCUMENT_API_PATH}/documents",
                "form": {"name": dashboard_name(settings.stack), "type": "dashboard", "isPrivate": "false",
                         "externalId": dashboard_external_id(settings.project, settings.stack)},
                "content": platform_dashboard(settings.stack, dynatrace.platform.url, definitions)}
    identifier = dashboard_id(settings.project, settings.stack)
    return {"method": "PUT", "path": f"{CONFIG_API_PATH}/dashboards/{identifier}",
            "body": {"id": identifier, **classic_dashboard(settings.stack, dynatrace.environment_url, definitions)}}


def dashboard_json(settings: StackSettings) -> str | None:
    request = dashboard_request(settings)
    return None if request is None else json.dumps(request, indent=2, ensure_ascii=False) + "\n"
