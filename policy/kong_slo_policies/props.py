"""Reading resource properties as the policy engine hands them over.

At run time the analyzer wraps props in read-only proxies (``Mapping`` and ``Sequence``, not ``dict`` and
``list``) that raise ``UnknownValueError`` when a value is not known yet (during preview). Numbers arrive as
floats (``fromPort: 22.0``). These helpers hide both facts from the rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "<unknown>"})()
"""Stands for a value that is not known during preview."""


def get(props: Any, key: str, default: Any = None) -> Any:
    """``props[key]``, ``default`` when absent or when ``props`` is not a mapping, ``UNKNOWN`` when unknown."""
    if not isinstance(props, Mapping):
        return default
    try:
        value = props[key]
    except KeyError:
        return default
    except UnknownValueError:
        return UNKNOWN
    return default if value is None else value


def is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def items(value: Any) -> Iterator[tuple[int, Any]]:
    """Index and element of a list property, skipping elements not known yet; nothing for a non-list."""
    if not is_list(value):
        return
    for index in range(len(value)):
        try:
            yield index, value[index]
        except UnknownValueError:
            continue


def strings(value: Any) -> list[str]:
    """The known string elements of a list property."""
    return [element for _, element in items(value) if isinstance(element, str)]


def number(value: Any) -> int | None:
    """A port or similar integer property; ``None`` when absent, unknown or not a number."""
    if isinstance(value, bool) or value is UNKNOWN:
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return None
    return None
