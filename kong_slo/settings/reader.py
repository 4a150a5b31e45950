"""Typed, problem-collecting access to a raw config mapping.

A ``Node`` wraps one mapping of the stack file together with its key path. Every accessor returns
a usable value (the default when the input is wrong) and records a problem naming the full key,
so a whole stack file is checked in one pass and every mistake is reported at once.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from kong_slo.secrets import Secret

NAMESPACE = "kong-slo"


@dataclass
class Problems:
    """The problems found so far, in the order they were found.

    ``written`` maps a key path to the text of a plain scalar that YAML read as another value (``3.10`` → 3.1,
    ``NO`` → false); a problem on that key says so, since the value it names is not what the file shows.
    """

    lines: list[str] = field(default_factory=list)
    written: Mapping[str, str] = field(default_factory=dict)
    stack: str = "<stack>"

    def config_set(self, path: str, value: str, *, secret: bool = True) -> str:
        """The command that sets ``path``, on the same backend and secrets as `make up` (see README)."""
        flags = "--secret --path" if secret else "--path"
        return f"`make pulumi STACK={self.stack} ARGS=\"config set {flags} {path} {value}\"`"

    def add(self, path: str, message: str) -> None:
        text = self.written.get(path)
        if text is not None and "YAML 1.1" not in message:
            message = f"{message} ({yaml_reading(text)})"
        self.lines.append(f"{path}: {message}")

    def mentions(self, path: str) -> bool:
        """Whether a problem was already reported on ``path`` or a key under it."""
        return any(line.startswith((f"{path}:", f"{path}.", f"{path}[")) for line in self.lines)


def describe(value: Any) -> str:
    """How a config value is quoted in a problem message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "empty"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Secret):
        return "a secret"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Node:
    """One mapping in the config tree, addressed by ``path`` (``kong-slo:apis[1].latency``)."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: Problems,
                 origins: Mapping[str, str] | None = None) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.origins = origins or {}
        """Keys whose value was inherited, mapped to the key path they came from."""

    def key(self, name: str) -> str:
        if name in self.origins:
            return self.origins[name]
        return f"{self.path}.{name}" if not self.path.endswith(":") else f"{self.path}{name}"

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def problem(self, name: str, message: str) -> None:
        self.problems.add(self.key(name), message)

    def reject_unknown(self, known: tuple[str, ...], hints: Mapping[str, str] | None = None) -> None:
        for name in self.data:
            if name in known:
                continue
            hint = (hints or {}).get(name)
            if hint is None:
                close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
            self.problems.add(self.key(str(name)), f"unknown key{hint}")

    def string(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return default
        if isinstance(value, Secret):
            self.problem(name, "is not a secret; set it without --secret")
            return default
        written = self.problems.written.get(self.key(name))
        if written is not None and not isinstance(value, str):
            self.problem(name, f"is meant as text, but {yaml_reading(written)}")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(name, f"{describe(value)} is not a string")
            return default
        text = str(value).strip()
        if not text:
            if required:
                self.problem(name, "is required and may not be empty")
            return default
        return text

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.string(name, default)
        if value not in options:
            self.problem(name, f"{describe(value)} is not one of {', '.join(options)}")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.problem(name, f"{describe(value)} is not true or false")
        return default

    def number(self, name: str, default: float | None) -> float | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.problem(name, f"{describe(self.data.get(name))} is not a number")
            return default
        return float(value)

    def integer(self, name: str, default: int | None) -> int | None:
        number = self.number(name, None if default is None else float(default))
        if number is None:
            return None
        if not float(number).is_integer():
            self.problem(name, f"{describe(self.data.get(name))} is not a whole number")
            return default
        return int(number)

    def string_list(self, name: str) -> tuple[str, ...] | None:
        """A list of non-empty strings; ``None`` when the key is absent."""
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(name, f"{describe(value)} is not a list")
            return ()
        items: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
                self.problems.add(f"{self.key(name)}[{index}]", f"{describe(item)} is not a non-empty string")
                continue
            items.append(str(item).strip())
        return tuple(items)

    def secret(self, name: str) -> Secret | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, Secret):
            return value
        self.problem(name, "is stored in plain text; store it encrypted with "
                           f"{self.problems.config_set(self.key(name), '…')}")
        return None

    def child(self, name: str) -> Node | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problem(name, f"{describe(value)} is not a mapping")
            return None
        return Node(value, self.key(name), self.problems)


def yaml_reading(text: str) -> str:
    """How a problem explains a surprising scalar: what YAML made of it, and how to keep it as written."""
    value = yaml.safe_load(text)
    kind = "the boolean" if isinstance(value, bool) else "the number"
    shown = ("true" if value else "false") if isinstance(value, bool) else f"{value}"
    return f"YAML 1.1 reads the unquoted {text} as {kind} {shown}; write it in quotes ('{text}') to keep it as written"


def http_url(node: Node, name: str, *, required: bool = False) -> str | None:
    """``name`` as an http(s) URL with a host, without a trailing slash; None (and a problem) otherwise."""
    value = node.string(name, required=required)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        node.problem(name, f"{value!r} is not an http(s) URL with a host")
        return None
    return value.rstrip("/")
