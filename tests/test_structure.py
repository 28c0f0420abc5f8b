"""actlint's own shape: its modules import each other without cycles."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "actlint"


def _modules() -> dict:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(module_level_only: bool) -> dict:
    """{module: the actlint modules it imports by name}. `from a.b import c` counts as importing `a.b`,
    and `a.b.c` when that is a module. A package's __init__, which Python runs before any of its
    submodules, is not counted as imported by them: only the imports written down are."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        targets = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
        graph[name] = sorted(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_at_module_level():
    assert cycles(import_graph(module_level_only=True)) == []


def test_no_import_cycles_counting_the_imports_inside_functions_too():
    """Deferred imports (for start-up time) hide a cycle from Python, not from a reader."""
    assert cycles(import_graph(module_level_only=False)) == []


def test_the_graph_sees_imports():
    graph = import_graph(module_level_only=False)
    assert "actlint.results" in graph["actlint.cache"] and "actlint.prefilter" in graph["actlint.engine"]
    assert cycles({"a": ["b"], "b": ["a"], "c": ["a"]}) == [["a", "b"]]


def test_no_frontend_imports_the_rules():
    graph = import_graph(module_level_only=False)
    assert [m for m in graph if m.startswith("actlint.frontends") and "actlint.checks" in graph[m]] == []
