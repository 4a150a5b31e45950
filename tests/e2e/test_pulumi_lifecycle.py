"""The real Pulumi engine runs the program for a target-external stack against the Kong and Dynatrace emulators:
preview, up, an unchanged up, refresh, a changed objective, a removed API, drift repaired, destroy."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kong_slo.dynatrace.alerting import ALERTING_PROFILE_SCHEMA
from kong_slo.kong.payload import ownership_tags
from tests.e2e.pulumi_project import PulumiProject
from tests.fakes.dynatrace import FakeDynatrace, Fault
from tests.fakes.kong_admin import FakeKong

COLLECTOR_URL = "http://127.0.0.1:4318"
KONG_TOKEN = "kong-admin-token-never-in-clear"
SSH_KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUe2e-not-a-real-key"
SSH_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
"""The key that marks a secret in Pulumi's state (``sig.Secret``)."""
APIS: list[dict[str, Any]] = [
    {"name": "Orders", "route": "orders-v2"},
    {"name": "HealthService", "latency": False},
    {"name": "Payments", "availability": {"failOn": ["4xx", "5xx"]}},
]


@pytest.fixture
def kong() -> FakeKong:
    with FakeKong("3.9", token=KONG_TOKEN) as fake:
        for api in APIS:
            fake.add_service(api["name"])
        fake.add_route("orders-v2", "Orders")
        yield fake


@pytest.fixture
def dynatrace() -> FakeDynatrace:
    with FakeDynatrace(read_lag=1) as fake:
        yield fake


def stack_config(kong: FakeKong, dynatrace: FakeDynatrace, apis: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "target": "external",
        "kong": {"adminUrl": kong.url, "collectorUrl": COLLECTOR_URL, "version": "3.9"},
        "dynatrace": {"environmentUrl": dynatrace.url, "alerting": {"emails": ["sre@example.com"]}},
        "apis": apis,
    }


@pytest.fixture
def project(tmp_path: Path, kong: FakeKong, dynatrace: FakeDynatrace) -> PulumiProject:
    project = PulumiProject(tmp_path)
    project.configure(stack_config(kong, dynatrace, APIS))
    project.set_secret("dynatrace.apiToken", dynatrace.token)
    project.set_secret("kong.adminToken", KONG_TOKEN)
    return project


def ours(kong: FakeKong) -> dict[str, dict[str, Any]]:
    """kong-slo's plugins in the emulator, by the API their service.name names."""
    return {plugin["config"]["resource_attributes"]["service.name"]: plugin for plugin in kong.plugins()
            if plugin["name"] == "opentelemetry"}


def slo_names(dynatrace: FakeDynatrace) -> set[str]:
    return {slo["name"] for slo in dynatrace.slos.values()}


def reset(kong: FakeKong, dynatrace: FakeDynatrace) -> None:
    kong.reset_counts()
    dynatrace.reset_calls()


def test_external_stack_lifecycle(project: PulumiProject, kong: FakeKong, dynatrace: FakeDynatrace) -> None:
    # preview: every create shown, nothing written anywhere
    preview = project.run("preview", "--diff")
    assert preview.stdout.count("dynamic/kong:OpenTelemetryPlugin") >= 3, preview.stdout
    assert "dynamic/dynatrace:ServiceLevelObjective" in preview.stdout
    assert kong.writes == 0 and dynatrace.writes() == 0

    # up: one plugin per API, scoped, tagged, pointing at the team's collector; the SLOs and alerting objects
    project.up()
    plugins = ours(kong)
    assert set(plugins) == {"Orders", "HealthService", "Payments"}
    assert plugins["Orders"]["route"] is not None and plugins["Orders"]["service"] is None  # on its route
    assert plugins["Payments"]["service"] is not None
    for plugin in plugins.values():
        assert plugin["config"]["traces_endpoint"] == f"{COLLECTOR_URL}/v1/traces"
        assert set(ownership_tags("e2e")) <= set(plugin["tags"]), plugin["tags"]
    assert len(slo_names(dynatrace)) == 5, slo_names(dynatrace)  # HealthService has no latency objective
    assert all(slo["enabled"] for slo in dynatrace.slos.values())
    assert dynatrace.settings, "the alerting profile, the e-mail notification and the burn-rate alerts"
    settings_count = len(dynatrace.settings)

    # an unchanged up and a refresh: no write at all
    reset(kong, dynatrace)
    project.up("--expect-no-changes")
    project.run("refresh", "--yes", "--expect-no-changes")
    assert kong.writes == 0 and dynatrace.writes() == 0, (kong.calls, dynatrace.per_method())

    # one objective changed: exactly that objective's objects are written, nothing in Kong
    changed = copy.deepcopy(APIS)
    changed[2]["availability"] = {"failOn": ["4xx", "5xx"], "target": 99.2}
    project.configure(stack_config(kong, dynatrace, changed))
    reset(kong, dynatrace)
    project.up()
    assert kong.writes == 0
    written = {path for method, path in dynatrace.calls if method in ("PUT", "POST", "DELETE")}
    assert written and all(_belongs_to(dynatrace, path, "Payments") for path in written), written

    # one API removed: its plugin and its SLOs go
    project.configure(stack_config(kong, dynatrace, [changed[0], changed[2]]))
    project.up()
    assert set(ours(kong)) == {"Orders", "Payments"}
    assert not any("HealthService" in name for name in slo_names(dynatrace))

    # drift: a plugin changed by hand is seen by refresh and repaired by up
    plugin_id = ours(kong)["Payments"]["id"]
    kong.store().plugins[plugin_id]["config"]["traces_endpoint"] = "http://elsewhere:4318/v1/traces"
    refresh = project.run("refresh", "--yes", "--diff")
    assert "elsewhere" in refresh.stdout, refresh.stdout
    project.up()
    assert ours(kong)["Payments"]["config"]["traces_endpoint"] == f"{COLLECTOR_URL}/v1/traces"

    # destroy: nothing of the stack is left in either emulator
    project.run("destroy", "--yes")
    assert ours(kong) == {}
    assert dynatrace.slos == {} and len(dynatrace.settings) == 0, (dynatrace.slos, settings_count)


