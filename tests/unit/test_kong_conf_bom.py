"""A kong.conf that starts with a UTF-8 byte-order mark is read as Kong reads it, not refused.

Kong reads kong.conf with Penlight's config reader, which knows nothing of byte-order marks: the mark stays part
of the first line, so that line no longer names a property Kong knows and its setting is ignored.
"""

from __future__ import annotations

import base64

from kong_slo.kong.conf import patch_kong_conf, read_kong_conf
from kong_slo.kong.conf_patch import decode_conf, patched_payload
from kong_slo.kong.tracing import TracingSettings

BOM = "\ufeff"
TEXT = BOM + "tracing_sampling_rate = 0.25\nlog_level = debug\n"


def test_the_first_line_behind_the_mark_is_not_a_tracing_setting() -> None:
    settings = read_kong_conf(TEXT)
    assert "tracing_sampling_rate" not in settings and settings["log_level"] == "debug"


def test_patching_keeps_the_mark_and_sets_the_rate_kong_will_see() -> None:
    patched = patch_kong_conf(TEXT, TracingSettings())
    assert patched.startswith(TEXT), "every existing byte stays"
    assert read_kong_conf(patched)["tracing_sampling_rate"] == "1.0"
    assert patch_kong_conf(patched, TracingSettings()) == patched


def test_the_host_round_trip_keeps_the_mark() -> None:
    stdout = base64.b64encode(TEXT.encode("utf-8")).decode()
    written = base64.b64decode(patched_payload(stdout, TracingSettings()))
    assert written.startswith(b"\xef\xbb\xbf") and decode_conf(stdout) == TEXT


COMMENTED = BOM + "# ------ kong.conf.default opens with a comment ------\nlog_level = debug\n"
"""The mark hides the ``#`` from Kong (kong/conf_loader/init.lua@3.9.1 ``load_config`` → ``pl.config.read``): the line
has no ``=``, so Penlight keeps it as a bare value, which Kong never reads."""


def test_a_marked_comment_line_is_a_bare_value_kong_ignores() -> None:
    assert read_kong_conf(COMMENTED) == {"log_level": "debug"}
    patched = patch_kong_conf(COMMENTED, TracingSettings())
    assert patched.startswith(COMMENTED) and read_kong_conf(patched)["tracing_sampling_rate"] == "1.0"


def test_the_cli_and_the_remote_patch_read_a_marked_comment_line(tmp_path, capsys) -> None:
    from kong_slo.cli import main

    path = tmp_path / "kong.conf"
    path.write_bytes(COMMENTED.encode("utf-8"))
    assert main(["kong-conf", str(path), "--write"]) == 0
    assert path.read_bytes().startswith(COMMENTED.encode("utf-8"))
    assert read_kong_conf(path.read_text(encoding="utf-8"))["tracing_instrumentations"] == "all"
    stdout = base64.b64encode(COMMENTED.encode("utf-8")).decode()
    written = base64.b64decode(patched_payload(stdout, TracingSettings())).decode("utf-8")
    assert written == path.read_text(encoding="utf-8")
    capsys.readouterr()
