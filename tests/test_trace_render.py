"""Every renderer on the diagonal-flip trace: text shows the 31 gradients, Markdown and HTML are
well-formed, JSON round-trips in full precision."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.lessons import diagonal_flip
from glassgrad.trace import render
from glassgrad.trace.numbers import PRECISION_NOTE, format_number
from glassgrad.trace.render_json import render_json, to_jsonable, values_array
from glassgrad.trace.render_text import render_text


@pytest.fixture(scope="module")
def document():
    return diagonal_flip.run()


def gradient_strings(document) -> list[str]:
    return [format_number(v) for values in document["gradients"].values() for v in np.ravel(values)]


def test_text_shows_all_31_gradients_as_formatted_and_states_the_rounding(document):
    text = render(document, "text")
    shown = gradient_strings(document)
    assert len(shown) == 31
    for value in shown:
        assert value in text
    assert "+0.1150" in text and "-0.5500" in text and "0" in shown  # signs written; exact zeros plain
    assert PRECISION_NOTE in " ".join(text.split())  # whole, or wrapped at the width (xdist sets COLUMNS=80)
    assert "Z₁ = W₁·X + b₁" in text and "∂L/∂W₂ = ∂L/∂ŷ·A₁ᵀ" in text


def test_text_keeps_matrix_rows_whole_in_an_80_column_terminal_and_wraps_only_when_narrower(document):
    rows = ["[" + "".join(format_number(v) for v in row) + "]" for row in document["gradients"]["0.weight"]]
    wide = ["".join(line.split()) for line in render_text(document, width=80).splitlines()]
    for row in rows:  # each row of ∂L/∂W₁ on one line of the gradients table
        assert any(row in line for line in wide), row
    narrow = render_text(document, width=60)
    assert max(len(line) for line in narrow.splitlines()) <= 60
    for value in gradient_strings(document):  # wrapped, never cut
        assert value in narrow


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_tables_are_rectangular_and_headed(document):
    markdown = render(document, "md")
    lines = markdown.splitlines()
    assert lines[0].startswith("# ")
    tables = 0
    for number, line in enumerate(lines):
        if re.fullmatch(r"\|(---\|)+", line):
            tables += 1
            width = _cells(lines[number - 1])
            assert line.count("---") == width
            body = number + 1
            while body < len(lines) and lines[body].startswith("|"):
                assert _cells(lines[body]) == width, lines[body]
                body += 1
    assert tables >= 4  # forward, backward, gradients, update
    assert markdown.count("`") % 2 == 0
    for value in gradient_strings(document):
        assert value in markdown


VOID = {"meta", "br", "hr", "img", "input", "link", "path", "rect", "stop"}


class TagBalance(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.problems, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"(https?:)?//", value):
                self.external.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def check_html(page: str) -> None:
    parser = TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.problems == [] and parser.stack == []
    assert parser.external == [], "the page must not load anything from the network"
    assert "<script" not in page


def test_html_is_standalone_balanced_and_writes_signs(document):
    page = render(document, "html")
    assert page.startswith("<!DOCTYPE html>")
    check_html(page)
    for value in gradient_strings(document):
        assert f">{value}<" in page  # each number written as text, not only as a colour
    assert 'class="neg">-0.5500<' in page and "<svg" in page


def test_repr_html_is_a_fragment_for_jupyter():
    w = gg.tensor([1.0, -2.0], requires_grad=True)
    with gg.trace() as tape:
        (w * w).sum().backward()
    fragment = tape._repr_html_()
    assert fragment.startswith('<div class="gg-trace">')
    check_html(fragment)


def test_json_round_trips_with_full_precision(document):
    text = render(document, "json")
    loaded = json.loads(text)
    assert json.loads(render_json(loaded)) == loaded == to_jsonable(document)
    for name, values in document["gradients"].items():
        np.testing.assert_array_equal(values_array(loaded["gradients"][name]), values)  # bit for bit
        assert np.shape(loaded["parameters"][name]) == np.shape(values)
    assert loaded["loss"] == {"name": "mse_loss", "symbol": "L", "value": document["loss"]["value"],
                              "reduction": "mean"}
    for step in loaded["forward"] + loaded["backward"]:
        assert {"formula", "inputs", "output"} <= set(step)


def test_json_writes_non_finite_numbers_as_strings():
    text = render_json({"values": np.array([1.5, np.nan, np.inf, -np.inf])})
    assert json.loads(text) == {"values": [1.5, "nan", "inf", "-inf"]}
    back = values_array(json.loads(text)["values"])
    assert back[0] == 1.5 and math.isnan(back[1]) and back[2] == np.inf and back[3] == -np.inf


def test_unknown_format_is_named():
    with pytest.raises(ValueError, match="text, md, html, json"):
        render({"title": "t"}, "pdf")


@given(st.floats(-1e5, 1e5, allow_nan=False))
def test_format_number_rounds_to_4_decimals_and_keeps_the_sign(value):
    text = format_number(value)
    if value == 0:
        assert text == "0"
        return
    assert text[0] == ("+" if value > 0 else "-")
    if "e" in text:  # tiny (or huge) values: two significant digits
        assert abs(float(text) - value) <= 0.051 * abs(value)
    else:
        assert abs(float(text) - value) <= 0.5e-4 + 1e-12