def _belongs_to(dynatrace: FakeDynatrace, path: str, api: str) -> bool:
    """Whether a written path is one of ``api``'s SLOs or alerting objects, or the dashboard section showing it."""
    if path.startswith("/slo/"):
        slo = dynatrace.slos.get(path.removeprefix("/slo/"))
        return slo is not None and api in slo["name"]
    if path.startswith("/settings/objects/"):
        obj = dynatrace.settings.get(path.removeprefix("/settings/objects/"))
        return obj is not None and api in json.dumps(obj)
    if path.startswith("/api/config/v1/dashboards/"):  # the stack's dashboard shows each objective's target
        board = dynatrace.dashboards.dashboards.get(path.rsplit("/", 1)[1])
        return board is not None and api in json.dumps(board)
    return False


def test_secrets_stay_encrypted_in_state_and_outputs(project: PulumiProject, dynatrace: FakeDynatrace) -> None:
    """The engine hands dynamic providers the whole stack config and records it as the inputs of their provider
    resource (``GetPackageConfig`` in pkg/resource/deploy/target.go@v3.274.1); every section holding a secret is
    stored as ciphertext, and the pickled providers (``__provider``) carry no credential."""
    # kong.ssh needs the pulumi-command plugin, so the key lies in a namespace the program does not read: the
    # engine hands it to the providers all the same.
    project.run("config", "set", "--secret", "ops:sshPrivateKey", stdin=SSH_KEY)
    project.up()
    exported = project.export()
    state = json.dumps(exported) + project.state_text() + project.stack_file.read_text()
    for secret in (dynatrace.token, KONG_TOKEN, SSH_KEY_BODY):
        assert secret not in state
    resources = exported["deployment"]["resources"]
    [provider] = [resource for resource in resources if resource["type"] == "pulumi:providers:pulumi-python"]
    for key in ("kong-slo:kong", "kong-slo:dynatrace", "ops:sshPrivateKey"):
        assert set(provider["inputs"][key]) == {SECRET_SIGNATURE, "ciphertext"}, provider["inputs"][key]
    assert provider["inputs"]["kong-slo:target"] == "external"  # plain config stays plain

    # Decrypted, the pickled providers still hold no token: their __getstate__ drops what configure() read.
    revealed = json.loads(project.run("stack", "export", "--show-secrets").stdout)["deployment"]["resources"]
    pickles = {resource["type"]: _plain(resource["inputs"]["__provider"]) for resource in revealed
               if resource["type"].startswith("pulumi-python:dynamic/")}
    assert {"pulumi-python:dynamic/kong:OpenTelemetryPlugin",
            "pulumi-python:dynamic/dynatrace:ServiceLevelObjective"} <= set(pickles)
    for pickled in pickles.values():
        assert all(secret.encode() not in pickled for secret in (dynatrace.token, KONG_TOKEN, SSH_KEY_BODY))

    outputs = project.run("stack", "output", "--json", "--show-secrets=false").stdout
    assert dynatrace.token not in outputs and KONG_TOKEN not in outputs
    project.run("destroy", "--yes")


def _plain(provider: Any) -> bytes:
    """A ``__provider`` value of ``stack export --show-secrets``: a base64 pickle, or the secret envelope of one."""
    if isinstance(provider, dict):
        provider = provider["plaintext"]
        provider = json.loads(provider) if provider.startswith('"') else provider
    return base64.b64decode(provider)


