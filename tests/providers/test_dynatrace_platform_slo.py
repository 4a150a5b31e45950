"""PlatformServiceLevelObjective provider against the emulator's platform SLO API: lifecycle, adoption by
externalId, optimistic locking, faults, OAuth; the same guarantees the classic resource gives."""

from __future__ import annotations

import base64
import copy

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.platform.slo import PlatformServiceLevelObjectiveProvider
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace, Fault
from tests.providers.dynatrace_helpers import (
    FAST_POLICY,
    PLATFORM_TOKEN,
    checked,
    configured_platform,
    platform_payloads,
)

SLOS = "/platform/slo/v1/slos"
ACCOUNT = "urn:dtaccount:12345678-abcd-4ef0-9abc-1234567890ab"
CLIENT_SECRET = "dt0s02.CLIENT.SENTINELCLIENTSECRET"


@pytest.fixture
def fake(platform_fake: FakeDynatrace) -> FakeDynatrace:
    return platform_fake


@pytest.fixture
def provider() -> PlatformServiceLevelObjectiveProvider:
    provider = PlatformServiceLevelObjectiveProvider()
    configured_platform(provider)
    return provider


def props(fake: FakeDynatrace, index: int = 0) -> dict:
    return {"payload": platform_payloads()[index], "platform_url": fake.url}


def oauth_provider(fake: FakeDynatrace) -> tuple[PlatformServiceLevelObjectiveProvider, list[float]]:
    """A provider configured with the OAuth client ``dt0s02.CLIENT`` and the emulator's token endpoint."""
    provider = PlatformServiceLevelObjectiveProvider()
    token_url = f"{fake.url}/sso/oauth2/token"
    waits = configured_platform(provider, {"oauth": {"clientId": "dt0s02.CLIENT", "clientSecret": CLIENT_SECRET,
                                                     "accountUrn": ACCOUNT, "tokenUrl": token_url}})
    return provider, waits


def writes(fake: FakeDynatrace) -> list[tuple[str, str]]:
    return [(method, path) for method, path in fake.calls if method in ("POST", "PUT", "DELETE")]


def test_create_is_one_post_after_one_lookup_and_keeps_id_and_version(fake, provider):
    result = provider.create(checked(provider, props(fake)))
    assert writes(fake) == [("POST", SLOS)]
    assert fake.count("GET", SLOS) == 1
    stored = fake.platform.slos[result.id]
    assert stored["externalId"] == props(fake)["payload"]["externalId"]
    assert result.outs["version"] == stored["version"] and result.outs["adopted"] is False
    assert fake.auth_headers[-1] == f"Bearer {PLATFORM_TOKEN}"


