"""The stack's choices about Kong's trace context and other ``opentelemetry`` plugins."""

from __future__ import annotations

import pytest

from kong_slo.errors import SettingsError
from kong_slo.secrets import Secret
from tests.unit.settings_helpers import aws_config, parse


def kong(**keys: object) -> dict:
    return {"adminUrl": "http://kong.internal:8001", **keys}


def problems_of(config: dict) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as raised:
        parse(config)
    return raised.value.problems


def test_defaults_count_everything_and_stop_at_other_plugins() -> None:
    settings = parse(aws_config()).kong
    assert settings.incoming_trace_context == "ignore"
    assert (settings.broader_plugins, settings.narrower_plugins) == ("stop", "stop")


def test_choices_are_read() -> None:
    settings = parse(aws_config(kong=kong(incomingTraceContext="honour",
                                          otherPlugins={"broader": "replace", "narrower": "keep"}))).kong
    assert (settings.incoming_trace_context, settings.broader_plugins, settings.narrower_plugins) == (
        "honour", "replace", "keep")


def test_every_bad_choice_is_named_at_once() -> None:
    problems = problems_of(aws_config(kong=kong(incomingTraceContext="drop",
                                                otherPlugins={"broader": "yes", "narower": "keep"})))
    assert any(p.startswith("kong-slo:kong.incomingTraceContext: 'drop' is not one of ignore, honour")
               for p in problems), problems
    assert any(p.startswith("kong-slo:kong.otherPlugins.broader: 'yes' is not one of stop, replace")
               for p in problems), problems
    assert any(p.startswith("kong-slo:kong.otherPlugins.narower") for p in problems), problems


def test_kong_3_2_cannot_ignore_an_incoming_context() -> None:
    problems = problems_of(aws_config(kong=kong(version="3.2")))
    assert any(p.startswith("kong-slo:kong.incomingTraceContext: Kong 3.2 always follows an incoming traceparent")
               for p in problems), problems
    assert parse(aws_config(kong=kong(version="3.2", incomingTraceContext="honour"))).kong.version is not None


SSH = {"host": "10.0.1.10", "privateKey": Secret("key")}
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64Key"


def test_the_host_key_is_pinned_unless_the_stack_opts_out_in_so_many_words() -> None:
    problems = problems_of(aws_config(kong=kong(ssh=SSH)))
    assert any(p.startswith("kong-slo:kong.ssh.hostKey: is required") and "ssh-keyscan -t ed25519 10.0.1.10" in p
               for p in problems), problems
    assert parse(aws_config(kong=kong(ssh={**SSH, "acceptAnyHostKey": True}))).kong.ssh[0].host_key is None
    both = problems_of(aws_config(kong=kong(ssh={**SSH, "hostKey": HOST_KEY, "acceptAnyHostKey": True})))
    assert any(p.startswith("kong-slo:kong.ssh.acceptAnyHostKey: contradicts") for p in both), both


def test_the_default_is_a_reload_that_fits_how_the_node_runs_and_loads_the_patched_file() -> None:
    wanted = {**SSH, "hostKey": HOST_KEY, "confPath": "/opt/kong/my kong.conf"}
    (ssh,) = parse(aws_config(kong=kong(ssh=wanted))).kong.ssh
    assert "systemctl reload kong" in ssh.restart_command
    assert "kong reload -c '/opt/kong/my kong.conf'" in ssh.restart_command
    assert "restart" not in ssh.restart_command.replace("restartCommand", "")
    (kept,) = parse(aws_config(kong=kong(ssh={**SSH, "hostKey": HOST_KEY, "restartCommand": "kong restart"}))).kong.ssh
    assert kept.restart_command == "kong restart"


def test_nodes_are_listed_under_shared_connection_settings() -> None:
    nodes = [{"host": "10.0.1.10", "hostKey": HOST_KEY}, {"host": "10.0.1.11", "port": 2222, "acceptAnyHostKey": True,
                                                          "confPath": "/opt/kong.conf"}]
    found = parse(aws_config(kong=kong(ssh={"privateKey": Secret("key"), "user": "kong", "nodes": nodes}))).kong.ssh
    assert [(node.host, node.port, node.user, node.conf_path) for node in found] == [
        ("10.0.1.10", 22, "kong", "/etc/kong/kong.conf"), ("10.0.1.11", 2222, "kong", "/opt/kong.conf")]
    assert "kong reload -c /opt/kong.conf" in found[1].restart_command


@pytest.mark.parametrize(("ssh", "expected"), [
    ({"host": "10.0.1.10", "hostKey": HOST_KEY, "nodes": [{"host": "10.0.1.11", "hostKey": HOST_KEY}]},
     "kong-slo:kong.ssh.host: and kong.ssh.nodes both name nodes: move host, hostKey and acceptAnyHostKey into"),
    ({"nodes": [{"host": "h", "hostKey": HOST_KEY}, {"host": "h", "hostKey": HOST_KEY}]},
     "kong-slo:kong.ssh.nodes[1].host: h:22 is already kong-slo:kong.ssh.nodes[0]"),
    ({"nodes": [{"host": "h"}]}, "kong-slo:kong.ssh.nodes[0].hostKey: is required"),
    ({"nodes": [{"host": "h", "hostKey": HOST_KEY, "user": "x"}]}, "kong-slo:kong.ssh.nodes[0].user"),
    ({"nodes": []}, "kong-slo:kong.ssh.nodes: an empty list is not a list of nodes"),
    ({"nodes": "h"}, "kong-slo:kong.ssh.nodes: 'h' is not a list of nodes"),
    ({"user": "kong"}, "kong-slo:kong.ssh.host: is required"),
])
def test_node_list_problems_name_their_key(ssh: dict, expected: str) -> None:
    problems = problems_of(aws_config(kong=kong(ssh={"privateKey": Secret("key"), **ssh})))
    assert any(problem.startswith(expected) for problem in problems), problems
