"""One list per stack and kind, shared by every call of a provider process (Kong).

The engine runs every dynamic resource of a deployment through one provider process, and that process keeps one
provider instance per pickle (``pulumi.dynamic``'s server: ``_PROVIDER_CACHE``), so ``KongListings`` held by the
provider instance lives as long as the deployment and no longer: a later preview or ``up`` is a new process and
lists afresh. Each plugin needs the same three facts: which ``opentelemetry`` plugins Kong runs around it
(``other_plugins``), which plugin sits in its scope (``adoption``) and what Kong holds for it (drift). One
``GET /plugins`` per Kong answers all three for every API of the stack; the services and routes, when a decision
needs them, are listed once too, and ``GET /`` is asked once.

Two snapshots per Kong (Admin API URL and workspace): ``CHECK`` (what ``check`` and ``diff`` see: a preview and
an unchanged ``up``) and ``WRITE`` (what ``create`` and ``update`` decide on), so the writes ask afresh after the
checks and share one answer among themselves. What a stale list can get wrong is bounded the way
``kong_slo.dynatrace.listing`` bounds it: a plugin the list shows (an occupant to adopt, another plugin that would
stop the stack) is confirmed afresh before anything is decided on it; a plugin the list misses makes Kong refuse
the write (one plugin per scope), and the provider then asks again. Entries expire after ``ttl`` seconds, and this
process's own writes keep them current.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kong_slo.kong.admin import DEFAULT_WORKSPACE, KongAdmin

CHECK = "check"
WRITE = "write"
Key = tuple[str, str, str]


class KongSnapshot:
    """Kong's plugins, services and routes as listed once each (at first use), and its node information."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._kinds: dict[str, tuple[float, Any]] = {}

    def _get(self, kind: str, load: Callable[[], Any], ttl: float) -> Any:
        with self._lock:  # parallel calls wait for the one list instead of each listing
            entry = self._kinds.get(kind)
            if entry is None or self.clock() - entry[0] > ttl:
                entry = (self.clock(), load())
                self._kinds[kind] = entry
            return entry[1]

    def loaded_at(self, kind: str) -> float | None:
        """When ``kind`` was last listed; None if it was not."""
        with self._lock:
            entry = self._kinds.get(kind)
            return None if entry is None else entry[0]

    def forget_lists(self) -> None:
        """Drop the plugins, services and routes, so that their next use lists them afresh."""
        with self._lock:
            for kind in ("plugins", "services", "routes"):
                self._kinds.pop(kind, None)

    def known_plugin(self, plugin_id: str) -> dict[str, Any] | None:
        """The plugin as last listed or written here; None if plugins were not listed or it is not among them."""
        with self._lock:
            entry = self._kinds.get("plugins")
            return None if entry is None else entry[1].get(plugin_id)

    def remember(self, plugin: dict[str, Any]) -> None:
        """A plugin this process wrote or read: the listed copy is replaced."""
        with self._lock:
            entry = self._kinds.get("plugins")
            if entry is not None and plugin.get("id"):
                entry[1][str(plugin["id"])] = plugin

    def drop(self, plugin_id: str) -> None:
        """A plugin this process deleted."""
        with self._lock:
            entry = self._kinds.get("plugins")
            if entry is not None:
                entry[1].pop(plugin_id, None)

    def bound(self, kong: KongAdmin, ttl: float) -> KongView:
        return KongView(self, kong, ttl)


class KongView:
    """A snapshot read through one ``KongAdmin``: what it has not listed yet, it lists with that client."""

    def __init__(self, snapshot: KongSnapshot, kong: KongAdmin, ttl: float) -> None:
        self.snapshot, self.kong, self._ttl = snapshot, kong, ttl
        self.clock = snapshot.clock

    def plugins(self) -> list[dict[str, Any]]:
        listed = self.snapshot._get("plugins", lambda: {str(p["id"]): p for p in self.kong.plugins()}, self._ttl)
        return list(listed.values())

    def service(self, name_or_id: str) -> dict[str, Any] | None:
        return self._by_name_or_id("services", self.kong.services).get(name_or_id)

    def route(self, name_or_id: str) -> dict[str, Any] | None:
        return self._by_name_or_id("routes", self.kong.routes).get(name_or_id)

    def service_routes(self, service_id: str) -> list[dict[str, Any]]:
        routes = self._by_name_or_id("routes", self.kong.routes).values()
        unique = {route["id"]: route for route in routes}
        return [route for route in unique.values() if (route.get("service") or {}).get("id") == service_id]

    def node_info(self) -> dict[str, Any]:
        """``GET /`` once Kong answers (``wait_until_answering``), asked once per snapshot."""
        return self.snapshot._get("node", self.kong.wait_until_answering, self._ttl)

    def _by_name_or_id(self, kind: str, load: Callable[[], list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        def index() -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            for item in load():
                found[str(item["id"])] = item
                if item.get("name"):
                    found[str(item["name"])] = item
            return found
        return self.snapshot._get(kind, index, self._ttl)


class KongListings:
    """The snapshots of this process, per Kong (Admin API URL and workspace) and purpose (``CHECK``/``WRITE``)."""

    def __init__(self, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._snapshots: dict[Key, KongSnapshot] = {}
        self._lock = threading.Lock()

    def snapshot(self, admin_url: str, workspace: str | None, purpose: str) -> KongSnapshot:
        key = (admin_url.rstrip("/"), workspace or DEFAULT_WORKSPACE, purpose)
        with self._lock:
            return self._snapshots.setdefault(key, KongSnapshot(self.clock))

    def view(self, kong: KongAdmin, purpose: str) -> KongView:
        return self.snapshot(kong.base_url, kong.workspace, purpose).bound(kong, self.ttl)

    def remember(self, props: dict[str, Any], plugin: dict[str, Any]) -> None:
        """A plugin written or read at ``props``' Kong: both snapshots keep it as it now is."""
        for purpose in (CHECK, WRITE):
            self.snapshot(props["admin_url"], props.get("workspace"), purpose).remember(plugin)

    def drop(self, props: dict[str, Any], plugin_id: str) -> None:
        """A plugin deleted (or found gone) at ``props``' Kong."""
        for purpose in (CHECK, WRITE):
            self.snapshot(props["admin_url"], props.get("workspace"), purpose).drop(plugin_id)

    def listed(self, admin_url: str, workspace: str | None, plugin_id: str) -> dict[str, Any] | None:
        """The plugin as ``check`` listed it (or this process last wrote or read it); None if not listed."""
        return self.snapshot(admin_url, workspace, CHECK).known_plugin(plugin_id)

