"""The shape of the tree: no import cycles, no module past the size where it should split.

The layering itself (what may import what) is import-linter's contracts in pyproject.toml,
run by ``make lint``; this file checks what those contracts do not: that no group of
modules imports itself round in a circle, counting imports made inside functions (a
deferred import hides a cycle from Python, not from the design), and that every module
stays small enough to read. Imports under ``if TYPE_CHECKING:`` are left out: they never
run. docs/architecture.md shows how to run this alone.
"""

from __future__ import annotations

import grimp

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
PACKAGES = ("shared", "services", "workers", "cli")
# Folders whose modules count toward the size limit (bench/ is a tool, not a package above).
SIZED = (*PACKAGES, "bench")
MAX_LINES = 450
# Generated files, long by nature (the OpenAPI description is split by concern instead).
SIZE_EXEMPT = ("shared/migrations/",)


def import_graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One cycle's modules and the imports between them, with line numbers."""
    members = set(component)
    lines = [f"cycle of {len(component)} modules:"]
    for importer in component:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            details = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"l.{d['line_number']}" for d in details)
            lines.append(f"  {importer} -> {imported} ({where})")
    return "\n".join(lines)


def test_the_cycle_finder_finds_cycles():
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c", "d"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_import(importer="c", imported="d")
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles():
    graph = import_graph()
    assert {m.split(".")[0] for m in graph.modules} >= set(PACKAGES)
    found = cycles(graph)
    assert not found, "\n" + "\n".join(describe(graph, component) for component in found)


def test_no_module_over_the_size_limit():
    too_long = {}
    for folder in SIZED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name.startswith(SIZE_EXEMPT):
                continue
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                too_long[name] = lines
    assert not too_long, f"modules over {MAX_LINES} lines (split them by concern): {too_long}"
