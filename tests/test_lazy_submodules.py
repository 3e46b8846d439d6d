"""``gg.lessons`` and ``gg.practice`` load on first use, in a fresh interpreter (where nothing imported them yet)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("name", ["lessons", "practice"])
def test_first_use_in_a_fresh_interpreter_loads_the_submodule(name, tmp_path):
    program = (f"import sys, glassgrad as gg\nassert 'glassgrad.{name}' not in sys.modules\n"
               f"print(gg.{name}.__name__, gg.{name} is sys.modules['glassgrad.{name}'])")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)  # not the checkout: the glassgrad under test, as installed or on PYTHONPATH
    assert result.returncode == 0, result.stderr[-400:]
    assert result.stdout.split() == [f"glassgrad.{name}", "True"]
