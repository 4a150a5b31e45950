"""The kong.conf patch on hand-written files, 3.0-style and 3.2+-style, one case per rule."""

from __future__ import annotations

import pytest

from kong_slo.kong.conf import BLOCK_END, BLOCK_START, KongConfError, patch_kong_conf, read_kong_conf
from kong_slo.kong.tracing import TracingSettings
from kong_slo.settings import KongVersion

MODERN = TracingSettings()
LEGACY = TracingSettings(kong_version=KongVersion(3, 0))

# Shaped like a kong.conf.default of 3.4+ (commented defaults with aligned notes), with an operator's edits.
MODERN_FILE = """\
# -----------------------
# Kong configuration file
# -----------------------

#prefix = /usr/local/kong/       # Working directory.

#log_level = notice              # Log level of the Nginx server.

#opentelemetry_tracing = off                # Deprecated: use tracing_instrumentations instead

#tracing_instrumentations = off             # Comma-separated list of tracing instrumentations
                                            # this node should load.

#opentelemetry_tracing_sampling_rate = 1.0  # Deprecated: use tracing_sampling_rate instead
#tracing_sampling_rate = 0.01               # Tracing instrumentation sampling rate.
                                            # Example: `0.25`, this accounts for 25% of all traces.

database = postgres
pg_password = s3cr\\#t   # the \\# keeps a literal hash
"""

LEGACY_FILE = """\
#log_level = notice              # Log level of the Nginx server.

#opentelemetry_tracing = off     # Comma-separated list of tracing instrumentations
                                 # this node should load.

#opentelemetry_tracing_sampling_rate = 1.0  # Tracing instrumentation sampling rate.

plugins = bundled
"""


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    assert before.count("\n") == after.count("\n"), "an in-place patch keeps the line count"
    return [(old, new) for old, new in zip(before.split("\n"), after.split("\n"), strict=True) if old != new]


@pytest.mark.parametrize(("text", "tracing", "expected"), [
    (MODERN_FILE, MODERN, [
        ("#tracing_instrumentations = off             # Comma-separated list of tracing instrumentations",
         "tracing_instrumentations = all              # Comma-separated list of tracing instrumentations"),
        ("#tracing_sampling_rate = 0.01               # Tracing instrumentation sampling rate.",
         "tracing_sampling_rate = 1.0                 # Tracing instrumentation sampling rate."),
    ]),
    (LEGACY_FILE, LEGACY, [
        ("#opentelemetry_tracing = off     # Comma-separated list of tracing instrumentations",
         "opentelemetry_tracing = all      # Comma-separated list of tracing instrumentations"),
        ("#opentelemetry_tracing_sampling_rate = 1.0  # Tracing instrumentation sampling rate.",
         "opentelemetry_tracing_sampling_rate = 1.0   # Tracing instrumentation sampling rate."),
    ]),
], ids=["3.2+", "3.0"])
def test_commented_defaults_are_replaced_in_place_keeping_the_note_column(
        text: str, tracing: TracingSettings, expected: list[tuple[str, str]]) -> None:
    patched = patch_kong_conf(text, tracing)
    assert changed_lines(text, patched) == expected
    read = read_kong_conf(patched)
    assert (read[tracing.instrumentations_key], read[tracing.sampling_rate_key]) == ("all", "1.0")


def test_an_escaped_hash_elsewhere_in_the_file_survives() -> None:
    assert read_kong_conf(patch_kong_conf(MODERN_FILE, MODERN))["pg_password"] == "s3cr#t"


def test_legacy_file_patched_for_a_modern_kong_gets_an_appended_block() -> None:
    patched = patch_kong_conf(LEGACY_FILE, MODERN)
    assert patched == LEGACY_FILE + "\n" + "\n".join(
        [BLOCK_START, "tracing_instrumentations = all", "tracing_sampling_rate = 1.0", BLOCK_END]) + "\n"


def test_log_level_is_untouched_unless_asked() -> None:
    assert read_kong_conf(patch_kong_conf(MODERN_FILE, MODERN)).get("log_level") is None
    patched = patch_kong_conf(MODERN_FILE, TracingSettings(log_level="info"))
    assert "log_level = info                 # Log level of the Nginx server." in patched.split("\n")


def test_active_line_is_edited_in_place_keeping_spacing_and_comment() -> None:
    text = "a = 1\n\ttracing_sampling_rate=0.01\t# too low\ntracing_instrumentations   =   off    # none\nb = 2\n"
    patched = patch_kong_conf(text, MODERN)
    assert patched == ("a = 1\n\ttracing_sampling_rate=1.0\t# too low\n"
                       "tracing_instrumentations   =   all    # none\nb = 2\n")


def test_the_last_occurrence_is_the_one_edited_and_earlier_ones_stay() -> None:
    text = "tracing_sampling_rate = 1.0\nx = 1\ntracing_sampling_rate = 0.05\ny = 2\ntracing_instrumentations = all\n"
    patched = patch_kong_conf(text, MODERN)
    assert patched == text.replace("= 0.05", "= 1.0")
    assert read_kong_conf(patched)["tracing_sampling_rate"] == "1.0"


def test_a_later_empty_value_that_unsets_the_key_is_the_one_fixed() -> None:
    text = "tracing_sampling_rate = 1.0\ntracing_sampling_rate =\ntracing_instrumentations = all\n"
    assert read_kong_conf(text)["tracing_sampling_rate"] == ""
    patched = patch_kong_conf(text, MODERN)
    assert patched.split("\n")[1] == "tracing_sampling_rate = 1.0"


