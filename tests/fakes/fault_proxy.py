"""A forwarding HTTP proxy on 127.0.0.1 that injects the Kong emulator's faults in front of a real API.

    with FaultProxy("http://127.0.0.1:8001") as proxy:
        proxy.fail_next("drop_after", method="PUT")      # forwarded, then the connection is dropped
        KongAdmin(proxy.url) ...

Faults: ``429`` (Retry-After), ``503``, ``slow`` (forwarded after ``delay``), ``drop`` (not forwarded)
and ``drop_after`` (forwarded, reply withheld). Any upstream base path is kept.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from tests.fakes.kong_admin import Fault, FaultQueue

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class FaultProxy:
    def __init__(self, upstream: str, *, verify: bool | str = True) -> None:
        self.upstream = upstream.rstrip("/")
        self.verify = verify
        self.calls: Counter[str] = Counter()
        self._faults = FaultQueue()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FaultProxy:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.proxy = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1,
                  retry_after: str = "1", delay: float = 1.0) -> None:
        """Inject a fault into the next ``times`` requests matching ``method`` and a ``path`` substring."""
        self._faults.add(Fault(kind, method, path, times, retry_after, delay))

    def take_fault(self, method: str, path: str) -> Fault | None:
        """Count the request as received, and hand out the first fault that matches it."""
        with self._lock:
            self.calls[method] += 1
        return self._faults.take(method, path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = proxy.take_fault(self.command, self.path.partition("?")[0])
        if fault is not None and fault.kind in ("429", "503"):
            headers = {"Retry-After": fault.retry_after} if fault.kind == "429" else {}
            self._send(int(fault.kind), b'{"message":"injected fault"}', headers)
            return
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "slow":
            proxy._stopping.wait(fault.delay)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        answer = requests.request(self.command, proxy.upstream + self.path, headers=headers, data=body,
                                  timeout=30, verify=proxy.verify, allow_redirects=False)
        if fault is not None and fault.kind == "drop_after":
            self.close_connection = True
            return
        passed = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
        try:
            self._send(answer.status_code, answer.content, passed)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(0 if status == 204 else len(payload)))
        self.end_headers()
        if status != 204:
            self.wfile.write(payload)
