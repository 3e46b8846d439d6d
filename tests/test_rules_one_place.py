"""One rule, one place: no module outside the op table decides math by an op's name.

The traces and practice read an op's row by key (``RULES[step["op"]]``) and its fields (kind,
roles, written form, derivative text, local derivative, loss form). This test reads the source
of ``glassgrad/trace``, ``glassgrad/practice`` and ``glassgrad/lessons`` and fails on:

* a comparison with an op name (``op.name == "relu"``, ``entry.get("op") in ("mse_loss", …)``);
* in trace and practice, a table written with op names (``{"relu": …}``, ``{"mse_loss", …}``), a table
  keyed by the name of a row (``{ops.RELU.name: …}``, ``{(ops.LINEAR.name, "forward"): …}``) or a
  method picked by name (``getattr(self, f"_cell_{name}")``).

``playground/`` is checked in ``tests/test_playground_trace_steps.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import glassgrad
from glassgrad.ops import RULES

PACKAGE = Path(glassgrad.__file__).parent
AMBIGUOUS = {"mean", "sum", "max", "min", "linear"}
"""Op names that are also everyday words of the code (a reduction, a step kind)."""
NAMES_AN_OP = re.compile(r"""\bop\b|\bname\b|["'](op|name)["']""")
SKIPPED: set[str] = set()


def _sources(folders: tuple[str, ...]) -> list[Path]:
    return [path for folder in folders for path in sorted((PACKAGE / folder).rglob("*.py"))
            if str(path.relative_to(PACKAGE)) not in SKIPPED]


def _op_names(node: ast.AST) -> set[str]:
    """The op names written as string constants in ``node`` (itself or the items of a literal collection)."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return {item.value for item in items if isinstance(item, ast.Constant) and item.value in RULES}


def name_comparisons(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for side in sides:
                others = [ast.unparse(other) for other in sides if other is not side]
                if _op_names(side) and any(NAMES_AN_OP.search(text) for text in others):
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
                    break
    return found


def _row_names(node: ast.AST | None) -> list[str]:
    """The row names read in ``node`` (``ops.RELU.name``, ``RELU.name``, also inside a tuple key)."""
    if node is None:
        return []
    return [ast.unparse(part) for part in ast.walk(node) if isinstance(part, ast.Attribute) and part.attr == "name"
            and isinstance(part.value, (ast.Attribute, ast.Name)) and ast.unparse(part.value).split(".")[-1].isupper()]


def name_tables(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = node.keys
        else:
            keys = node.elts if isinstance(node, (ast.Set, ast.Tuple, ast.List)) else []
        names = {key.value for key in keys if isinstance(key, ast.Constant) and key.value in RULES}
        if names - AMBIGUOUS:
            found.append(f"line {node.lineno}: a table of op names {sorted(names)}")
        if isinstance(node, ast.Dict) and (rows := [name for key in node.keys for name in _row_names(key)]):
            found.append(f"line {node.lineno}: a table keyed by row names {sorted(set(rows))}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and len(node.args) >= 2 and isinstance(node.args[1], ast.JoinedStr)):
            found.append(f"line {node.lineno}: a method picked by name: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", _sources(("trace", "practice", "lessons")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_comparison_with_an_op_name(path):
    assert name_comparisons(ast.parse(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("path", _sources(("trace", "practice")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_table_keyed_by_op_names(path):
    assert name_tables(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_checks_catch_what_they_are_for():
    """The checks flag the shapes of code they forbid (and leave a reduction's name alone)."""
    sample = ast.parse(
        'if record.op.name == "mse_loss": pass\n'
        'if entry.get("op") in ("relu", "sigmoid"): pass\n'
        'NAMES = {"relu": "ReLU"}\n'
        'LOSSES = {"mse_loss", "cross_entropy"}\n'
        'cell = getattr(self, f"_cell_{name}")\n'
        'if reduction == "mean": pass\n'
        'scale = {"mean": 1, "sum": 2}\n'
        'STEP_RULES = {(ops.LINEAR.name, "forward", None): "affine", (ops.RELU.name, "forward", None): "relu"}\n'
        'LOCAL = {RELU.name: "ReLU\'"}\n'
        'roles = {item.name: item for item in items}\n')
    assert len(name_comparisons(sample)) == 2
    assert len(name_tables(sample)) == 6
