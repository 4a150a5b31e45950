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
