"""The package's layers (README "Layout"): no import goes up a layer or sideways.

Every ``import`` in the source, including those inside functions, is read with ``ast``
and checked against the table below; so is the absence of import cycles between the
top-level packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import acsumgan

SRC = Path(acsumgan.__file__).resolve().parent

#: Layers from the bottom up. A top-level package or module may import its own
#: modules and any unit of a LOWER layer; units of one layer never import each other.
LAYERS = [
    ["errors", "progress"],
    ["fileio", "memory"],
    ["config", "locks"],
    ["media"],
    ["data"],
    ["evaluation"],
    ["model"],
    ["selection"],
    ["runs"],
    ["train"],
    ["inference"],
    ["pages"],
    ["experiment", "summarize", "synthetic"],
    ["cli"],
]
LEVEL = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def unit_of(module: str) -> str | None:
    """``acsumgan.train.update`` -> ``train``; None for the package root and outside modules."""
    parts = module.split(".")
    if parts[0] != "acsumgan" or len(parts) == 1 or parts[1] == "__version__":
        return None
    return parts[1]


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in a source file."""
    rel = path.relative_to(SRC.parent).with_suffix("")
    pkg = list(rel.parts[:-1])  # the package a relative import starts from
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if node.level and not node.module:  # from . import x, y: each is a module of the package
                out += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
            else:
                out.append((mod, node.lineno))
    return out


def source_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_unit_has_a_layer():
    units = {p.relative_to(SRC).parts[0].removesuffix(".py") for p in source_files()}
    units -= {"__init__", "__main__"}
    assert units == set(LEVEL), "add the new package to LAYERS (and the README's Layout)"


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_upward_or_sideways_import(path):
    here = path.relative_to(SRC).parts[0].removesuffix(".py")
    if here in ("__init__", "__main__"):
        return
    bad = []
    for mod, line in imports_of(path):
        there = unit_of(mod)
        if there is None or there == here:
            continue  # outside libraries, the root (``__version__``), or the unit itself
        if LEVEL[there] >= LEVEL[here]:
            bad.append(f"line {line}: {here} (layer {LEVEL[here]}) imports {mod} (layer {LEVEL[there]})")
    assert not bad, "\n".join(bad)


def test_no_cycle_between_units():
    graph: dict[str, set[str]] = {u: set() for u in LEVEL}
    for path in source_files():
        here = path.relative_to(SRC).parts[0].removesuffix(".py")
        if here not in graph:
            continue
        for mod, _ in imports_of(path):
            there = unit_of(mod)
            if there and there != here:
                graph[here].add(there)
    seen: dict[str, int] = {}

    def visit(u, stack):
        seen[u] = 1
        for v in graph[u]:
            assert seen.get(v) != 1, "import cycle: " + " -> ".join(stack + [u, v])
            if v not in seen:
                visit(v, stack + [u])
        seen[u] = 2

    for u in graph:
        if u not in seen:
            visit(u, [])


def test_the_checker_sees_relative_and_function_level_imports(tmp_path):
    """Known answer for the reader itself, on the real trainer module."""
    found = {m for m, _ in imports_of(SRC / "train" / "trainer.py")}
    assert "acsumgan.train.update" in found  # from .update import ...
    assert "acsumgan.runs" in found  # from ..runs import ...
    found = {m for m, _ in imports_of(SRC / "cli" / "__init__.py")}
    assert "acsumgan.cli.train" in found  # from . import train


#: Units that may import fewer units than their layer allows.
NARROW = {
    "pages": {"errors", "fileio", "media"},
    "locks": {"errors", "fileio"},
    # every PyAV call of the package; progress is a leaf (the one progress protocol)
    "media": {"errors", "fileio", "locks", "progress"},
    "progress": set(),
}


@pytest.mark.parametrize("unit", sorted(NARROW))
def test_narrow_units_import_only_their_allowed_units(unit):
    bad = []
    for path in source_files():
        if path.relative_to(SRC).parts[0].removesuffix(".py") != unit:
            continue
        for mod, line in imports_of(path):
            there = unit_of(mod)
            if there not in (None, unit) and there not in NARROW[unit]:
                bad.append(f"{path.relative_to(SRC)} line {line}: imports {mod}")
    assert not bad, f"{unit} may import only {sorted(NARROW[unit])} of acsumgan:\n" + "\n".join(bad)
