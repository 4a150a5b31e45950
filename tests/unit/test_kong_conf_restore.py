"""``destroy`` gives back only the tracing settings: ``restore_chunks`` undoes exactly what the patch did, for
any kong.conf, and leaves edits made since alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kong_slo.kong.conf import patch_kong_conf, read_kong_conf, restore_chunks, undo_chunks
from kong_slo.kong.tracing import TracingSettings
from tests.unit.test_kong_conf_properties import kong_conf, tracing_settings


@settings(max_examples=150, deadline=None)
@given(kong_conf(), tracing_settings)
def test_undoing_the_patch_gives_the_file_back_byte_for_byte(text: str, tracing: TracingSettings) -> None:
    assert undo_chunks(patch_kong_conf(text, tracing), restore_chunks(text, tracing)) == text


@settings(max_examples=100, deadline=None)
@given(kong_conf(), tracing_settings, st.sampled_from(["admin_listen = 127.0.0.1:8001", "# note", "plugins = off"]))
def test_lines_added_since_stay(text: str, tracing: TracingSettings, added: str) -> None:
    patched = patch_kong_conf(text, tracing)
    edited = added + "\n" + patched
    restored = undo_chunks(edited, restore_chunks(text, tracing))
    assert restored.startswith(added + "\n") and restored[len(added) + 1:] == text


def test_a_longer_key_is_not_mistaken_for_the_tracing_line() -> None:
    # opentelemetry_tracing_sampling_rate contains tracing_sampling_rate: chunks only match at a line start.
    text = "tracing_sampling_rate = 0.01\n"
    tracing = TracingSettings()
    edited = "opentelemetry_tracing_sampling_rate = 1.0\n" + patch_kong_conf(text, tracing)
    restored = undo_chunks(edited, restore_chunks(text, tracing))
    assert restored == "opentelemetry_tracing_sampling_rate = 1.0\n" + text
    assert read_kong_conf(restored)["tracing_sampling_rate"] == "0.01"
