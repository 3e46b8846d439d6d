"""The README's first Python example runs and prints what the README says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _first_example() -> tuple[str, list[str]]:
    """The first ```python block and the ```text block that follows it (its expected output, '…' = more)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```.*?```text\n(.*?)```", text, re.S)
    assert match, "the README has no Python example followed by its output"
    return match.group(1), match.group(2).rstrip("\n").split("\n")


def test_the_readme_example_prints_the_lessons_numbers():
    code, expected = _first_example()
    assert expected[-1] == "…" and "loss 0.8963" in expected  # the diagonal-flip lesson's loss
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=README.parent)
    assert ran.returncode == 0, ran.stderr
    printed = ran.stdout.split("\n")
    assert printed[:len(expected) - 1] == expected[:-1]
    assert "∂L/∂W₂ = ∂L/∂ŷ·A₁ᵀ" in ran.stdout  # the trace's tables follow
