"""The traces' wide drawings in Debian's Chromium, at a laptop's width (1280×800) and a phone's (390×844): the
computational graph of ``glassgrad trace NAME --format html`` (and of the tour's report, which embeds it) and the
scalar view of ``glassgrad trace NAME --scalar --format html``. Every box's text is at a readable size on the
screen, and the drawing scrolls sideways in its own box, never the page.

These drawings are 1,500 to 2,000 px wide; shrunk to the page's width their 12 px text came out at 5 to 7 px
on a laptop and 2 px on a phone. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re

import pytest
from browser import (
    READABLE_PX,
    SCREENSHOTS,
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_seen,
    chromium,
    require_playwright,
)

from glassgrad.lessons import lesson
from glassgrad.trace.render_html import render_html
from glassgrad.trace.scalar import render_scalar

require_playwright()

BOX_TEXT_SIZES = """() => {
  const svg = document.querySelector("figure svg");
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll("text")].map((text) => ({
    text: text.textContent, px: parseFloat(getComputedStyle(text).fontSize) * scale}));
}"""
PAGES = {  # the page, and the title of the box at the far right of its drawing
    "scalar": (lambda: render_scalar(lesson("diagonal-flip"), "html"), "L = Σ/4"),
    "graph": (lambda: render_html(lesson("mlp3")), "Z₃ = W₃·A₂ + b₃"),
}


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("drawing", list(PAGES))
def test_every_box_is_readable_and_the_drawing_scrolls_in_its_own_box(tmp_path, drawing, size):
    render, last_box = PAGES[drawing]
    path = tmp_path / f"{drawing}.html"
    path.write_text(render(), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[size])
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path.as_uri())
        sizes = page.evaluate(BOX_TEXT_SIZES)
        assert len(sizes) > 30
        for text in sizes:
            assert text["px"] >= READABLE_PX, f"box text {text['text']!r} is drawn at {text['px']:.1f} px"
        assert_no_sideways_scroll(page, f"the {drawing} page")
        figure = page.locator("figure:has(svg)").first
        assert figure.evaluate("el => el.scrollWidth > el.clientWidth"), "the drawing does not scroll in its own box"
        assert_seen(page.locator("h1"), "the title")
        last = page.locator("figure svg text", has_text=re.compile(f"^{re.escape(last_box)}$"))
        last.scroll_into_view_if_needed()
        box, width = last.bounding_box(), page.viewport_size["width"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{last_box}, scrolled to, is at {box}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"trace-{drawing}-{width}.png"))
        assert errors == [], f"errors in the page: {errors}"
