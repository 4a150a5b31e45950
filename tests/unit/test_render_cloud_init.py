"""The collector host's user data: valid cloud-config, the rendered files, no secret, small enough."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kong_slo.collector.model import DRAIN_SECONDS, FLUSH_SECONDS, HEALTH_PORT, TOKEN_ENV_FILE
from kong_slo.collector.render import (
    APP_DIR,
    DRAIN_SCRIPT,
    FETCH_TOKEN_SCRIPT,
    SERVICE_UNIT,
    render_cloud_init,
    render_collector_config,
    render_compose,
)
from kong_slo.errors import KongSloError
from kong_slo.settings import StackSettings
from tests.unit.settings_helpers import TOKEN, aws_config, parse

PARAMETER = "/kong-slo/test/dynatrace-api-token"
USER_DATA_LIMIT = 16 * 1024


def user_data(settings: StackSettings, **overrides: str) -> str:
    arguments = {"token_parameter": PARAMETER, "region": "eu-west-1", **overrides}
    return render_cloud_init(settings, **arguments)


def files(text: str) -> dict[str, dict[str, Any]]:
    return {entry["path"]: entry for entry in yaml.safe_load(text)["write_files"]}


def twenty_apis(*, varied: bool = False) -> StackSettings:
    """20 APIs: a realistic stack (defaults, a few overrides, one objective off) or, ``varied``, one cycling
    through four thresholds and three failure rules."""
    thresholds = (300, 600, 1000, 2000)
    rules = (["5xx"], ["5xx", "404"], ["4xx", "5xx"])
    apis: list[dict[str, Any]] = [{"name": f"service-{index:02d}.payments-v2"} for index in range(20)]
    for index, api in enumerate(apis):
        if varied:
            api["latency"] = {"thresholdMs": thresholds[index % 4]}
            api["availability"] = {"failOn": rules[index % 3]}
    apis[3]["latency"] = {"thresholdMs": 300}
    apis[4]["availability"] = {"failOn": ["5xx", "404"]}
    apis[7]["latency"] = False
    return parse(aws_config(apis=apis, collector={"allowedCidrs": ["10.0.0.0/16"], "openGrpc": True,
                                                  "traceSampling": 0.2}))


def test_user_data_is_cloud_config() -> None:
    text = user_data(parse(aws_config()))
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    assert {"docker.io", "docker-compose-v2", "python3-boto3"} <= set(document["packages"])
    assert document["package_update"] is True


def test_user_data_carries_the_rendered_files_unchanged() -> None:
    settings = parse(aws_config())
    written = files(user_data(settings))
    assert written[f"{APP_DIR}/docker-compose.yml"]["content"] == render_compose(settings)
    assert written[f"{APP_DIR}/otel-collector-config.yaml"]["content"] == render_collector_config(settings)


def test_user_data_never_holds_the_token() -> None:
    settings = twenty_apis(varied=True)
    assert settings.dynatrace is not None and settings.dynatrace.api_token.reveal() == TOKEN
    text = user_data(settings)
    assert TOKEN not in text and "SENTINEL" not in text


def test_user_data_is_the_same_for_any_apis_and_fits_the_ec2_limit_as_text() -> None:
    texts = {user_data(twenty_apis(varied=varied)) for varied in (False, True)}
    (text,) = texts  # the collector names no API: one user data for every API list
    size = len(text.encode("utf-8"))
    print(f"user data: {size} bytes ({size / USER_DATA_LIMIT:.0%} of 16 KiB)")
    assert size < USER_DATA_LIMIT  # plain text, no gzip needed


def test_a_systemd_unit_fetches_the_token_and_starts_compose_on_every_boot() -> None:
    text = user_data(parse(aws_config()))
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(files(text)[f"/etc/systemd/system/{SERVICE_UNIT}"]["content"])
    service = unit["Service"]
    assert service["WorkingDirectory"] == APP_DIR
    assert service["ExecStartPre"] == FETCH_TOKEN_SCRIPT
    assert service["ExecStart"].startswith("/usr/bin/docker compose up")
    assert f"http://127.0.0.1:{HEALTH_PORT}/" in service["ExecStartPost"]
    assert service["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "docker.service" in unit["Unit"]["After"].split()
    assert "docker.service" in unit["Unit"]["Wants"].split()
    # Requires= would stop the unit (ExecStop: compose stop) whenever Docker is stopped, and nothing restarts it.
    assert "Requires" not in unit["Unit"] and "BindsTo" not in unit["Unit"]
    assert ["systemctl", "enable", "--now", SERVICE_UNIT] in yaml.safe_load(text)["runcmd"]


def fetch_script(tmp_path: Path) -> tuple[Path, Path]:
    """The token script from the user data, pointed at a temp env file, with fake boto3/botocore modules."""
    script = files(user_data(parse(aws_config())))[FETCH_TOKEN_SCRIPT]
    assert script["permissions"] == "0755"
    target = tmp_path / TOKEN_ENV_FILE
    source = script["content"].replace(f'"{APP_DIR}/{TOKEN_ENV_FILE}"', repr(str(target)))
    assert str(target) in source
    (tmp_path / "fetch.py").write_text(source, encoding="utf-8")
    fakes = tmp_path / "fakes"
    (fakes / "botocore").mkdir(parents=True)
    (fakes / "botocore" / "__init__.py").write_text("", encoding="utf-8")
    (fakes / "botocore" / "config.py").write_text("class Config:\n    def __init__(self, **kwargs):\n"
                                                  "        self.kwargs = kwargs\n", encoding="utf-8")
    (fakes / "boto3.py").write_text(
        "import json, os\n"
        "class _SSM:\n"
        "    def get_parameter(self, Name, WithDecryption):\n"
        "        assert WithDecryption is True\n"
        "        with open(os.environ['FAKE_SSM_LOG'], 'w') as log:\n"
        "            json.dump({'name': Name, 'region': _SSM.region}, log)\n"
        "        return {'Parameter': {'Value': os.environ['FAKE_SSM_VALUE']}}\n"
        "def client(service, region_name, config):\n"
        "    assert service == 'ssm'\n"
        "    _SSM.region = region_name\n"
        "    return _SSM()\n", encoding="utf-8")
    return tmp_path / "fetch.py", target


def run_fetch(script: Path, value: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path / "fakes"), "FAKE_SSM_VALUE": value,
           "FAKE_SSM_LOG": str(tmp_path / "ssm.json")}
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=30)


def test_token_script_writes_an_owner_only_env_file(tmp_path: Path) -> None:
    script, target = fetch_script(tmp_path)
    result = run_fetch(script, TOKEN + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == f"DT_API_TOKEN={TOKEN}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert yaml.safe_load((tmp_path / "ssm.json").read_text()) == {"name": PARAMETER, "region": "eu-west-1"}
    assert TOKEN not in result.stdout + result.stderr


def test_token_script_refuses_a_multi_line_value_and_keeps_the_old_file(tmp_path: Path) -> None:
    script, target = fetch_script(tmp_path)
    target.write_text("DT_API_TOKEN=old\n", encoding="utf-8")
    result = run_fetch(script, "dt0c01.A\nEVIL=1", tmp_path)
    assert result.returncode != 0 and "single-line token" in result.stderr
    assert target.read_text(encoding="utf-8") == "DT_API_TOKEN=old\n"


@pytest.mark.parametrize(("name", "value"), [
    ("token_parameter", "kong slo/token"),
    ("token_parameter", "/kong-slo/$(reboot)"),
    ("token_parameter", ""),
    ("region", "eu-west"),
    ("region", "EU-WEST-1"),
    ("region", "eu-west-1\"; rm -rf /"),
])
def test_bad_template_inputs_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(KongSloError, match="SSM parameter" if name == "token_parameter" else "AWS region"):
        user_data(parse(aws_config()), **{name: value})


def test_regions_and_parameter_paths_aws_uses_are_accepted() -> None:
    for region in ("us-east-1", "us-gov-west-1", "ap-southeast-3", "cn-north-1"):
        assert f'REGION = "{region}"' in user_data(parse(aws_config()), region=region)
    assert 'PARAMETER = "kong_slo.token"' in user_data(parse(aws_config()), token_parameter="kong_slo.token")


def test_cloud_init_needs_dynatrace() -> None:
    local = parse({"target": "local", "apis": [{"name": "Orders"}]}, region=None)
    with pytest.raises(KongSloError, match="kong-slo:dynatrace"):
        user_data(local)


def test_stopping_the_collector_drains_it_first(tmp_path: Path) -> None:
    """The unit's ExecStop refuses new OTLP connections, keeps the collector running past one connector flush,
    stops the containers, and lifts the refusal again: run with stand-ins recording each command in order."""
    text = user_data(parse(aws_config()))
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(files(text)[f"/etc/systemd/system/{SERVICE_UNIT}"]["content"])
    assert unit["Service"]["ExecStop"] == DRAIN_SCRIPT
    assert int(unit["Service"]["TimeoutStopSec"]) > DRAIN_SECONDS + 30
    script = tmp_path / "drain"
    script.write_text(files(text)[DRAIN_SCRIPT]["content"])
    script.chmod(0o755)
    bin_dir, log = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for name in ("iptables", "ip6tables", "docker", "sleep"):
        stand_in = bin_dir / name
        stand_in.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n')
        stand_in.chmod(0o755)
    result = subprocess.run([str(script)], env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    rule = "DOCKER-USER -p tcp --dport 4318 -j REJECT --reject-with tcp-reset"
    assert log.read_text().splitlines() == [
        f"iptables -I {rule}", f"ip6tables -I {rule}", f"sleep {DRAIN_SECONDS}", "docker compose stop",
        f"iptables -D {rule}", f"ip6tables -D {rule}"]
    assert DRAIN_SECONDS > FLUSH_SECONDS
