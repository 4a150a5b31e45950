"""Whether a stack file's ``secure:`` value can be a Pulumi ciphertext, before Pulumi fails on it naming no key.

Pulumi writes a secret as ``{secure: <ciphertext>}``: ``v1:<nonce>:<sealed>`` in base64 parts for a passphrase
(pulumi/pulumi ``pkg/secrets/passphrase``), and one base64 string for Pulumi Cloud and the cloud KMS providers
(``pkg/secrets/cloud``, ``pkg/secrets/service``). The shipped examples hold ``v1:placeholder-…`` instead, and a
hand-written ``secure: 12345`` is no ciphertext either: both pass YAML and fail inside ``pulumi up`` with
``bad value``. Nothing here decrypts; the value is never shown.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from typing import Any

MIN_SEALED_BYTES = 16
"""An AES-GCM sealed value carries at least its 16-byte tag; real ciphertexts are longer still."""


def is_ciphertext(value: Any) -> bool:
    """True when ``value`` has the shape of a Pulumi ciphertext (base64 parts, optionally after ``v1:``)."""
    if not isinstance(value, str) or "placeholder" in value.lower():
        return False
    parts = value.removeprefix("v1:").split(":")
    decoded = 0
    for part in parts:
        try:
            decoded += len(base64.b64decode(part, validate=True))
        except (binascii.Error, ValueError):
            return False
        if not part:
            return False
    return decoded >= MIN_SEALED_BYTES


def bad_secure_values(namespace: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    """``(path, what it is)`` for every ``{secure: …}`` below ``namespace`` that is no ciphertext; paths as
    ``pulumi config set --path`` takes them (``kong-slo:dynatrace.apiToken``)."""
    for key, value in namespace.items():
        yield from _walk(value, f"{prefix}{key}")


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            secure = value["secure"]
            if not is_ciphertext(secure):
                yield path, _what(secure)
            return
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _what(secure: Any) -> str:
    if isinstance(secure, str) and "placeholder" in secure.lower():
        return "is the example's placeholder, not an encrypted secret"
    if not isinstance(secure, str):
        return f"holds a {type(secure).__name__ if secure is not None else 'null'} where Pulumi writes ciphertext"
    return "is not a ciphertext Pulumi wrote (secret values are never written into the file by hand)"
