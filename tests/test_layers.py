"""The package's layers (docs/architecture.md, "Layers"): no import goes up a layer or sideways, and no
import cycle.

Every ``import`` in the source, including those inside functions, is read with ``ast``
and checked against the layer table below (:data:`LAYERS`: a unit may import only units
of lower layers, :data:`NARROW` units fewer). Cycles are refused twice: between the
top-level units (packages and modules of ``acsumgan``), and between modules: each ``.py``
file is a node (a package's ``__init__.py`` is the package), ``from . import x`` an edge
to the module ``x``, ``from .x import y`` to the module ``x.y`` where that is one, else to
``x``; a function-level import is an edge too (it must not dodge a cycle).
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
    ["config", "locks", "cluster"],
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
    ["studio"],
    ["cli"],
]
LEVEL = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def unit_of(module: str) -> str | None:
    """``acsumgan.train.update`` -> ``train``; None for the package root and outside modules."""
    parts = module.split(".")
    if parts[0] != "acsumgan" or len(parts) == 1 or parts[1] == "__version__":
        return None
    return parts[1]


def imports_of(path: Path, root: Path = SRC.parent) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in a source file (under ``root``)."""
    rel = path.relative_to(root).with_suffix("")
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
    assert units == set(LEVEL), "add the new package to LAYERS (and the layers of docs/architecture.md)"


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


def module_name(path: Path, root: Path) -> str:
    """``root/acsumgan/train/update.py`` -> ``acsumgan.train.update``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph(package: Path) -> dict[str, set[str]]:
    """``{module: the modules of the package it imports}`` of the package folder ``package``."""
    root = package.parent
    files = sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    nodes = {module_name(p, root): p for p in files}

    def resolve(name: str) -> str | None:  # the module itself, else the nearest package of it that is a node
        parts = name.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in nodes:
                return ".".join(parts[:n])
        return None

    graph: dict[str, set[str]] = {}
    for mod, path in nodes.items():
        edges = graph.setdefault(mod, set())
        pkg = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(pkg[: len(pkg) - node.level + 1]) if node.level else ""
                frm = ".".join(x for x in (base, node.module or "") if x)
                # ``from x import y``: the module x.y where y is one, else x
                targets = [f"{frm}.{a.name}" if f"{frm}.{a.name}" in nodes else frm for a in node.names]
            for t in targets:
                there = resolve(t)
                if there is not None and there != mod:
                    edges.add(there)
    return graph


def cycles_of(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) through each strongly connected part of ``graph`` that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    parts: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                parts.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    out = []
    for part in parts:  # the shortest way from the part's first module back to it, inside the part
        start, inside = part[0], set(part)
        came: dict[str, str] = {}
        queue = [start]
        while queue and start not in came:
            v = queue.pop(0)
            for w in sorted(graph[v] & inside):
                if w not in came:
                    came[w] = v
                    queue.append(w)
        cycle = [start]
        while cycle[-1] != start or len(cycle) == 1:
            cycle.append(came[cycle[-1]])
        out.append(cycle[::-1])
    return sorted(out)


def test_no_cycle_between_modules():
    cycles = cycles_of(module_graph(SRC))
    assert not cycles, "import cycles between modules:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_module_cycle_checker_finds_a_known_cycle(tmp_path):
    """Known answer on a small package: a -> b -> c -> a (c's import inside a function), and
    the package's __init__ in a second cycle (it imports d, which imports a name of the package)."""
    pkg = tmp_path / "fake"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .d import D\nVERSION = 1\n")
    (pkg / "a.py").write_text("from . import b\nimport os\n")
    (pkg / "b.py").write_text("from .sub.c import f\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("def f():\n    from ..a import b\n    return b\n")
    (pkg / "d.py").write_text("from . import VERSION\nD = VERSION\n")
    (pkg / "e.py").write_text("from .a import b\nfrom .sub import c\n")  # no cycle through e
    graph = module_graph(pkg)
    assert graph["fake.e"] == {"fake.a", "fake.sub.c"}
    assert graph["fake.b"] == {"fake.sub.c"} and graph["fake.sub"] == set()
    assert cycles_of(graph) == [["fake", "fake.d", "fake"], ["fake.a", "fake.b", "fake.sub.c", "fake.a"]]
    (pkg / "d.py").write_text("D = 1\n")
    (pkg / "sub" / "c.py").write_text("def f():\n    return 1\n")
    assert cycles_of(module_graph(pkg)) == []


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
