"""The emulator's platform SLO API and DQL evaluator behave as Dynatrace documents them.

Sources: https://docs.dynatrace.com/docs/dynatrace-api/platform-api/platform-slo-v1 (slos-get: page-size ≤ 500,
page and page-key exclusive; PUT/DELETE with optimistic-locking-version), dynatrace-oss/dtctl
``sdk/api/slo/slo.go`` (page-key/page-size names, ``slos``/``nextPageKey``, evaluation:start/poll), and
https://docs.dynatrace.com/docs/observe-and-explore/metrics/troubleshooting (no ``.count`` suffix in Grail).
"""

from __future__ import annotations

import copy

import pytest
import requests

from kong_slo.dynatrace.platform.client import PlatformClient
from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.objectives.sli import slo_definitions
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_dql import DqlError, evaluate
from tests.providers.dynatrace_helpers import FAST_POLICY, PLATFORM_TOKEN, platform_payloads, stack_settings

SLOS = "/platform/slo/v1/slos"
NOW = 1_800_000_000_000


@pytest.fixture
def fake(platform_fake: FakeDynatrace) -> FakeDynatrace:
    platform_fake.platform.now_ms = NOW
    return platform_fake


def call(fake: FakeDynatrace, method: str, path: str, token: str = PLATFORM_TOKEN, **kwargs) -> requests.Response:
    return requests.request(method, f"{fake.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=5,
                            **kwargs)


def test_bearer_auth_scopes_and_the_classic_token_refused(fake):
    assert call(fake, "GET", SLOS, token="wrong").status_code == 401
    classic = requests.get(f"{fake.url}{SLOS}", headers={"Authorization": f"Api-Token {fake.token}"}, timeout=5)
    assert classic.status_code == 401
    fake.platform.access_tokens["read-only"] = {"slo:slos:read"}
    assert call(fake, "GET", SLOS, token="read-only").status_code == 200
    assert call(fake, "POST", SLOS, token="read-only", json=platform_payloads()[0]).status_code == 403


def test_exactly_one_of_custom_sli_and_sli_reference(fake):
    payload = platform_payloads()[0]
    both = {**payload, "sliReference": {"templateId": "t", "variables": []}}
    neither = {key: value for key, value in payload.items() if key != "customSli"}
    for body in (both, neither):
        response = call(fake, "POST", SLOS, json=body)
        assert response.status_code == 400
        assert "Exactly one of sliReference or customSli" in response.text
    created = call(fake, "POST", SLOS, json=payload)
    assert created.status_code == 201 and created.json()["id"] and created.json()["version"]


def test_writes_need_the_current_version(fake):
    created = call(fake, "POST", SLOS, json=platform_payloads()[0]).json()
    path = f"{SLOS}/{created['id']}"
    assert call(fake, "PUT", path, json=platform_payloads()[0]).status_code == 400
    updated = call(fake, "PUT", path, params={"optimistic-locking-version": created["version"]},
                   json=platform_payloads()[0])
    assert updated.status_code == 200 and updated.json()["version"] != created["version"]
    stale = {"optimistic-locking-version": created["version"]}
    assert call(fake, "PUT", path, params=stale, json=platform_payloads()[0]).status_code == 409
    assert call(fake, "DELETE", path, params=stale).status_code == 409
    fresh = {"optimistic-locking-version": updated.json()["version"]}
    assert call(fake, "DELETE", path, params=fresh).status_code == 204
    assert call(fake, "GET", path).status_code == 404


def test_paging_with_the_page_key_alone(fake):
    payload = platform_payloads()[0]
    for index in range(7):
        call(fake, "POST", SLOS, json={**payload, "name": f"slo {index}", "externalId": f"x{index}"})
    first = call(fake, "GET", SLOS, params={"page-size": 3}).json()
    assert len(first["slos"]) == 3 and first["totalCount"] == 7 and first["nextPageKey"]
    mixed = call(fake, "GET", SLOS, params={"page-size": 3, "page-key": first["nextPageKey"]})
    assert mixed.status_code == 400
    assert call(fake, "GET", SLOS, params={"page-size": 501}).status_code == 400
    with PlatformClient(fake.url, PLATFORM_TOKEN, policy=FAST_POLICY) as client:
        names = [slo["name"] for slo in client.list_platform_slos()]
    assert sorted(names) == [f"slo {index}" for index in range(7)]


def add_calls(fake: FakeDynatrace, api: str, outcome: str, latency: str, count: float, minutes_ago: int) -> None:
    fake.metrics.add("kong.slo.calls.count", {"service.name": api, "slo.outcome": outcome, "slo.latency": latency},
                     count, NOW - minutes_ago * 60_000)


def test_the_projects_dql_is_evaluated_over_the_ingested_counters(fake):
    add_calls(fake, "HealthService", "success", "good", 90, 5)
    add_calls(fake, "HealthService", "failure", "bad", 10, 5)
    add_calls(fake, "HealthService", "success", "good", 100, 20)
    add_calls(fake, "Orders", "failure", "bad", 500, 5)  # another API: not counted
    add_calls(fake, "HealthService", "failure", "bad", 1000, 90)  # outside the 1 h window
    definition = next(d for d in slo_definitions(stack_settings()) if (d.api, d.objective) == ("HealthService",
                                                                                               "availability"))
    created = call(fake, "POST", SLOS, json=platform_slo_payload(definition, "test")).json()
    with PlatformClient(fake.url, PLATFORM_TOKEN, policy=FAST_POLICY) as client:
        results = client.evaluate_platform_slo(created["id"])
    assert fake.count("GET", f"{SLOS}/evaluation:poll") == 1
    # two minutes with data: 90 % and 100 %; the SLO value is their mean
    assert results[0]["value"] == pytest.approx(95.0)
    assert results[0]["status"] == "FAILURE"  # below the 99 % target
    assert results[0]["errorBudget"] == pytest.approx(95.0 - 99.0)


def test_an_slo_without_data_is_not_evaluated(fake):
    created = call(fake, "POST", SLOS, json=platform_payloads()[0]).json()
    with PlatformClient(fake.url, PLATFORM_TOKEN, policy=FAST_POLICY) as client:
        assert client.evaluate_platform_slo(created["id"])[0]["status"] == "NOT_EVALUATED"


def test_dql_reads_grail_names_not_the_classic_count_suffix(fake):
    add_calls(fake, "A", "success", "good", 3, 1)
    grail = evaluate("timeseries total = sum(kong.slo.calls), from: now-1h", fake.metrics, now_ms=NOW)
    assert [value for value in grail[0]["total"] if value is not None] == [3.0]
    by = evaluate("timeseries n = sum(kong.slo.calls), by: {service.name, slo.outcome}, interval: 1h, from: now-1h",
                  fake.metrics, now_ms=NOW)
    assert [(record["service.name"], record["slo.outcome"], record["n"]) for record in by] == [("A", "success", [3.0])]


@pytest.mark.parametrize("query", ["fetch spans", "timeseries percentile(x, 99)", "timeseries sum(x), shift: -1h",
                                   "timeseries sum(x) | summarize count()"])
def test_dql_outside_the_subset_is_refused_not_guessed(fake, query):
    with pytest.raises(DqlError):
        evaluate(query, fake.metrics, now_ms=NOW)
    payload = copy.deepcopy(platform_payloads()[0])
    payload["customSli"]["indicator"] = query
    assert call(fake, "POST", SLOS, json=payload).status_code == 400
