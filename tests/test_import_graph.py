"""The library's layers import downward only, and without a cycle, counting the imports inside
functions too (a lazy import only hides a cycle).

The layers, lowest first: files, method/, data/, training/, study/, tools/. A module imports
only its own layer and those below it, so method/ knows no data set, run, profile or chapter, and
nothing in the library imports tools/.
"""
from __future__ import annotations

import ast
from pathlib import Path

import inpaint

PACKAGE = Path(inpaint.__file__).parent
LAYERS = ("files", "method", "data", "training", "study", "tools")


def module_names() -> dict[str, Path]:
    """{"study.gans": path, ...}: every module of the package, by its dotted name under inpaint."""
    return {".".join(p.relative_to(PACKAGE).with_suffix("").parts): p
            for p in PACKAGE.rglob("*.py")}


def imports(path: Path, modules) -> set[str]:
    """The package modules a module imports anywhere in its source (absolute imports only: the
    library has no relative ones)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import; import from inpaint.<layer>"
            base = node.module.removeprefix("inpaint").lstrip(".") if node.module else ""
            if not (node.module or "").startswith("inpaint"):
                continue
            if base in modules:
                found.add(base)
            found.update(f"{base}.{a.name}".lstrip(".") for a in node.names
                         if f"{base}.{a.name}".lstrip(".") in modules)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("inpaint.") for a in node.names
                         if a.name.removeprefix("inpaint.") in modules)
    return found


def graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports(path, modules) - {name} for name, path in modules.items()}


def layer(module: str) -> int:
    """The layer's rank (files 0 ... tools 5); the package's __init__ and __main__ are above all."""
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else len(LAYERS)


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_even_inside_functions():
    found = cycle(graph())
    assert found is None, " -> ".join(found)


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_each_layer_imports_only_itself_and_the_layers_below():
    upward = sorted(f"{module} imports {other}" for module, others in graph().items()
                    for other in others if layer(other) > layer(module))
    assert not upward, "; ".join(upward)


def test_the_layering_check_sees_an_upward_import():
    edges = {"method.masks": {"study.profiles"}, "study.profiles": set()}
    upward = [m for m, others in edges.items() for o in others if layer(o) > layer(m)]
    assert upward == ["method.masks"]
    assert set(LAYERS) <= {name.split(".")[0] for name in module_names()}  # every layer exists
