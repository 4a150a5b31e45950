"""A stack file read as its author wrote it: bytes → text → YAML, with what YAML would hide made visible.

- The text may be UTF-8 (with or without a byte-order mark), or UTF-16/32 with one, as YAML allows; anything else
  is refused naming the line of the first byte that is not text.
- Duplicate keys are reported with both lines (YAML itself silently keeps the last one).
- YAML 1.1 reads some plain scalars as something other than what they look like: ``3.10`` is the number 3.1,
  ``NO`` and ``On`` are booleans, ``0x1F`` is 31, ``1:30`` is 90. Each such scalar is recorded with the text
  it was written as, keyed by its config path, so a problem on that key can say how to quote it.
- Config keys in a namespace that looks like a misspelling of ``kong-slo`` are reported with a did-you-mean.
"""

from __future__ import annotations

import codecs
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from kong_slo.settings.reader import NAMESPACE

MAX_FILE_BYTES = 2 * 1024 * 1024
"""A stack file larger than this is refused before it is parsed (thousands of APIs fit in a fraction of it)."""
MAX_VALUES = 1_000_000
"""Values once aliases are expanded: a few lines of nested aliases can otherwise stand for billions."""

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


class StackFileError(ValueError):
    """The file cannot be read as a stack file at all; ``problems`` say why, each naming the file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class StackDocument:
    """A parsed stack file: its data, the problems found on the way, and how surprising scalars were written."""

    data: Any
    problems: list[str] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)
    """Config path (``kong-slo:kong.version``) → the text of a plain scalar YAML read as another value."""


def decode(raw: bytes, name: str) -> str:
    """The text of a stack file; raises ``StackFileError`` naming the line when it is not text."""
    encoding = next((encoding for bom, encoding in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise StackFileError([f"{name}: line {line}: byte 0x{raw[error.start]:02x} is not {encoding.upper()} "
                              "text; save the file as UTF-8"]) from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise StackFileError([f"{name}: line {line}: a NUL character; this is not a text file"])
    return text


def parse(text: str, name: str, top_keys: tuple[str, ...]) -> StackDocument:
    """The YAML document in ``text``; raises ``StackFileError`` when it is not valid YAML.

    ``top_keys`` are the namespace's keys: a config key that names one outside the namespace is reported.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        document = StackDocument(None)
        if root is not None:
            if _expanded_size(root, {}) > MAX_VALUES:
                raise StackFileError([f"{name}: its aliases expand to more than {MAX_VALUES:,} values; "
                                      "that is not a stack file"])
            _check_tree(root, document, top_keys)
            document.data = loader.construct_document(root)
        return document
    except RecursionError:
        raise StackFileError([f"{name}: nested too deeply to be a stack file"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        raise StackFileError([f"{name}:{where} is not valid YAML ({getattr(error, 'problem', None) or error})"]) \
            from None
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for with every alias expanded (each shared node is counted once per use)."""
    if id(node) not in sizes:
        sizes[id(node)] = 1  # a node that contains itself (a recursive alias) counts once
        if isinstance(node, yaml.SequenceNode):
            sizes[id(node)] += sum(_expanded_size(item, sizes) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            sizes[id(node)] += sum(_expanded_size(value, sizes) for _, value in node.value)
    return sizes[id(node)]


def _check_tree(root: yaml.Node, document: StackDocument, top_keys: tuple[str, ...]) -> None:
    if not isinstance(root, yaml.MappingNode):
        return
    for key, value in _unique_pairs(root, "", document):
        if key == "config" and isinstance(value, yaml.MappingNode):
            for config_key, config_value in _unique_pairs(value, "config.", document):
                _check_namespace(config_key, config_value, document, top_keys)
                _walk(config_value, config_key, document, set())


def _unique_pairs(node: yaml.MappingNode, prefix: str, document: StackDocument) -> Iterator[tuple[str, yaml.Node]]:
    """The (key, value) pairs of a mapping as YAML keeps them (the last of a repeated key), reporting every key
    that appears twice."""
    first_line: dict[str, int] = {}
    kept: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key, line = key_node.value, key_node.start_mark.line + 1
        if key in first_line:
            document.problems.append(f"{prefix}{key}: line {line}: duplicate key, already set on line "
                                     f"{first_line[key]}; YAML would silently keep only the last one, so merge them")
        first_line.setdefault(key, line)
        kept[key] = value_node
    yield from kept.items()


def _walk(node: yaml.Node, path: str, document: StackDocument, seen: set[int]) -> None:
    if id(node) in seen:  # an alias: its content was checked where the anchor is
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        text = _surprising_text(node)
        if text is not None:
            document.written[path] = text
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, f"{path}[{index}]", document, seen)
    elif isinstance(node, yaml.MappingNode):
        for key, value in _unique_pairs(node, f"{path}.", document):
            _walk(value, f"{path}.{key}", document, seen)


def _surprising_text(node: yaml.ScalarNode) -> str | None:
    """The text of a plain scalar that YAML 1.1 reads as a value that does not print the same, else None."""
    if node.style is not None:
        return None
    text, tag = node.value, node.tag.rsplit(":", 1)[-1]
    if tag == "bool":
        return None if text.lower() in ("true", "false") else text
    if tag == "int":
        return None if _PLAIN_INT.match(text) else text
    if tag == "float":
        try:
            return None if repr(float(text)) == text else text
        except ValueError:
            return text
    return None


def _check_namespace(key: str, value: yaml.Node, document: StackDocument, top_keys: tuple[str, ...]) -> None:
    namespace, _, name = key.rpartition(":")
    if not namespace:
        dotted = re.match(r"^kong.?slo\.(.+)$", key, re.IGNORECASE)
        if dotted is not None:
            name = dotted.group(1)
        elif name not in top_keys:
            return
    elif namespace == NAMESPACE or not (_squash(namespace) == _squash(NAMESPACE) or difflib.get_close_matches(
            namespace.lower(), [NAMESPACE], n=1, cutoff=0.75)):
        return
    line = value.start_mark.line + 1
    document.problems.append(f"{key}: line {line}: not in the {NAMESPACE} namespace, so it would be ignored; "
                             f"did you mean '{NAMESPACE}:{name}'?")


def _squash(namespace: str) -> str:
    return re.sub(r"[^a-z0-9]", "", namespace.lower())
