"""Error types shared across kong-slo."""

from __future__ import annotations

from collections.abc import Iterable


class KongSloError(Exception):
    """Base class for every error kong-slo raises on purpose."""


class SettingsError(KongSloError):
    """The stack configuration is invalid. ``problems`` holds one line per problem, each naming its key."""

    def __init__(self, problems: Iterable[str], source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        count = len(self.problems)
        where = f" in {source}" if source else ""
        head = f"the stack configuration{where} has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([head, *(f"  {line}" for line in self.problems)]))
