"""Signs: written and coloured where a number can be either sign, left off where it cannot (a loss,
an accuracy, an error size); one colour scheme in the terminal, the HTML trace and the playground."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.lessons.diagonal_flip import gradient_check_document
from glassgrad.trace import render
from glassgrad.trace.numbers import SIGN_COLOURS, format_number
from glassgrad.trace.render_html import STYLE
from glassgrad.trace.render_text import matrix_markup, render_text
from glassgrad.trace.sections import Table, blocks

APP_CSS = Path(__file__).resolve().parents[1] / "glassgrad" / "playground" / "static" / "app.css"


def _document(rows):
    return {"title": "t", "tables": [{"title": "Epochs", "columns": ["epoch", "loss", "accuracy", "change"],
                                      "rows": rows}]}


def test_always_positive_columns_get_no_plus():
    document = _document([["1", 0.8452, 0.9499, -0.02], ["2", 5.0e36, 0.95, 0.01]])
    for form in ("text", "md", "html"):
        shown = render_text(document) if form == "text" else render(document, form)
        assert "+0.9499" not in shown and "0.9499" in shown, form
        assert "+5.0e+36" not in shown and "5.0e+36" in shown, form
        assert "-0.0200" in shown and "+0.0100" in shown, form  # a column with both signs keeps them
    (table,) = [block for block in blocks(document) if isinstance(block, Table)]
    assert [row[2] for row in table.rows] == ["0.9499", "0.9500"]  # text: shown uncoloured


def test_gradcheck_error_sizes_and_the_loss_are_unsigned():
    text = render_text(gradient_check_document(), width=140)
    assert "+1.4e-10" not in text and re.search(r"│ 1\.4e-10", text)
    assert "+0.1150" in text  # the gradients keep their signs


@given(st.floats(-1e9, 1e9, allow_nan=False))
def test_unsigned_differs_from_signed_only_by_the_plus(value):
    assert format_number(value).removeprefix("+") == format_number(value, signed=False)


def test_one_colour_scheme_everywhere():
    positive, negative = SIGN_COLOURS["positive"], SIGN_COLOURS["negative"]
    css = APP_CSS.read_text(encoding="utf-8")
    assert f"--positive: {positive};" in css and f"--negative: {negative};" in css
    assert f".pos {{ color: {positive}; }}" in STYLE and f".neg {{ color: {negative}; }}" in STYLE
    markup = matrix_markup(np.array([0.5, -0.5]))
    assert f"[{positive}]+0.5000[/]" in markup and f"[{negative}]-0.5000[/]" in markup
    assert "green" not in markup and "red" not in markup
