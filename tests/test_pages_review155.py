"""Round 155: the playground's pages in a browser, as a learner and a teacher see them, at 1280×800 and 390×844.

Every view (step-through, Train, Practice, Course, Landscape, Every number, Code) was opened, used, given bad
input and screenshotted; what a person saw wrong is held here:

* the landscape map's corner: the lowest mark up (-0.30) and the first mark across (-0.67) were set a fixed
  number of units apart, and their size grows on a narrow screen to stay readable: on a phone their digits ran
  into one another, on a laptop 2 px apart;
* pressing Tab through the step-through's diagram or the graph of every number on a phone stopped on boxes the
  page did not show: the browser scrolls only a box it cannot see at all, so a "+" box was left 3 px inside the
  scroll box's edge (2 % of it seen) and a last-column neuron cut in half;
* on a phone the explanation sits over the bottom of the step-through's screen, and Tab stopped on numbers under
  it (63 of 120 stops: X[2], the diagram's lower neurons, whole rows of W₁…): the browser took a number anywhere
  on the screen as seen;
* Compare with the learning rates "0.1, abc" said "Learning rates is missing: give a number": the page sent
  "abc" as NaN, which JSON writes as null, a rate left out.

Playwright drives Debian's Chromium with no network.
"""

from __future__ import annotations

import pytest
from browser import VIEWPORTS, assert_seen, offline_page, require_playwright
from test_playground_browser import browser, server  # noqa: F401  (fixtures shared with those tests)
from test_playground_visual_audit89 import refused  # noqa: F401  (a page at both sizes that frees its job)

sync_api = require_playwright()
expect = sync_api.expect

INK = """(selector) => {
  const pen = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll(selector)].map((text) => {
    const style = getComputedStyle(text), drawn = text.getScreenCTM(), scale = Math.hypot(drawn.a, drawn.b);
    const px = parseFloat(style.fontSize) * scale;
    pen.font = `${style.fontWeight} ${px}px ${style.fontFamily}`;
    const ink = pen.measureText(text.textContent), start = text.getStartPositionOfChar(0);
    const at = new DOMPoint(start.x, start.y).matrixTransform(drawn);
    return {text: text.textContent, px,
            left: at.x - ink.actualBoundingBoxLeft, right: at.x + ink.actualBoundingBoxRight,
            top: at.y - ink.actualBoundingBoxAscent, bottom: at.y + ink.actualBoundingBoxDescent};
  });
}"""
"""Where each mark's digits are drawn on the screen (their ink, not the em box round them), and its size in px."""

CLEAR_PX = 2.5
"""Blank pixels a person needs between two marks to read them as two numbers."""


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("link", ["", "&l_zoom=1"])
def test_the_landscapes_axis_marks_stand_apart(server, browser, size, link):  # noqa: F811
    with offline_page(browser, VIEWPORTS[size]) as page:
        page.goto(f"{server}/?view=landscape{link}")
        page.wait_for_selector("#landscape-map .walk.chosen circle")
        for chart in ("#landscape-map", "#landscape-line"):
            assert_seen(page.locator(chart), f"the chart {chart}")
            marks = page.evaluate(INK, f"{chart} text.tick")
            assert len(marks) >= 5, marks
            for n, one in enumerate(marks):
                assert one["px"] >= 11.99, f"the mark {one['text']} of {chart} is {one['px']:.1f} px high"
                for other in marks[n + 1:]:
                    apart = max(other["left"] - one["right"], one["left"] - other["right"],
                                other["top"] - one["bottom"], one["top"] - other["bottom"])
                    assert apart >= CLEAR_PX, (f"{chart}'s marks {one['text']} and {other['text']} are {apart:.1f} px "
                                               f"apart at {size}: they read as one")


FOCUSED = """() => {
  const element = document.activeElement, box = element.closest(".scrolls-sideways");
  if (!box || element === box) return null;
  const shown = box.getBoundingClientRect(), it = element.getBoundingClientRect();
  const across = Math.min(it.right, shown.right, innerWidth) - Math.max(it.left, shown.left, 0);
  const down = Math.min(it.bottom, shown.bottom, innerHeight) - Math.max(it.top, shown.top, 0);
  const seen = Math.max(across, 0) * Math.max(down, 0) / (it.width * it.height);
  return {name: element.getAttribute("aria-label"), seen};
}"""


@pytest.mark.parametrize(("link", "tabs"), [("view=step&s_example=mlp3&s_actions=f+b", 45), ("view=scalar", 32)])
def test_tabbing_through_a_graph_on_a_phone_shows_each_number_whole(server, browser, link, tabs):  # noqa: F811
    with offline_page(browser, VIEWPORTS["phone"]) as page:
        page.goto(f"{server}/?{link}")
        page.wait_for_selector("#diagram .node, #scalar-graph .scalar-node")
        visited = []
        for _ in range(tabs):
            page.keyboard.press("Tab")
            page.wait_for_timeout(50)  # a smooth scroll (none is asked for) would have ended
            focused = page.evaluate(FOCUSED)
            if focused is not None:
                visited.append(focused)
        assert len(visited) >= 12, f"Tab reached only {len(visited)} numbers of the graph"
        hidden = [f"{one['name']} ({one['seen']:.0%} seen)" for one in visited if one["seen"] < 0.99]
        assert hidden == [], f"Tab stopped on numbers the phone shows only in part: {hidden}"


UNDER_THE_PANEL = """() => {
  const element = document.activeElement, it = element.getBoundingClientRect();
  const x = Math.min(Math.max(it.left + it.width / 2, 0), innerWidth - 1), y = it.top + it.height / 2;
  const top = y >= 0 && y < innerHeight ? document.elementFromPoint(x, y) : null;
  const under = top !== null && top.closest("#explain") !== null && element.closest("#explain") === null;
  return under ? element.getAttribute("aria-label") : null;
}"""


def test_tabbing_on_a_phone_never_stops_under_the_explanation(server, browser):  # noqa: F811
    with offline_page(browser, VIEWPORTS["phone"]) as page:
        page.goto(f"{server}/?view=step&s_example=mlp3&s_actions=f+b")
        page.wait_for_selector("#diagram .node")
        assert_seen(page.locator("#explain"), "the explanation")
        covered = []
        for _ in range(70):  # the diagram, then the matrices of forward layer 1
            page.keyboard.press("Tab")
            name = page.evaluate(UNDER_THE_PANEL)
            if name is not None:
                covered.append(name)
        reached = page.evaluate("document.activeElement.closest('#step-matrices') !== null")
        assert reached, "Tab did not reach the matrices"
        assert covered == [], f"Tab stopped on {len(covered)} numbers under the explanation: {covered[:8]}"


def test_a_learning_rate_that_is_no_number_is_named_as_such(server, refused):  # noqa: F811
    """At both sizes (the ``refused`` page frees its training job when the test leaves it)."""
    refused.goto(f"{server}/?view=train&t_dataset=moons")
    refused.fill("#compare-rates", "0.1, abc")
    refused.locator("#btn-compare").click()
    error = refused.locator("#error-text")
    expect(error).to_have_text('Learning rates must be a number, got "abc": use a value from 1e-05 to 100')
    assert_seen(error, "the message")
