"""The package reads as the data path: rooms (sub-packages) in one order, each importing only rooms before it,
no circle between modules, and every room saying in its ``__init__`` docstring what lives there."""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "kong_slo"

SHARED = {"errors", "http", "secrets", "telemetry", "dynamic_resource"}
"""Top-level modules every room may use; they import no room (``http`` only ``errors``)."""
ENTRY_POINTS = {"__main__", "cli", "preflight", "pulumi_cli"}
"""Top-level modules run as programs: they may import any room, and no room imports them."""
ROOMS = ["settings", "objectives", "kong", "collector", "dynatrace", "infra", "doctor", "commands"]
"""Low to high: stack file → settings → pure builders → Pulumi resources and their clients → diagnosis → CLI."""
DYNATRACE_FLAVOURS = ("classic", "platform")
DYNATRACE_SELECTORS = {"alerting", "component"}
"""The modules of the Dynatrace room that choose between the flavours; the rest of its top serves both."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every kong_slo module and the kong_slo modules it imports.

    ``from pkg import module`` counts as both: the name is looked up on the package, so the package's ``__init__``
    must not import back.
    """
    known = {module_name(path) for path in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        source = module_name(path)
        found[source]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kong_slo":
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found[source].add(node.module)
                    if child in known:
                        found[source].add(child)
            elif isinstance(node, ast.Import):
                found[source] |= {alias.name for alias in node.names if alias.name.split(".")[0] == "kong_slo"}
    return found


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "kong_slo"


def test_rooms_import_only_rooms_before_them():
    backwards = []
    for source, targets in imports().items():
        here = room_of(source)
        for target in targets:
            there = room_of(target)
            if there == here or there in SHARED or there == "kong_slo":
                continue
            if here in SHARED:
                backwards.append(f"{source} → {target} (a shared module imports a room)")
            elif there in ENTRY_POINTS and here not in ENTRY_POINTS:
                backwards.append(f"{source} → {target} (an entry point is imported)")
            elif here in ROOMS and (there not in ROOMS or ROOMS.index(there) > ROOMS.index(here)):
                backwards.append(f"{source} → {target}")
    assert backwards == []


def test_the_dynatrace_flavours_stand_side_by_side():
    crossing = []
    for source, targets in imports().items():
        parts = source.split(".")
        if parts[:2] != ["kong_slo", "dynatrace"] or len(parts) < 3:
            continue
        flavour = parts[2] if parts[2] in DYNATRACE_FLAVOURS else None
        for target in targets:
            target_parts = target.split(".")
            if target_parts[:2] != ["kong_slo", "dynatrace"] or len(target_parts) < 3:
                continue
            target_flavour = target_parts[2] if target_parts[2] in DYNATRACE_FLAVOURS else None
            if target_flavour and target_flavour != flavour and parts[2] not in DYNATRACE_SELECTORS:
                crossing.append(f"{source} → {target}")
            if flavour and target_flavour is None and target_parts[2] in DYNATRACE_SELECTORS:
                crossing.append(f"{source} → {target} (a flavour imports what chooses between flavours)")
    assert crossing == []


def test_no_module_imports_itself_through_others():
    graph = imports()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target):], target] if target in trail else [module, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_room_says_what_lives_there():
    silent = [str(init.relative_to(PACKAGE.parent)) for init in PACKAGE.rglob("__init__.py")
              if len(ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or "") < 40]
    assert silent == []


def test_the_rooms_listed_are_the_rooms_there():
    there = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    top = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert there == set(ROOMS)
    assert top == SHARED | ENTRY_POINTS


def test_providers_pickled_by_earlier_releases_still_unpickle():
    """Existing stacks' state names each dynamic provider by the module it lived in when it was pickled."""
    import pickle
    import subprocess
    import sys

    from kong_slo import PROVIDER_HOMES

    for old, new in PROVIDER_HOMES.items():
        module = importlib.import_module(new)
        provider = next(value for name, value in vars(module).items()
                        if name.endswith("Provider") and getattr(value, "__module__", None) == new)
        state = pickle.dumps(provider.__new__(provider), protocol=0).replace(new.encode(), old.encode())
        assert old.encode() in state
        code = "import pickle, sys; print(type(pickle.loads(sys.stdin.buffer.read())).__module__)"
        # A fresh interpreter, as Pulumi's provider process is: nothing of kong_slo imported beforehand.
        loaded = subprocess.run([sys.executable, "-c", code], input=state, capture_output=True, check=True)
        assert loaded.stdout.decode().strip() == new
