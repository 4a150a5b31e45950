"""The single host's queue-volume script, run as what it is (POSIX sh) against stand-ins for the disk tools.

The stand-ins (``lsblk``, ``blkid``, ``findmnt``, ``mkfs.ext4``, ``mount``, ``mountpoint``, ``sleep``) answer from
a JSON description of the machine's disks, as util-linux prints them, and record every command that changes
something; the script itself, dash, ``grep``, ``wc`` and ``mkdir`` are the real ones.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kong_slo.collector.model import QUEUE_HOST_DIRECTORY, QUEUE_VOLUME_LABEL, QUEUE_VOLUME_WAIT_SECONDS
from kong_slo.collector.render import (
    FETCH_TOKEN_SCRIPT,
    QUEUE_VOLUME_SCRIPT,
    SERVICE_UNIT,
    render_cloud_init,
    render_compose,
    render_queue_volume_script,
)
from tests.unit.settings_helpers import aws_config, parse

EBS = "Amazon Elastic Block Store"
INSTANCE_STORE = "Amazon EC2 NVMe Instance Storage"
ROOT = {"name": "nvme0n1", "model": EBS, "partitions": ["nvme0n1p1", "nvme0n1p15"], "signature": "gpt"}

STAND_IN = r'''
import json, os, sys
path = os.environ["FAKE_DISKS"]
state = json.load(open(path))
tool, args = os.path.basename(sys.argv[1]), sys.argv[2:]
visible = [d for d in state["disks"] if d.get("after_sleeps", 0) <= state["sleeps"]]
by_device = {"/dev/" + d["name"]: d for d in visible}

def save():
    json.dump(state, open(path, "w"))

if tool == "findmnt":
    print("/dev/" + state["root_partition"])
elif tool == "lsblk":
    if args[:2] == ["-no", "PKNAME"]:
        print(state["root_partition"].rstrip("0123456789").removesuffix("p"))
    elif args == ["-dno", "NAME,TYPE,MODEL"]:
        for d in visible:
            print(f'{d["name"]} disk {d["model"]}')
    elif args[:2] == ["-no", "NAME"]:
        d = by_device[args[2]]
        print("\n".join([d["name"], *d.get("partitions", [])]))
    else:
        sys.exit(f"lsblk: unexpected {args}")
elif tool == "blkid":
    if args[0] == "-L":
        found = [name for name, d in by_device.items() if d.get("label") == args[1]]
        if not found:
            sys.exit(2)
        print(found[0])
    elif args[0] == "-p":
        sys.exit(0 if by_device[args[1]].get("signature") else 2)
    else:
        sys.exit(f"blkid: unexpected {args}")
elif tool == "mkfs.ext4":
    assert args[:3] == ["-q", "-L", args[2]], args
    disk = by_device[args[3]]
    disk.update(signature="ext4", label=args[2])
    state["changes"].append(f"mkfs.ext4 -L {args[2]} {args[3]}")
    save()
elif tool == "mountpoint":
    sys.exit(0 if args[-1] in state["mounted"] else 1)
elif tool == "mount":
    assert args[:2] == ["-o", "noatime"], args
    state["mounted"][args[3]] = args[2]
    state["changes"].append(f"mount {args[2]} {args[3]}")
    save()
elif tool == "sleep":
    state["sleeps"] += 1
    save()
'''
HOST_SHELL = shutil.which("dash") or "sh"
"""The collector host runs the script with Ubuntu's /bin/sh, dash."""
WAIT_SECONDS = 15
"""The scripts under test wait this long (three polls) instead of the host's ten minutes."""
TOOLS = ("findmnt", "lsblk", "blkid", "mkfs.ext4", "mountpoint", "mount", "sleep")


def machine(tmp_path: Path, *disks: dict[str, Any], mounted: dict[str, str] | None = None) -> Path:
    state = tmp_path / "disks.json"
    state.write_text(json.dumps({"root_partition": "nvme0n1p1", "disks": [ROOT, *disks], "sleeps": 0,
                                 "mounted": mounted or {}, "changes": []}))
    return state


