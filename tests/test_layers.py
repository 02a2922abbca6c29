"""The house's floors: scurve's imports point one way, with no cycle.

Every import of a scurve module by another is read from the source (ast),
imports inside functions included; imports for type checkers only (under
``if TYPE_CHECKING:``) and the lazy import of :mod:`scurve.plotting` inside
a ``plot`` method are the exceptions. A module may import its own package's
modules and those of the floors below it (:data:`FLOORS`, lowest first), never
one above, and no two modules may import each other, even through others.
The command line takes no private name (``_name``) from another module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scurve"

#: The floors, lowest first: a module imports from its own floor and those
#: below. ``scurve.audio`` (the waveshaper, files, analysis) stands on the
#: core; its device fit, which fits curves, stands on the API.
FLOORS: list[tuple[str, ...]] = [
    ("scurve.errors",),
    ("scurve.core",),
    ("scurve.io", "scurve.audio"),
    ("scurve.models",),
    ("scurve.inference",),
    ("scurve.results",),
    ("scurve.fitters",),
    ("scurve.analysis",),
    ("scurve.scale",),
    ("scurve.api",),
    ("scurve.plotting", "scurve.audio.device"),
    ("scurve.cli", "scurve.__main__"),
]

#: Known exceptions to the rules below, as ``(importer, imported)``: this
#: list may only shrink (a fixed one is an error until removed from here).
ALLOWED: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def floor(name: str) -> int:
    """The floor of a module: that of the longest prefix named in FLOORS."""
    best, found = -1, None
    for i, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), i
    if found is None:
        raise AssertionError(f"{name} is on no floor: add it to FLOORS")
    return found


class _Imports(ast.NodeVisitor):
    """The scurve modules a module imports, and the private names it takes,
    but for imports under ``if TYPE_CHECKING:`` and inside ``plot`` methods
    (:mod:`scurve.plotting` only)."""

    def __init__(self, name: str, known: set[str], package: bool) -> None:
        self.name, self.known = name, known
        self.base = name if package else name.rpartition(".")[0]
        self.found: set[str] = set()
        self.private: set[tuple[str, str]] = set()
        self.aliases: dict[str, str] = {}
        self.function: list[str] = []

    def _target(self, module: str) -> str | None:
        while module and module not in self.known:
            module = module.rpartition(".")[0]
        return module or None

    def _add(self, module: str) -> None:
        target = self._target(module)
        if target is None or target == self.name:
            return
        if target == "scurve.plotting" and "plot" in self.function:
            return
        self.found.add(target)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        for child in node.orelse if checking else [*node.body, *node.orelse]:
            self.visit(child)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("scurve"):
                self._add(alias.name)
                self.aliases[alias.asname or alias.name] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parent = self.base
            for _ in range(node.level - 1):
                parent = parent.rpartition(".")[0]
            module = f"{parent}.{node.module}" if node.module else parent
        else:
            module = node.module or ""
        if not module.startswith("scurve"):
            return
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if full in self.known:  # a module: from scurve import io
                self._add(full)
                self.aliases[alias.asname or alias.name] = full
            else:
                self._add(module)
                if alias.name.startswith("_"):
                    self.private.add((self._target(module) or module, alias.name))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if (
            isinstance(node.value, ast.Name)
            and node.value.id in self.aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            self.private.add((self.aliases[node.value.id], node.attr))
        self.generic_visit(node)


def imports() -> Iterator[tuple[str, _Imports]]:
    known = modules()
    for name, path in known.items():
        visitor = _Imports(name, set(known), path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        yield name, visitor


GRAPH = {name: visitor for name, visitor in imports()}


def test_every_module_is_on_a_floor() -> None:
    for name in GRAPH:
        if name != "scurve":
            floor(name)


def test_no_import_points_up() -> None:
    upward = set()
    for name, visitor in GRAPH.items():
        if name == "scurve":  # the package's lazy exports (importlib)
            continue
        for target in visitor.found:
            if target != "scurve" and floor(target) > floor(name):
                upward.add((name, target))
    assert upward - ALLOWED == set(), "imports pointing up a floor"
    assert ALLOWED - upward == set(), "fixed: remove them from ALLOWED"


def test_no_cycles() -> None:
    """Tarjan's strongly connected components: each must be one module."""
    graph = {n: sorted(v.found - {"scurve"}) for n, v in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, []):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            connect(node)
    assert cycles == []


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n.startswith("scurve.cli")))
def test_the_command_line_takes_no_private_names(name: str) -> None:
    taken = {(module, attr) for module, attr in GRAPH[name].private if module != name}
    assert taken == set()


def test_the_checker_sees_imports_inside_functions_and_skips_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from scurve import api\n"
        "def f():\n    from scurve.fitters import engine\n"
        "def plot(self):\n    from scurve import plotting\n"
        "import scurve.io as sio\n"
        "sio._secret\n"
    )
    known = set(GRAPH) | {"scurve"}
    visitor = _Imports("scurve.results.fit", known, False)
    visitor.visit(ast.parse(source))
    assert visitor.found == {"scurve.fitters.engine", "scurve.io"}
    assert visitor.private == {("scurve.io", "_secret")}
