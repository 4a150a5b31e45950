"""ServiceLevelObjective provider against the Dynatrace emulator: lifecycle, adoption, faults, call counts."""

from __future__ import annotations

import base64
import copy
import time
from collections.abc import Iterator

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from kong_slo.dynatrace.classic.slo import ServiceLevelObjectiveProvider
from kong_slo.dynatrace.client import DynatraceClient, DynatraceError
from kong_slo.http import RetryPolicy
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace, Fault
from tests.providers.dynatrace_helpers import FAST_POLICY, TOKEN, checked, configured, payloads


@pytest.fixture
def fake() -> Iterator[FakeDynatrace]:
    with FakeDynatrace(TOKEN, read_lag=2) as server:
        server.metrics.declare(CALLS_METRIC_KEY)  # a tenant that has seen the SLO counter
        yield server


@pytest.fixture
def provider() -> ServiceLevelObjectiveProvider:
    provider = ServiceLevelObjectiveProvider()
    configured(provider)
    return provider


def props(fake: FakeDynatrace, index: int = 0) -> dict:
    return {"payload": payloads()[index], "environment_url": fake.url}


def test_create_posts_once_takes_the_id_from_location_and_waits_until_readable(fake, provider):
    inputs = checked(provider, props(fake))
    result = provider.create(inputs)
    assert list(fake.slos) == [result.id]
    assert fake.count("POST", "/slo") == 1
    assert fake.writes() == 1
    # one list of the stack's SLOs, the POST, then reads by id until the lagging emulator (2 reads) shows it
    assert fake.calls == [("GET", "/slo"), ("POST", "/slo")] + [("GET", f"/slo/{result.id}")] * 3
    stored = fake.slos[result.id]
    assert stored["enabled"] is True
    assert stored["metricName"] == inputs["payload"]["metricName"]
    assert result.outs["slo_id"] == result.id and result.outs["adopted"] is False


def test_unchanged_stack_makes_no_call(fake, provider):
    inputs = checked(provider, props(fake))
    created = provider.create(inputs)
    fake.reset_calls()
    again = checked(provider, copy.deepcopy(props(fake)))
    diff = provider.diff(created.id, created.outs, again)
    assert diff.changes is False
    assert fake.calls == []


def test_float_drift_from_dynatrace_is_not_a_change(fake, provider):
    inputs = checked(provider, props(fake))
    created = provider.create(inputs)
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["payload"]["target"] != inputs["payload"]["target"]  # 99.0000015 came back
    assert provider.diff(created.id, refreshed.outs, inputs).changes is False


