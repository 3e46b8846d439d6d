"""Round 113: what a learner reads on the pages glassgrad writes and in its experiments' labels.

* On a phone (390 px) the tour's report and ``glassgrad gradcheck --format html`` broke ``1.4e-10`` after its
  hyphen inside a table cell: no number on any page glassgrad writes breaks across lines now (its table
  scrolls in its own box), at 390×844 and 1280×800.
* The tour's computational graph is wider than a laptop's page and scrolled sideways with nothing saying
  so: while more of it is to the right, its right edge is shaded and a line says "scroll sideways".
* The learning-rate experiment said "trained for 100 steps" beside "fell … in 99 steps" (it kept the loss
  before each step, not the one after the last), and "fell by only 0%" for a fall of 0.16%.
* The playground's Landscape wrote "The step" with ``=`` or ``≈`` by its own copy, in JavaScript, of the rule
  :func:`glassgrad.trace.numbers.relation` has; the server now sends the relation.

Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import io
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from browser import SCREENSHOTS, VIEWPORTS, assert_no_sideways_scroll, assert_seen, chromium, require_playwright
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.lessons import lesson
from glassgrad.lessons.diagonal_flip import gradient_check_document
from glassgrad.lessons.experiments import classify, learning_rate
from glassgrad.lessons.landscape import landscape
from glassgrad.lessons.tour import run_tour
from glassgrad.trace import numbers
from glassgrad.trace.numbers import format_number
from glassgrad.trace.render_html import render_html
from glassgrad.trace.scalar import render_scalar

LANDSCAPE_JS = Path(__file__).resolve().parents[1] / "glassgrad" / "playground" / "static" / "landscape.js"

BROKEN_NUMBERS = r"""() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const number = /[+\-−]?\d+(?:\.\d+)?(?:e[+\-]\d+)?%?/g;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("svg, style")) continue;
    for (const match of node.textContent.matchAll(number)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """Every kind of HTML page glassgrad writes, written as the commands write them."""
    folder = tmp_path_factory.mktemp("pages")
    written = {"tour": run_tour(folder / "tour", quiet=True)}
    for name, text in {"trace": render_html(lesson("mlp3")), "gradcheck": render_html(gradient_check_document()),
                       "scalar": render_scalar(lesson("diagonal-flip"), "html"),
                       "experiment": render_html(learning_rate(steps=20).document())}.items():
        written[name] = folder / f"{name}.html"
        written[name].write_text(text, encoding="utf-8")
    for name, command in {"practice": ["practice", "generate", "--seed", "3", "--count", "7", "--format", "html"],
                          "sheet": ["practice", "sheet", "--format", "html"]}.items():
        written[name] = folder / f"{name}.html"
        assert main([*command, "--out", str(written[name])]) in (0, None)
    return written


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_no_number_on_any_page_breaks_across_lines(pages, size):
    require_playwright()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[size])
        for name, path in pages.items():
            page.goto(path.as_uri())
            assert page.evaluate(BROKEN_NUMBERS) == [], f"numbers broken across lines on the {name} page at {size}"
            assert_no_sideways_scroll(page, f"the {name} page")
            if name == "gradcheck":  # the table that broke 1.4e-10: its cells are whole, and it scrolls in its box
                cell = page.locator("table.plain td", has_text=re.compile(r"^\d\.\de-\d\d$")).first
                assert_seen(cell, "a max |error| cell")
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"gradcheck-numbers-{VIEWPORTS[size]['width']}.png"))


HINT_SHOWN = "figure => getComputedStyle(figure.querySelector('.scroll-hint')).display !== 'none'"


def _edge_shade(figure) -> float:
    """How dark the figure's rightmost 3 px are on the average (0 white, 255 black)."""
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(figure.screenshot())).convert("L"), dtype=float)
    return 255 - float(image[:, -3:].mean())


def test_the_tours_wide_graph_says_it_scrolls_sideways_until_its_end_is_reached(pages):
    require_playwright()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS["wide"])
        page.goto(pages["tour"].as_uri())
        figure = page.locator("figure.scrolls:has(svg)").first
        figure.scroll_into_view_if_needed()
        assert figure.evaluate("f => f.scrollWidth > f.clientWidth + 50"), "the graph fits: nothing to test"
        hint = figure.locator(".scroll-hint")
        assert_seen(hint, "the line saying the graph scrolls sideways")
        assert hint.inner_text() == "scroll sideways to see the whole graph →"
        shaded = _edge_shade(figure)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "tour-graph-scrolls-1280.png"))
        figure.evaluate("f => { f.scrollLeft = f.scrollWidth; }")
        page.wait_for_function(f"() => !({HINT_SHOWN})(document.querySelector('figure.scrolls:has(svg)'))")
        assert shaded > _edge_shade(figure) + 20, "the right edge is no darker while more is to the right"
        assert not hint.is_visible()


