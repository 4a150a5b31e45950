"""Whether this machine can reach an address at all, told apart from whether something listens there.

A refused connection means the host answered and nothing listens on the port. A timeout, an unknown name or no
route means this machine cannot see the host: it may well be fine from where Kong runs.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

PROBE_TIMEOUT = 3.0
REFUSED = "refused"


@dataclass(frozen=True)
class Probe:
    """One GET: the response, or that the host refused the connection, or why it could not be tried."""

    response: requests.Response | None
    refused: bool = False
    unreachable: str | None = None


def probe(url: str) -> Probe:
    reason = unreachable(url)
    if reason == REFUSED:
        return Probe(None, refused=True)
    if reason:
        return Probe(None, unreachable=reason)
    try:
        return Probe(requests.get(url, timeout=PROBE_TIMEOUT))
    except requests.RequestException as error:
        return Probe(None, unreachable=type(error).__name__)


def unreachable(url: str) -> str | None:
    """None when a TCP connection opens; ``refused`` when the host refused it; else why it could not be tried."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=PROBE_TIMEOUT):
            return None
    except ConnectionRefusedError:
        return REFUSED
    except socket.gaierror:
        return f"the name {parts.hostname} does not resolve here"
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT:g} s"
    except OSError as error:
        return error.strerror or type(error).__name__
