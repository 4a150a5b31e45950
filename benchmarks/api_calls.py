"""API calls and seconds per lifecycle step for 10 and 100 APIs, against the Kong and Dynatrace emulators.

For each size: one ``opentelemetry`` plugin per API (Kong); two SLOs per API, their burn-rate alerts and the
stack's metric declaration, alerting profile and e-mail notification (Dynatrace, classic), and two platform SLOs
per API (Dynatrace, platform), driven through
the same dynamic providers ``pulumi up`` uses, step by step as the engine would call them:

- create     every resource checked and created from nothing
- unchanged  the engine checks and diffs every resource against unchanged inputs (an unchanged ``pulumi up``)
- update one one plugin's collector URL and one SLO's target change
- delete     every resource removed (``pulumi destroy``)

Back-off waits are skipped, so the seconds measure the client and emulator work, not sleeping; the ``+50ms/rt``
column is what the same calls add, one after another, over a 50 ms round trip to a distant Kong or tenant. Reads
after an SLO create are real: the emulator lags two reads behind writes, as Dynatrace does.

    .venv/bin/python benchmarks/api_calls.py
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.dynamic import Config, ConfigureRequest

from kong_slo.dynatrace import listing
from kong_slo.dynatrace.alerting import (
    ALERTING_PROFILE_SCHEMA,
    METRIC_EVENT_SCHEMA,
    NOTIFICATION_SCHEMA,
    alerting_profile_value,
    burn_rate_alerts,
    email_notification_value,
    notification_external_id,
    profile_external_id,
)
from kong_slo.dynatrace.classic.metric import MetricDeclarationProvider
from kong_slo.dynatrace.classic.slo import ServiceLevelObjectiveProvider
from kong_slo.dynatrace.platform.slo import PlatformServiceLevelObjectiveProvider
from kong_slo.dynatrace.provider import DynatraceProvider
from kong_slo.dynatrace.settings_objects import SettingsObjectProvider
from kong_slo.http import RetryPolicy
from kong_slo.kong.plugin import OpenTelemetryPluginProvider
from kong_slo.objectives.sli import metric_declaration_lines, slo_definitions
from kong_slo.settings.model import BurnRatePolicy
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_admin import FakeKong
from tests.providers.dynatrace_helpers import payloads, platform_payloads, stack_settings

TOKEN = "dt0c01.BENCHMARK.TOKEN"
PLATFORM_TOKEN = "dt0s16.BENCHMARK.TOKEN"
COLLECTOR = "http://collector.internal:4318"
SIZES = (10, 100)
ROUND_TRIP = 0.050
"""What each call adds on a real network far from the tenant (seconds); calls are made one after another."""
NO_WAIT = RetryPolicy(attempts=5, initial_delay=0.0, max_delay=0.0, timeout=5.0, sleep=lambda _: None)


def api_names(count: int) -> list[str]:
    return [f"api-{index:03d}" for index in range(count)]


def kong_provider() -> OpenTelemetryPluginProvider:
    provider = OpenTelemetryPluginProvider(NO_WAIT)
    provider.configure(ConfigureRequest(Config({"kong-slo:kong": json.dumps({})}, "kong-slo")))
    return provider


def dynatrace_provider(provider: DynatraceProvider) -> Any:
    provider.configure(ConfigureRequest(Config({"kong-slo:dynatrace": json.dumps({"apiToken": TOKEN})}, "kong-slo")))
    provider.sleep = lambda _: None  # type: ignore[method-assign]
    provider.retry_policy = NO_WAIT  # type: ignore[misc]
    return provider


def plugin_inputs(provider: OpenTelemetryPluginProvider, admin_url: str, name: str, **changes: Any) -> dict:
    news = {"api_name": name, "service": name, "route": None, "stack": "bench", "collector_url": COLLECTOR,
            "export_logs": None, "sampling_rate": 1.0, "admin_url": admin_url, "workspace": None, "version": None,
            **changes}
    result = provider.check({}, news)
    assert not result.failures, [(failure.property, failure.reason) for failure in result.failures]
    return result.inputs


def slo_inputs(provider: DynatraceProvider, url: str, count: int) -> list[dict[str, Any]]:
    return [provider.check({}, {"payload": payload, "environment_url": url}).inputs
            for payload in payloads("bench", [{"name": name} for name in api_names(count)])]


def measure(counter: Callable[[], Counter[str]], reset: Callable[[], None], step: Callable[[], None]) -> tuple:
    reset()
    started = time.perf_counter()
    step()
    seconds = time.perf_counter() - started
    return counter(), seconds


def report(size: int, system: str, operation: str, calls: Counter[str], seconds: float) -> None:
    methods = " ".join(f"{method}={calls[method]}" for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
                       if calls[method])
    writes = sum(calls[method] for method in ("POST", "PUT", "PATCH", "DELETE"))
    total = sum(calls.values())
    print(f"{size:>5}  {system:<9}  {operation:<10}  {total:>6}  {writes:>6}  {seconds:>8.3f}  "
          f"{total * ROUND_TRIP:>7.1f}  {methods or '-'}")


def kong_lifecycle(size: int) -> None:
    """Each step in a provider of its own, as each ``pulumi`` command runs in a process of its own; every
    resource is checked before it is diffed, created or updated, as the engine does."""
    with FakeKong("3.9") as kong:
        for name in api_names(size):
            kong.add_service(name)
        news = [plugin_inputs(kong_provider(), kong.url, name) for name in api_names(size)]
        state: list[tuple[str, dict]] = []

        def create() -> None:
            provider = kong_provider()
            for props in news:
                checked = plugin_inputs(provider, kong.url, props["api_name"])
                result = provider.create(checked)
                state.append((result.id, {**checked, **result.outs}))

        def unchanged() -> None:
            provider = kong_provider()
            for (id_, outs), props in zip(state, news, strict=True):
                checked = plugin_inputs(provider, kong.url, props["api_name"])
                assert provider.diff(id_, outs, checked).changes is False

        def update_one() -> None:
            provider = kong_provider()
            for index, ((id_, outs), props) in enumerate(zip(state, news, strict=True)):
                url = "http://otel.example:4318" if index == 0 else COLLECTOR
                checked = plugin_inputs(provider, kong.url, props["api_name"], collector_url=url)
                if provider.diff(id_, outs, checked).changes:
                    provider.update(id_, outs, checked)

        def delete() -> None:
            provider = kong_provider()
            for id_, outs in state:
                provider.delete(id_, outs)

        counter = lambda: Counter(kong.calls)  # noqa: E731
        for operation, step in (("create", create), ("unchanged", unchanged), ("update one", update_one),
                                ("delete", delete)):
            calls, seconds = measure(counter, kong.reset_counts, step)
            report(size, "kong", operation, calls, seconds)


def alerting_inputs(provider: SettingsObjectProvider, url: str, count: int, profile_id: str) -> list[dict[str, Any]]:
    """The e-mail notification and every SLO's burn-rate alerts, as ``SloAlerting`` declares them."""
    settings = stack_settings("bench", [{"name": name} for name in api_names(count)],
                              alerting={"emails": ["sre@example.com"]})
    policy = BurnRatePolicy()
    news = [{"schema_id": NOTIFICATION_SCHEMA, "external_id": notification_external_id("kong-slo", "bench"),
             "value": email_notification_value("bench", ["sre@example.com"], profile_id)}]
    news += [{"schema_id": METRIC_EVENT_SCHEMA, "external_id": ext_id, "value": value}
             for definition in slo_definitions(settings)
             for _, ext_id, value in burn_rate_alerts("kong-slo", "bench", definition, policy)]
    return [provider.check({}, {**props, "environment_url": url}).inputs for props in news]


