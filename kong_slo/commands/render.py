"""``kong-slo render``: write what a stack would deploy, for review in a pull request or for manual use."""

from __future__ import annotations

import argparse
from pathlib import Path

from kong_slo.artifacts import render_all
from kong_slo.commands.common import EXIT_OK, add_stack_arguments, load

NAME = "render"
HELP = ("write the collector's docker-compose.yml, its config and cloud-init, the Kong plugin and Dynatrace SLO "
        "requests, and kong.env to a folder; secrets appear only as references")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument("--out", metavar="DIR", type=Path, required=True, help="folder to write the files to")


def run(args: argparse.Namespace) -> int:
    settings = load(args)
    files = render_all(settings)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files for stack {settings.stack} to {args.out}: {', '.join(files)}")
    return EXIT_OK
