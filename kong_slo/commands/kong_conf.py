"""``kong-slo kong-conf PATH``: show, check or apply the kong.conf change that turns tracing on.

Without options it prints the unified diff. ``--check`` exits 1 when the file needs the change and 0 when it
already complies. ``--write`` replaces the file atomically (a temporary file in the same directory, then
``os.replace``), keeps the previous content in ``PATH.bak`` and preserves the file's mode and owner. A file that
cannot be read as kong.conf is refused with its line number (exit 2) and nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import stat
import sys
import tempfile
from pathlib import Path

from kong_slo.commands.common import EXIT_CHANGES, EXIT_OK, fail
from kong_slo.errors import KongSloError
from kong_slo.kong.conf import ENCODING, KongConfError, patch_kong_conf
from kong_slo.kong.tracing import SPAN_MAKING, TracingSettings, parse_instrumentations
from kong_slo.settings import KongVersion

NAME = "kong-conf"
HELP = "print (or --check, or --write) the kong.conf change that makes Kong trace every request"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", type=Path, help="the kong.conf to patch")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="replace PATH atomically, keeping PATH.bak")
    mode.add_argument("--check", action="store_true", help="exit 1 if PATH needs a change, 0 if it complies")
    parser.add_argument("--kong-version", metavar="V", default=None,
                        help="Kong release (3.0 and 3.1 use the opentelemetry_tracing* names; default 3.2+)")
    parser.add_argument("--sampling-rate", metavar="R", default="1.0", help="share of requests traced (default 1.0)")
    parser.add_argument("--instrumentations", metavar="LIST", default="all",
                        help="comma-separated tracing instrumentations (default all); must include all or request, "
                             "which give every request the span the SLOs count (off is refused)")
    parser.add_argument("--log-level", metavar="L", default=None, help="also set log_level (default: untouched)")


def tracing_from_args(args: argparse.Namespace) -> TracingSettings:
    """The wanted settings; raises ``KongSloError`` subclasses naming the bad option."""
    try:
        version = KongVersion.parse(args.kong_version) if args.kong_version is not None else None
    except ValueError as error:
        raise _BadOption(f"--kong-version: {error}") from None
    try:
        rate = float(args.sampling_rate)
    except ValueError:
        raise _BadOption(f"--sampling-rate: {args.sampling_rate!r} is not a number") from None
    instrumentations = parse_instrumentations(args.instrumentations)
    if not set(instrumentations) & set(SPAN_MAKING):
        what = ("switches Kong's tracing off" if set(instrumentations) <= {"off"} else
                "gives requests no root span")
        raise _BadOption(f"--instrumentations {args.instrumentations!r} {what}, so no request would be counted "
                         "for the SLOs; kong-conf switches tracing on: leave the default (all), or list request "
                         "with the others (e.g. request,balancer)")
    return TracingSettings(instrumentations=instrumentations, sampling_rate=rate,
                           log_level=args.log_level, kong_version=version)


class _BadOption(KongSloError):
    """A command-line option Kong would not accept."""


def run(args: argparse.Namespace) -> int:
    tracing = tracing_from_args(args)
    path: Path = args.path
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return fail(f"kong-slo kong-conf: {path} is not a regular file; give the path of kong.conf")
        raw = path.read_bytes()
    except OSError as error:
        return fail(f"kong-slo kong-conf: cannot read {path}: {error.strerror or error}")
    if b"\0" in raw:
        line = raw[:raw.index(b"\0")].count(b"\n") + 1
        return fail(f"kong-slo kong-conf: {path}:{line}: a NUL byte; this is not a text file, so not kong.conf; "
                    "nothing written")
    original = raw.decode(*ENCODING)
    try:
        patched = patch_kong_conf(original, tracing)
    except KongConfError as error:
        return fail(f"kong-slo kong-conf: {path}:{error.line_no}: {error.reason}; nothing written")
    if args.check:
        if patched == original:
            print(f"{path}: tracing already on as wanted")
            return EXIT_OK
        _print(unified_diff(original, patched, str(path)))
        return EXIT_CHANGES
    if args.write:
        if patched == original:
            print(f"{path}: tracing already on as wanted; not written")
            return EXIT_OK
        try:
            write_with_backup(path, original, patched)
        except OSError as error:
            hint = "; run it with sudo" if isinstance(error, PermissionError) else ""
            return fail(f"kong-slo kong-conf: cannot write {error.filename or path}: {error.strerror or error}{hint}; "
                        f"{path} is unchanged")
        print(f"{path}: tracing switched on (previous content in {path}.bak); restart or reload Kong to apply")
        return EXIT_OK
    _print(unified_diff(original, patched, str(path)))
    return EXIT_OK


def unified_diff(before: str, after: str, name: str) -> str:
    """A ``diff -u`` style patch, split at ``\\n`` only and marking a missing final newline."""
    def lines(text: str) -> list[str]:
        pieces = [piece + "\n" for piece in text.split("\n")]
        pieces[-1] = pieces[-1][:-1]
        return pieces if pieces[-1] else pieces[:-1]

    out = []
    for line in difflib.unified_diff(lines(before), lines(after), name, name):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def write_with_backup(path: Path, original: str, patched: str) -> None:
    """Keep ``PATH.bak``, then replace ``PATH`` atomically with the same mode and (when allowed) owner."""
    target = Path(os.path.realpath(path))
    info = target.stat()
    _atomic_write(target.with_name(target.name + ".bak"), original.encode(*ENCODING), info)
    _atomic_write(target, patched.encode(*ENCODING), info)


def _atomic_write(target: Path, data: bytes, like: os.stat_result) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(like.st_mode))
        with contextlib.suppress(PermissionError):  # not root: the file keeps our ownership, like any editor's
            os.chown(temporary, like.st_uid, like.st_gid)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _print(text: str) -> None:
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text.encode(*ENCODING).decode("utf-8", "replace"))
        return
    sys.stdout.flush()
    buffer.write(text.encode(*ENCODING))
    buffer.flush()
