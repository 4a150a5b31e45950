"""The dashboard providers against the emulator's configuration API and Documents API: create, adopt, no-op,
update in place, delete; a retried write never leaves a second dashboard; the emulators refuse what Dynatrace
documents as invalid."""

from __future__ import annotations

import copy
import json

import requests

from kong_slo.dynatrace.classic.dashboard import ClassicDashboardProvider
from kong_slo.dynatrace.classic.dashboard_content import classic_dashboard
from kong_slo.dynatrace.dashboard_sections import dashboard_external_id, dashboard_id, dashboard_name
from kong_slo.dynatrace.platform.dashboard import PlatformDashboardProvider
from kong_slo.dynatrace.platform.dashboard_content import platform_dashboard
from kong_slo.objectives.sli import slo_definitions
from tests.fakes.dynatrace import FakeDynatrace, Fault
from tests.providers.dynatrace_helpers import checked, configured, configured_platform, stack_settings

CONFIG = "/api/config/v1/dashboards"
DOCUMENTS = "/platform/document/v1/documents"


def classic_props(fake: FakeDynatrace, apis: list | None = None) -> dict:
    definitions = slo_definitions(stack_settings("test", apis))
    return {"dashboard_id": dashboard_id("kong-slo", "test"), "environment_url": fake.url,
            "content": classic_dashboard("test", fake.url, definitions)}


def platform_props(fake: FakeDynatrace, apis: list | None = None) -> dict:
    definitions = slo_definitions(stack_settings("test", apis))
    return {"name": dashboard_name("test"), "external_id": dashboard_external_id("kong-slo", "test"),
            "platform_url": fake.url, "content": platform_dashboard("test", fake.url, definitions)}


def writes(fake: FakeDynatrace) -> list[tuple[str, str]]:
    return [(method, path) for method, path in fake.calls if method in ("POST", "PUT", "PATCH", "DELETE")]


def test_classic_lifecycle_create_noop_update_delete():
    with FakeDynatrace() as fake:
        provider = ClassicDashboardProvider()
        configured(provider, fake.token)
        props = checked(provider, classic_props(fake))
        created = provider.create(props)
        assert created.id == props["dashboard_id"] and list(fake.dashboards.dashboards) == [created.id]
        stored = fake.dashboards.dashboards[created.id]
        assert stored["dashboardMetadata"]["owner"]  # Dynatrace makes the token's owner the owner
        assert stored["dashboardMetadata"]["name"] == "kong-slo test: SLOs per API"
        read = provider.read(created.id, created.outs)
        assert not provider.diff(created.id, read.outs, props).changes
        changed = classic_props(fake, [{"name": "HealthService"}, {"name": "Orders"}, {"name": "Payments"}])
        assert provider.diff(created.id, read.outs, changed).changes
        fake.reset_calls()
        provider.update(created.id, read.outs, changed)
        assert [w[0] for w in writes(fake)] == ["PUT"]
        assert any(tile.get("name") == "Payments" for tile in fake.dashboards.dashboards[created.id]["tiles"])
        provider.delete(created.id, changed)
        provider.delete(created.id, changed)  # already gone: done
        assert fake.dashboards.dashboards == {}


def test_classic_retried_and_repeated_creates_keep_one_dashboard():
    with FakeDynatrace() as fake:
        provider = ClassicDashboardProvider()
        configured(provider, fake.token)
        props = checked(provider, classic_props(fake))
        fake.inject(Fault("drop-after", "PUT", CONFIG), Fault("503", "PUT", CONFIG))
        provider.create(props)
        again = provider.create(props)  # state lost: the same id is found and adopted, not duplicated
        assert again.outs["adopted"] is True and len(fake.dashboards.dashboards) == 1
        fake.reset_calls()
        provider.create(props)
        assert writes(fake) == []  # adopted as it is: nothing to write


