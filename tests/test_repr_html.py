"""Jupyter displays: every ``_repr_html_`` is well-formed HTML, shows the engine's numbers (read back here
from the markup), escapes text that comes from the user, and sits in a box that scrolls sideways."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg
from glassgrad.course import ChapterMap, check, load_course
from glassgrad.trace.numbers import SIGN_COLOURS, format_number

VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr", "source", "area", "base", "embed", "param",
        "track"}
SVG_LEAVES = {"line", "polyline", "circle", "rect", "path"}


class Page(HTMLParser):
    """Checks that tags nest and close, and collects what the tests read back: cells, tooltips, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, dict]] = []
        self.tags: list[str] = []
        self.matrices: list[list[tuple[str, str]]] = []  # per table.matrix: (class, text) of each cell
        self.titles: list[str] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()
        assert not self.open, f"unclosed tags: {[tag for tag, _ in self.open]}"

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag in VOID:
            return
        if tag == "table" and attributes.get("class") == "matrix":
            self.matrices.append([])
        self.open.append((tag, attributes))

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.open and self.open[-1][0] == tag, f"</{tag}> closes <{self.open[-1][0] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)
        if not self.open:
            return
        tag, attributes = self.open[-1]
        cells = [a for t, a in self.open if t == "td"]
        if cells and any(t == "table" and a.get("class") == "matrix" for t, a in self.open):
            self.matrices[-1].append((cells[-1].get("class", ""), data))
        if tag == "title":
            self.titles.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def _in_scroll_box(html: str) -> None:
    assert html.startswith('<div class="gg-box')
    assert "overflow-x:auto" in html.split("}")[0]


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=6),
                  elements=st.floats(-1e3, 1e3, allow_subnormal=False)))
def test_a_tensor_shows_its_own_numbers_signed_and_coloured(values):
    tensor = gg.tensor(values, dtype=gg.float64)
    html = tensor._repr_html_()
    page = Page(html)
    _in_scroll_box(html)
    cells = page.matrices[0] if values.ndim else []
    if values.ndim:
        assert [text for _, text in cells] == [format_number(v) for v in values.ravel()]
        for (css, text), value in zip(cells, values.ravel()):
            assert css == ("neg" if value < 0 else "pos" if value > 0 else "zero")
            assert math.isclose(float(text), value, rel_tol=1e-4, abs_tol=5e-5) or "e" in text
    else:
        assert format_number(values.item()) in page.all_text
    assert f"shape ({', '.join(map(str, values.shape))})" in page.all_text and "float64" in page.all_text


