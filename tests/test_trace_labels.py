"""A trace step's label never reads as two numbers ("2. 2 (Linear)"): the step number, then the layer
as its model indexes it, marked as the code's index ("3. Linear (model[2] in code)"); an HTML trace and a
graph fit a phone-width page."""

from __future__ import annotations

import re

import glassgrad as gg
from glassgrad.lessons.diagonal_flip import lesson_model, sample
from glassgrad.trace import trace
from glassgrad.trace.render_text import render_text
from glassgrad.trace.sections import Steps, blocks


def _tape():
    model = lesson_model()
    x, y = sample()
    with trace(model) as tape:
        gg.nn.functional.mse_loss(model(x), y).backward()
    return tape


def test_step_labels_name_the_layer_by_its_index_in_the_model():
    document = _tape().describe()
    labels = [row.step for block in blocks(document) if isinstance(block, Steps) for row in block.rows]
    assert labels[:3] == ["1. Linear (model[0] in code)", "2. ReLU (model[1] in code)", "3. Linear (model[2] in code)"]
    assert not any(re.match(r"^\d+\. \d", label) for label in labels), labels
    text = render_text(document, width=120)  # the terminal writes the code's index under the step's name
    assert re.search(r"│ 2\. ReLU +│.*\n│ \(model\[1\] in code\) *│", text), text


def test_an_html_trace_and_its_graph_fit_a_phone(tmp_path):
    from browser import chromium

    tape = _tape()
    page_file = tmp_path / "trace.html"
    page_file.write_text(tape.render("html"), encoding="utf-8")
    graph_file = tmp_path / "graph.html"
    graph_file.write_text(f"<!doctype html><meta name=viewport content='width=device-width'><body>{tape.graph()}",
                          encoding="utf-8")
    with chromium() as launched:
        page = launched.new_page(viewport={"width": 390, "height": 844})
        for path in (page_file, graph_file):
            page.goto(path.as_uri())
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, f"{path.name} is {wide} px wide on a 390 px phone"
