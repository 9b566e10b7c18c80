"""The house rules: data flows forward only. Every import in the package, at the top of a module or inside a
function, reaches a room of an earlier stage (or its own room), so no import can be hiding a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import meshsync

PACKAGE = Path(meshsync.__file__).parent
# Rooms in the order data flows through them; a room may import only rooms of a lower rank, and itself.
RANKS = {
    "errors": 0, "__init__": 0,  # the user error, the version
    "files": 1, "options": 1,  # small helpers every stage shares
    "phones": 1, "languages": 1,  # phone sets and languages: data that text, align and visemes read
    "audio": 2, "text": 2, "channels": 2, "gltf": 2,
    "features": 3, "avatar": 3,
    "watermark": 2,  # the pixel mark: its pattern (the sinks add it) and its detector (verify reads it)
    "provenance": 3,  # content credentials: what the sinks sign their outputs with (it reads glTF), and verify
    "align": 4,
    "visemes": 5,
    "network": 6, "listen": 6,  # audio-only: the network, and the phones heard (by the viseme table's classes)
    "animate": 7,
    "rig": 8, "eval": 8,
    "render": 9, "export": 9,
    "batch": 10,
    "cli": 11,
}


def room(module: str) -> str:
    """The room of a dotted module name inside the package: its first part after `meshsync`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every meshsync module `path` imports, relative imports resolved."""
    package = ".".join(("meshsync", *path.relative_to(PACKAGE).with_suffix("").parts))
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0] + "." + "__init__"
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:-node.level]
                found.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
            elif node.module and node.module.split(".")[0] == "meshsync":
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "meshsync"]
    return found


def test_every_room_has_a_rank():
    rooms = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").is_file())}
    assert rooms == set(RANKS)


def test_no_module_imports_a_later_stage():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        mine = room(".".join(("meshsync", *path.relative_to(PACKAGE).with_suffix("").parts)))
        for line, module in imports(path):
            theirs = room(module)
            if theirs != mine and RANKS[theirs] >= RANKS[mine]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({mine}) imports {module} ({theirs})")
    assert not wrong, "\n".join(wrong)
