"""PlatformSettingsObject (Davis burn-rate detectors) against the emulator's Settings 2.0 through the platform."""

from __future__ import annotations

import pytest

from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA, detectors
from kong_slo.dynatrace.platform.detectors import PlatformSettingsObjectProvider
from kong_slo.objectives.sli import slo_definitions
from tests.fakes.dynatrace import FakeDynatrace, Fault
from tests.providers.dynatrace_helpers import PLATFORM_TOKEN, checked, configured_platform, stack_settings

OBJECTS = "/platform/classic/environment-api/v2/settings/objects"


@pytest.fixture
def fake(platform_fake: FakeDynatrace) -> FakeDynatrace:
    return platform_fake


@pytest.fixture
def provider() -> PlatformSettingsObjectProvider:
    provider = PlatformSettingsObjectProvider()
    configured_platform(provider)
    return provider


def props(fake: FakeDynatrace, index: int = 0) -> dict:
    definition = slo_definitions(stack_settings())[0]
    alert, value = detectors(definition, "test")[index]
    return {"schema_id": DETECTOR_SCHEMA, "external_id": f"kong-slo:test:burn-rate:{alert.key}", "value": value,
            "environment_url": fake.url}


def test_a_detector_is_created_once_through_the_platform_with_the_bearer_token(fake, provider):
    result = provider.create(checked(provider, props(fake)))
    stored = fake.settings[result.id]
    assert stored["schemaId"] == DETECTOR_SCHEMA and stored["externalId"] == props(fake)["external_id"]
    assert [(method, path) for method, path in fake.calls if method != "GET"] == [("POST", OBJECTS)]
    assert set(fake.auth_headers) == {f"Bearer {PLATFORM_TOKEN}"}


def test_a_lost_answer_is_found_by_external_id_not_posted_again(fake, provider):
    fake.inject(Fault("drop-after", "POST", f"{OBJECTS}$"))
    result = provider.create(checked(provider, props(fake)))
    assert list(fake.settings) == [result.id]


def test_an_existing_detector_is_adopted_and_no_change_makes_no_write(fake, provider):
    first = provider.create(checked(provider, props(fake)))
    fake.reset_calls()
    again = provider.create(checked(provider, props(fake)))
    assert again.id == first.id and again.outs["adopted"] is True
    assert fake.writes() == 0
    assert provider.diff(first.id, first.outs, props(fake)).changes is False


def test_the_live_host_and_missing_scopes_are_refused(fake, provider):
    live = {**props(fake), "environment_url": "https://abc12345.live.dynatrace.com"}
    assert [failure.property for failure in provider.check({}, live).failures] == ["environment_url"]
    fake.platform.access_tokens["slo-only"] = {"slo:slos:read", "slo:slos:write"}
    limited = PlatformSettingsObjectProvider()
    configured_platform(limited, {"platformToken": "slo-only"})
    with pytest.raises(DynatraceError, match="403"):
        limited.create(checked(limited, props(fake)))
    assert fake.settings == {}


def test_a_detector_the_emulator_cannot_run_is_refused_with_the_reason(fake, provider):
    bad = props(fake)
    bad["value"] = {**bad["value"], "analyzer": {"name": "x", "input": []}}
    with pytest.raises(DynatraceError, match=r"analyzer\.input\.query: is required"):
        provider.create(checked(provider, bad))