def test_update_is_one_put_and_keeps_the_id(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    news = props(fake)
    news["payload"]["target"] = 98.5
    news = checked(provider, news)
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes is True and diff.replaces == []
    fake.reset_calls()
    result = provider.update(created.id, created.outs, news)
    assert fake.per_method() == {"PUT": 1}
    assert fake.slos[created.id]["target"] == pytest.approx(98.5)
    assert result.outs["slo_id"] == created.id


def test_a_new_metric_name_is_a_replacement_deleting_first(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    news = props(fake)
    news["payload"]["metricName"] = "something_else_1234"
    diff = provider.diff(created.id, created.outs, checked(provider, news))
    assert diff.replaces == ["payload"]
    assert diff.delete_before_replace is True


def test_delete_removes_it_and_a_second_delete_is_done(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    provider.delete(created.id, created.outs)
    assert fake.slos == {}
    fake.reset_calls()
    provider.delete(created.id, created.outs)
    assert fake.per_method() == {"DELETE": 1}


def test_read_of_a_deleted_slo_reports_it_gone(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    del fake.slos[created.id]
    assert provider.read(created.id, created.outs).id == ""


def test_update_of_a_vanished_slo_says_to_refresh(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    del fake.slos[created.id]
    with pytest.raises(DynatraceError, match="pulumi refresh"):
        provider.update(created.id, created.outs, created.outs)


def test_existing_slo_of_the_same_name_is_adopted_not_duplicated(fake, provider):
    inputs = checked(provider, props(fake))
    original = dict(inputs["payload"], target=95.0, enabled=False)
    fake.slos["existing-id"] = fake.stored(original)
    result = provider.create(inputs)
    assert result.id == "existing-id" and result.outs["adopted"] is True
    assert fake.count("POST") == 0
    assert fake.count("PUT") == 1  # target and enabled brought in line
    assert fake.slos["existing-id"]["enabled"] is True
    assert fake.slos["existing-id"]["target"] == pytest.approx(99.0)


def test_identical_existing_slo_is_adopted_without_a_write(fake, provider):
    inputs = checked(provider, props(fake))
    fake.slos["existing-id"] = fake.stored(inputs["payload"])
    provider.create(inputs)
    assert fake.writes() == 0


def test_same_name_with_another_metric_name_is_refused_clearly(fake, provider):
    inputs = checked(provider, props(fake))
    fake.slos["other"] = fake.stored(dict(inputs["payload"], metricName="someone_elses"))
    with pytest.raises(DynatraceError) as error:
        provider.create(inputs)
    assert "someone_elses" in str(error.value) and inputs["payload"]["metricName"] in str(error.value)
    assert len(fake.slos) == 1


FAULTS = {
    "429 Retry-After": lambda: Fault("429", "POST", "/slo$", {"Retry-After": "1"}),
    "429 reset in seconds": lambda: Fault("429", "POST", "/slo$", {"X-RateLimit-Reset": str(int(time.time()) + 2)}),
    "429 reset in microseconds": lambda: Fault("429", "POST", "/slo$",
                                               {"X-RateLimit-Reset": str(int((time.time() + 2) * 1e6))}),
    "500": lambda: Fault("500", "POST", "/slo$"),
    "503": lambda: Fault("503", "POST", "/slo$"),
    "slow reply": lambda: Fault("slow", "POST", "/slo$", delay=1.0),
    "dropped before the write": lambda: Fault("drop", "POST", "/slo$"),
    "dropped after the write": lambda: Fault("drop-after", "POST", "/slo$"),
    "500 after the write": lambda: Fault("500-after", "POST", "/slo$"),
    "5xx on the lookup": lambda: Fault("503", "GET", "/slo$"),
}


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_no_duplicate_under_any_injected_fault(fake, provider, fault):
    fake.inject(FAULTS[fault]())
    inputs = checked(provider, props(fake))
    result = provider.create(inputs)
    named = [slo for slo in fake.slos.values() if slo["name"] == inputs["payload"]["name"]]
    assert len(named) == 1
    assert result.id in fake.slos
    assert fake.faults == []  # the fault really happened


def test_a_lost_answer_is_taken_over_from_dynatraces_own_duplicate_name_answer(fake, provider):
    # The answer to the first POST is lost after Dynatrace stored the SLO, and the list still lags, so the
    # second POST meets Dynatrace's "identical name" refusal (a 400): that SLO is ours, not an error.
    fake.inject(Fault("drop-after", "POST", "/slo$"))
    inputs = checked(provider, props(fake))
    result = provider.create(inputs)
    assert fake.count("POST", "/slo") == 2
    assert list(fake.slos) == [result.id]


def test_posts_are_never_repeated_blindly_when_the_outcome_is_unknown(fake, provider):
    fake.read_lag = 0
    fake.inject(Fault("500-after", "POST", "/slo$"))
    result = provider.create(checked(provider, props(fake)))
    assert fake.count("POST", "/slo") == 1  # the lookup after the 500 found it; no second POST
    assert list(fake.slos) == [result.id]


def test_a_server_that_never_answers_gives_up_naming_the_failure(fake, provider):
    fake.inject(*[Fault("503", "POST", "/slo$") for _ in range(FAST_POLICY.attempts)])
    with pytest.raises(DynatraceError, match=r"HTTP 503.*gave up after 4 tries") as error:
        provider.create(checked(provider, props(fake)))
    assert error.value.status == 503
    assert fake.count("POST", "/slo") == FAST_POLICY.attempts and fake.slos == {}


def test_a_slo_disabled_by_hand_is_read_from_the_list_and_re_enabled(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    fake.slos[created.id]["enabled"] = False  # Dynatrace then refuses GET /slo/{id}
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.id == created.id
    assert refreshed.outs["payload"]["enabled"] is False
    wanted = checked(provider, props(fake))
    assert provider.diff(created.id, refreshed.outs, wanted).changes is True
    provider.update(created.id, refreshed.outs, wanted)
    assert fake.slos[created.id]["enabled"] is True


def test_rate_limit_waits_follow_the_headers(fake, provider):
    waits = configured(provider)
    provider.retry_policy = RetryPolicy(attempts=4, initial_delay=0.01, max_delay=30.0, timeout=0.5)
    fake.inject(Fault("429", "POST", "/slo$", {"Retry-After": "7"}),
                Fault("429", "POST", "/slo$", {"X-RateLimit-Reset": str(int((time.time() + 20) * 1e6))}))
    provider.create(checked(provider, props(fake)))
    assert waits[0] == 7
    assert 15 < waits[1] <= 20


def test_transient_metric_selector_error_is_retried_with_a_bound(fake, provider):
    waits = configured(provider)
    fake.inject(Fault("invalid-selector", "POST", "/slo$"), Fault("invalid-selector", "POST", "/slo$"))
    provider.create(checked(provider, props(fake)))
    assert fake.count("POST") == 3
    assert waits[:2] == [ServiceLevelObjectiveProvider.create_retry_delay] * 2


def test_metric_selector_error_that_never_clears_gives_up(fake, provider, monkeypatch):
    monkeypatch.setattr(ServiceLevelObjectiveProvider, "create_attempts", 4)
    fake.inject(*[Fault("invalid-selector", "POST", "/slo$") for _ in range(4)])
    with pytest.raises(DynatraceError, match="Metric selector is invalid"):
        provider.create(checked(provider, props(fake)))
    assert fake.count("POST") == 4 and fake.slos == {}


def test_rejected_payload_lists_the_constraint_violations(fake, provider):
    inputs = checked(provider, props(fake))
    inputs["payload"]["warning"] = inputs["payload"]["target"]
    with pytest.raises(DynatraceError) as error:
        provider.create(inputs)
    assert "warning: The warning threshold must be greater than the target" in str(error.value)


def test_check_names_bad_payload_fields_before_any_call(fake, provider):
    news = props(fake)
    news["payload"]["warning"] = 90.0
    news["payload"]["metricName"] = "Bad-Name"
    failures = provider.check({}, news).failures
    reasons = " | ".join(failure.reason for failure in failures)
    assert "metricName 'Bad-Name'" in reasons and "payload.warning (90.0)" in reasons
    assert fake.calls == []


def test_wrong_token_fails_without_showing_any_token(fake):
    provider = ServiceLevelObjectiveProvider()
    configured(provider, token="dt0c01.WRONGPUBLIC.WRONGSECRETVALUE")
    with pytest.raises(DynatraceError) as error:
        provider.create(checked(provider, props(fake)))
    assert "401" in str(error.value)
    assert "WRONGSECRETVALUE" not in str(error.value) and TOKEN not in str(error.value)
    assert fake.auth_headers[0] == "Api-Token dt0c01.WRONGPUBLIC.WRONGSECRETVALUE"


def test_managed_style_base_url_works():
    with FakeDynatrace(TOKEN, prefix="/e/abc-123", read_lag=0) as fake:
        fake.metrics.declare(CALLS_METRIC_KEY)
        provider = ServiceLevelObjectiveProvider()
        configured(provider)
        result = provider.create(checked(provider, props(fake)))
        assert result.id in fake.slos


def test_pickled_provider_is_stable_and_never_holds_the_token():
    first, second = ServiceLevelObjectiveProvider(), ServiceLevelObjectiveProvider()
    configured(second)
    pickled_first, pickled_second = serialize_provider(first), serialize_provider(second)
    assert pickled_first == serialize_provider(ServiceLevelObjectiveProvider())
    assert b"SENTINELSECRET" not in base64.b64decode(pickled_second)
    assert second._token == TOKEN  # configured in this process, but not carried into the pickle


def test_token_comes_from_the_environment_when_config_has_none(fake, monkeypatch):
    provider = ServiceLevelObjectiveProvider()
    configured(provider, token="")
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    assert provider.create(checked(provider, props(fake))).id in fake.slos


def test_listing_follows_every_page_with_only_the_page_key():
    with FakeDynatrace(TOKEN, read_lag=0, page_size_cap=4) as fake:
        stored = payloads(apis=[{"name": f"api{index}"} for index in range(3)])
        for index, payload in enumerate(stored):
            fake.slos[f"slo-{index}"] = fake.stored(payload)
        with DynatraceClient(fake.url, TOKEN) as client:
            listed = [slo["name"] for slo in client.list_slos('text("kong-slo test:")')]
        assert sorted(listed) == sorted(payload["name"] for payload in stored)
        assert fake.per_method() == {"GET": 2}  # the fake refuses a page key sent with other parameters


def test_creates_of_one_stack_share_one_listing(fake, provider):
    for payload in payloads():
        provider.create(checked(provider, {"payload": payload, "environment_url": fake.url}))
    assert len(fake.slos) == 4
    assert fake.count("GET", "/slo") - sum(fake.count("GET", f"/slo/{slo_id}") for slo_id in fake.slos) == 1


def test_a_listed_slo_deleted_since_is_created_again_not_adopted(fake, provider):
    created = provider.create(checked(provider, props(fake)))
    del fake.slos[created.id]  # removed by hand; this process's listing still names it
    again = provider.create(checked(provider, props(fake)))
    assert again.outs["adopted"] is False and list(fake.slos) == [again.id]


def test_a_stale_listing_that_misses_an_slo_still_never_duplicates(fake, provider):
    provider.create(checked(provider, props(fake, 1)))  # the stack's listing is taken now, without SLO 0
    fake.slos["made-elsewhere"] = fake.stored(payloads()[0])
    result = provider.create(checked(provider, props(fake)))
    assert result.id == "made-elsewhere" and len(fake.slos) == 2  # Dynatrace's duplicate-name answer → adopted
