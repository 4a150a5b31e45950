"""Turn tracing on in a kong.conf text, changing nothing else.

``patch_kong_conf`` is pure: text in, text out. For each wanted property (see ``TracingSettings``):

1. if the file sets it, the **last** setting (the one Kong keeps) is edited in place: indentation, the key as
   written, the spacing around ``=`` and a trailing comment stay, and the comment keeps its column; a setting
   continued over several lines becomes one line. Earlier settings lose to it and stay as they are. A setting
   whose value already means the wanted one is left alone;
2. otherwise the commented default line (``#tracing_sampling_rate = 0.01   # Tracing…``) is uncommented in
   place with the wanted value;
3. otherwise it goes into one block, marked with kong-slo comments, appended at the end of the file.

Every other line stays byte for byte: CRLF endings, tabs, ``\\#`` escapes and odd spacing included. The result is
a fixed point (patching it again changes nothing). Text that cannot be read as kong.conf raises
``KongConfError`` with its line number, before anything is produced.
"""

from __future__ import annotations

import re

from kong_slo.kong.conf_reader import (
    CONTINUATION,
    ENCODING,
    LUA_SPACE,
    TRAILING_COMMENT,
    ConfLayout,
    Entry,
    KongConfError,
    PhysicalLine,
    normalize_key,
    parse_layout,
    read_kong_conf,
)
from kong_slo.kong.tracing import TracingSettings

__all__ = ["BLOCK_END", "BLOCK_START", "ENCODING", "KongConfError", "patch_kong_conf", "read_kong_conf",
           "restore_chunks", "undo_chunks"]

BLOCK_START = "# kong-slo: tracing for SLO metrics (managed by `kong-slo kong-conf`; change it there)"
BLOCK_END = "# kong-slo: end of tracing settings"

_ASSIGNMENT = re.compile(r"(?P<lead>[ \t\v\f]*)(?P<key>[^=]*?)(?P<sep>[ \t\v\f]*=[ \t\v\f]*)(?P<rest>.*)", re.DOTALL)
_COMMENTED = re.compile(r"(?P<lead>[ \t\v\f]*)#(?P<key>[A-Za-z0-9_.-]+)(?P<sep>[ \t\v\f]*=[ \t\v\f]*)(?P<rest>.*)",
                        re.DOTALL)

Replacements = dict[int, str | None]
"""Physical line index → its new text (with line ending), or ``None`` to drop the line."""


def patch_kong_conf(text: str, tracing: TracingSettings) -> str:
    """``text`` with the tracing properties set as ``tracing`` wants; raises ``KongConfError(line_no, …)``."""
    return _assemble(*_plan(text, tracing))


def _plan(text: str, tracing: TracingSettings) -> tuple[ConfLayout, Replacements, list[str]]:
    layout = parse_layout(text)
    replacements: Replacements = {}
    appended: list[str] = []
    for key, value in tracing.properties().items():
        settings = [entry for entry in layout.entries if entry.key == key]
        if settings:
            if not tracing.satisfied_by(key, settings[-1].value):
                replacements.update(_rewrite(layout, settings[-1], value))
            continue
        commented = _commented_default(layout, key)
        if commented is not None:
            replacements[commented] = _uncomment(layout.lines[commented], value)
        else:
            appended.append(f"{key} = {value}")
    return layout, replacements, appended


def _rewrite(layout: ConfLayout, entry: Entry, value: str) -> Replacements:
    first = layout.lines[entry.parts[0]]
    if len(entry.parts) == 1:
        match = _ASSIGNMENT.fullmatch(first.body)
        assert match is not None, "a parsed setting always has `=`"
        return {entry.parts[0]: _with_value(match, match.group("lead") + match.group("key"), value, first)}
    lead = first.body[:len(first.body) - len(first.body.lstrip(LUA_SPACE))]
    return {entry.parts[0]: f"{lead}{entry.key} = {value}{first.ending}",
            **dict.fromkeys(entry.parts[1:])}


