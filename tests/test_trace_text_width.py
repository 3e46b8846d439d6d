"""Matrices in the terminal never wrap inside a row: at any width a row reads whole, or the matrix is
folded by columns under headings that say which columns are shown."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.lessons.diagonal_flip import gradient_check_document
from glassgrad.trace.numbers import matrix_cells
from glassgrad.trace.render_text import matrix_lines, render_text

ROW = re.compile(r"^\[[^\[\]]*\]$")


def _cells(text: str) -> list[str]:
    """The text of every table cell on every line of a rendered table."""
    return [cell.strip() for line in text.splitlines() if "│" in line for cell in line.split("│")[1:-1]]


def test_gradcheck_rows_are_whole_at_80_and_110_columns():
    document = gradient_check_document()
    for width in (80, 110, 140):
        text = render_text(document, width=width)
        bracketed = [cell for cell in _cells(text) if "[" in cell or "]" in cell]
        assert bracketed and all(ROW.match(cell) for cell in bracketed), (width, bracketed)
        assert max(len(line) for line in text.splitlines()) <= width
        weight = text[text.index("0.weight"):text.index("0.bias")]
        numbers = [cell for cell in _cells(weight) if cell.startswith("[") and cell != "[3, 4]"]
        assert sum(len(cell.strip("[]").split()) for cell in numbers) == 2 * 12  # backprop and finite differences


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(12, 120), st.integers(0, 2**32 - 1))
def test_a_folded_matrix_keeps_every_row_whole_and_every_entry(rows, columns, width, seed):
    values = np.random.default_rng(seed).normal(size=(rows, columns))
    lines = matrix_lines(values, max_width=width)
    cell_width = len(matrix_cells(values)[0][0][0])
    assert all(len(line) <= max(width, cell_width + 2, len(f"columns 1–2 of {columns}")) for line in lines)
    groups, current = [], None
    for line in lines:
        if line.startswith("column"):
            current = []
            groups.append(current)
        else:
            assert ROW.match(line)
            if current is None:
                current = []
                groups.append(current)
            current.append(line.strip("[]").split())
    rebuilt = [sum((group[r] for group in groups), []) for r in range(rows)]
    assert rebuilt == [[cell.strip() for cell in row] for row in matrix_cells(values)[0]]
