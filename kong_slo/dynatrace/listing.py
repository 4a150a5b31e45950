"""One paged list per stack and kind, shared by every create in a provider process.

``pulumi up`` runs all of a stack's SLOs (or settings objects) through one provider process, and each create must
first look for an object of the same name (or ``externalId``) to adopt. Instead of one search per object, the
first create lists the stack's objects once (following every page) and the others answer from that list.

Only "absent" is trusted from the list: a create that finds a candidate looks it up afresh before adopting it,
and a create that misses one is still safe, because Dynatrace refuses a second object of the same name and the
provider then takes the existing one over. Entries expire after ``ttl`` seconds, and creates and deletes in this
process keep the list current.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

Key = tuple[str, ...]


class StackListing:
    """A cache of ``name → object`` per key (environment, kind, stack), loaded at most once per ``ttl``."""

    def __init__(self, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._entries: dict[Key, tuple[float, dict[str, dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def find(self, key: Key, name: str, load: Callable[[], Iterable[tuple[str, dict[str, Any]]]]) -> \
            dict[str, Any] | None:
        """The listed object called ``name``; ``load`` (one paged list) runs when the key is new or stale."""
        with self._lock:  # parallel creates wait for the one list instead of each listing
            entry = self._entries.get(key)
            if entry is None or self.clock() - entry[0] > self.ttl:
                entry = (self.clock(), dict(load()))
                self._entries[key] = entry
            return entry[1].get(name)

    def remember(self, key: Key, name: str, item: dict[str, Any]) -> None:
        with self._lock:
            if key in self._entries:
                self._entries[key][1][name] = item

    def forget(self, key: Key, name: str) -> None:
        with self._lock:
            if key in self._entries:
                self._entries[key][1].pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


SLOS = StackListing()
SETTINGS = StackListing()


def name_prefix(name: str) -> str:
    """``kong-slo dev:`` from ``kong-slo dev: Orders latency``: what a stack's SLO names share."""
    head, colon, _ = name.partition(":")
    return f"{head}:" if colon else name


def external_id_prefix(external_id: str) -> str:
    """``kong-slo:dev:`` from ``kong-slo:dev:burn-rate-page:…``: what a stack's ``externalId`` values share."""
    parts = external_id.split(":")
    return ":".join(parts[:2]) + ":" if len(parts) > 2 else external_id