def slo_lifecycle(size: int, system: str, fake: FakeDynatrace, provider: Any, news: list[dict[str, Any]],
                  change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The four steps for one SLO provider; ``change`` edits one payload for the update step."""
    state: list[tuple[str, dict]] = []

    def create() -> None:
        for props in news:
            result = provider.create(props)
            state.append((result.id, result.outs))

    def unchanged() -> None:
        for (id_, outs), props in zip(state, news, strict=True):
            assert provider.diff(id_, outs, props).changes is False

    def update_one() -> None:
        id_, outs = state[0]
        changed = {**news[0], "payload": change(news[0]["payload"])}
        if provider.diff(id_, outs, changed).changes:
            state[0] = (id_, {**outs, **provider.update(id_, outs, changed).outs})

    def delete() -> None:
        for id_, outs in state:
            provider.delete(id_, outs)

    for operation, step in (("create", create), ("unchanged", unchanged), ("update one", update_one),
                            ("delete", delete)):
        calls, seconds = measure(fake.per_method, fake.reset_calls, step)
        report(size, system, operation, calls, seconds)


def dynatrace_lifecycle(size: int) -> None:
    with FakeDynatrace(TOKEN, read_lag=2) as fake:
        listing.SLOS.clear()
        listing.SETTINGS.clear()
        provider, objects = dynatrace_provider(ServiceLevelObjectiveProvider()), \
            dynatrace_provider(SettingsObjectProvider())
        metric = dynatrace_provider(MetricDeclarationProvider())
        news = slo_inputs(provider, fake.url, size)
        lines = metric_declaration_lines(slo_definitions(stack_settings("bench", [{"name": name}
                                                                                  for name in api_names(size)])))
        declaration = {"metric_key": CALLS_METRIC_KEY, "lines": lines, "environment_url": fake.url}
        profile = objects.check({}, {"schema_id": ALERTING_PROFILE_SCHEMA, "environment_url": fake.url,
                                     "external_id": profile_external_id("kong-slo", "bench"),
                                     "value": alerting_profile_value("bench")}).inputs
        state: list[tuple[Any, str, dict]] = []

        def create() -> None:
            created = metric.create(declaration)
            state.append((metric, created.id, created.outs))
            for props in news:
                result = provider.create(props)
                state.append((provider, result.id, result.outs))
            made = objects.create(profile)
            state.append((objects, made.id, made.outs))
            for props in alerting_inputs(objects, fake.url, size, made.id):
                result = objects.create(props)
                state.append((objects, result.id, result.outs))

        def unchanged() -> None:
            for owner, id_, outs in state:
                assert owner.diff(id_, outs, {key: outs[key] for key in outs}).changes is False

        def update_one() -> None:
            _, id_, outs = state[1]
            changed = {**news[0], "payload": {**news[0]["payload"], "target": 98.5}}
            if provider.diff(id_, outs, changed).changes:
                provider.update(id_, outs, changed)

        def delete() -> None:
            for owner, id_, outs in reversed(state):
                owner.delete(id_, outs)

        for operation, step in (("create", create), ("unchanged", unchanged), ("update one", update_one),
                                ("delete", delete)):
            calls, seconds = measure(fake.per_method, fake.reset_calls, step)
            report(size, "dynatrace", operation, calls, seconds)
        assert fake.slos == {} and fake.settings == {}


def platform_lifecycle(size: int) -> None:
    with FakeDynatrace() as fake:
        fake.platform.platform_token = PLATFORM_TOKEN
        provider = PlatformServiceLevelObjectiveProvider()
        provider.configure(ConfigureRequest(Config({"kong-slo:dynatrace": json.dumps(
            {"platformToken": PLATFORM_TOKEN})}, "kong-slo")))
        provider.sleep = lambda _: None  # type: ignore[method-assign]
        provider.retry_policy = NO_WAIT  # type: ignore[misc]
        news = [{"payload": payload, "platform_url": fake.url}
                for payload in platform_payloads(apis=[{"name": name} for name in api_names(size)])]
        slo_lifecycle(size, "platform", fake, provider, news,
                      lambda payload: {**payload, "criteria": [{**payload["criteria"][0], "target": 98.5}]})
        assert fake.platform.slos == {}


def main() -> None:
    print(" APIs  system     operation    calls  writes   seconds  +50ms/rt  by method")
    for size in SIZES:
        kong_lifecycle(size)
        dynatrace_lifecycle(size)
        platform_lifecycle(size)
    print("\nDynatrace objects per API: 2 SLOs (latency, availability) and their burn-rate alerts (1 each for the "
          "default 1 h objectives); per stack: the counter's declaration, an alerting profile and an e-mail "
          "notification; or, platform, 2 SLOs per API. Kong: 1 plugin per API.")


if __name__ == "__main__":
    main()
