"""``kong-slo render``: write what a stack would deploy, for review in a pull request or for manual use.

The files are written all or none: each goes to a temporary file in the output folder first, and only when every
one is written are they renamed into place, so a folder that cannot take one file is left as it was. Then the
files render writes for some stacks but not for this one (``ARTIFACTS``), left by an earlier stack, are removed;
no other file in the folder is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

from kong_slo.commands.artifacts import ARTIFACTS, render_all
from kong_slo.commands.common import EXIT_OK, add_stack_arguments, load
from kong_slo.errors import KongSloError

NAME = "render"
HELP = ("write the collector's docker-compose.yml, its config and cloud-init, the Kong plugin and Dynatrace SLO "
        "requests, and kong.env to a folder; secrets appear only as references")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--out", metavar="DIR", type=Path, required=True,
                        help="folder to write the files to (created if missing; files of the same name are replaced, "
                             "and render's own files that this stack does not produce are removed)")


def run(args: argparse.Namespace) -> int:
    settings = load(args)
    files = render_all(settings)
    write_all(args.out, files)
    removed = remove_stale(args.out, files)
    print(f"wrote {len(files)} files for stack {settings.stack} to {args.out}: {', '.join(files)}")
    if removed:
        print(f"removed {', '.join(removed)}: stack {settings.stack} renders no such file")
    return EXIT_OK


def remove_stale(folder: Path, files: dict[str, str]) -> list[str]:
    """Remove the artifacts (``ARTIFACTS`` names) in ``folder`` that this render did not write; returns their
    names. Files of any other name, and anything that is not a regular file, are left alone."""
    removed = []
    for name in ARTIFACTS:
        target = folder / name
        if name not in files and target.is_file() and not target.is_symlink():
            try:
                target.unlink()
            except OSError as error:
                raise KongSloError(f"--out {folder}: cannot remove the stale {name} "
                                   f"({error.strerror or error})") from None
            removed.append(name)
    return removed


def write_all(folder: Path, files: dict[str, str]) -> None:
    """Write every file into ``folder`` or none; raises ``KongSloError`` naming what could not be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise KongSloError(f"--out {folder}: exists and is not a folder") from None
    except OSError as error:
        raise KongSloError(f"--out {folder}: cannot create the folder ({error.strerror or error})") from None
    for name in files:
        target = folder / name
        if target.is_dir() or (target.exists() and not target.is_file()):
            raise KongSloError(f"--out {folder}: {name} exists and is not a regular file; nothing written")
    written: dict[Path, str] = {}
    try:
        for name, text in files.items():
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            written[folder / name] = temporary
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
    except OSError as error:
        for temporary in written.values():
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise KongSloError(f"--out {folder}: cannot write {error.filename or folder} ({error.strerror or error}); "
                           "nothing written") from None
    for target, temporary in written.items():
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
