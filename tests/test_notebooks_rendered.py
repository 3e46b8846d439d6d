"""A lesson notebook, executed and converted to HTML with nbconvert, as a reader sees it in Chromium:
the engine's numbers are in the page, and wide displays scroll inside their own box, never the page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from browser import SCREENSHOTS, VIEWPORTS, assert_no_sideways_scroll, chromium

from glassgrad.lessons.diagonal_flip import INPUT, LESSON_WEIGHTS
from glassgrad.notebooks import find_notebook
from glassgrad.trace.numbers import format_number

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
nbconvert = pytest.importorskip("nbconvert", reason="the dev extra installs nbconvert")


class Text(HTMLParser):
    """The page's visible text (scripts and styles left out)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skipping -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """Notebook 5 (the diagonal flip), executed as given and converted to one HTML file."""
    notebook = nbformat.read(find_notebook("diagonal-flip"), as_version=4)
    folder = tmp_path_factory.mktemp("rendered")
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    body, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    path = folder / "05-diagonal-flip.html"
    path.write_text(body, encoding="utf-8")
    return path


def _prediction_by_hand() -> np.ndarray:
    """ŷ = W₂·ReLU(W₁·x + b₁) + b₂ with the lesson's weights, in NumPy."""
    w1, b1, w2, b2 = (np.array(LESSON_WEIGHTS[key]) for key in ("0.weight", "0.bias", "2.weight", "2.bias"))
    return w2 @ np.maximum(w1 @ np.array(INPUT) + b1, 0) + b2


def test_the_rendered_notebook_shows_the_engines_numbers(rendered):
    text = Text(rendered.read_text(encoding="utf-8")).text
    prediction = " ".join(format_number(v) for v in _prediction_by_hand())
    assert f"tensor · shape (1, 4) · float64 · grad_fn=linear {prediction}" in text
    assert "Sequential · 31 parameters" in text
    assert text.count("Not answered yet") == 3 and "Traceback" not in text and "Error" not in text


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_wide_displays_scroll_in_their_own_box(rendered, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[size])
        # nbconvert's page names CDN scripts (MathJax, require.js) that this machine cannot reach; the
        # notebook's own outputs need none of them
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        page.goto(rendered.as_uri())
        page.screenshot(path=str(SCREENSHOTS / f"notebook-05-{size}.png"), full_page=True)
        assert_no_sideways_scroll(page, f"the rendered notebook at {size}")
        boxes = page.evaluate("""() => [...document.querySelectorAll('.gg-box')].map(box => ({
            kind: box.className, scroll: box.scrollWidth, client: box.clientWidth,
            overflow: getComputedStyle(box).overflowX, right: box.getBoundingClientRect().right}))""")
        assert {box["kind"] for box in boxes} >= {"gg-box gg-module", "gg-box gg-tensor", "gg-box gg-problem"}
        width = VIEWPORTS[size]["width"]
        for box in boxes:
            assert box["overflow"] == "auto" and box["right"] <= width, box
        if size == "phone":  # the model's layer list is wider than a phone: its box scrolls, the page does not
            module = next(box for box in boxes if box["kind"] == "gg-box gg-module")
            assert module["scroll"] > module["client"]