def run(tmp_path: Path, state: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    script = tmp_path / "queue-volume"
    script.write_text(render_queue_volume_script(WAIT_SECONDS))
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir(exist_ok=True)
    (stand_ins / "stand_in.py").write_text(STAND_IN)
    for tool in TOOLS:
        (stand_ins / tool).write_text(f'#!/bin/sh\nexec {sys.executable} {stand_ins / "stand_in.py"} "$0" "$@"\n')
        (stand_ins / tool).chmod(0o755)
    env = {"PATH": f"{stand_ins}:/usr/bin:/bin", "FAKE_DISKS": str(state)}
    result = subprocess.run([HOST_SHELL, str(script), str(tmp_path / "queue")], env=env, capture_output=True, text=True,
                            timeout=60)
    return result, json.loads(state.read_text())


def test_a_blank_ebs_volume_is_formatted_with_the_label_and_mounted(tmp_path: Path) -> None:
    result, after = run(tmp_path, machine(tmp_path, {"name": "nvme1n1", "model": EBS}))
    assert result.returncode == 0, result.stderr
    target = str(tmp_path / "queue")
    assert after["changes"] == [f"mkfs.ext4 -L {QUEUE_VOLUME_LABEL} /dev/nvme1n1", f"mount /dev/nvme1n1 {target}"]
    assert (tmp_path / "queue").is_dir()


def test_the_volume_a_replaced_host_formatted_is_mounted_as_it_is(tmp_path: Path) -> None:
    queue = {"name": "nvme1n1", "model": EBS, "signature": "ext4", "label": QUEUE_VOLUME_LABEL}
    result, after = run(tmp_path, machine(tmp_path, queue))
    assert result.returncode == 0, result.stderr
    assert after["changes"] == [f"mount /dev/nvme1n1 {tmp_path / 'queue'}"]


def test_an_xen_device_name_is_an_ebs_disk_too(tmp_path: Path) -> None:
    result, after = run(tmp_path, machine(tmp_path, {"name": "xvdf", "model": ""}))
    assert result.returncode == 0, result.stderr
    assert after["changes"][0] == f"mkfs.ext4 -L {QUEUE_VOLUME_LABEL} /dev/xvdf"


def test_a_mounted_queue_is_left_alone(tmp_path: Path) -> None:
    state = machine(tmp_path, {"name": "nvme1n1", "model": EBS, "signature": "ext4", "label": QUEUE_VOLUME_LABEL},
                    mounted={str(tmp_path / "queue"): "/dev/nvme1n1"})
    result, after = run(tmp_path, state)
    assert result.returncode == 0 and after["changes"] == []


def test_a_volume_attached_after_boot_is_waited_for(tmp_path: Path) -> None:
    result, after = run(tmp_path, machine(tmp_path, {"name": "nvme1n1", "model": EBS, "after_sleeps": 3}))
    assert result.returncode == 0, result.stderr
    assert after["sleeps"] == 3
    assert after["changes"][0] == f"mkfs.ext4 -L {QUEUE_VOLUME_LABEL} /dev/nvme1n1"


@pytest.mark.parametrize("disk", [
    {"name": "nvme1n1", "model": EBS, "signature": "xfs"},
    {"name": "nvme1n1", "model": EBS, "signature": "gpt"},
    {"name": "nvme1n1", "model": EBS, "partitions": ["nvme1n1p1"]},
    {"name": "nvme1n1", "model": INSTANCE_STORE},
], ids=["another filesystem", "a partition table", "partitions", "instance store"])
def test_a_disk_that_is_not_a_blank_ebs_volume_is_never_formatted(tmp_path: Path, disk: dict[str, Any]) -> None:
    result, after = run(tmp_path, machine(tmp_path, disk))
    assert result.returncode == 1
    assert after["changes"] == []
    assert after["sleeps"] == WAIT_SECONDS // 5
    assert result.stderr.strip().splitlines()[-1] == (
        f"kong-slo queue volume: no disk labelled {QUEUE_VOLUME_LABEL} and no blank EBS disk after "
        f"{WAIT_SECONDS}s: is the queue volume attached?")


def test_two_blank_ebs_disks_are_refused_rather_than_guessed(tmp_path: Path) -> None:
    result, after = run(tmp_path, machine(tmp_path, {"name": "nvme1n1", "model": EBS},
                                          {"name": "nvme2n1", "model": EBS}))
    assert result.returncode == 1 and after["changes"] == []
    assert "more than one blank EBS disk (/dev/nvme1n1 /dev/nvme2n1)" in result.stderr


def test_the_host_mounts_the_queue_volume_before_every_start_and_compose_uses_it() -> None:
    text = render_cloud_init(parse(aws_config()), token_parameter="/kong-slo/test/dynatrace-api-token",
                             region="eu-west-1")
    files = {entry["path"]: entry for entry in yaml.safe_load(text)["write_files"]}
    assert files[QUEUE_VOLUME_SCRIPT]["content"] == render_queue_volume_script()
    assert f"wait_seconds={QUEUE_VOLUME_WAIT_SECONDS}\n" in files[QUEUE_VOLUME_SCRIPT]["content"]
    assert files[QUEUE_VOLUME_SCRIPT]["permissions"] == "0755"
    unit = files[f"/etc/systemd/system/{SERVICE_UNIT}"]["content"]
    starts = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStartPre=")]
    assert starts == [f"{QUEUE_VOLUME_SCRIPT} {QUEUE_HOST_DIRECTORY}", FETCH_TOKEN_SCRIPT]
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(unit)
    assert int(parser["Service"]["TimeoutStartSec"]) > QUEUE_VOLUME_WAIT_SECONDS
    compose = yaml.safe_load(render_compose(parse(aws_config())))
    mounts = [volume for service in compose["services"].values() for volume in service.get("volumes", [])
              if volume.get("source") == QUEUE_HOST_DIRECTORY]
    assert [mount["type"] for mount in mounts] == ["bind", "bind"]  # the permissions step and the collector
    assert "volumes" not in compose


def test_a_tier_and_the_local_stack_keep_the_queue_in_a_docker_volume() -> None:
    tier = parse(aws_config(collector={"allowedCidrs": ["10.0.0.0/16"], "replicas": 2,
                                       "subnetIds": ["subnet-0aaa0000000000001", "subnet-0bbb0000000000002"]}))
    text = render_cloud_init(tier, token_parameter="/kong-slo/test/dynatrace-api-token", region="eu-west-1")
    assert QUEUE_VOLUME_SCRIPT not in text and QUEUE_HOST_DIRECTORY not in text
    assert "otelcol-queue" in yaml.safe_load(render_compose(tier))["volumes"]


def test_the_script_parses_under_the_hosts_shell() -> None:
    """Every test here runs the script under dash, Ubuntu's /bin/sh, where the machine has it."""
    result = subprocess.run([HOST_SHELL, "-n", "/dev/stdin"], input=render_queue_volume_script(),
                            capture_output=True, text=True, timeout=30, env={"PATH": os.environ.get("PATH", "")})
    assert result.returncode == 0, result.stderr
