"""Stack settings: defaults, merging, and every rule that rejects a stack file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kong_slo.errors import SettingsError
from kong_slo.secrets import Secret
from kong_slo.settings import KongVersion, load_stack_file
from tests.conftest import STACKS
from tests.unit.settings_helpers import TOKEN, aws_config, parse


def problems_of(config: dict, region: str | None = "eu-west-1") -> tuple[str, ...]:
    with pytest.raises(SettingsError) as raised:
        parse(config, region)
    return raised.value.problems


def test_defaults_are_the_documented_objectives() -> None:
    settings = parse(aws_config())
    health = settings.apis[0]
    assert health.latency is not None and health.availability is not None
    assert (health.latency.threshold_ms, health.latency.target, health.latency.warning) == (600, 99.0, 99.5)
    assert health.latency.window == "1h"
    assert (health.availability.target, health.availability.window) == (99.0, "1h")
    assert health.availability.fail_on == ("5xx",)
    assert settings.collector.distribution == "dynatrace"
    assert settings.kong.sampling_rate == 1.0


def test_api_overrides_merge_over_slo_defaults() -> None:
    settings = parse(aws_config(
        sloDefaults={"latency": {"thresholdMs": 800, "window": "1d"}, "availability": {"failOn": ["5xx", "404"]}},
        apis=[{"name": "A", "latency": {"thresholdMs": 400}}, {"name": "B", "availability": {"target": 99.9,
                                                                                          "warning": 99.95}}],
    ))
    first, second = settings.apis
    assert first.latency is not None and first.latency.threshold_ms == 400 and first.latency.window == "1d"
    assert second.latency is not None and second.latency.threshold_ms == 800
    assert second.availability is not None
    assert (second.availability.target, second.availability.fail_on) == (99.9, ("5xx", "404"))


def test_false_switches_one_objective_off() -> None:
    settings = parse(aws_config(apis=[{"name": "A", "latency": False}]))
    assert settings.apis[0].latency is None
    assert settings.apis[0].availability is not None


def test_secrets_never_show_in_repr() -> None:
    settings = parse(aws_config())
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.dynatrace)
    assert settings.dynatrace is not None and settings.dynatrace.api_token.reveal() == TOKEN


@pytest.mark.parametrize(("change", "expected"), [
    ({"apis": [{"name": "A", "latency": {"target": 120}}]},
     "kong-slo:apis[0].latency.target: 120 is not a percentage"),
    ({"apis": [{"name": "A", "availability": {"target": 99.9}}]},
     "kong-slo:apis[0].availability.warning: 99.5 (the built-in default) must be greater than the target 99.9"),
    ({"sloDefaults": {"availability": {"warning": 99.6}}, "apis": [{"name": "A", "availability": {"target": 99.9}}]},
     "kong-slo:apis[0].availability.warning: 99.6 (from kong-slo:sloDefaults.availability.warning) must be "
     "greater than the target 99.9"),
    ({"sloDefaults": {"latency": {"target": 99.99999999}}, "apis": [{"name": "A"}]},
     "kong-slo:apis[0].latency.warning: 99.5 (the built-in default) must be greater than the target 99.99999999 "
     "(from kong-slo:sloDefaults.latency.target)"),
    ({"apis": [{"name": "A", "latency": {"thresholdMs": 10**30}}]},
     "kong-slo:apis[0].latency.thresholdMs: 1000000000000000000000000000000 is more than 2147483646 ms, Kong's "
     "longest timeout"),
    ({"apis": [{"name": "A", "latency": {"window": "261w"}}]},
     "kong-slo:apis[0].latency.window: '261w' is longer than 5 years"),
    ({"apis": [{"name": "S" * 129}]}, "has 129 characters; names are limited to 128"),
    ({"apis": [{"name": "A"}] * 5001}, "kong-slo:apis: lists 5001 APIs; a stack tracks at most 5000"),
    ({"apis": [{"name": "A", "latency": {"thresholdMs": 0}}]},
     "kong-slo:apis[0].latency.thresholdMs: 0 is not a positive number of milliseconds"),
    ({"apis": [{"name": "A", "latency": {"window": "1 hour"}}]},
     "kong-slo:apis[0].latency.window: '1 hour' is not a window"),
    ({"apis": [{"name": "A", "latency": {"window": "1m"}}]}, "kong-slo:apis[0].latency.window: '1m' is shorter"),
    ({"apis": [{"name": "A", "availability": {"failOn": ["6xx"]}}]},
     "kong-slo:apis[0].availability.failOn[0]: '6xx' is not a status class"),
    ({"apis": [{"name": "A"}, {"name": "a"}]}, "kong-slo:apis[1].name: 'a' is already used by kong-slo:apis[0]"),
    ({"apis": [{"name": "has space"}]}, "kong-slo:apis[0].name: 'has space' is not a Kong service name"),
    ({"apis": [{"name": "a/b"}]}, "kong-slo:apis[0].name: 'a/b' is not a Kong service name"),
    ({"apis": [{"name": "bad\ud800"}]}, "kong-slo:apis[0].name: 'bad\\ud800' is not a Kong service name"),
    ({"apis": []}, "kong-slo:apis: is required"),
    ({"apis": [{"nam": "A"}]}, "kong-slo:apis[0].nam: unknown key; did you mean 'name'?"),
    ({"colector": {}}, "kong-slo:colector: unknown key; did you mean 'collector'?"),
    ({"collector": {"allowedCidrs": ["0.0.0.0/0"]}},
     "kong-slo:collector.allowedCidrs[0]: '0.0.0.0/0' opens the collector to the whole internet"),
    ({"collector": {"allowedCidrs": ["::/0"]}}, "kong-slo:collector.allowedCidrs[0]: '::/0' opens"),
    ({"collector": {"allowedCidrs": ["10.0.0.1/16"]}}, "did you mean '10.0.0.0/16'?"),
    ({"collector": {"allowedCidrs": ["nonsense"]}}, "kong-slo:collector.allowedCidrs[0]: 'nonsense' is not a CIDR"),
    ({"collector": {"allowedCidrs": ["10.0.0.0/8"], "traceSampling": 0}},
     "kong-slo:collector.traceSampling: 0 is not a share in (0, 1]"),
    ({"collector": {"allowedCidrs": ["10.0.0.0/8"], "distribution": "otel"}},
     "kong-slo:collector.distribution: 'otel' is not one of dynatrace, contrib"),
    ({"target": "gcp"}, "kong-slo:target: 'gcp' is not one of aws, local"),
    ({"kong": {"adminUrl": "kong:8001"}}, "kong-slo:kong.adminUrl: 'kong:8001' is not an http(s) URL"),
    ({"kong": {"adminUrl": "http://admin:s3cret@kong:8001"}},
     "kong-slo:kong.adminUrl: http://***@kong must not carry credentials: the URL is stored in clear text"),
    ({"kong": {"adminUrl": "http://k:8001", "samplingRate": 2}},
     "kong-slo:kong.samplingRate: 2 is not a sampling rate between 0 and 1"),
    ({"kong": {"adminUrl": "http://k:8001", "adminToken": "plain"}},
     "kong-slo:kong.adminToken: is stored in plain text"),
    ({"kong": {"adminUrl": "http://k:8001", "version": "three"}}, "kong-slo:kong.version: 'three' is not a Kong"),
    ({"kong": {"adminUrl": "http://k:8001", "version": "2.8"}}, "kong-slo:kong.version: Kong 2.8 is not supported"),
    ({"kong": {"adminUrl": "http://k:8001", "ssh": {"host": "10.0.1.10"}}},
     "kong-slo:kong.ssh.privateKey: is required"),
    ({"kong": {"adminUrl": "http://k:8001", "ssh": {"host": "h", "privateKey": Secret("k"), "hostKey": "AAAA"}}},
     "kong-slo:kong.ssh.hostKey: is not a public key line"),
    ({"dynatrace": {"environmentUrl": "https://abc.apps.dynatrace.com", "apiToken": Secret(TOKEN)}},
     "'https://abc.live.dynatrace.com'"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com/api/v2", "apiToken": Secret(TOKEN)}},
     "without the /api path"),
    ({"dynatrace": {"environmentUrl": "http://abc.live.dynatrace.com", "apiToken": Secret(TOKEN)}}, "must use https"),
    ({"dynatrace": {"environmentUrl": "https://example.com", "apiToken": Secret(TOKEN)}},
     "is neither a SaaS environment"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com/ui/apps/x", "apiToken": Secret(TOKEN)}},
     "kong-slo:dynatrace.environmentUrl: 'https://abc.live.dynatrace.com/ui/apps/x' has the path '/ui/apps/x'"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com/?tenant=1", "apiToken": Secret(TOKEN)}},
     "must not have a query or fragment"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com/#x", "apiToken": Secret(TOKEN)}},
     "must not have a query or fragment"),
    ({"dynatrace": {"environmentUrl": "https://me:pw@abc.live.dynatrace.com", "apiToken": Secret(TOKEN)}},
     "kong-slo:dynatrace.environmentUrl: https://***@abc.live.dynatrace.com must not carry credentials"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com:70000", "apiToken": Secret(TOKEN)}},
     "has an invalid port"),
    ({"dynatrace": {"environmentUrl": "https://dt.example.com/e/env1/extra", "apiToken": Secret(TOKEN)}},
     "has the path '/e/env1/extra'"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com"}}, "kong-slo:dynatrace.apiToken: is required"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com", "apiToken": Secret("nope")}},
     "kong-slo:dynatrace.apiToken: is not a Dynatrace API token"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com", "apiToken": Secret(TOKEN),
                    "alerting": {"emails": ["not-an-address"]}}},
     "kong-slo:dynatrace.alerting.emails[0]: 'not-an-address' is not an e-mail address"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com", "apiToken": Secret(TOKEN),
                    "alerting": {"emails": ["a@b.io"], "burnRate": {"fastBurnThreshold": 1}}}},
     "kong-slo:dynatrace.alerting.burnRate.fastBurnThreshold: 1 must be at least 1.01"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com", "apiToken": Secret(TOKEN),
                    "alerting": {"emails": ["a@b.io"], "burnRate": {"pageFactor": 0}}}},
     "kong-slo:dynatrace.alerting.burnRate.pageFactor: 0 must be a burn rate above 0"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com", "apiToken": Secret(TOKEN),
                    "alerting": {"emails": ["a@b.io"], "burnRate": {"minRequests": 2.5}}}},
     "kong-slo:dynatrace.alerting.burnRate.minRequests: 2.5 is not a whole number"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com", "apiToken": Secret(TOKEN),
                    "alerting": {"emails": ["a@b.io"], "burnRate": {"ticketFactr": 2}}}},
     "kong-slo:dynatrace.alerting.burnRate.ticketFactr: unknown key; did you mean 'ticketFactor'?"),
    ({"dynatrace": None}, "kong-slo:dynatrace.environmentUrl: is required for target aws"),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com", "apiToken": Secret(TOKEN),
                    "sliSource": "service"}, "apis": [{"name": "A", "availability": {"failOn": ["5xx", "404"]}}]},
     "kong-slo:apis[0].availability.failOn: ['5xx', '404'] needs kong-slo:dynatrace.sliSource: collector"),
])
def test_each_problem_names_its_key(change: dict, expected: str) -> None:
    problems = problems_of(aws_config(**change))
    assert any(expected in line for line in problems), problems


def test_the_token_never_appears_in_problems() -> None:
    config = aws_config(dynatrace={"environmentUrl": "https://x.apps.dynatrace.com", "apiToken": TOKEN})
    problems = problems_of(config)
    assert all(TOKEN not in line for line in problems)


def test_admin_url_credentials_are_refused_without_being_repeated() -> None:
    problems = problems_of(aws_config(kong={"adminUrl": "https://ops:s3cret-pw@kong.internal:8444"}))
    assert any(line.startswith("kong-slo:kong.adminUrl:") and "kong.adminToken" in line for line in problems)
    assert all("s3cret-pw" not in line and "ops:" not in line for line in problems), problems


def test_public_ingress_needs_explicit_consent() -> None:
    settings = parse(aws_config(collector={"allowedCidrs": ["0.0.0.0/0"], "allowPublicIngress": True}))
    assert settings.collector.allowed_cidrs == ("0.0.0.0/0",)


def test_aws_target_needs_region_cidrs_and_admin_url() -> None:
    problems = problems_of(aws_config(collector={}, kong={}), region=None)
    assert ('aws:region: is required for target aws: `make pulumi STACK=test ARGS="config set --path aws:region '
            'eu-west-1"`') in problems
    assert any(line.startswith("kong-slo:collector.allowedCidrs: is required") for line in problems)
    assert any(line.startswith("kong-slo:kong.adminUrl: is required") for line in problems)


def test_local_target_needs_no_cloud_and_derives_the_admin_url() -> None:
    settings = parse({"apis": [{"name": "A"}]}, region=None)
    assert settings.target == "local"
    assert settings.kong.admin_url == "http://127.0.0.1:8001"
    assert settings.dynatrace is None


@pytest.mark.parametrize(("version", "change", "key"), [
    ("3.1", {}, "kong-slo:kong.version: Kong 3.1 runs the opentelemetry plugin only globally"),
    ("3.7", {"exportLogs": True}, "kong-slo:kong.exportLogs: Kong 3.7 cannot export logs"),
])
def test_wishes_the_kong_version_cannot_honour(version: str, change: dict, key: str) -> None:
    problems = problems_of(aws_config(kong={"adminUrl": "http://k:8001", "version": version, **change}))
    assert any(line.startswith(key) for line in problems), problems


def test_plugin_sampling_rate_needs_kong_36() -> None:
    config = aws_config(kong={"adminUrl": "http://k:8001", "version": "3.5"},
                        apis=[{"name": "A", "samplingRate": 0.5}])
    assert any(line.startswith("kong-slo:apis[0].samplingRate: Kong 3.5 has no per-plugin sampling_rate")
               for line in problems_of(config))
    config["kong"]["version"] = "3.6"
    assert parse(config).apis[0].sampling_rate == 0.5


def test_logs_default_to_whatever_the_version_supports() -> None:
    settings = parse(aws_config(kong={"adminUrl": "http://k:8001", "version": "3.4"}))
    assert settings.kong.export_logs is None
    assert settings.kong.version == KongVersion(3, 4)


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(aws_config(
        collector={"allowedCidrs": ["0.0.0.0/0"], "instanceTyp": "t3.small"},
        apis=[{"name": "A", "latency": {"target": 120}}, {"name": "A"}],
    ))
    assert len(problems) >= 4
    assert len(set(problems)) == len(problems)


def test_kong_version_parsing_accepts_oss_and_enterprise_forms() -> None:
    assert KongVersion.parse("3.9") == KongVersion(3, 9)
    assert KongVersion.parse("3.9.1") == KongVersion(3, 9)
    assert KongVersion.parse("3.4.3.5") == KongVersion(3, 4)
    assert KongVersion(3, 10) > KongVersion(3, 9)


@pytest.mark.parametrize("path", STACKS, ids=lambda path: path.name)
def test_every_shipped_stack_file_is_valid(path: Path) -> None:
    settings = load_stack_file(path)
    assert settings.stack == path.name.split(".")[1]
    assert settings.apis


def test_dev_stack_tracks_health_service_with_the_documented_objectives(root: Path) -> None:
    settings = load_stack_file(root / "examples" / "stacks" / "Pulumi.dev.yaml")
    health = next(api for api in settings.apis if api.name == "HealthService")
    assert health.latency is not None and health.availability is not None
    assert (health.latency.threshold_ms, health.latency.target, health.latency.window) == (600, 99.0, "1h")
    assert (health.availability.target, health.availability.window) == (99.0, "1h")
    assert settings.dynatrace is not None and not settings.dynatrace.api_token.known


def test_stack_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text("config:\n  kong-slo:apis: [\n")
    with pytest.raises(SettingsError) as raised:
        load_stack_file(broken)
    assert str(broken) in raised.value.problems[0]
    assert "is not valid YAML" in raised.value.problems[0]


@pytest.mark.parametrize(("change", "expected"), [
    ({"kong": {"adminUrl": "http://kong.internal:8001", "adminToken": "plain"}},
     'kong-slo:kong.adminToken: is stored in plain text; store it encrypted with `make pulumi STACK=test '
     'ARGS="config set --secret --path kong-slo:kong.adminToken …"`'),
    ({"kong": {"adminUrl": "http://kong.internal:8001", "ssh": {"host": "10.0.1.10"}}},
     'kong-slo:kong.ssh.privateKey: is required: `make pulumi STACK=test ARGS="config set --secret --path '
     'kong-slo:kong.ssh.privateKey"` < ~/.ssh/id_ed25519'),
    ({"dynatrace": {"environmentUrl": "https://abc.live.dynatrace.com"}},
     'kong-slo:dynatrace.apiToken: is required: `make pulumi STACK=test ARGS="config set --secret --path '
     'kong-slo:dynatrace.apiToken dt0c01...."`'),
])
def test_hints_set_secrets_on_the_same_backend_as_make_up(change: dict, expected: str) -> None:
    assert expected in problems_of(aws_config(**change))