def test_a_tensor_shows_its_grad_and_how_it_was_made():
    x = gg.tensor([[0.5, -2.0], [3.0, 0.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    page = Page(x._repr_html_())
    assert "requires_grad" in page.all_text and "float32" in page.all_text
    values, grad = page.matrices
    assert [float(text) for _, text in grad] == pytest.approx(list(2 * x.numpy().ravel()))
    assert [float(text) for _, text in values] == pytest.approx(list(x.numpy().ravel()))
    assert "grad_fn=" + y.grad_fn.name in Page(y._repr_html_()).all_text
    assert f".gg-box .neg{{color:{SIGN_COLOURS['negative']}}}" in x._repr_html_()


def test_a_large_tensor_is_cut_and_says_so():
    page = Page(gg.arange(400.0).reshape(20, 20)._repr_html_())
    assert len(page.matrices[0]) == 8 * 8
    assert "first 8 of 20 rows and first 8 of 20 columns" in page.all_text


class Hostile(gg.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = gg.nn.Linear(2, 3)

    def config(self) -> dict:
        return {"note": "<script>alert(1)</script>"}


def test_a_module_lists_layers_with_counts_and_escapes_names():
    model = gg.nn.Sequential(gg.nn.Linear(4, 3), gg.nn.ReLU(), gg.nn.Linear(3, 2))
    model.add_module("<script>alert('x')</script>", Hostile())
    html = model._repr_html_()
    page = Page(html)
    _in_scroll_box(html)
    assert "script" not in page.tags
    assert "<script>alert('x')</script>" in page.all_text and "<script>alert(1)</script>" in page.all_text
    assert f"{model.num_parameters()} parameters" in page.all_text
    assert model.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2 + 2 * 3 + 3
    rows = html.split("<tr>")[2:]
    counts = [int(row.split("<td>")[1].split("<")[0].replace(",", "")) for row in rows if "<td>" in row
              and row.split("<td>")[1][:1].isdigit()]
    assert counts == [15, 8, 9, 9]  # Linear(4,3), Linear(3,2), Hostile, its Linear(2,3)


def test_frozen_parameters_are_counted_apart():
    model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.Linear(3, 1))
    model[0].weight.requires_grad_(False)
    text = Page(model._repr_html_()).all_text
    assert "13 parameters, 7 of them trainable" in text and "9 (6 frozen)" in text


def test_a_gradcheck_report_shows_its_passes_and_errors():
    x = gg.tensor([[0.3, -0.7, 1.1]], dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda t: (t.tanh() * t).sum(), [x])
    page = Page(report._repr_html_())
    assert "passed" in page.all_text and f"{report.forward_passes} forward passes" in page.all_text
    assert report.forward_passes == 2 * 3
    assert f"{report.inputs[0].max_abs_error:.3g}" in page.all_text


def test_a_failing_gradcheck_says_failed_and_where():
    def wrong(t):  # a gradient-free detour makes backprop see 0 where the slope is 1
        return (t.detach() * 0 + t.detach()).sum() + 0 * t.sum()

    x = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    page = Page(gg.gradcheck(wrong, [x])._repr_html_())
    assert "FAILED" in page.all_text and "✗ at" in page.all_text


def _history(epochs: int) -> gg.training.History:
    x = gg.tensor([[1.0], [2.0], [3.0]], dtype=gg.float64)
    model = gg.nn.Linear(1, 1, dtype=gg.float64)
    loader = gg.data.DataLoader(gg.data.TensorDataset(x, 2 * x), batch_size=3)
    return gg.fit(model, gg.nn.MSELoss(), gg.optim.SGD(model.parameters(), lr=0.05), loader, epochs=epochs,
                  val_loader=loader)


def test_a_history_draws_every_epochs_loss_as_svg():
    history = _history(6)
    html = history._repr_html_()
    page = Page(html)
    _in_scroll_box(html)
    for key in ("train_loss", "val_loss"):
        shown = [float(title.split()[-1]) for title in page.titles if key in title]
        assert shown == history[key]  # the exact values, epoch by epoch
    svg = ElementTree.fromstring(history._repr_svg_())
    circles = list(svg.iter("{http://www.w3.org/2000/svg}circle"))
    train = [(float(c.get("cx")), float(c.get("cy"))) for c in circles if "train_loss" in c[0].text]
    losses = history["train_loss"]
    assert [x for x, _ in train] == sorted(x for x, _ in train)
    assert np.argsort([y for _, y in train]).tolist() == np.argsort([-v for v in losses]).tolist()
    assert format_number(losses[-1], signed=False) in page.all_text


def test_an_empty_history_says_so():
    assert "no epochs yet" in Page(gg.training.History()._repr_html_()).all_text


def test_a_practice_problem_shows_its_numbers_and_the_blank():
    problem = gg.practice.generate("relu-backward", seed=506)
    page = Page(problem._repr_html_())
    cells = [text for matrix in page.matrices for _, text in matrix]
    expected = [gg.practice.number_text(v) if v is not None else "?" for values in problem.tensors.values()
                for v in values.ravel()]
    assert cells == expected
    assert problem.equation in page.all_text


def test_a_check_escapes_the_learners_text():
    page = Page(check("<b>3</b>", 3)._repr_html_())
    assert "b" not in page.tags and "<b>3</b>" in page.all_text


def test_the_tape_and_the_chapter_map_are_well_formed():
    x = gg.tensor([[1.0, -2.0]], requires_grad=True)
    with gg.trace() as tape:
        (x * x).sum().backward()
    Page(tape._repr_html_())
    Page(ChapterMap(load_course(), set())._repr_html_())


def test_a_loss_falling_a_thousandfold_is_drawn_on_a_log_scale():
    losses = [10.0, 1.0, 0.1, 0.01]
    history = gg.training.History([{"epoch": i + 1, "train_loss": loss} for i, loss in enumerate(losses)])
    svg = ElementTree.fromstring(history._repr_svg_())
    heights = [float(c.get("cy")) for c in svg.iter("{http://www.w3.org/2000/svg}circle")]
    steps = np.diff(heights)
    assert np.allclose(steps, steps[0]) and steps[0] > 0  # equal steps for equal ratios: log₁₀ L is a straight line
    assert "log scale" in "".join(svg.itertext())
    linear = gg.training.History([{"epoch": i + 1, "train_loss": loss} for i, loss in enumerate([4.0, 3.0, 1.0])])
    heights = [float(c.get("cy")) for c in ElementTree.fromstring(linear._repr_svg_()).iter(
        "{http://www.w3.org/2000/svg}circle")]
    assert np.isclose((heights[1] - heights[0]) * 2, heights[2] - heights[1])  # 4→3 is half of 3→1
    assert "log scale" not in linear._repr_svg_()


def test_a_history_with_a_nan_loss_still_draws():
    history = gg.training.History([{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": float("nan")}])
    svg = ElementTree.fromstring(history._repr_svg_())
    assert len(list(svg.iter("{http://www.w3.org/2000/svg}circle"))) == 1
    Page(history._repr_html_())
