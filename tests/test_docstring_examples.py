"""Every ``>>>`` example in glassgrad's docstrings runs and prints what it shows.

A learner reads a module's docstring as its documentation; an example whose printed number is not the engine's is a
wrong number shown to them (``summation``'s example said ``100000.0`` where the sum is ``100000.0859375``).
"""

from __future__ import annotations

import doctest
import importlib
import pathlib

import pytest

import glassgrad as gg

PACKAGE = pathlib.Path(gg.__file__).parent


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = ("glassgrad",) + path.relative_to(PACKAGE).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_package_has_examples_to_check() -> None:
    assert len(MODULES) > 100  # the walk found the package's docstrings, so the test below checks something


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_print_what_they_show(name: str, tmp_path: pathlib.Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, extraglobs={"gg": gg}, optionflags=flags, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} print something else"
