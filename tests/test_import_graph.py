"""The package's imports form no cycle: every module can be read after the ones it uses.

The walk reads every ``import`` in every module — at the top and inside functions (a lazy
import hides a cycle, it does not remove it) — plus ``import_module("glassgrad.…")`` calls
(an f-string stands for every module under its literal prefix). Imports under
``if TYPE_CHECKING:`` are for type hints only and never run, so they are left out.
``from package import name`` is an edge to the submodule when ``name`` is one, and to the
package's ``__init__`` otherwise.
"""

from __future__ import annotations

import ast
from pathlib import Path

import glassgrad

PACKAGE_ROOT = Path(glassgrad.__file__).parent


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = _module_names()


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST):
    """Every import node of ``tree`` that can run (skipping ``if TYPE_CHECKING:`` bodies)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_type_checking_block(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module") and node.args:
            yield ast.Import(names=[ast.alias(name=name) for name in _named_modules(node.args[0])])
        stack.extend(ast.iter_child_nodes(node))


def _named_modules(argument: ast.AST) -> list[str]:
    """The modules an ``import_module`` argument can name: a literal, or every module under an f-string's prefix."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return [argument.value]
    if isinstance(argument, ast.JoinedStr) and argument.values and isinstance(argument.values[0], ast.Constant):
        prefix = argument.values[0].value
        return [name for name in MODULES if name.startswith(prefix) and name != prefix.rstrip(".")]
    return []


def _targets(module: str, is_package: bool, node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in MODULES}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    if source not in MODULES:
        return set()
    found = {f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in MODULES}
    if len(found) < len(node.names):
        found.add(source)  # a name defined in the module (or package __init__) itself
    return found


def import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports}`` over the whole package."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        graph[name] = set().union(*(_targets(name, is_package, node) for node in _imports(tree))) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        state[start] = 1
        stack = [iter(sorted(graph[start]))]
        while stack:
            for nxt in stack[-1]:
                if state.get(nxt) == 1:
                    return path[path.index(nxt):] + [nxt]
                if nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(sorted(graph[nxt])))
                    break
            else:
                state[path.pop()] = 2
                stack.pop()
    return None


def test_the_walk_sees_lazy_imports_and_finds_a_planted_cycle():
    graph = import_graph()
    assert "glassgrad.tensor" in graph["glassgrad.nn.module"]
    assert "glassgrad.commands.train" in graph["glassgrad.cli"]  # import_module(f"glassgrad.commands.{name}")
    planted = {**graph, "glassgrad.ops": graph["glassgrad.ops"] | {"glassgrad.tensor"}}
    cycle = find_cycle(planted)
    assert cycle is not None and cycle[0] == cycle[-1]


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle)
