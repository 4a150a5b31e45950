"""Latest Dynatrace's Documents API (``/platform/document/v1``), for the Dynatrace emulator.

As Dynatrace documents it ("API for Dashboards and Notebooks", docs.dynatrace.com/docs/analyze-explore-automate/
dashboards-and-notebooks/document-api: documents carry a ``type``, ``dashboard`` or ``notebook``; the list takes
``filter=type=='dashboard'``) and as its own configuration-as-code client calls it
(Dynatrace/dynatrace-configuration-as-code-core ``api/clients/documents``, ``clients/documents``):
- Bearer auth; reading needs ``document:documents:read``, creating and changing ``document:documents:write``,
  deleting ``document:documents:delete``, emptying the trash ``document:trash.documents:delete`` (403 otherwise);
- ``POST /documents`` takes a multipart form: ``name``, ``type`` and the ``content`` file are required,
  ``isPrivate``, ``externalId``, ``description`` optional; any other field is refused. 201 with the metadata,
  ``version`` 1. Another document with the same ``externalId`` is a 409 (unverified: kong-slo looks first anyway);
- ``GET /documents`` answers ``{documents, totalCount, nextPageKey}``; ``filter`` here understands only
  ``type == '…'`` and ``externalId == '…'`` joined with ``and`` (anything else is refused, so a client relying on
  more fails loudly); ``page-key`` goes alone;
- ``GET /documents/{id}/metadata`` and ``/content``;
- ``PATCH /documents/{id}?optimistic-locking-version=N`` (multipart ``name``, ``type``, ``content``,
  ``isPrivate``, ``description``, as the client above sends them) answers 200 ``{documentMetadata}`` with the
  version raised; no version is 400, a stale one 409;
- ``DELETE /documents/{id}?optimistic-locking-version=N`` moves it to the trash (204), ``DELETE
  /trash/documents/{id}`` removes it for good (204);
- a ``dashboard``'s content is the Dashboards app's JSON: ``version`` (integer), ``tiles`` and ``layouts`` keyed by
  the same ids, ``variables``, ``settings``, ``annotations``, ``importedWithCode``, nothing else; a tile is
  ``markdown`` (``content``) or ``data`` (``query``, ``visualization``); a layout is whole ``x``, ``y``, ``w``,
  ``h``.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs

BASE = "/platform/document/v1"
READ, WRITE, DELETE = "document:documents:read", "document:documents:write", "document:documents:delete"
TRASH = "document:trash.documents:delete"
SCOPES = frozenset({READ, WRITE, DELETE, TRASH})
CREATE_FIELDS, PATCH_FIELDS = {"name", "type", "isPrivate", "externalId", "description", "content"}, \
    {"name", "type", "isPrivate", "description", "content"}
CONTENT_KEYS = {"version", "variables", "tiles", "layouts", "settings", "annotations", "importedWithCode"}
TILE_KEYS = {"markdown": {"type", "content"},
             "data": {"type", "title", "query", "visualization", "visualizationSettings", "querySettings", "davis"}}
FILTER_TERM = re.compile(r"^(type|externalId) == '((?:[^'\\]|\\.)*)'$")
Reply = tuple[int, Any, dict[str, str]]


def _error(code: int, message: str) -> Reply:
    return code, {"error": {"code": code, "message": message, "details": {}}}, {}


def form_fields(content_type: str, raw: bytes) -> dict[str, bytes] | None:
    """The fields of a ``multipart/form-data`` body, or None when it is not one."""
    if not content_type.startswith("multipart/form-data"):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = part.get_payload(decode=True) or b""
    return fields


def content_problems(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return ["content: a dashboard is a JSON object"]
    problems = [f"content.{key}: unknown property" for key in sorted(set(content) - CONTENT_KEYS)]
    if not isinstance(content.get("version"), int):
        problems.append("content.version: must be an integer")
    tiles, layouts = content.get("tiles"), content.get("layouts", {})
    if not isinstance(tiles, dict) or not isinstance(layouts, dict):
        return [*problems, "content.tiles and content.layouts: must be objects keyed by tile id"]
    if set(layouts) - set(tiles):
        problems.append("content.layouts: every layout must belong to a tile")
    for key, tile in tiles.items():
        allowed = TILE_KEYS.get(tile.get("type")) if isinstance(tile, dict) else None
        if allowed is None:
            problems.append(f"content.tiles.{key}.type: must be markdown or data")
            continue
        problems += [f"content.tiles.{key}.{name}: unknown property" for name in sorted(set(tile) - allowed)]
        needed = ("content",) if tile["type"] == "markdown" else ("query", "visualization")
        problems += [f"content.tiles.{key}.{name}: required" for name in needed if not isinstance(tile.get(name), str)]
    for key, layout in layouts.items():
        if not isinstance(layout, dict) or set(layout) != {"x", "y", "w", "h"} or \
                not all(isinstance(value, int) and value >= 0 for value in layout.values()):
            problems.append(f"content.layouts.{key}: must be whole x, y, w and h")
    return problems


class Documents:
    """The emulator's documents; ``FakeDynatrace`` hands it every ``/platform/document/v1`` call."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.trash: set[str] = set()

    def live(self) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.documents.items() if key not in self.trash}

    def handle(self, method: str, path: str, query_text: str, raw: bytes, content_type: str,
               scopes: set[str] | None) -> Reply:
        if scopes is None:
            return _error(401, "Authentication required")
        query = {key: values[0] for key, values in parse_qs(query_text).items()}
        trash = re.fullmatch(rf"{BASE}/trash/documents/([^/]+)", path)
        needed = TRASH if trash else READ if method == "GET" else DELETE if method == "DELETE" else WRITE
        if needed not in scopes:
            return _error(403, f"Missing scope {needed}")
        if trash:
            if trash.group(1) not in self.trash:
                return _error(404, "Document not found in the trash")
            self.trash.discard(trash.group(1))
            self.documents.pop(trash.group(1), None)
            return 204, None, {}
        if path == f"{BASE}/documents" and method == "GET":
            return self.list(query)
        if path == f"{BASE}/documents" and method == "POST":
            return self.create(form_fields(content_type, raw))
        match = re.fullmatch(rf"{BASE}/documents/([^/]+)(/metadata|/content)?", path)
        if match is None or match.group(1) not in self.live():
            return _error(404, "Document not found")
        document_id, part = match.group(1), match.group(2)
        if method == "GET" and part == "/metadata":
            return 200, self.documents[document_id], {}
        if method == "GET" and part == "/content":
            return 200, json.loads(self.contents[document_id]), {}
        version = query.get("optimistic-locking-version")
        if part or method not in ("PATCH", "DELETE"):
            return _error(405, f"{method} not allowed")
        if not version:
            return _error(400, "optimistic-locking-version is required")
        if version != str(self.documents[document_id]["version"]):
            return _error(409, "The document was changed in the meantime (version mismatch)")
        if method == "DELETE":
            self.trash.add(document_id)
            return 204, None, {}
        return self.patch(document_id, form_fields(content_type, raw))

    def list(self, query: dict[str, str]) -> Reply:
        if "page-key" in query and len(query) > 1:
            return _error(400, "page-key cannot be combined with other parameters")
        wanted: dict[str, str] = {}
        for term in filter(None, (query.get("filter") or "").split(" and ")):
            match = FILTER_TERM.match(term.strip())
            if match is None:
                return _error(400, f"filter term {term!r} is not emulated")
            wanted[match.group(1)] = match.group(2).replace("\\'", "'")
        found = [item for item in self.live().values() if all(item.get(key) == value for key, value in wanted.items())]
        return 200, {"documents": found, "totalCount": len(found), "nextPageKey": None}, {}

    def _checked(self, fields: dict[str, bytes] | None, allowed: set[str], required: tuple[str, ...]) -> str | None:
        if fields is None:
            return "the body must be multipart/form-data"
        unknown = sorted(set(fields) - allowed)
        missing = [name for name in required if name not in fields]
        if unknown or missing:
            return f"unknown fields {unknown}, missing fields {missing}"
        if "content" in fields:
            try:
                problems = content_problems(json.loads(fields["content"]))
            except ValueError:
                problems = ["content: not JSON"]
            if problems:
                return "; ".join(problems)
        return None

    def create(self, fields: dict[str, bytes] | None) -> Reply:
        refused = self._checked(fields, CREATE_FIELDS, ("name", "type", "content"))
        if refused or fields is None:
            return _error(400, refused or "no form")
        external = fields.get("externalId", b"").decode() or None
        if external and any(item.get("externalId") == external for item in self.live().values()):
            return _error(409, f"A document with externalId {external} already exists")
        document_id = str(uuid.uuid4())
        self.documents[document_id] = {"id": document_id, "name": fields["name"].decode(),
                                       "type": fields["type"].decode(), "externalId": external, "version": 1,
                                       "isPrivate": fields.get("isPrivate", b"true").decode() == "true",
                                       "owner": "00000000-0000-4000-8000-000000000001",
                                       "description": fields.get("description", b"").decode() or None}
        self.contents[document_id] = fields["content"]
        return 201, self.documents[document_id], {}

    def patch(self, document_id: str, fields: dict[str, bytes] | None) -> Reply:
        refused = self._checked(fields, PATCH_FIELDS, ())
        if refused or fields is None:
            return _error(400, refused or "no form")
        metadata = self.documents[document_id]
        if "name" in fields:
            metadata["name"] = fields["name"].decode()
        if "content" in fields:
            self.contents[document_id] = fields["content"]
        metadata["version"] += 1
        return 200, {"documentMetadata": metadata}, {}
