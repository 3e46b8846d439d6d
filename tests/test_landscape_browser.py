"""The Landscape and Every number views in Chromium, at a laptop's width (1280×800) and a phone's (390×844).

What a person sees: the map with the four walks, the step under their feet with the arrow
downhill, the numbers of that step (the same as the JSON the command line writes, each written
exactly as the engine's formatter writes it, tiny and huge ones too), η = 10 leaving the map, the
1-D slice; the scalar graph with a box's value and gradient. No page wider than the phone, no
console error, no request off this machine. Screenshots go to
``test-artifacts/screenshots/landscape-<width>.png``, ``landscape-diverging-<width>.png``,
``landscape-valley-floor-<width>.png`` and ``scalar-<width>.png``.
"""

from __future__ import annotations

import pytest
from browser import SCREENSHOTS, VIEWPORTS, assert_no_sideways_scroll, assert_seen, offline_page, require_playwright
from test_playground_browser import browser, server  # noqa: F401  (fixtures shared with those tests)

from glassgrad.lessons.landscape import landscape
from glassgrad.trace.counting import CONVENTION
from glassgrad.trace.numbers import format_number

sync_api = require_playwright()
expect = sync_api.expect


@pytest.fixture(params=list(VIEWPORTS))
def seen(request, browser):  # noqa: F811
    with offline_page(browser, VIEWPORTS[request.param]) as tab:
        yield tab


@pytest.fixture(scope="module")
def data():
    return landscape()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def shown(loss: float) -> str:
    """A loss as the engine writes it (never negative: no sign to write)."""
    return format_number(loss, signed=False)


def fact(page, term: str) -> str:
    return page.locator(f"#landscape-info dt:text-is('{term}') + dd").inner_text()


def test_the_landscape_shows_the_walks_and_the_step_under_your_feet(server, seen, data):  # noqa: F811
    seen.goto(f"{server}/?view=landscape&l_rate=0.1")
    seen.wait_for_selector("#landscape-map .walk.chosen circle")
    for selector, what in (("#landscape-map", "the map"), ("#landscape-rate", "the learning-rate selector"),
                           ("#landscape-next", "the Step button"), ("#landscape-info", "the step's numbers"),
                           ("#landscape-line", "the 1-D slice"), ("#landscape-legend", "the legend")):
        assert_seen(seen.locator(selector), what)
    assert seen.locator("#landscape-rate option").all_inner_texts() == [
        "0.001 (slow)", "0.1 (converging)", "1 (converging)", "10 (diverging)"]
    assert seen.locator("#landscape-map .walk").count() == 4
    assert seen.locator("#landscape-map .landscape-cells rect").count() == 41 * 41
    assert seen.locator("#landscape-arrow").count() == 1
    walk = next(p for p in data["paths"] if p["learning_rate"] == 0.1)["points"]
    for step in range(4):
        assert fact(seen, "Height (loss)") == f"L = {shown(walk[step]['loss'])}"
        assert f"= {format_number(walk[step]['gradient'][0])}," in fact(seen, "Slope under your feet")
        assert "lower: downhill" in fact(seen, "After it")
        assert seen.locator("#landscape-map .walk.chosen circle").count() == step + 1
        seen.locator("#landscape-next").click()
    expect(seen.locator("#landscape-step-text")).to_have_text("4 of 20")
    assert "l_at=4" in seen.url and "l_rate=0.1" in seen.url
    seen.reload()  # the link holds the step: reloading it comes back to the same place
    seen.wait_for_selector("#landscape-map .walk.chosen circle")
    expect(seen.locator("#landscape-step-text")).to_have_text("4 of 20")
    assert fact(seen, "Height (loss)") == f"L = {shown(walk[4]['loss'])}"
    convention = seen.locator("#landscape-convention").inner_text()
    assert "θ ← θ − η·∂L/∂θ" in convention and "mean over the 4 outputs" in convention and "float64" in convention
    assert CONVENTION in convention and ".." not in convention  # each sentence ends once
    assert seen.locator("#precision").is_hidden()  # the footer's note is about the step-through's float32
    assert_no_sideways_scroll(seen, "the Landscape view")
    screenshot(seen, "landscape")


