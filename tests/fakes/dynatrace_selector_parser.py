"""The metric selector grammar kong-slo speaks, parsed into a small tree for ``dynatrace_selectors``.

Grammar: ``expression := term (("+"|"-") term)*``, ``term := operand (("*"|"/") operand)*``, ``operand :=
"(" expression ")" transforms | number | metric-key transforms``, ``transforms := (":" name ["(" args ")"])*``;
strings are quoted with ``~`` escapes, as in Dynatrace's metric selector reference.
"""

from __future__ import annotations

import re
from typing import Any

DURATION = re.compile(r"^(\d+)([smhd])$")
DURATION_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"~]|~.)*")|(?P<duration>\d+[smhd])(?!\w)|(?P<number>\d+(?:\.\d+)?)(?![\w.])'
                   r"|(?P<key>(?:builtin|func|calc|ext):[\w.\-]+|[A-Za-z][\w.\-]*)|(?P<punct>[(),:+\-*/]))")


class SelectorError(ValueError):
    """Dynatrace's "Metric selector is invalid" (the reason follows)."""


def duration_ms(text: str) -> int:
    match = DURATION.match(text)
    if not match:
        raise SelectorError(f"{text!r} is not a duration such as 5m or 1h")
    return int(match.group(1)) * DURATION_MS[match.group(2)]


def parse(selector: str) -> Any:
    """The selector as a small tree: ("key", name, transforms), ("num", v), ("op", sign, left, right),
    ("group", expr, transforms)."""
    tokens = _tokens(selector)
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.position != len(tokens):
        raise SelectorError(f"unexpected {tokens[parser.position][1]!r} in {selector!r}")
    return tree


def metric_keys(selector: str) -> set[str]:
    """Every metric key the selector reads."""
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if node[0] == "key":
            keys.add(node[1])
        elif node[0] == "op":
            walk(node[2])
            walk(node[3])
        elif node[0] == "group":
            walk(node[1])
    walk(parse(selector))
    return keys


def _tokens(selector: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = selector.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise SelectorError(f"cannot read {text[position:position + 20]!r} in {selector!r}")
        kind = match.lastgroup or "punct"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.position = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise SelectorError("the selector ends too early")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise SelectorError(f"expected {expected!r}, found {token[1]!r}")
        self.position += 1
        return token

    def expression(self) -> Any:
        node = self.term()
        while self.peek() in ("+", "-"):
            sign = self.take()[1]
            node = ("op", sign, node, self.term())
        return node

    def term(self) -> Any:
        node = self.operand()
        while self.peek() in ("*", "/"):
            sign = self.take()[1]
            node = ("op", sign, node, self.operand())
        return node

    def operand(self) -> Any:
        kind, text = self.take()
        if text == "(":
            inner = self.expression()
            self.take(")")
            return ("group", inner, self.transforms())
        if kind == "number":
            return ("num", float(text))
        if kind == "key":
            return ("key", text, self.transforms())
        raise SelectorError(f"unexpected {text!r}")

    def transforms(self) -> list[tuple[str, list[Any]]]:
        found = []
        while self.peek() == ":":
            self.take(":")
            kind, name = self.take()
            if kind != "key":
                raise SelectorError(f"{name!r} is not a transformation")
            found.append((name, self.arguments() if self.peek() == "(" else []))
        return found

    def arguments(self) -> list[Any]:
        self.take("(")
        items: list[Any] = []
        while self.peek() != ")":
            items.append(self.argument())
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        return items

    def argument(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return re.sub(r"~(.)", r"\1", text[1:-1])
        if kind == "number":
            return float(text)
        if kind == "key" and self.peek() == "(":
            return (text, self.arguments())
        return text
