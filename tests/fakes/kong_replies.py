"""Kong's reply shapes shared by the emulator: bodies, error bodies, and paged lists."""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.kong_schema import flatten

BAD_JSON = object()
MAX_PAGE = 1000
NAME = re.compile(r"^(?:[A-Za-z0-9._~-]|[^\x00-\x7f])+$")
"""``typedefs.utf8_name`` (kong/db/schema/typedefs.lua@3.9.1 ``validate_utf8_name``): ``^[%w%.%-%_~\128-\244]+$``
over valid UTF-8: ASCII letters, digits and ``. - _ ~``, and any non-ASCII character."""


@dataclass(frozen=True)
class KongReply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


NOT_FOUND = KongReply(404, {"message": "Not found"})
NOT_ALLOWED = KongReply(405, {"message": "Method not allowed"})


def parse_body(raw: bytes) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return BAD_JSON


def dump(body: Any) -> bytes:
    return json.dumps(body).encode()


def is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def schema_violation(errors: dict[str, Any]) -> KongReply:
    lines = flatten(errors)
    head = "schema violation" if len(lines) == 1 else f"{len(lines)} schema violations"
    return KongReply(400, {"code": 2, "name": "schema violation", "message": f"{head} ({'; '.join(lines)})",
                           "fields": errors})


def lua(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}={lua(v)}" for k, v in sorted(value.items())) + "}"
    return "null" if value is None else json.dumps(value)


def page(items: list[dict[str, Any]], query: dict[str, str], path: str, *, tags: bool) -> KongReply:
    wanted = query.get("tags") if tags else None
    if wanted:
        if "," in wanted and "/" in wanted:
            return KongReply(400, {"code": 11, "name": "invalid options", "fields": {"tags": "invalid filter"},
                                   "message": "invalid option (tags: cannot mix 'and' with 'or')"})
        needed, any_of = (wanted.split("/"), True) if "/" in wanted else (wanted.split(","), False)
        check = any if any_of else all
        items = [item for item in items if check(tag in (item.get("tags") or []) for tag in needed)]
    try:
        size = int(query.get("size", "100"))
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE:
        return KongReply(400, {"code": 9, "name": "invalid size", "fields": {},
                               "message": f"size must be an integer between 1 and {MAX_PAGE}"})
    start = 0
    if query.get("offset"):
        try:
            start = int(base64.urlsafe_b64decode(query["offset"]).decode().removeprefix("offset:"))
        except ValueError:
            return KongReply(400, {"code": 7, "name": "invalid offset", "fields": {},
                                   "message": f"'{query['offset']}' is not a valid offset: bad base64 encoding"})
    ordered = sorted(items, key=lambda item: item["id"])
    page = ordered[start:start + size]
    body: dict[str, Any] = {"data": page, "next": None}
    if start + size < len(ordered):
        offset = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
        extra = f"&tags={wanted}" if wanted else ""
        body.update(offset=offset, next=f"{path}?offset={offset}&size={size}{extra}")
    return KongReply(200, body)