def test_admin_url_credentials_are_refused_before_anything_is_written(project: PulumiProject, kong: FakeKong,
                                                                      dynatrace: FakeDynatrace) -> None:
    config = stack_config(kong, dynatrace, APIS)
    config["kong"]["adminUrl"] = kong.url.replace("http://", "http://ops:basic-auth-pw@")
    project.configure(config)
    preview = project.run("preview", check=False)
    assert preview.returncode != 0
    assert "kong-slo:kong.adminUrl" in preview.stdout and "kong.adminToken" in preview.stdout, preview.stdout
    assert "basic-auth-pw" not in preview.stdout + preview.stderr
    assert kong.writes == 0 and dynatrace.writes() == 0


def test_preview_of_an_update_shows_only_what_changes(project: PulumiProject, kong: FakeKong,
                                                     dynatrace: FakeDynatrace) -> None:
    """The SDK's Diff drops ``stables`` and the engine's UpdateStep never reads them (step.go@v3.274.1): in a
    preview an updated dynamic resource's outputs are unknown. What depends on one reads its id, which the engine
    keeps: a profile repaired after drift is previewed alone, and its e-mail notification is not touched."""
    project.up()
    [profile_id] = [key for key, item in dynatrace.settings.items() if item["schemaId"] == ALERTING_PROFILE_SCHEMA]
    name = dynatrace.settings[profile_id]["value"]["name"]
    dynatrace.settings[profile_id]["value"]["name"] = "renamed by hand"
    project.run("refresh", "--yes")
    assert _previewed_changes(project) == [("update", "slos-alerting-profile")]
    project.up()
    assert dynatrace.settings[profile_id]["value"]["name"] == name
    project.up("--expect-no-changes")

    # one objective and one plugin changed: only they (and the objective's alerts) are updated, and the stack's
    # outputs (plugin and SLO ids, adoption) stay as they are
    changed = copy.deepcopy(APIS)
    changed[2]["availability"] = {"failOn": ["4xx", "5xx"], "target": 99.2}
    changed[0]["samplingRate"] = 0.5
    project.configure(stack_config(kong, dynatrace, changed))
    updates = _previewed_changes(project)
    assert ("update", "kong-otel-Orders") in updates
    assert ("update", "slos-dashboard") in updates  # the dashboard shows each objective's target
    assert all(op == "update" and ("payments_availability" in name or name in ("kong-otel-Orders", "slos-dashboard"))
               for op, name in updates), updates
    preview = project.run("preview", "--diff").stdout
    assert "outputs:" not in preview, preview[preview.find("outputs:"):]
    project.run("destroy", "--yes")


def _previewed_changes(project: PulumiProject) -> list[tuple[str, str]]:
    """``(operation, resource name)`` of every step ``pulumi preview --json`` plans other than ``same``."""
    steps = json.loads(project.run("preview", "--json").stdout).get("steps") or []
    return sorted((step["op"], step["urn"].rsplit("::", 1)[1]) for step in steps if step["op"] != "same")


def test_faults_during_up_never_leave_a_duplicate(project: PulumiProject, kong: FakeKong,
                                                  dynatrace: FakeDynatrace) -> None:
    """A 429, a 503 and a connection dropped after the write, in both APIs, during one `pulumi up`: the run
    completes or fails with a clear message, and the next `up` converges with one object per wish."""
    kong.fail_next("429", method="PUT")
    kong.fail_next("503", method="PUT")
    kong.fail_next("drop_after", method="PUT")
    dynatrace.inject(Fault("429", method="POST", path=".*/slo$", headers={"Retry-After": "1"}),
                     Fault("503", method="POST", path=".*/slo$"),
                     Fault("drop-after", method="POST", path=".*/slo$"),
                     Fault("drop-after", method="POST", path=".*/settings/objects$"))
    first = project.up(check=False)
    assert dynatrace.faults == [], "every injected fault was met"
    if first.returncode != 0:
        assert "error:" in first.stdout + first.stderr and "Traceback" not in first.stdout, first.stdout
        project.up()
    project.up("--expect-no-changes")
    assert sorted(ours(kong)) == ["HealthService", "Orders", "Payments"]
    assert len(kong.plugins()) == 3
    names = [slo["name"] for slo in dynatrace.slos.values()]
    assert len(names) == len(set(names)) == 5
    external_ids = [obj.get("externalId") for obj in dynatrace.settings.values()]
    assert len(external_ids) == len(set(external_ids))
    project.run("destroy", "--yes")
    assert kong.plugins() == [] and dynatrace.slos == {}