def test_a_graph_that_fits_has_no_scroll_hint(tmp_path):
    require_playwright()
    x = gg.tensor([2.0, -0.5], requires_grad=True)
    with gg.trace() as tape:
        (x * x).sum().backward()
    path = tmp_path / "small.html"
    path.write_text(render_html(tape.describe()), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS["wide"])
        page.goto(path.as_uri())
        figure = page.locator("figure.scrolls:has(svg)").first
        assert figure.evaluate("f => f.scrollWidth <= f.clientWidth")
        assert not figure.evaluate(HINT_SHOWN)
        assert _edge_shade(figure) < 10, "the edge is shaded though nothing is hidden"


def test_percent_text_shows_a_small_share_as_nonzero():
    assert classify([1.0, 0.9992, 0.9984])[1] == "the loss fell by only 0.16% in 2 steps"
    assert [numbers.percent_text(share) for share in (0.76, 0.005, 0.00499, 0.0016, 0.0)] == ["76%", "1%", "0.50%",
                                                                                       "0.16%", "0%"]
    assert numbers.percent_text(0.000125) == "0.013%"  # 0.0125 %, a half away from zero (the float is just above)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-9, max_value=0.0049999))
def test_a_share_that_rounds_to_0_percent_reads_back_within_its_last_digit(share):
    text = numbers.percent_text(share)
    shown = float(text.rstrip("%"))
    decimals = len(text.rstrip("%").split(".")[1])
    assert shown > 0 and abs(shown - 100 * share) <= 0.5 * 10**-decimals * (1 + 1e-9)
    assert 2 <= len(text.rstrip("%").split(".")[1].lstrip("0")) <= 3  # two significant digits (three at 0.100%)


def test_the_learning_rate_experiment_counts_its_steps_one_way():
    short, longer = learning_rate((0.001, 0.1), steps=5), learning_rate((0.001, 0.1), steps=6)
    assert "trained for 5 steps" in short.explanation[0]
    for rate in (0.001, 0.1):
        losses = short.data["runs"][rate]["losses"]
        assert len(losses) == 6  # before the first step and after each of the 5
        assert losses == longer.data["runs"][rate]["losses"][:6]  # the loss after 5 steps, as 6 steps' run has it
    assert short.data["runs"][0.001]["why"].endswith(" in 5 steps")
    row = short.tables[0]["rows"][0]
    assert row[2] == short.data["runs"][0.001]["losses"][-1]  # "last loss": after the last step


def test_the_learning_rate_experiments_last_loss_is_pytorchs_after_the_same_steps():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    from glassgrad.data import diagonal_flip
    from glassgrad.lessons.diagonal_flip import lesson_model

    model = lesson_model().float()
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4))
    net.load_state_dict({key: torch.tensor(value.numpy()) for key, value in model.state_dict().items()})
    inputs, targets = (torch.tensor(part.numpy()) for part in diagonal_flip()[:])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(inputs), targets).backward()
        optimizer.step()
    expected = torch.nn.functional.mse_loss(net(inputs), targets).item()
    assert math.isclose(learning_rate((0.1,), steps=5).data["runs"][0.1]["losses"][-1], expected, rel_tol=1e-6)


def test_the_landscape_sends_each_steps_relation_and_the_page_only_shows_it():
    data = landscape(steps=6, grid_points=5)
    seen = set()
    for walk in (*data["paths"], *data["slice_1d"]["paths"]):
        points = walk["points"]
        for point, following in zip(points, points[1:]):
            for k, sent in enumerate(point["relation"]):
                # round 115: "=" exactly when w − η·g, done on the numbers as the page writes them, is the next w
                w, g, after = (Fraction(format_number(value)) for value in
                               (point["weights"][k], point["gradient"][k], following["weights"][k]))
                assert sent == ("=" if w - Fraction(repr(walk["learning_rate"])) * g == after else "≈")
                seen.add(sent)
        assert "relation" not in points[-1]  # no step after the last point
    assert seen == {"=", "≈"}
    script = LANDSCAPE_JS.read_text(encoding="utf-8")
    assert "relationOf" not in script and "Number(text)" not in script  # the rule is not written twice
    assert "point.relation[0]" in script and "point.relation[1]" in script
