"""A small retrying HTTP layer shared by the Kong and Dynatrace clients.

Every request has a timeout. 429 and 5xx answers and connection errors are retried with capped
exponential backoff, honouring ``Retry-After``. Sessions are created per client call and never
stored on objects that Pulumi pickles.
"""

from __future__ import annotations

import email.utils
import html
import ipaddress
import json
import random
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import requests

from kong_slo.errors import KongSloError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiError(KongSloError):
    """An HTTP API answered with an error, or could not be reached after every retry."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Unreachable(ApiError):
    """The server could not be reached (no connection, no answer in time) after every retry."""


class NotJson(ApiError):
    """A server asked for JSON answered something else: an SSO login page, a proxy's error page, plain text."""


SHAPE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)
"""What reading JSON of another shape than the API's raises (a list where an object was expected, …): callers at
a command's edge turn these into one line naming the server."""
TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def is_loopback_host(host: str | None) -> bool:
    """True for this machine: ``localhost``, an address in 127.0.0.0/8 or ``::1`` (bracketed or not). Plain http
    is accepted only there, where a credential never crosses a network."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def what_came_back(response: requests.Response) -> str:
    """A few words on a body, for one line of output: ``an HTML page ("Sign in")``, ``text "Bad gateway"``,
    ``an empty body``. Never the whole page."""
    text = response.text or ""
    if not text.strip():
        return "an empty body"
    kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if "html" in kind or text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        title = TITLE.search(text)
        words = " ".join(html.unescape(title.group(1)).split())[:80] if title else ""
        return f'an HTML page ("{words}")' if words else "an HTML page"
    words = " ".join(text.split())
    return f'{kind or "text"} "{words[:80]}{"…" if len(words) > 80 else ""}"'


def _asks_for_json(session: requests.Session, kwargs: dict[str, Any]) -> bool:
    headers = kwargs.get("headers") or {}
    accept = headers.get("Accept") or (getattr(session, "headers", None) or {}).get("Accept") or ""
    return str(accept).strip() == "application/json"


def _refuse_non_json(response: requests.Response) -> None:
    """Raise ``NotJson`` for a success answer to a JSON request whose body is not JSON."""
    if not 200 <= response.status_code < 300 or not response.content.strip():
        return
    try:
        json.loads(response.content)
    except ValueError:
        where = response.url.split("?")[0]
        raise NotJson(f"{where} answered HTTP {response.status_code} with {what_came_back(response)}, not JSON",
                      status=response.status_code) from None


def plain_reason(error: BaseException) -> str:
    """What went wrong with a connection, in a few words instead of urllib3's chain of wrappers."""
    seen: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or any(item is known for known in seen):
            continue
        seen.append(item)
        pending += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args[:1]]
    for item in seen:
        if isinstance(item, socket.gaierror) or type(item).__name__ == "NameResolutionError":
            return "the host name does not resolve"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
    if any(isinstance(item, requests.Timeout | TimeoutError | socket.timeout) for item in seen):
        return "no answer in time"
    if any(isinstance(item, ConnectionResetError) for item in seen):
        return "the connection was reset"
    return "the connection failed"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``sleep`` is injectable so tests run without waiting."""

    attempts: int = 6
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    timeout: float = 15.0
    """Seconds for connecting and for each read."""
    sleep: Callable[[float], None] = time.sleep

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.initial_delay * self.multiplier ** attempt)
        return delay * (0.5 + random.random() / 2)


def retry_after_seconds(headers: Any, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; ``None`` when absent or unreadable."""
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def whole_numbers_as_integers(value: Any) -> Any:
    """``value`` with every integral float (``3.0``) made an int (``3``), recursively.

    The Pulumi engine hands dynamic providers every number as a protobuf double, so ``samples: 3`` arrives as
    ``3.0``. Schemas that type a property integer refuse the decimal form, while a float property takes ``3``
    as readily as ``3.0``: sending whole numbers as integers is right for both.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: whole_numbers_as_integers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [whole_numbers_as_integers(item) for item in value]
    return value


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    wait_hint: Callable[[requests.Response], float | None] = lambda response: retry_after_seconds(
        response.headers),
    retry_statuses: Iterable[int] = RETRY_STATUSES,
    describe: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request, retrying transient failures; returns the last response (any status).

    Connection errors and timeouts are retried too, whatever the method: a retried write may already
    have been applied by the server, so callers make writes idempotent (PUT with a client-chosen id) or
    recognise their own earlier write (a POST answered "already exists" is looked up, not repeated).
    A TLS failure (untrusted certificate, wrong host name) is not transient and fails at once. Raises
    ``Unreachable`` when the server cannot be reached, and ``NotJson`` when a request that asks for JSON
    (``Accept: application/json``) gets a success answer whose body is not JSON.
    """
    statuses = frozenset(retry_statuses)
    label = describe or f"{method} {url}"
    if kwargs.get("json") is not None:
        kwargs["json"] = whole_numbers_as_integers(kwargs["json"])
    last_error: Exception | None = None
    for attempt in range(policy.attempts):
        try:
            response = session.request(method, url, timeout=policy.timeout, **kwargs)
        except requests.exceptions.SSLError as error:
            raise ApiError(f"{label}: TLS failed ({error}); check the URL's host name, or trust the server's "
                           "certificate authority") from None
        except (requests.ConnectionError, requests.Timeout) as error:
            last_error = error
            if attempt + 1 < policy.attempts:
                policy.sleep(policy.backoff(attempt))
            continue
        if response.status_code not in statuses or attempt + 1 == policy.attempts:
            if _asks_for_json(session, kwargs):
                _refuse_non_json(response)
            return response
        hinted = wait_hint(response)
        delay = policy.backoff(attempt) if hinted is None else min(hinted, policy.max_delay * 2)
        response.close()
        policy.sleep(delay)
    reason = plain_reason(last_error) if last_error is not None else "no answer"
    raise Unreachable(f"{label}: no answer after {policy.attempts} attempts ({reason})")