def test_classic_emulator_refuses_what_dynatrace_refuses():
    with FakeDynatrace() as fake:
        auth = {"Authorization": f"Api-Token {fake.token}"}
        good = classic_props(fake)["content"]
        url = f"{fake.url}{CONFIG}/{dashboard_id('kong-slo', 'x')}"
        for broken in ({**good, "colour": "red"}, {"tiles": good["tiles"]},
                       {**good, "tiles": [{**good["tiles"][0], "bounds": {"top": 1, "left": 0, "width": 38,
                                                                          "height": 38}}]},
                       {**good, "tiles": [{**good["tiles"][0], "tileType": "PIE"}]}):
            assert requests.put(url, json=broken, headers=auth, timeout=5).status_code == 400
        posted = requests.post(f"{fake.url}{CONFIG}", json={**good, "id": "x"}, headers=auth, timeout=5)
        assert posted.status_code == 400
        fake.token_info.scopes.discard("WriteConfig")
        assert requests.put(url, json=good, headers=auth, timeout=5).status_code == 403


def test_platform_lifecycle_with_versions_and_trash():
    with FakeDynatrace() as fake:
        fake.platform.platform_token = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMNEVERSHOWN"
        provider = PlatformDashboardProvider()
        configured_platform(provider)
        props = checked(provider, platform_props(fake))
        created = provider.create(props)
        assert created.outs["version"] == "1" and created.outs["adopted"] is False
        read = provider.read(created.id, created.outs)
        assert not provider.diff(created.id, read.outs, props).changes
        changed = platform_props(fake, [{"name": "HealthService"}, {"name": "Payments"}])
        assert provider.diff(created.id, read.outs, changed).changes
        fake.documents.documents[created.id]["version"] += 1  # someone else saved it meanwhile
        updated = provider.update(created.id, read.outs, changed)
        assert updated.outs["version"] == "3"
        again = provider.create(changed)  # state lost: adopted by externalId, nothing written
        assert again.id == created.id and again.outs["adopted"] is True
        before = len(fake.calls)
        provider.delete(created.id, updated.outs)
        assert fake.documents.documents == {} and fake.documents.trash == set()
        assert not [path for _, path in fake.calls[before:] if path.endswith("/content")]  # the version is enough


def test_platform_create_whose_answer_was_lost_is_not_repeated():
    with FakeDynatrace() as fake:
        fake.platform.platform_token = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMNEVERSHOWN"
        provider = PlatformDashboardProvider()
        configured_platform(provider)
        fake.inject(Fault("drop-after", "POST", DOCUMENTS + "$"), Fault("500-after", "POST", DOCUMENTS + "$"))
        created = provider.create(checked(provider, platform_props(fake)))
        assert len(fake.documents.documents) == 1
        assert created.outs["version"] == str(fake.documents.documents[created.id]["version"])


def test_platform_create_refused_with_429_waits_and_posts_again_without_looking():
    with FakeDynatrace() as fake:
        fake.platform.platform_token = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMNEVERSHOWN"
        provider = PlatformDashboardProvider()
        configured_platform(provider)
        fake.inject(Fault("429", "POST", DOCUMENTS + "$"))
        created = provider.create(checked(provider, platform_props(fake)))
        assert list(fake.documents.documents) == [created.id]
        assert [method for method, path in fake.calls if path.split("?")[0].endswith("/documents")] == [
            "GET", "POST", "POST"]  # one look for a document to adopt, then the refused POST and its retry


def test_documents_emulator_refuses_unknown_fields_content_and_stale_versions():
    with FakeDynatrace() as fake:
        token = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMNEVERSHOWN"
        fake.platform.platform_token = token
        auth = {"Authorization": f"Bearer {token}"}
        content = platform_props(fake)["content"]
        def post(fields: dict, body: dict) -> int:
            files = {key: (None, value) for key, value in fields.items()}
            files["content"] = ("d", json.dumps(body), "application/json")
            return requests.post(f"{fake.url}{DOCUMENTS}", files=files, headers=auth, timeout=5).status_code

        assert post({"name": "x", "type": "dashboard", "colour": "red"}, content) == 400
        assert post({"name": "x", "type": "dashboard"}, {**content, "theme": "dark"}) == 400
        broken = copy.deepcopy(content)
        broken["tiles"]["0"]["type"] = "chart"
        assert post({"name": "x", "type": "dashboard"}, broken) == 400
        assert post({"name": "x", "type": "dashboard"}, content) == 201
        document_id = next(iter(fake.documents.documents))
        stale = requests.delete(f"{fake.url}{DOCUMENTS}/{document_id}", params={"optimistic-locking-version": "7"},
                                headers=auth, timeout=5)
        assert stale.status_code == 409
        fake.platform.platform_token_scopes = frozenset({"document:documents:read"})
        assert post({"name": "y", "type": "dashboard"}, content) == 403
