"""The step-through of a traced 2→4→4→3 tanh network in a real browser, on a laptop and a phone.

Playwright drives Debian's Chromium against the playground on 127.0.0.1 (no other host). The
numbers expected are computed here, in NumPy float64, from the weights the page shows; what is
asserted about the page is what a learner sees: the controls and the explanation are visible,
inside the viewport, readable (font size, contrast with the page, no text cut off) and the page
does not scroll sideways. Screenshots after Forward and after Backward with an explanation open
are saved under ``test-artifacts/screenshots/`` at 1280×800 and 390×844.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from browser import SCREENSHOTS, chromium, playground, require_playwright

sync_api = require_playwright()
expect = sync_api.expect

NET = "s_example=custom&s_sizes=2,4,4,3&s_activation=tanh&s_loss=cross_entropy&s_seed=3"
VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with playground(tmp_path_factory.mktemp("out")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def open_page(browser, viewport: dict):
    context = browser.new_context(viewport=viewport)
    blocked, errors = [], []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                  else (blocked.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(15_000)
    return context, page, blocked, errors


def number(page, cell: str) -> float:
    return float(page.locator(f'#step-matrices [data-cell="{cell}"]').get_attribute("data-value"))


def matrix(page, name: str, shape: tuple) -> np.ndarray:
    return np.array([number(page, f"{name}[{','.join(map(str, index))}]") for index in np.ndindex(*shape)],
                    dtype=np.float64).reshape(shape)


def by_hand(page) -> dict:
    """Forward and backward of the network the page shows, written out in NumPy (float64)."""
    x, label = matrix(page, "x", (2,)), int(page.locator('#step-matrices [data-cell="y[0]"]').inner_text())
    shapes = [(4, 2), (4, 4), (3, 4)]
    weights = [matrix(page, f"W{n}", shape) for n, shape in enumerate(shapes, 1)]
    biases = [matrix(page, f"b{n}", shape[:1]) for n, shape in enumerate(shapes, 1)]
    z1 = weights[0] @ x + biases[0]
    a1 = np.tanh(z1)
    z2 = weights[1] @ a1 + biases[1]
    a2 = np.tanh(z2)
    z3 = weights[2] @ a2 + biases[2]
    p = np.exp(z3 - z3.max()) / np.exp(z3 - z3.max()).sum()
    dz3 = p - np.eye(3)[label]
    da2 = weights[2].T @ dz3
    dz2 = da2 * (1 - a2**2)
    da1 = weights[1].T @ dz2
    dz1 = da1 * (1 - a1**2)
    return {"loss": -np.log(p[label]), "dz1": dz1, "da1": da1, "a1": a1, "dw1": np.outer(dz1, x)}


CONTRAST = """e => {
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const channel = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const clear = (node) => { const c = rgb(getComputedStyle(node).backgroundColor); return c.length === 4 && !c[3]; };
  let back = e;
  while (back && clear(back)) back = back.parentElement;
  const s = getComputedStyle(e), fore = luminance(rgb(s.color));
  const behind = luminance(rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255, 255, 255)"));
  return {size: parseFloat(s.fontSize), overflow: e.scrollWidth - e.clientWidth,
          contrast: (Math.max(fore, behind) + 0.05) / (Math.min(fore, behind) + 0.05)};
}"""


def assert_readable(page, selector: str, viewport: dict) -> None:
    """Visible, inside the viewport's width, text of 12 px or more, nothing cut off, contrast 4.5:1 (WCAG AA)."""
    element = page.locator(selector).first
    expect(element).to_be_visible()
    box = element.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5, (selector, box)
    style = element.evaluate(CONTRAST)
    assert style["size"] >= 12, (selector, style)
    assert style["overflow"] <= 1, (selector, style)  # no text runs past its box
    assert style["contrast"] >= 4.5, (selector, style)


def assert_in_view(page, selector: str, viewport: dict) -> None:
    """``selector`` can be seen without scrolling: inside the viewport, both ways."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 60) <= viewport["height"], (
        selector, box)
    assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"] + 0.5, (selector, box)


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_the_traced_2_4_4_3_network_steps_through_and_explains_itself(server, browser, device):
    viewport = VIEWPORTS[device]
    context, page, blocked, errors = open_page(browser, viewport)
    try:
        page.goto(f"{server}/?view=step&{NET}")
        page.wait_for_selector('#step-matrices [data-cell="W3[2,3]"]')
        page.locator("#btn-forward").click()
        page.wait_for_selector('#step-matrices [data-cell="Z3[2]"]')
        expected = by_hand(page)
        assert float(page.locator("#step-loss-value").inner_text()) == pytest.approx(expected["loss"], abs=6e-5)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll
        for selector in ("#btn-forward", "#btn-backward", "#btn-update", "#step-loss-value", "#step-narration"):
            assert_readable(page, selector, viewport)
        assert "A₂ = tanh(Z₂)" in page.locator("#step-narration").inner_text()  # the trace's own formulas
        assert page.locator("#diagram line").count() == 2 * 4 + 4 * 4 + 4 * 3
        page.screenshot(path=str(SCREENSHOTS / f"step-2443-forward-{device}.png"))

        for _ in range(3):
            page.locator("#btn-backward").click()
        page.wait_for_selector('#step-matrices [data-cell="dW1[3,1]"]')
        np.testing.assert_allclose(matrix(page, "dW1", (4, 2)), expected["dw1"], rtol=1e-4, atol=1e-6)
        cell = page.locator('#step-matrices [data-cell="dZ1[2]"]')
        cell.scroll_into_view_if_needed()
        cell.click()
        text = page.locator("#explain-text")
        expect(text).to_contain_text("∂L/∂Z₁[3] = ∂L/∂A₁[3] · tanh'(Z₁)[3]")  # the cell dZ1[2], counting from 1
        assert float(text.get_attribute("data-value")) == pytest.approx(expected["dz1"][2], rel=1e-4, abs=1e-7)
        shown = text.inner_text()  # every number plugged in is the one worked out here
        upstream, local = (float(part) for part in re.split(" [=≈] ", shown)[-2].replace("(", "").replace(")", "")
                           .split(" · "))
        assert upstream == pytest.approx(expected["da1"][2], abs=6e-5)
        assert local == pytest.approx(1 - expected["a1"][2] ** 2, abs=6e-5)
        assert_in_view(page, "#explain-text", viewport)  # the explanation is where the learner looks
        for selector in ("#explain-heading", "#explain-text", "#explain-meaning"):
            assert_readable(page, selector, viewport)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(SCREENSHOTS / f"step-2443-backward-explained-{device}.png"))
    finally:
        context.close()
    assert blocked == [] and errors == []


SCREENSHOTS.mkdir(parents=True, exist_ok=True)