def test_eta_10_climbs_out_of_the_valley_and_off_the_map(server, seen, data):  # noqa: F811
    seen.goto(f"{server}/?view=landscape")
    seen.wait_for_selector("#landscape-map .walk.chosen circle")
    seen.select_option("#landscape-rate", "10")
    walk = next(p for p in data["paths"] if p["learning_rate"] == 10.0)["points"]
    assert "higher: the stride overshot the valley" in fact(seen, "After it")
    seen.locator("#landscape-next").click()
    seen.locator("#landscape-next").click()
    off = seen.locator("#landscape-offmap")
    assert_seen(seen.locator("#landscape-map"), "the map")
    assert off.text_content() == f"step 2 is off the map: L = {shown(walk[2]['loss'])}"
    seen.keyboard.press("ArrowRight")  # the arrow keys step too
    expect(seen.locator("#landscape-step-text")).to_have_text("3 of 20")
    seen.locator("#landscape-step").fill("20")
    assert fact(seen, "Height (loss)") == f"L = {shown(walk[20]['loss'])}" and walk[20]["loss"] > 1e20
    assert_no_sideways_scroll(seen, "the Landscape view at η = 10")
    screenshot(seen, "landscape-diverging")
    seen.select_option("#landscape-rate", "0.1")
    before = seen.locator("#landscape-map .walk.chosen").bounding_box()
    seen.locator("#landscape-zoom").check()  # the valley fills the map: the same walk, drawn larger
    expect(seen.locator("#landscape-offmap")).to_have_count(0)
    seen.wait_for_function("() => location.search.includes('l_zoom=1')")
    after = seen.locator("#landscape-map .walk.chosen").bounding_box()
    assert after["width"] > 3 * before["width"] and after["height"] > 3 * before["height"]
    screenshot(seen, "landscape-zoomed")


def test_a_tiny_slope_near_the_valley_floor_is_shown_as_the_engine_writes_it(server, seen):  # noqa: F811
    """η = 1, step 30 of 40: the slope is ~1.6·10⁻⁵, which the engine writes ``+1.6e-05`` (a copy of the rule in
    JavaScript wrote ``1.56e-5``); every number of the step, and the 1-D slice's marks of L, are the engine's text."""
    data = landscape(steps=40)
    walk = next(p for p in data["paths"] if p["learning_rate"] == 1.0)["points"]
    here, after = walk[30], walk[31]
    assert all(0 < abs(g) < 5e-5 for g in here["gradient"])  # would read as 0 with 4 decimals
    seen.goto(f"{server}/?view=landscape&l_rate=1&l_steps=40&l_at=30")
    seen.wait_for_selector("#landscape-map .walk.chosen circle")
    expect(seen.locator("#landscape-step-text")).to_have_text("30 of 40")
    u, v = (format_number(value) for value in here["weights"])
    du, dv = (format_number(value) for value in here["gradient"])
    assert du.endswith("e-05") and dv.endswith("e-05")
    assert fact(seen, "Slope under your feet") == f"∂L/∂b₂[4] = {du}, ∂L/∂W₁[3,4] = {dv}"
    assert fact(seen, "Where you stand") == f"b₂[4] = {u}, W₁[3,4] = {v}"
    assert fact(seen, "Height (loss)") == f"L = {shown(here['loss'])}"
    u1, v1 = (format_number(value) for value in after["weights"])
    assert fact(seen, "The step") == f"b₂[4] ← {u} − 1·({du}) ≈ {u1}; W₁[3,4] ← {v} − 1·({dv}) ≈ {v1}"  # rounded
    line = data["slice_1d"]
    marks = seen.locator("#landscape-line text.tick").all_text_contents()
    assert marks[-2:] == [shown(min(line["loss"])), shown(max(line["loss"]))]  # L's marks: the engine's losses
    last = next(p for p in line["paths"] if p["learning_rate"] == 1.0)["points"][30]
    caption = seen.locator("#landscape-line-caption").inner_text()
    assert (f"b₂[4] = {format_number(last['weights'][0])}, L = {shown(last['loss'])}, slope under your feet "
            f"∂L/∂b₂[4] = {format_number(last['gradient'][0])};") in caption
    labels = seen.locator("#landscape-line text.axis-label")
    upright = [labels.nth(i).get_attribute("transform") for i in range(labels.count())
               if labels.nth(i).text_content() == "L"]
    assert upright == [None]  # the slice's one-letter L stands upright (turned, it read as "⌐")
    convention = seen.locator("#landscape-convention").inner_text()
    assert "4 decimal places" in convention and "rounded for display only" in convention
    assert_no_sideways_scroll(seen, "the Landscape view near the valley floor")
    screenshot(seen, "landscape-valley-floor")