def test_unchanged_stack_makes_no_call_and_a_refresh_is_no_diff(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    fake.reset_calls()
    assert provider.diff(created.id, created.outs, checked(provider, copy.deepcopy(props(fake)))).changes is False
    assert fake.calls == []
    refreshed = provider.read(created.id, created.outs)
    assert provider.diff(created.id, refreshed.outs, props(fake)).changes is False


def test_update_sends_the_version_and_a_stale_version_is_read_again(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    news = props(fake)
    news["payload"]["criteria"][0]["target"] = 98.5
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes is True and diff.replaces == []
    fake.platform.slos[created.id]["version"] = "changed-by-hand"  # someone edited it in the SLO app
    fake.reset_calls()
    result = provider.update(created.id, created.outs, news)
    assert [method for method, _ in fake.calls] == ["PUT", "GET", "PUT"]
    assert fake.platform.slos[created.id]["criteria"][0]["target"] == 98.5
    assert result.outs["version"] == fake.platform.slos[created.id]["version"]


def test_existing_slo_with_the_external_id_is_adopted_and_updated(fake, provider):
    earlier = copy.deepcopy(props(fake)["payload"])
    earlier["criteria"][0]["target"] = 95.0
    _, body, _ = fake.platform.create(earlier)
    result = provider.create(checked(provider, props(fake)))
    assert result.id == body["id"] and result.outs["adopted"] is True
    assert len(fake.platform.slos) == 1
    assert fake.platform.slos[body["id"]]["criteria"][0]["target"] == props(fake)["payload"]["criteria"][0]["target"]


def test_identical_existing_slo_is_adopted_without_a_write(fake, provider):
    fake.platform.create(copy.deepcopy(props(fake)["payload"]))
    fake.reset_calls()
    provider.create(checked(provider, props(fake)))
    assert writes(fake) == []


def test_a_stack_of_creates_lists_the_environment_once_and_posts_once_each(fake, provider):
    payloads = platform_payloads(apis=[{"name": f"api-{index}"} for index in range(5)])
    for payload in payloads:
        provider.create(checked(provider, {"payload": payload, "platform_url": fake.url}))
    assert fake.count("GET", SLOS) == 1
    assert fake.count("POST", SLOS) == len(payloads) == len(fake.platform.slos) == 10


def test_a_listed_slo_is_read_afresh_by_id_before_it_is_adopted(fake, provider):
    _, body, _ = fake.platform.create(copy.deepcopy(props(fake, 1)["payload"]))
    provider.create(checked(provider, props(fake)))  # loads the shared list, which names the SLO of payload 1
    fake.reset_calls()
    result = provider.create(checked(provider, props(fake, 1)))
    assert result.id == body["id"] and result.outs["adopted"] is True
    assert [(method, path) for method, path in fake.calls] == [("GET", f"{SLOS}/{body['id']}")]


def test_a_listed_slo_deleted_since_is_looked_for_again_not_adopted(fake, provider):
    _, body, _ = fake.platform.create(copy.deepcopy(props(fake, 1)["payload"]))
    provider.create(checked(provider, props(fake)))  # the list now names the SLO of payload 1
    fake.platform.slos.pop(body["id"])  # deleted by hand after the list was read
    result = provider.create(checked(provider, props(fake, 1)))
    assert result.outs["adopted"] is False and list(fake.platform.slos)[-1] == result.id


def test_another_external_id_is_a_replacement_created_first(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    news = props(fake)
    news["payload"]["externalId"] = "another"
    diff = provider.diff(created.id, created.outs, news)
    assert diff.replaces == ["payload"] and diff.delete_before_replace is False


FAULTS = {
    "429 Retry-After": lambda: Fault("429", "POST", f"{SLOS}$", {"Retry-After": "1"}),
    "500": lambda: Fault("500", "POST", f"{SLOS}$"),
    "503": lambda: Fault("503", "POST", f"{SLOS}$"),
    "slow reply": lambda: Fault("slow", "POST", f"{SLOS}$", delay=1.0),
    "dropped before the write": lambda: Fault("drop", "POST", f"{SLOS}$"),
    "dropped after the write": lambda: Fault("drop-after", "POST", f"{SLOS}$"),
    "500 after the write": lambda: Fault("500-after", "POST", f"{SLOS}$"),
    "5xx on the lookup": lambda: Fault("503", "GET", f"{SLOS}$"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_no_duplicate_under_any_injected_fault_on_create(fake, provider, fault):
    fake.inject(FAULTS[fault]())
    result = provider.create(checked(provider, props(fake)))
    assert list(fake.platform.slos) == [result.id]
    assert fake.count("POST", SLOS) <= 2  # at most the one whose answer was lost, then none blindly repeated


def test_a_busy_token_endpoint_is_waited_for(fake):
    fake.platform.add_client("dt0s02.CLIENT", CLIENT_SECRET, ACCOUNT)
    provider, waits = oauth_provider(fake)
    fake.inject(Fault("429", "POST", "/sso/oauth2/token$", {"Retry-After": "3"}), Fault("503", "POST", "/sso/"))
    provider.create(checked(provider, props(fake)))
    assert fake.count("POST", "/sso/oauth2/token") == 3
    assert waits[0] == pytest.approx(min(3.0, FAST_POLICY.max_delay * 2))  # Retry-After, capped by the policy
    assert len(fake.platform.slos) == 1


def test_a_write_that_landed_but_whose_answer_was_lost_is_not_repeated(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    news = props(fake)
    news["payload"]["criteria"][0]["warning"] = 99.9
    fake.inject(Fault("500-after", "PUT", f"{SLOS}/"))
    fake.reset_calls()
    provider.update(created.id, created.outs, news)
    # the retried PUT meets the new version (409), the read shows the change landed: done
    assert [method for method, _ in fake.calls] == ["PUT", "PUT", "GET"]
    assert fake.platform.slos[created.id]["criteria"][0]["warning"] == 99.9


def test_delete_uses_the_version_and_survives_a_stale_one_and_a_lost_answer(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    fake.platform.slos[created.id]["version"] = "changed-by-hand"
    fake.inject(Fault("drop-after", "DELETE", f"{SLOS}/"))
    provider.delete(created.id, created.outs)
    assert fake.platform.slos == {}
    provider.delete(created.id, created.outs)  # already gone: done


def test_read_of_a_deleted_slo_reports_it_gone_and_update_says_to_refresh(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    fake.platform.slos.clear()
    assert provider.read(created.id, created.outs).id == ""
    with pytest.raises(DynatraceError, match="pulumi refresh"):
        provider.update(created.id, {**created.outs, "version": None}, props(fake))


def test_rejected_payload_names_the_problem(fake, provider):
    bad = props(fake)
    bad["payload"]["criteria"][0]["warning"] = 10
    with pytest.raises(DynatraceError, match="warning"):
        provider.create(bad)


def test_check_refuses_both_or_neither_sli_and_the_live_host(provider):
    both = {"payload": {**platform_payloads()[0], "sliReference": {"templateId": "x"}},
            "platform_url": "https://abc.live.dynatrace.com"}
    failures = {failure.property: failure.reason for failure in provider.check({}, both).failures}
    assert "exactly one of customSli and sliReference" in failures["payload"]
    assert "abc.apps.dynatrace.com" in failures["platform_url"]


def test_oauth_client_credentials_from_the_configured_token_url(fake):
    fake.platform.add_client("dt0s02.CLIENT", CLIENT_SECRET, ACCOUNT)
    provider, _ = oauth_provider(fake)
    created = provider.create(checked(provider, props(fake)))
    another, _ = oauth_provider(fake)  # the engine unpickles a fresh provider for each operation
    another.read(created.id, created.outs)
    assert fake.count("POST", "/sso/oauth2/token") == 1  # the access token is reused until it expires
    assert all(header.startswith("Bearer eyFAKE.") for header in fake.auth_headers[1:])


def test_a_wrong_client_secret_fails_without_showing_it(fake):
    fake.platform.add_client("dt0s02.CLIENT", "dt0s02.CLIENT.OTHER", ACCOUNT)
    provider, _ = oauth_provider(fake)
    with pytest.raises(Exception) as raised:
        provider.create(checked(provider, props(fake)))
    assert "HTTP 401" in str(raised.value) and CLIENT_SECRET not in str(raised.value)
    assert fake.platform.slos == {}


def test_pickled_provider_never_holds_the_credentials():
    provider = PlatformServiceLevelObjectiveProvider()
    configured_platform(provider)
    provider.retry_policy = FAST_POLICY  # type: ignore[misc]
    pickled = base64.b64decode(serialize_provider(provider))
    assert PLATFORM_TOKEN.encode() not in pickled


def test_upgrade_order_leaves_every_objective_with_an_slo_at_each_step(fake, provider):
    """The engine's order for a stack switched to platform: create every platform SLO, then delete the classic
    ones. Both APIs live in one environment, so at every step each objective has an SLO."""
    from kong_slo.dynatrace.classic.slo import ServiceLevelObjectiveProvider
    from tests.providers.dynatrace_helpers import configured, payloads

    classic = ServiceLevelObjectiveProvider()
    configured(classic, fake.token)
    fake.metrics.declare(CALLS_METRIC_KEY)  # as the stack's MetricDeclaration did before its classic SLOs
    classic_ids = [classic.create({"payload": payload, "environment_url": fake.url}).id for payload in payloads()]
    objectives = {payload["name"] for payload in payloads()}
    for payload in platform_payloads():
        provider.create(checked(provider, {"payload": payload, "platform_url": fake.url}))
        assert {slo["name"] for slo in fake.slos.values()} == objectives  # classic ones still there
    for slo_id in classic_ids:
        classic.delete(slo_id, {"environment_url": fake.url})
        assert {slo["name"] for slo in fake.platform.slos.values()} == objectives
    assert fake.slos == {}


def test_credentials_never_show_their_secrets_in_a_repr():
    from kong_slo.dynatrace.platform.credentials import PlatformCredentials

    text = repr(PlatformCredentials(PLATFORM_TOKEN, "dt0s02.CLIENT", CLIENT_SECRET, ACCOUNT))
    assert PLATFORM_TOKEN not in text and CLIENT_SECRET not in text and "dt0s02.CLIENT" in text
