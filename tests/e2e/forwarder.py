"""A round-robin TCP forwarder on 127.0.0.1 standing in for the tier's Network Load Balancer.

Like the NLB, it balances connections, not requests: each accepted connection goes whole to one backend, the next
healthy one in turn. A backend is healthy while its health endpoint answers 200 (the target group's check, polled
every ``HEALTH_INTERVAL``); a connection that a backend refuses before the checks have noticed is given to the next
healthy one, so a connection never lands on a collector that is down. ``routes`` records, in order of arrival, the
backend each connection went to.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
from dataclasses import dataclass

import requests

HEALTH_INTERVAL = 0.2
CHUNK = 65536


@dataclass(frozen=True)
class Backend:
    name: str
    port: int
    health_url: str


class RoundRobinForwarder:
    """Owns its listening port, its threads and every connection it opened; a context manager that stops them."""

    def __init__(self, backends: list[Backend]) -> None:
        self.backends = backends
        self.routes: list[str] = []
        self._healthy = {backend.name: False for backend in backends}
        self._next = 0
        self._deregistered: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]

    @property
    def traces_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/traces"

    def healthy(self, name: str) -> bool:
        with self._lock:
            return self._healthy[name]

    def deregister(self, name: str) -> None:
        """Take a backend out of rotation, as a target group deregisters an instance: no new connection goes to it
        (connections already open carry on, as the NLB's deregistration delay lets them)."""
        with self._lock:
            self._deregistered.add(name)

    def __enter__(self) -> RoundRobinForwarder:
        self._check_health()
        for target in (self._health_loop, self._accept_loop):
            self._spawn(target)
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
        self._listener.close()
        with self._lock:
            for open_socket in self._sockets:
                with contextlib.suppress(OSError):
                    open_socket.shutdown(socket.SHUT_RDWR)
                open_socket.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _check_health(self) -> None:
        for backend in self.backends:
            try:
                healthy = requests.get(backend.health_url, timeout=1).status_code == 200
            except requests.RequestException:
                healthy = False
            with self._lock:
                self._healthy[backend.name] = healthy

    def _health_loop(self) -> None:
        while not self._stopping.wait(HEALTH_INTERVAL):
            self._check_health()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream, name = self._connect()
            if upstream is None:
                client.close()
                continue
            with self._lock:
                self.routes.append(name)
                self._sockets.update((client, upstream))
            finished = threading.Barrier(2, action=functools.partial(self._close, client, upstream))
            self._spawn(self._pipe, client, upstream, finished)
            self._spawn(self._pipe, upstream, client, finished)

    def _connect(self) -> tuple[socket.socket | None, str]:
        """A connection to the next healthy backend in turn, trying each at most once."""
        for _ in self.backends:
            with self._lock:
                backend = self.backends[self._next % len(self.backends)]
                self._next += 1
                if not self._healthy[backend.name] or backend.name in self._deregistered:
                    continue
            try:
                return socket.create_connection(("127.0.0.1", backend.port), timeout=2), backend.name
            except OSError:
                with self._lock:
                    self._healthy[backend.name] = False
        return None, ""

    def _pipe(self, source: socket.socket, sink: socket.socket, finished: threading.Barrier) -> None:
        """Copy one direction until it ends, then half-close the other side; the second direction to end closes
        the pair."""
        source.settimeout(None)
        with contextlib.suppress(OSError):
            while chunk := source.recv(CHUNK):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with contextlib.suppress(threading.BrokenBarrierError):
            finished.wait(timeout=30)

    def _close(self, *pair: socket.socket) -> None:
        with self._lock:
            for open_socket in pair:
                self._sockets.discard(open_socket)
                open_socket.close()
