"""Property tests: for generated kong.conf files, the patch changes what Kong reads only where it must.

Files mix comments (``#`` and ``;``), commented defaults, blank lines of spaces and tabs, settings with odd
spacing, ``\\#`` escapes and trailing comments, settings continued over lines (with comment lines between the
pieces), duplicate keys (including ``-`` spellings Kong normalises to ``_``), CRLF or LF endings, and a missing
final newline.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kong_slo.kong.conf import BLOCK_END, BLOCK_START, patch_kong_conf, read_kong_conf
from kong_slo.kong.conf_reader import LUA_SPACE, KongConfError, normalize_key, parse_layout, split_lines
from kong_slo.kong.tracing import INSTRUMENTATIONS, TracingSettings
from kong_slo.settings import KongVersion

TRACING_KEYS = ("tracing_instrumentations", "tracing_sampling_rate", "opentelemetry_tracing",
                "opentelemetry_tracing_sampling_rate", "log_level")
KEYS = (*TRACING_KEYS, "tracing-sampling-rate", "log-level", "database", "pg_password", "plugins",
        "proxy_listen", "nginx_http_lua_shared_dict")
WORDS = st.sampled_from(["all", "off", "0.01", "1.0", "1", "0.5", "notice", "db_query,router", "a=b", '"quoted"',
                         "bundled", "0.0.0.0:8000", "s3cr\\#t", "x\\#", "  ", "\t", ",", "postgres"])
SPACE = st.text(alphabet=" \t", max_size=3)
NOTE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r\\"), max_size=12)


@st.composite
def trailing_comment(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["", "", " ", "\t"])) or draw(SPACE) + "#" + draw(NOTE) if draw(st.booleans()) else ""


@st.composite
def value(draw: st.DrawFn) -> str:
    return "".join(draw(st.lists(WORDS, max_size=3)))


@st.composite
def setting(draw: st.DrawFn) -> list[str]:
    head = draw(SPACE) + draw(st.sampled_from(KEYS)) + draw(SPACE) + "=" + draw(SPACE) + draw(value())
    pieces = draw(st.lists(st.builds(lambda lead, word: lead + "x" + word, SPACE, value()), max_size=2))
    if not pieces:
        return [head + draw(trailing_comment())]
    lines = [head + "\\" + draw(st.sampled_from(["", " "]))]
    for index, piece in enumerate(pieces):
        lines.extend(draw(st.lists(st.sampled_from(["# inside", "", "  ;x"]), max_size=1)))
        lines.append(piece + ("\\" if index < len(pieces) - 1 else draw(trailing_comment())))
    return lines


@st.composite
def commented_default(draw: st.DrawFn) -> list[str]:
    return ["#" + draw(st.sampled_from(TRACING_KEYS)) + " = " + draw(value()) + draw(trailing_comment())]


@st.composite
def other_line(draw: st.DrawFn) -> list[str]:
    return [draw(st.one_of(SPACE, st.builds(lambda lead, mark, note: lead + mark + note, SPACE,
                                            st.sampled_from("#;"), NOTE)))]


@st.composite
def kong_conf(draw: st.DrawFn) -> str:
    groups = draw(st.lists(st.one_of(setting(), commented_default(), other_line()), max_size=14))
    lines = [line for group in groups for line in group]
    crlf = draw(st.booleans())
    text = "".join(line + ("\r\n" if crlf and draw(st.integers(0, 9)) else "\n") for line in lines)
    if text and draw(st.booleans()) and not lines[-1].rstrip(LUA_SPACE).endswith("\\"):
        text = text.removesuffix("\n")
    return text


tracing_settings = st.builds(
    TracingSettings,
    instrumentations=st.one_of(st.just(("all",)), st.just(("off",)),
                               st.lists(st.sampled_from(INSTRUMENTATIONS[3:]), min_size=1, max_size=3, unique=True)
                               .map(tuple)),
    sampling_rate=st.floats(0, 1),
    log_level=st.sampled_from([None, "debug", "notice"]),
    kong_version=st.sampled_from([None, KongVersion(3, 0), KongVersion(3, 1), KongVersion(3, 2), KongVersion(3, 9)]),
)

PROPERTY = settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@PROPERTY
@given(kong_conf(), tracing_settings)
def test_kong_reads_the_wanted_tracing_and_everything_else_unchanged(text: str, tracing: TracingSettings) -> None:
    before, after = read_kong_conf(text), read_kong_conf(patch_kong_conf(text, tracing))
    wanted = tracing.properties()
    assert {key: item for key, item in after.items() if key not in wanted} == \
        {key: item for key, item in before.items() if key not in wanted}
    for key in wanted:
        assert tracing.satisfied_by(key, after[key]), (key, after[key])


@PROPERTY
@given(kong_conf(), tracing_settings)
def test_patching_twice_changes_nothing(text: str, tracing: TracingSettings) -> None:
    once = patch_kong_conf(text, tracing)
    assert patch_kong_conf(once, tracing) == once


@PROPERTY
@given(kong_conf(), tracing_settings)
def test_a_file_that_already_complies_is_returned_as_is(text: str, tracing: TracingSettings) -> None:
    read = read_kong_conf(text)
    if all(key in read and tracing.satisfied_by(key, read[key]) for key in tracing.properties()):
        assert patch_kong_conf(text, tracing) == text


@PROPERTY
@given(kong_conf(), tracing_settings)
def test_only_lines_about_the_wanted_keys_change(text: str, tracing: TracingSettings) -> None:
    patched = patch_kong_conf(text, tracing)
    wanted = set(tracing.properties())
    layout = parse_layout(text)
    related = {index for entry in layout.entries if entry.key in wanted for index in entry.parts}
    for index, line in enumerate(layout.lines):
        stripped = line.text.lstrip(LUA_SPACE)
        if stripped.startswith("#") and "=" in stripped and \
                normalize_key(stripped[1:].split("=", 1)[0].strip(LUA_SPACE)) in wanted:
            related.add(index)
    old = [line.text for line in layout.lines]
    new = [line.text for line in split_lines(patched)]
    if layout.lines and not layout.lines[-1].newline:
        old.append(old[-1] + "\r")  # an unterminated last line may gain the file's CRLF ending
        related.add(len(old) - 1)
    unrelated = iter(new)
    for index, line in enumerate(old[:len(layout.lines)]):
        if index not in related:
            allowed = (line, line + "\r") if index == len(layout.lines) - 1 else (line,)
            assert any(candidate in allowed for candidate in unrelated), f"line {index + 1} lost or changed: {line!r}"
    for line in set(new) - set(old):
        assert line.rstrip("\r") in ("", BLOCK_START, BLOCK_END) or _sets_only(line, wanted), f"new line {line!r}"
    assert len(new) <= len(old) + 2 + len(wanted) + 1


def _sets_only(line: str, keys: set[str]) -> bool:
    try:
        return len(read_kong_conf(line)) > 0 and set(read_kong_conf(line)) <= keys
    except KongConfError:
        return False


@PROPERTY
@given(kong_conf(), st.sampled_from(["[section]", "no equals sign", "= orphan value", "ok = 1\\"]))
def test_unreadable_files_are_refused_with_a_line_number(text: str, bad: str) -> None:
    broken = text + ("" if not text or text.endswith("\n") else "\n") + bad + "\n"
    try:
        patch_kong_conf(broken, TracingSettings())
    except KongConfError as error:
        assert error.line_no == len(split_lines(broken))
    else:
        raise AssertionError("an unreadable file was patched")
