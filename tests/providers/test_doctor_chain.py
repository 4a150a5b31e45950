"""``kong-slo doctor`` on a healthy stack: exit 0, every check ok, JSON shape, exit codes, no secret shown,
and not one write to Kong or Dynatrace."""

from __future__ import annotations

import json

from kong_slo.cli import main
from tests.providers.doctor_chain import DT_TOKEN, KONG_TOKEN, chain


def test_a_healthy_stack_exits_0_with_every_link_ok(healthy, capsys):
    assert healthy.doctor() == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if not line.startswith(" ")][:4] == \
        ["Kong", "Plugins", "Collector", "Dynatrace"]
    assert "problem" not in out.replace("0 problem(s)", "")
    assert "Kong 3.9.1" in out and "tracing on: tracing_instrumentations = all" in out
    assert "Orders: 12 calls counted in the last 30 minutes" in out
    assert "Server available" in out
    assert out.rstrip().splitlines()[-1].startswith("0 problem(s)")


def test_doctor_only_reads(healthy):
    assert healthy.doctor() == 0
    assert healthy.kong.writes == 0 and set(healthy.kong.calls) == {"GET"}
    assert healthy.dynatrace.writes() == 0
    assert {method for method, _ in healthy.dynatrace.calls} <= {"GET", "POST"}
    assert [path for method, path in healthy.dynatrace.calls if method == "POST"] == ["/apiTokens/lookup"]


def test_json_lists_every_check_with_link_state_and_fix(healthy, capsys):
    healthy.dynatrace.token_info.scopes.discard("slo.write")
    assert healthy.doctor("--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"ok", "counts", "checks"} and report["ok"] is False
    assert report["counts"]["problem"] == 1
    assert all(set(check) == {"link", "name", "state", "detail", "fix"} for check in report["checks"])
    assert {check["link"] for check in report["checks"]} == {"kong", "plugins", "collector", "dynatrace"}
    [failed] = [check for check in report["checks"] if check["state"] == "problem"]
    assert failed["name"] == "dynatrace.scopes.slos" and "slo.write" in failed["fix"]
    assert all(check["fix"] is None for check in report["checks"] if check["state"] != "problem")


def test_no_secret_appears_in_any_output(healthy, capsys):
    healthy.dynatrace.token_info.scopes.clear()
    healthy.kong.tracing_instrumentations = ("off",)
    for extra in ((), ("--json",)):
        assert healthy.doctor(*extra) == 1
        captured = capsys.readouterr()
        for secret in (DT_TOKEN, DT_TOKEN.rsplit(".", 1)[1], KONG_TOKEN):
            assert secret not in captured.out and secret not in captured.err
    assert all(header == f"Api-Token {DT_TOKEN}" for header in healthy.dynatrace.auth_headers)


def test_a_missing_dynatrace_token_is_bad_input_before_any_call(healthy, monkeypatch, capsys):
    monkeypatch.delenv("DT_API_TOKEN")
    assert healthy.doctor() == 2
    assert "DT_API_TOKEN" in capsys.readouterr().err
    assert healthy.dynatrace.calls == [] and sum(healthy.kong.calls.values()) == 0


def test_an_encrypted_admin_token_without_the_variable_is_bad_input(healthy, monkeypatch, capsys):
    monkeypatch.delenv("KONG_ADMIN_TOKEN")
    assert healthy.doctor() == 2
    assert "KONG_ADMIN_TOKEN" in capsys.readouterr().err


def test_a_broken_stack_file_is_bad_input(tmp_path, capsys):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  kong-slo:target: aws\n  kong-slo:apis: []\n  kong-slo:kong: {adminUrl: nope}\n")
    assert main(["doctor", "--config-file", str(path)]) == 2
    assert "kong-slo:kong.adminUrl" in capsys.readouterr().err


def test_a_refused_dynatrace_token_skips_the_rest_of_dynatrace(healthy, monkeypatch, capsys):
    monkeypatch.setenv("DT_API_TOKEN", "dt0c01.WRONG.WRONGSECRETVALUE")
    assert healthy.doctor("--json") == 1
    out = capsys.readouterr().out
    checks = {check["name"]: check for check in json.loads(out)["checks"] if check["link"] == "dynatrace"}
    assert checks["dynatrace.token"]["state"] == "problem" and "401" in checks["dynatrace.token"]["detail"]
    assert checks["dynatrace.objects"]["state"] == "skipped"
    assert "WRONGSECRETVALUE" not in out


def test_a_wrong_kong_admin_token_says_how_to_give_the_right_one(healthy, monkeypatch, capsys):
    monkeypatch.setenv("KONG_ADMIN_TOKEN", "not-the-token")
    assert healthy.doctor("--json") == 1
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["kong.admin_api"]["state"] == "problem" and "KONG_ADMIN_TOKEN" in checks["kong.admin_api"]["fix"]
    assert checks["plugins"]["state"] == "skipped"


def test_a_collector_only_kongs_network_reaches_is_skipped_and_the_stack_still_passes(healthy, monkeypatch, capsys):
    from kong_slo.doctor import reach

    real_connect = reach.socket.create_connection

    def connect(address, *args, **kwargs):
        if address[0] == "otel.internal":
            raise reach.socket.gaierror(-2, "Name or service not known")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(reach.socket, "create_connection", connect)
    for plugin in healthy.kong.store().plugins.values():
        plugin["config"]["traces_endpoint"] = "http://otel.internal:4318/v1/traces"
        plugin["config"]["logs_endpoint"] = "http://otel.internal:4318/v1/logs"
    healthy.collector_elsewhere = "http://otel.internal:4318"
    assert healthy.doctor("--json") == 0
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    for name in ("collector.health", "collector.otlp"):
        assert checks[name]["state"] == "skipped"
        assert "not reachable from here (the name otel.internal does not resolve here)" in checks[name]["detail"]


def test_credentials_in_the_admin_url_are_refused_and_never_shown(healthy, capsys):
    healthy.kong_overrides = {"adminUrl": healthy.kong.url.replace("http://", "http://admin:pa55word-SECRET@")}
    assert healthy.doctor() == 2
    captured = capsys.readouterr()
    assert "kong-slo:kong.adminUrl" in captured.err + captured.out and "kong.adminToken" in captured.err + captured.out
    assert "pa55word-SECRET" not in captured.err + captured.out
    assert healthy.kong.calls == {}, "nothing is asked of Kong"


def test_a_route_scoped_api_is_checked_on_its_route(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DT_API_TOKEN", DT_TOKEN)
    monkeypatch.setenv("KONG_ADMIN_TOKEN", KONG_TOKEN)
    with chain(tmp_path) as stack:
        stack.apis = [{"name": "Orders", "route": "orders-route"}]
        stack.deploy()
        stack.kong.add_route("orders-admin", "Orders")
        stack.kong.add_plugin({"name": "opentelemetry", "config": {"traces_endpoint": "http://x:4318/v1/traces"}},
                              route="orders-admin")
        assert stack.doctor("--json") == 0
        checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
        assert checks["plugins.Orders.scope"]["detail"] == "Orders: route orders-route exists"
        assert "on route orders-route" in checks["plugins.Orders.plugin"]["detail"]
        stack.apis = [{"name": "Orders", "route": "orders-v9"}]
        assert stack.doctor("--json") == 1
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["plugins.Orders.scope"]["state"] == "problem"
    assert "kong-slo:apis[0].route" in checks["plugins.Orders.scope"]["fix"]
