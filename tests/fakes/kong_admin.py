"""An in-process emulator of Kong's Admin API (services, routes, ``opentelemetry`` plugins).

    with FakeKong("3.9") as kong:           # 127.0.0.1, a free port; always shut down on exit
        kong.add_service("orders")
        requests.put(f"{kong.url}/services/orders/plugins/{uuid}", json=body)

Behaves like Kong per version mode (3.0, 3.4, 3.7, 3.9, 3.12; see ``kong_schema``): 201 on POST, 200 on
PUT (upsert, full replacement) and PATCH (records deep-merged), 204 on DELETE even when absent,
``{"message":"Not found"}`` 404s, 400 code 2 with ``fields``, 409 code 5 per scope tuple, 400 code 4 for
unknown foreign keys, paging with ``size``/``offset``/``next``, ``tags`` filters (top-level lists only),
an optional RBAC token (401 without it), workspaces (``/{ws}/…``), DB-less mode (405 code 12 on writes).

Faults (``fail_next``): ``429`` with Retry-After, ``503``, ``slow`` (the reply comes after ``delay``;
the request is still applied), ``drop`` (connection closed, nothing applied) and ``drop_after`` (applied,
then the connection is closed before any reply). ``calls`` counts requests received per method.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, unquote_plus

from tests.fakes import kong_replies
from tests.fakes.kong_plugins import Store
from tests.fakes.kong_precedence import plugin_for_request
from tests.fakes.kong_replies import KongReply
from tests.fakes.kong_schema import ENTERPRISE_MODES, MODES, RELEASES

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FAULT_KINDS = ("429", "503", "slow", "drop", "drop_after")


@dataclass
class Fault:
    kind: str
    method: str | None
    path: str | None
    times: int
    retry_after: str
    delay: float

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault {self.kind!r} is not one of {FAULT_KINDS}")

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and (self.method in (None, method)) and (self.path is None or self.path in path)


class FaultQueue:
    """Faults waiting for the requests they match; each fires ``times`` times. Thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, used up once."""
        with self._lock:
            fault = next((fault for fault in self._faults if fault.matches(method, path)), None)
            if fault is not None:
                fault.times -= 1
            return fault


@dataclass
class FakeKong:
    """The emulator. ``version`` is a mode from ``MODES``; ``workspaces`` turns on Enterprise workspaces."""

    version: str = "3.9"
    token: str | None = None
    db_less: bool = False
    workspaces: tuple[str, ...] | None = None
    tracing_instrumentations: tuple[str, ...] = ("off",)
    """What kong.conf (or KONG_*) set; ``off`` is Kong's default."""
    tracing_sampling_rate: float | None = None
    """None: the release's default (1.0 up to 3.2, 0.01 from 3.3)."""
    calls: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.version not in MODES:
            raise ValueError(f"version mode {self.version!r} is not one of {MODES}")
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._faults = FaultQueue()
        names = ("default", *(self.workspaces or ()))
        self._stores = {name: Store(self.version) for name in dict.fromkeys(names)}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------

    def __enter__(self) -> FakeKong:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the emulator is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- test helpers --------------------------------------------------------------------------------------

    def fail_next(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1,
                  retry_after: str = "1", delay: float = 1.0) -> None:
        """Inject a fault into the next ``times`` requests matching ``method`` and a ``path`` substring."""
        self._faults.add(Fault(kind, method, path, times, retry_after, delay))

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.log.clear()

    @property
    def writes(self) -> int:
        return sum(self.calls[method] for method in WRITE_METHODS)

    def store(self, workspace: str | None = None) -> Store:
        return self._stores[workspace or "default"]

    def add_service(self, name: str, workspace: str | None = None) -> dict[str, Any]:
        with self._lock:
            return self.store(workspace).put_service(name, {"url": f"http://{name}.upstream:8080"})

    def add_route(self, name: str, service: str, workspace: str | None = None) -> dict[str, Any]:
        with self._lock:
            return self.store(workspace).put_route(name, {"paths": [f"/{name}"]}, service)

    def add_consumer(self, username: str, workspace: str | None = None) -> dict[str, Any]:
        with self._lock:
            return self.store(workspace).put_consumer(username)

    def add_plugin(self, body: dict[str, Any], *, service: str | None = None, route: str | None = None,
                   consumer: str | None = None, workspace: str | None = None) -> dict[str, Any]:
        """Insert a plugin directly (as someone else would have), bypassing faults and auth. ``consumer`` is a
        username; it scopes the plugin together with ``service`` or ``route``, or alone."""
        with self._lock:
            store = self.store(workspace)
            body = dict(body)
            if consumer is not None:
                body["consumer"] = {"id": store.put_consumer(consumer)["id"]}
            parent = ("services", service) if service else ("routes", route) if route else None
            reply = store.plugin_write("POST", None, body, parent)
            assert reply.status == 201, reply.body
            return reply.body

    def plugins(self, workspace: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(plugin) for plugin in self.store(workspace).plugins.values()]

    def plugin_for_request(self, *, route: str | None = None, service: str | None = None,
                           consumer: str | None = None, workspace: str | None = None) -> dict[str, Any] | None:
        """The ``opentelemetry`` plugin Kong would run for a request matched to ``route`` (or, without a
        route, ``service``) by ``consumer`` (names): the most specific instance only (``kong_precedence``)."""
        with self._lock:
            store = self.store(workspace)
            route_entity = store.find("routes", route) if route else None
            service_id = (route_entity["service"] or {}).get("id") if route_entity else None
            if service is not None:
                service_id = store.find("services", service)["id"]
            consumer_entity = store.find("consumers", consumer) if consumer else None
            return plugin_for_request(store.plugins.values(), "opentelemetry",
                                      route=route_entity["id"] if route_entity else None, service=service_id,
                                      consumer=consumer_entity["id"] if consumer_entity else None,
                                      with_groups=self.version in ENTERPRISE_MODES)

    # -- request handling ------------------------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        """Count the request as received, and hand out the first fault that matches it."""
        with self._lock:
            self.calls[method] += 1
            self.log.append((method, path))
        return self._faults.take(method, path)

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: Any) -> KongReply:
        with self._lock:
            if self.token is not None and headers.get("Kong-Admin-Token") != self.token:
                return KongReply(401, {"message": "Invalid credentials. Token or User credentials required"})
            segments = [part for part in path.split("/") if part]
            workspace = "default"
            if segments and self.workspaces and segments[0] in self._stores:
                workspace = segments.pop(0)
            if not segments:
                return KongReply(200, self.node_info()) if method == "GET" else kong_replies.NOT_ALLOWED
            if segments[0] not in ("services", "routes", "plugins"):
                return kong_replies.NOT_FOUND
            if self.db_less and method in WRITE_METHODS:
                verb = {"POST": "create", "PUT": "create or update", "PATCH": "update", "DELETE": "delete"}[method]
                return KongReply(405, {"code": 12, "name": "operation unsupported",
                                       "message": f"cannot {verb} '{segments[0]}' entities when not using a "
                                                  "database"})
            if body is kong_replies.BAD_JSON:
                return KongReply(400, {"message": "Cannot parse JSON body"})
            return self._stores[workspace].route(method, segments, query, body, path)

    def node_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "version": RELEASES[self.version],
            "tagline": "Welcome to kong",
            "node_id": "6a72d2c6-6c0c-4f07-8b71-8b5b3c8d0c11",
            "configuration": {"database": "off" if self.db_less else "postgres", **self.tracing_configuration(),
                              "log_level": "notice", "plugins": ["bundled"]},
            "plugins": {"available_on_server": {"opentelemetry": {"priority": 14, "version": RELEASES[self.version]}},
                        "enabled_in_cluster": sorted({p["name"] for s in self._stores.values()
                                                      for p in s.plugins.values()})},
        }
        if self.version not in ("3.0", "3.4"):
            info["edition"] = "enterprise" if self.version in ENTERPRISE_MODES else "community"
        return info


    def tracing_configuration(self) -> dict[str, Any]:
        """The tracing keys of ``GET /`` → ``configuration``: 3.0 to 3.1 name them ``opentelemetry_tracing*``,
        3.2+ ``tracing_*``; the instrumentations are a list (``typ = "array"`` in Kong's conf_loader)."""
        old = self.version == "3.0"
        rate = self.tracing_sampling_rate
        if rate is None:
            rate = 1.0 if old else 0.01
        prefix = "opentelemetry_tracing" if old else "tracing"
        return {f"{prefix}{'' if old else '_instrumentations'}": list(self.tracing_instrumentations),
                f"{prefix}_sampling_rate": rate}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kong/fake"

    def setup(self) -> None:
        super().setup()
        # Small replies written in parts otherwise wait on Nagle's algorithm and delayed ACKs (~40 ms a call).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        fake: FakeKong = self.server.fake  # type: ignore[attr-defined]
        raw_path, _, raw_query = self.path.partition("?")
        path = unquote(raw_path)  # Kong routes the Admin API on the decoded URI (ngx.var.uri)
        query = dict(part.split("=", 1) if "=" in part else (part, "") for part in raw_query.split("&") if part)
        query = {key: unquote_plus(value) for key, value in query.items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = kong_replies.parse_body(raw)
        fault = fake.take_fault(self.command, path)
        if fault is not None and fault.kind in ("429", "503"):
            status = int(fault.kind)
            message = "API rate limit exceeded" if status == 429 else "name resolution failed"
            extra = {"Retry-After": fault.retry_after} if status == 429 else {}
            self._reply(KongReply(status, {"message": message}, extra))
            return
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "slow":
            fake.wait(fault.delay)
        reply = fake.handle(self.command, path, query, self.headers, body)
        if fault is not None and fault.kind == "drop_after":
            self.close_connection = True
            return
        try:
            self._reply(reply)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def _reply(self, reply: KongReply) -> None:
        payload = b"" if reply.status == 204 else kong_replies.dump(reply.body)
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
