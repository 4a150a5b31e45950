"""One provider process lists Kong once per stack and kind (``kong_slo.kong.listing``): the other-plugins check,
adoption and drift detection share the list, and what a stale list could get wrong is asked again."""

from __future__ import annotations

import pytest
import requests

from kong_slo.kong.admin import KongAdminError
from tests.fakes.kong_admin import FakeKong
from tests.providers.kong_helpers import checked, inputs, provider

APIS = [f"api-{index:02d}" for index in range(12)]
VENDOR = "http://vendor.example:4318/v1/traces"


@pytest.fixture
def kong():
    with FakeKong("3.9") as fake:
        for name in APIS:
            fake.add_service(name)
        yield fake


def test_a_create_is_one_write_and_the_stack_shares_its_reads(kong: FakeKong) -> None:
    plugins = provider()  # one provider process, as the engine runs one per deployment
    kong.reset_counts()
    for name in APIS:
        plugins.create(checked(plugins, kong.url, api_name=name, service=name))
    assert kong.calls["PUT"] == len(APIS) and kong.writes == len(APIS)
    # check: GET /plugins; writes: GET /, GET /services, GET /plugins — for the whole stack
    assert kong.calls["GET"] <= 4, kong.log


def test_an_unchanged_up_makes_one_list_per_stack(kong: FakeKong) -> None:
    first = provider()
    state = [(name, first.create(checked(first, kong.url, api_name=name, service=name))) for name in APIS]
    plugins = provider()  # the next `pulumi up` is a new process
    kong.reset_counts()
    for name, created in state:
        news = checked(plugins, kong.url, api_name=name, service=name)
        assert plugins.diff(created.id, {**news, **created.outs}, news).changes is False
    assert kong.calls == {"GET": 1}, kong.log


def test_a_preview_sees_drift_without_a_refresh(kong: FakeKong) -> None:
    first = provider()
    news = checked(first, kong.url, api_name=APIS[0], service=APIS[0])
    created = first.create(news)
    patch = {"config": {"traces_endpoint": "http://elsewhere:4318/v1/traces"}}
    assert requests.patch(f"{kong.url}/plugins/{created.id}", json=patch, timeout=5).status_code == 200
    preview = provider()
    news = checked(preview, kong.url, api_name=APIS[0], service=APIS[0])
    assert preview.diff(created.id, {**news, **created.outs}, news).changes is True
    preview.update(created.id, {**news, **created.outs}, news)
    assert kong.plugins()[0]["config"]["traces_endpoint"] == "http://collector.internal:4318/v1/traces"


def test_a_plugin_removed_after_the_list_stops_nothing(kong: FakeKong) -> None:
    other = kong.add_plugin({"name": "opentelemetry", "config": {"traces_endpoint": VENDOR}})
    plugins = provider()
    failures = plugins.check({}, inputs(kong.url, api_name=APIS[0], service=APIS[0])).failures
    assert failures and other["id"] in failures[0].reason
    requests.delete(f"{kong.url}/plugins/{other['id']}", timeout=5)
    again = plugins.check({}, inputs(kong.url, api_name=APIS[1], service=APIS[1]))
    assert not again.failures, "a refusal read from an older list is confirmed afresh"


def test_a_plugin_added_after_the_list_is_adopted_not_duplicated(kong: FakeKong) -> None:
    plugins = provider()
    plugins.create(checked(plugins, kong.url, api_name=APIS[0], service=APIS[0]))  # the writes' list is taken
    theirs = kong.add_plugin({"name": "opentelemetry", "config": {"traces_endpoint": VENDOR}, "tags": ["team-x"]},
                             service=APIS[1])
    created = plugins.create(checked(plugins, kong.url, api_name=APIS[1], service=APIS[1]))
    assert created.id == theirs["id"] and created.outs["adopted"] is True
    assert len(kong.plugins()) == 2


def test_a_service_missing_from_the_list_is_asked_for_before_refusing(kong: FakeKong) -> None:
    plugins = provider()
    plugins.create(checked(plugins, kong.url, api_name=APIS[0], service=APIS[0]))
    kong.add_service("late")
    created = plugins.create(checked(plugins, kong.url, api_name="Late", service="late"))
    assert created.outs["adopted"] is False
    with pytest.raises(KongAdminError, match="no service named 'never'"):
        plugins.create(checked(plugins, kong.url, api_name="Never", service="never"))
