"""The load-balancer stand-in the collector-tier e2e test relies on: connections in turn, unhealthy backends skipped."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.e2e import forwarder as forwarder_module
from tests.e2e.collector import wait_for
from tests.e2e.forwarder import Backend, RoundRobinForwarder


class NamedServer:
    """An HTTP server on 127.0.0.1 answering its name; ``/health`` answers 200 while ``healthy``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healthy = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = 503 if self.path == "/health" and not server.healthy else 200
                body = server.name.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def backend(self) -> Backend:
        port = self.http.server_address[1]
        return Backend(self.name, port, f"http://127.0.0.1:{port}/health")

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join()


@pytest.fixture
def servers() -> Iterator[list[NamedServer]]:
    started = [NamedServer("a"), NamedServer("b")]
    yield started
    for server in started:
        with contextlib.suppress(OSError):
            server.close()


def answer(forwarder: RoundRobinForwarder) -> str:
    """One request on a connection of its own; the name of the backend that answered."""
    with requests.Session() as http:
        return http.get(f"http://127.0.0.1:{forwarder.port}/", timeout=5).text


def test_connections_go_to_the_backends_in_turn_and_routes_say_where(servers: list[NamedServer]) -> None:
    with RoundRobinForwarder([server.backend for server in servers]) as forwarder:
        answers = [answer(forwarder) for _ in range(4)]
    assert answers == ["a", "b", "a", "b"]
    assert forwarder.routes == answers


def test_a_backend_failing_its_health_check_gets_no_connections_until_it_passes(servers: list[NamedServer]) -> None:
    with RoundRobinForwarder([server.backend for server in servers]) as forwarder:
        servers[0].healthy = False
        wait_for(lambda: not forwarder.healthy("a"), 5, "the health check to take `a` out", interval=0.05)
        assert [answer(forwarder) for _ in range(3)] == ["b", "b", "b"]
        servers[0].healthy = True
        wait_for(lambda: forwarder.healthy("a"), 5, "the health check to take `a` back", interval=0.05)
        assert {answer(forwarder) for _ in range(2)} == {"a", "b"}


def test_a_backend_that_refuses_before_the_health_check_noticed_passes_the_connection_on(
        servers: list[NamedServer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forwarder_module, "HEALTH_INTERVAL", 60.0)  # no health check during the test
    with RoundRobinForwarder([server.backend for server in servers]) as forwarder:
        servers[0].close()  # down between two health checks: the next connection in turn was `a`'s
        assert answer(forwarder) == "b"
        assert not forwarder.healthy("a")


def test_leaving_closes_the_port_and_every_connection(servers: list[NamedServer]) -> None:
    forwarder = RoundRobinForwarder([server.backend for server in servers])
    with forwarder:
        held = socket.create_connection(("127.0.0.1", forwarder.port))
        wait_for(lambda: len(forwarder.routes) == 1, 5, "the held connection forwarded", interval=0.05)
    assert held.recv(1) == b"", "the held connection was closed"
    held.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", forwarder.port), timeout=1).close()