def test_a_value_with_the_same_meaning_is_left_alone() -> None:
    text = "tracing_instrumentations = all,   # everything\ntracing_sampling_rate = 1\n"
    assert patch_kong_conf(text, MODERN) == text


def test_keys_are_matched_the_way_kong_normalises_them() -> None:
    text = "tracing-instrumentations = off\n"
    assert read_kong_conf(text) == {"tracing_instrumentations": "off"}
    assert patch_kong_conf(text, MODERN).startswith("tracing-instrumentations = all\n")


def test_escaped_hash_in_the_value_being_replaced_is_not_a_comment() -> None:
    text = "tracing_instrumentations = off\\#x   # note\ntracing_sampling_rate = 1.0\n"
    assert read_kong_conf(text)["tracing_instrumentations"] == "off#x"
    assert patch_kong_conf(text, MODERN) == "tracing_instrumentations = all      # note\ntracing_sampling_rate = 1.0\n"


def test_continued_setting_becomes_one_line_and_comment_lines_inside_stay() -> None:
    text = "tracing_instrumentations = db_query,\\\n# between\n   router\nnext = 1\ntracing_sampling_rate = 1.0\n"
    assert read_kong_conf(text)["tracing_instrumentations"] == "db_query,   router"
    patched = patch_kong_conf(text, MODERN)
    assert patched == "tracing_instrumentations = all\n# between\nnext = 1\ntracing_sampling_rate = 1.0\n"


def test_a_commented_default_inside_a_continued_line_is_not_uncommented() -> None:
    text = "plugins = bundled,\\\n#tracing_sampling_rate = 0.01\n  my-plugin\ntracing_instrumentations = all\n"
    patched = patch_kong_conf(text, MODERN)
    assert patched.startswith(text)
    assert read_kong_conf(patched)["plugins"] == "bundled,  my-plugin"
    assert read_kong_conf(patched)["tracing_sampling_rate"] == "1.0"


def test_key_text_inside_another_settings_continuation_is_not_a_setting() -> None:
    text = "plugins = bundled,\\\ntracing_sampling_rate = 0.01\n"
    assert read_kong_conf(text) == {"plugins": "bundled,tracing_sampling_rate = 0.01"}


def test_uncommented_note_ending_in_backslash_is_dropped_so_it_cannot_continue() -> None:
    text = "#tracing_sampling_rate = 0.01   # see C:\\\nnext = 1\ntracing_instrumentations = all\n"
    patched = patch_kong_conf(text, MODERN)
    assert patched.split("\n")[0] == "tracing_sampling_rate = 1.0"
    assert read_kong_conf(patched)["next"] == "1"


def test_crlf_file_keeps_crlf_everywhere() -> None:
    text = "a = 1\r\n#tracing_sampling_rate = 0.01  # low\r\nb = 2\r\n"
    patched = patch_kong_conf(text, MODERN)
    assert patched == ("a = 1\r\ntracing_sampling_rate = 1.0    # low\r\nb = 2\r\n\r\n" + BLOCK_START + "\r\n"
                       "tracing_instrumentations = all\r\n" + BLOCK_END + "\r\n")
    assert patch_kong_conf(patched, MODERN) == patched


def test_missing_final_newline_is_added_only_when_a_block_follows() -> None:
    assert patch_kong_conf("tracing_instrumentations = off\ntracing_sampling_rate = 0", MODERN) == \
        "tracing_instrumentations = all\ntracing_sampling_rate = 1.0"
    patched = patch_kong_conf("a = 1", MODERN)
    assert patched.startswith("a = 1\n\n" + BLOCK_START + "\n")


def test_empty_file_gets_just_the_block() -> None:
    patched = patch_kong_conf("", MODERN)
    assert patched.split("\n")[0] == BLOCK_START
    assert read_kong_conf(patched) == {"tracing_instrumentations": "all", "tracing_sampling_rate": "1.0"}


@pytest.mark.parametrize(("text", "line_no", "fragment"), [
    ("a = 1\n[section]\nb = 2\n", 2, "section"),
    ("a = 1\n\njust words\n", 3, "expected `key = value`"),
    ("# c\n = value\n", 2, "no property name"),
    ("a = 1\nplugins = bundled,\\\n# trailing comment\n", 2, "file ends"),
])
def test_unreadable_files_are_refused_with_their_line(text: str, line_no: int, fragment: str) -> None:
    with pytest.raises(KongConfError) as caught:
        patch_kong_conf(text, MODERN)
    assert caught.value.line_no == line_no
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"line {line_no}: ")


def test_reader_follows_kongs_rules() -> None:
    text = ("; semicolon comment\n  # indented comment\n"
            "quoted = \"x\"\n"
            "hash = a\\#b  # note\n"
            "nospace = a#b\n"
            "spaced key = 1\n"
            "eq = a=b\n"
            "empty =\n"
            "dup = first\ndup = second\n"
            "cr = v \r\n"
            "\tcont = a\\  \n  b\n")
    assert read_kong_conf(text) == {"quoted": '"x"', "hash": "a#b", "nospace": "a", "spaced_key": "1",
                                    "eq": "a=b", "empty": "", "dup": "second", "cr": "v", "cont": "a  b"}
