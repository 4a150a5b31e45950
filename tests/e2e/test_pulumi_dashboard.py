"""The stack's dashboard under the real Pulumi engine, for a classic and a platform stack: the first ``up`` creates
it (the strict emulator accepts it), ``preview`` shows a change of the stack's APIs as a change to it, the next
``up`` rewrites it in place (same id), an unchanged ``up`` writes nothing, and ``destroy`` removes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kong_slo.dynatrace.dashboard_sections import dashboard_id
from tests.e2e.pulumi_project import PulumiProject
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_dashboards import dashboard_problems
from tests.fakes.dynatrace_documents import content_problems
from tests.fakes.kong_admin import FakeKong

PLATFORM_TOKEN = "dt0s16.E2EPUBLIC.E2EDASHBOARDSECRETNEVERSHOWN"
FIRST = [{"name": "Orders"}, {"name": "HealthService", "latency": False}]
SECOND = [*FIRST, {"name": "Payments"}]


def configure(project: PulumiProject, kong: FakeKong, dynatrace: dict[str, Any], apis: list[dict[str, Any]]) -> None:
    project.configure({"target": "external",
                       "kong": {"adminUrl": kong.url, "collectorUrl": "http://127.0.0.1:4318", "version": "3.9"},
                       "dynatrace": dynatrace, "apis": apis})


def headings(fake: FakeDynatrace, flavour: str) -> list[str]:
    """The API sections the stored dashboard shows, in order."""
    if flavour == "classic":
        (stored,) = fake.dashboards.dashboards.values()
        assert dashboard_problems({k: v for k, v in stored.items() if k != "metadata"}) == []
        return [tile["name"] for tile in stored["tiles"] if tile["tileType"] == "HEADER"]
    (document_id,) = fake.documents.live()
    content = json.loads(fake.documents.contents[document_id])
    assert content_problems(content) == []
    tiles = [content["tiles"][key] for key in sorted(content["tiles"], key=int)]  # ids are the reading order
    return [tile["content"].removeprefix("## ") for tile in tiles if tile["type"] == "markdown"][1:]


@pytest.mark.parametrize("flavour", ["classic", "platform"])
def test_dashboard_created_changed_in_place_and_destroyed(flavour: str, tmp_path: Path) -> None:
    with FakeKong("3.9") as kong, FakeDynatrace(read_lag=1) as fake:
        for api in SECOND:
            kong.add_service(api["name"])
        dynatrace: dict[str, Any] = {"environmentUrl": fake.url}
        project = PulumiProject(tmp_path)
        if flavour == "platform":
            dynatrace["flavour"] = "platform"
            fake.platform.platform_token = PLATFORM_TOKEN
        configure(project, kong, dynatrace, FIRST)
        project.set_secret("dynatrace.apiToken", fake.token)
        if flavour == "platform":
            project.set_secret("dynatrace.platformToken", PLATFORM_TOKEN)
        project.up()
        assert headings(fake, flavour) == ["Orders", "HealthService"]
        first_id = next(iter(fake.dashboards.dashboards if flavour == "classic" else fake.documents.live()))
        if flavour == "classic":
            assert first_id == dashboard_id("kong-slo", "e2e")

        configure(project, kong, dynatrace, SECOND)
        preview = project.run("preview", "--diff")
        assert "Dashboard" in preview.stdout and "~" in preview.stdout, preview.stdout
        project.up()
        assert headings(fake, flavour) == ["Orders", "HealthService", "Payments"]
        assert next(iter(fake.dashboards.dashboards if flavour == "classic" else fake.documents.live())) == first_id

        fake.reset_calls()
        project.up("--expect-no-changes")
        assert fake.writes() == 0, fake.per_method()
        project.run("destroy", "--yes")
        assert fake.dashboards.dashboards == {} and fake.documents.documents == {}