def _commented_default(layout: ConfLayout, key: str) -> int | None:
    """The first ``#key = …`` line outside a continued line, as Kong's kong.conf.default writes defaults."""
    for index, line in enumerate(layout.lines):
        if index in layout.inside_continuation:
            continue
        match = _COMMENTED.fullmatch(line.body)
        if match and normalize_key(match.group("key")) == key:
            return index
    return None


def _uncomment(line: PhysicalLine, value: str) -> str:
    match = _COMMENTED.fullmatch(line.body)
    assert match is not None
    return _with_value(match, match.group("lead") + match.group("key"), value, line)


def _with_value(match: re.Match[str], head: str, value: str, line: PhysicalLine) -> str:
    """``head`` + separator + ``value``, keeping the line's trailing comment at its column when it has one."""
    sep, rest = match.group("sep"), match.group("rest")
    if not rest.strip(LUA_SPACE) and sep.endswith("="):
        sep += " "  # `key =` (unset) becomes `key = value`, not `key =value`
    prefix = head + sep + value
    comment = TRAILING_COMMENT.search(rest)
    if comment is None:
        return prefix + line.ending
    text = comment.group()
    note = text.lstrip(LUA_SPACE)
    if CONTINUATION.search(note):
        return prefix + line.ending  # an uncommented note ending in `\` would swallow the next line
    gap = text[:len(text) - len(note)]
    if gap and "\t" not in gap:
        column = match.start("rest") + comment.start() + len(gap)
        gap = " " * max(1, column - len(prefix))
    return prefix + gap + note + line.ending


def _assemble(layout: ConfLayout, replacements: Replacements, appended: list[str]) -> str:
    kept = [replacements[index] if index in replacements else line.raw() for index, line in enumerate(layout.lines)]
    text = "".join(piece for piece in kept if piece is not None)
    if not appended:
        return text
    eol = _line_ending(layout)
    if text and not text.endswith("\n"):
        text += eol
    block = [BLOCK_START, *appended, BLOCK_END]
    return text + (eol if text else "") + "".join(line + eol for line in block)


def _line_ending(layout: ConfLayout) -> str:
    """The file's own line ending: CRLF when its first terminated line uses it."""
    terminated = next((line for line in layout.lines if line.newline), None)
    return "\r\n" if terminated is not None and terminated.text.endswith("\r") else "\n"


def restore_chunks(original: str, tracing: TracingSettings) -> list[tuple[str, str]]:
    """What undoing the patch of ``original`` means, as (patched text, original text) pairs: one per tracing
    setting kong-slo rewrote or uncommented, and one for its appended block.

    ``undo_chunks`` (and the host's restore script, by the same rule) turns the patched file back into
    ``original``; in a file edited since, a chunk no longer there is left alone, and so is everything else. This
    is how ``destroy`` gives back only the tracing settings.
    """
    layout, replacements, appended = _plan(original, tracing)
    chunks = []
    for index, new_text in sorted(replacements.items()):
        if new_text is None:
            continue  # a continuation line, restored with the line it continued
        parts = next((entry.parts for entry in layout.entries if entry.parts[0] == index), (index,))
        span = range(parts[0], parts[-1] + 1)  # comment lines inside a continued setting stay where they are
        patched = "".join(replacements[i] or "" if i in replacements else layout.lines[i].raw() for i in span)
        chunks.append((patched, "".join(layout.lines[i].raw() for i in span)))
    if appended:
        kept = "".join(replacements.get(i, line.raw()) or "" for i, line in enumerate(layout.lines))
        patched = _assemble(layout, replacements, appended)
        chunks.append((patched[len(kept):], ""))
    return chunks


def undo_chunks(text: str, chunks: list[tuple[str, str]]) -> str:
    """``text`` with each chunk's patched text put back to its original, at the chunk's first occurrence that
    starts a line (a chunk that starts with a line ending starts one by itself)."""
    marked = "\n" + text
    for patched, original in chunks:
        starts_line = patched.startswith(("\n", "\r\n"))
        at = marked.find(patched if starts_line else "\n" + patched)
        if at >= 0:
            start = at if starts_line else at + 1
            marked = marked[:start] + original + marked[start + len(patched):]
    return marked[1:]
