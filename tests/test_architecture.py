"""The layering of ARCHITECTURE.md: a package imports only the packages below it."""

from __future__ import annotations

import ast
from pathlib import Path

import mmgraph

ROOT = Path(mmgraph.__file__).parent

LAYERS = [
    "_openmp",
    "names",
    "errors",
    "resolver",
    "seed",
    "config",
    "distributed",
    "heartbeat",
    "data",
    "nn",
    "sampling",
    "eval",
    "encoders",
    "fusion",
    "coordination",
    "objectives",
    "train",
    "models",
    "embedding",
    "subgraph",
    "tasks",
    "retrieval",
    "tune",
    "cli",
]
"""Bottom first, as ARCHITECTURE.md lists them: each may import only those before it."""


def _package(path: Path) -> str:
    part = path.relative_to(ROOT).parts[0]
    return part.removesuffix(".py")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "mmgraph" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_package_is_in_a_layer() -> None:
    packages = {_package(p) for p in ROOT.rglob("*.py")} - {"__init__", "__main__"}
    assert packages <= set(LAYERS), f"add {sorted(packages - set(LAYERS))} to LAYERS"


def test_packages_import_only_the_layers_below() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        package = _package(path)
        if package in ("__init__", "__main__"):
            continue
        below = set(LAYERS[: LAYERS.index(package)])
        for imported in _imports(path) - {package}:
            if imported not in below:
                wrong.append(f"{path.relative_to(ROOT)} imports mmgraph.{imported}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)