def test_a_weight_that_is_not_there_is_said_in_the_page(server, browser):  # noqa: F811
    refused = lambda text: "status of 422" in text  # noqa: E731  (Chromium logs the refusal the page then shows)
    with offline_page(browser, VIEWPORTS["phone"], ignore=refused) as seen:
        seen.goto(f"{server}/?view=landscape")
        seen.wait_for_selector("#landscape-map .walk.chosen circle")
        seen.fill("#landscape-y", "W9[0,0]")
        seen.locator("#landscape-draw").click()
        expect(seen.locator("#error")).to_contain_text("is not one of the network's weights")
        assert_seen(seen.locator("#error"), "the error")
        assert seen.locator("#landscape-y").input_value() == "W9[0,0]"  # what was typed stays, to be fixed
        seen.fill("#landscape-y", "b2[1]")
        seen.locator("#landscape-draw").click()
        expect(seen.locator("#landscape-title")).to_have_text("The landscape in fog: L over b₂[4] and b₂[1]")
        assert seen.locator("#landscape-y").input_value() == "b2[1]"
        assert seen.locator("#error").is_hidden()


def test_every_number_view_draws_each_box_with_its_value_and_gradient(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=scalar")
    seen.wait_for_selector("#scalar-graph .scalar-node")
    assert seen.locator("#scalar-graph .scalar-node").count() == 98
    assert seen.locator("#scalar-graph .scalar-edge").count() > 98
    assert_seen(seen.locator(".scalar-box"), "the scalar graph's box")
    box = seen.locator("[data-name='W₂[1,1]·A₁[1]']")  # the code's W₂[0, 0]·A₁[0, 0], counting from 1
    box.scroll_into_view_if_needed()
    assert box.locator("text").all_text_contents() == ["W₂[1,1]·A₁[1]", "value +0.2000", "grad  -0.4500"]
    box.click()
    detail = seen.locator("#scalar-detail")
    assert_seen(detail, "the chosen box's explanation")
    assert detail.inner_text() == ("W₂[1,1]·A₁[1] (· of W₂[1,1] = 0.4, A₁[1] = 0.5): value 0.2; "
                                   "∂L/∂ of it = -0.45")
    assert seen.locator(".scalar-node.picked").count() == 3
    seen.select_option("#scalar-example", "linear-regression")
    expect(seen.locator("#scalar-graph .scalar-node")).to_have_count(34)
    assert detail.inner_text().startswith("Click a box")  # the other example's box is gone, and so is its text
    assert seen.locator(".scalar-box").evaluate("box => box.scrollLeft + box.scrollTop") == 0
    assert "g_example=linear-regression" in seen.url
    assert_no_sideways_scroll(seen, "the Every number view")
    screenshot(seen, "scalar")
