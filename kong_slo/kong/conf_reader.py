"""kong.conf read the way Kong reads it (Penlight ``pl.config`` plus Kong's comment stripping).

The rules, applied to lines split at ``\\n`` only (a ``\\r`` stays on the line and counts as whitespace):

- a line that is blank, or whose first non-blank character is ``#`` or ``;``, is skipped — even between the
  pieces of a continued line;
- a line ending in ``\\`` (plus optional whitespace) continues onto the next kept line: the text before the
  backslash and that line are joined with nothing in between;
- a logical line starting with ``[`` is a section header; the line splits at its first ``=``, key and value
  are trimmed, and every character of the key that is not an ASCII letter or digit becomes ``_``;
- the value loses a trailing comment (an unescaped ``#``, the whitespace before it and the rest of the line),
  then each ``\\#`` becomes ``#``; an empty value means "unset"; the last occurrence of a key wins.

Kong ignores section headers' contents, lines without ``=`` and empty keys, and silently drops a continuation
left open at the end of the file. Each is far more likely a mistake than intent, so here it is an error that
names its line: a file that cannot be read unambiguously is refused rather than patched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kong_slo.errors import KongSloError

ENCODING = ("utf-8", "surrogateescape")
"""kong.conf bytes to text and back: bytes that are not UTF-8 pass through untouched."""
BOM = "\ufeff"
"""A UTF-8 byte-order mark before the first line: Kong reads it as part of that line (``_bare_marked_line``)."""
LUA_SPACE = " \t\n\v\f\r"
_SPACE = "[ \\t\\n\\v\\f\\r]"
TRAILING_COMMENT = re.compile(_SPACE + r"*(?<!\\)#.*$", re.DOTALL)
CONTINUATION = re.compile(r"\\" + _SPACE + "*$")


class KongConfError(KongSloError):
    """The text cannot be read as kong.conf; ``line_no`` is 1-based."""

    def __init__(self, line_no: int, reason: str) -> None:
        self.line_no = line_no
        self.reason = reason
        super().__init__(f"line {line_no}: {reason}")


@dataclass(frozen=True)
class PhysicalLine:
    text: str
    """The line without its ``\\n``; a CRLF line keeps its ``\\r``."""
    newline: bool

    @property
    def skipped(self) -> bool:
        """Blank or a comment: Kong never looks at it."""
        stripped = self.text.lstrip(LUA_SPACE)
        return not stripped or stripped[0] in "#;"

    @property
    def body(self) -> str:
        return self.text.removesuffix("\r")

    @property
    def ending(self) -> str:
        """What follows the body: ``\\r\\n``, ``\\n``, or nothing on an unterminated last line."""
        return ("\r" if self.text.endswith("\r") else "") + ("\n" if self.newline else "")

    def raw(self) -> str:
        return self.text + ("\n" if self.newline else "")


@dataclass(frozen=True)
class Entry:
    """One ``key = value`` as Kong reads it; ``parts`` are the indexes of the physical lines it is made of."""

    key: str
    value: str
    parts: tuple[int, ...]


@dataclass(frozen=True)
class ConfLayout:
    lines: tuple[PhysicalLine, ...]
    entries: tuple[Entry, ...]
    inside_continuation: frozenset[int]
    """Skipped lines that sit between the pieces of a continued line."""


def split_lines(text: str) -> tuple[PhysicalLine, ...]:
    pieces = text.split("\n")
    last = pieces.pop()
    lines = [PhysicalLine(piece, True) for piece in pieces]
    if last:
        lines.append(PhysicalLine(last, False))
    return tuple(lines)


def normalize_key(raw: str) -> str:
    """Kong's property name for a key as written: each non-alphanumeric byte becomes ``_``."""
    return "".join(char if char.isascii() and char.isalnum() else "_" * len(char.encode(*ENCODING))
                   for char in raw)


def kong_value(raw: str) -> str:
    """The value Kong keeps from the text after ``=``: trailing comment removed, ``\\#`` unescaped, trimmed."""
    value = TRAILING_COMMENT.sub("", raw.strip(LUA_SPACE), count=1)
    return value.replace("\\#", "#").strip(LUA_SPACE)


def parse_layout(text: str) -> ConfLayout:
    """Every setting of the file with the lines it occupies; raises ``KongConfError`` naming the line."""
    lines = split_lines(text)
    entries: list[Entry] = []
    inside: set[int] = set()
    pending: list[int] = []
    joined = ""
    for index, line in enumerate(lines):
        if line.skipped or (index == 0 and _bare_marked_line(line)):
            if pending:
                inside.add(index)
            continue
        pending.append(index)
        match = CONTINUATION.search(line.text)
        if match:
            joined += line.text[:match.start()]
            continue
        entries.append(_entry(joined + line.text, tuple(pending)))
        pending, joined = [], ""
    if pending:
        raise KongConfError(pending[0] + 1, "the line continues with `\\` but the file ends before it does")
    return ConfLayout(lines, tuple(entries), frozenset(inside))


def _bare_marked_line(line: PhysicalLine) -> bool:
    """A first line behind a UTF-8 byte-order mark and without ``=``: the mark hides a comment's ``#`` from Kong, and
    Penlight's ``pl.config.read`` keeps a line without ``=`` as a bare value, which Kong never looks at. (A marked
    ``key = value`` line is read, with the mark's bytes in its key, so Kong ignores that key too.)"""
    return line.text.startswith(BOM) and "=" not in line.text


def _entry(logical: str, parts: tuple[int, ...]) -> Entry:
    line_no = parts[0] + 1
    if logical.startswith("["):
        raise KongConfError(line_no, "a `[section]` header; kong.conf has none, and Kong would hide the "
                                     "settings after it")
    stripped = logical.lstrip(LUA_SPACE)
    key, equals, value = stripped.partition("=")
    if not equals:
        raise KongConfError(line_no, f"expected `key = value`, found {stripped.strip(LUA_SPACE)[:60]!r}")
    key = key.rstrip(LUA_SPACE)
    if not key:
        raise KongConfError(line_no, "no property name before `=`")
    return Entry(normalize_key(key), kong_value(value), parts)


def read_kong_conf(text: str) -> dict[str, str]:
    """The properties Kong reads from a kong.conf text: the last occurrence of each key, ``""`` when unset.

    Numeric values keep their written form (Kong converts ``1.0`` to a number; the meaning is the same).
    """
    return {entry.key: entry.value for entry in parse_layout(text).entries}
