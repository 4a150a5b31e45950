"""No Dynatrace token in EC2 user data or in a plain stack output.

User data is readable by anyone with ``ec2:DescribeInstanceAttribute`` and by every process on the host through
the metadata service; stack outputs are printed in logs and PR comments. Tokens belong in SSM SecureString
parameters (read by the host at boot) and in Pulumi secrets. Violation messages name the token kind only,
never the token.
"""

from __future__ import annotations

import base64
import binascii
import email
import re
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError
from pulumi_policy.secret import Secret

from kong_slo_policies.instances import INSTANCE, LAUNCH_TEMPLATE
from kong_slo_policies.props import get, items

TOKEN_PATTERN = re.compile(rb"(?<![A-Za-z0-9])(dt0c01|dt0s16|dt0s02)\.[A-Za-z0-9]{8,}")
"""Dynatrace access tokens (``dt0c01.``), platform tokens (``dt0s16.``) and OAuth client ids and secrets
(``dt0s02.``) followed by token characters."""

STACK = "pulumi:pulumi:Stack"
USER_DATA_KEYS = {INSTANCE: ("userData", "userDataBase64"), LAUNCH_TEMPLATE: ("userData",)}

_MAX_DEPTH = 4
_MAX_DECODED_BYTES = 4 * 1024 * 1024
_BASE64 = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def _gunzip(data: bytes) -> bytes | None:
    try:
        return zlib.decompressobj(wbits=31).decompress(data, _MAX_DECODED_BYTES)
    except zlib.error:
        return None


def _unbase64(data: bytes) -> bytes | None:
    compact = b"".join(data.split())
    if len(compact) < 8 or len(compact) % 4 or not _BASE64.fullmatch(compact):
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def _mime_parts(data: bytes) -> Iterator[bytes]:
    head = data[:512].lower()
    if b"content-type: multipart" not in head and b"mime-version" not in head:
        return
    message = email.message_from_bytes(data)
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                yield payload


def layers(data: bytes, depth: int = 0) -> Iterator[tuple[bytes, bool]]:
    """``data`` and everything it decodes to (base64, gzip, cloud-init MIME parts), each with a flag saying
    whether it was decoded."""
    yield data, depth > 0
    if depth >= _MAX_DEPTH:
        return
    decoded = [_gunzip(data) if data[:2] == b"\x1f\x8b" else None, _unbase64(data), *_mime_parts(data)]
    for layer in decoded:
        if layer:
            yield from layers(layer, depth + 1)


def token_kinds(value: str | bytes) -> tuple[set[str], bool]:
    """The kinds of Dynatrace token (``dt0c01``, ``dt0s16``, ``dt0s02``) inside ``value`` after decoding, and
    whether one was only visible after decoding."""
    raw = value.encode("utf-8", errors="surrogatepass") if isinstance(value, str) else value
    kinds: set[str] = set()
    hidden = False
    for layer, decoded in layers(raw):
        found = {match.group(1).decode() for match in TOKEN_PATTERN.finditer(layer)}
        hidden = hidden or (decoded and bool(found - kinds))
        kinds |= found
    return kinds, hidden


def describe(kinds: set[str], hidden: bool) -> str:
    names = " and ".join(f"{kind}.…" for kind in sorted(kinds))
    return f"a Dynatrace token ({names}{', after decoding' if hidden else ''})"


def _validate_user_data(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for key in USER_DATA_KEYS.get(args.resource_type, ()):
        value = get(args.props, key)
        if isinstance(value, str):
            kinds, hidden = token_kinds(value)
            if kinds:
                report_violation(f"{key} contains {describe(kinds, hidden)}", None)


def _is_marked_secret(value: Any) -> bool:
    if isinstance(value, Secret):
        return True
    return isinstance(value, Mapping) and value.get(_SECRET_SIGNATURE[0]) == _SECRET_SIGNATURE[1]


def output_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every known string inside a stack output, with its path (``collector.url``, ``apis[0]``), skipping
    values marked secret."""
    if _is_marked_secret(value):
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key in value:
            try:
                child = value[key]
            except UnknownValueError:
                continue
            yield from output_strings(child, f"{path}.{key}" if path else str(key))
    else:
        for index, child in items(value):
            yield from output_strings(child, f"{path}[{index}]")


def _validate_outputs(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    # Secret outputs are meant to pass, but the Python policy runtime unwraps secrets before validators see
    # them, so in practice every output is checked; the program never needs to export a token anyway.
    for resource in args.resources:
        if resource.resource_type != STACK:
            continue
        for path, text in output_strings(resource.props):
            kinds, hidden = token_kinds(text)
            if kinds:
                report_violation(f"stack output {path!r} contains {describe(kinds, hidden)}", resource.urn)


no_token_in_user_data = ResourceValidationPolicy(
    name="no-dynatrace-token-in-user-data",
    description="EC2 user data (plain, base64, gzip or cloud-init MIME) must not contain a Dynatrace token.",
    validate=_validate_user_data,
    remediation_steps="Store the token in an SSM SecureString parameter and let the host read it at boot "
                      "(aws ssm get-parameter --with-decryption) with an instance role limited to that parameter.",
)

no_token_in_outputs = StackValidationPolicy(
    name="no-dynatrace-token-in-outputs",
    description="Stack outputs must not contain a Dynatrace token.",
    validate=_validate_outputs,
    remediation_steps="Do not export the token. If an output must carry it, wrap it in pulumi.Output.secret(...) "
                      "and export something that identifies it instead (the SSM parameter name).",
)
