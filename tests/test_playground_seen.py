"""What a person sees in the playground, at a laptop's width (1280×800) and a phone's (390×844).

Playwright drives Debian's Chromium with no network. Each check is about what is on the screen:
shown, inside the viewport, written at a readable size, and no page wider than the phone. Any
console error fails the test, a 4xx answer included (the page must not send requests it knows
are wrong). Screenshots go to ``test-artifacts/screenshots/<view>-<width>.png``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser import (
    READABLE_PX,
    SCREENSHOTS,
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_seen,
    offline_page,
    require_playwright,
)
from test_playground_browser import SERVED, browser, server, wait_until  # noqa: F401  (fixtures shared with those tests)

sync_api = require_playwright()
expect = sync_api.expect


@pytest.fixture(params=list(VIEWPORTS))
def seen(request, browser, server):  # noqa: F811
    """A page at one of the two sizes, offline; it fails the test on a blocked request or any console error.

    Each test starts as a new learner would, with no training job held: the jobs of the earlier
    tests' closed pages are let go here (a page frees its job on ``pagehide`` with a keepalive
    request, which a closing browser context need not deliver before the next test asks for slots)."""
    jobs = SERVED["app"].state.jobs
    with jobs.lock:
        jobs.jobs.clear()
    with offline_page(browser, VIEWPORTS[request.param]) as tab:
        tab.size_name = request.param
        yield tab


def screenshot(page, view: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{view}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def test_the_learning_rate_comparison_is_drawn(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=train&t_dataset=moons")
    expect(seen.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
    seen.fill("#compare-steps", "40")
    seen.locator("#btn-compare").click()
    seen.wait_for_selector("#compare-legend li >> text=final loss")
    chart = seen.locator("#compare-curve")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible(), "the comparison chart is hidden"
    box = chart.bounding_box()
    assert box["height"] > 100 and box["x"] + box["width"] <= seen.viewport_size["width"]
    curves = chart.locator("polyline")
    assert curves.count() == 3  # one per learning rate: 0.01, 0.1, 1
    for n in range(3):
        assert curves.nth(n).is_visible() and curves.nth(n).bounding_box()["width"] > 0.5 * box["width"]
    for n in range(3):
        assert_seen(seen.locator("#compare-legend li").nth(n), f"legend line {n + 1}")
    assert_no_sideways_scroll(seen, "the Train view")
    screenshot(seen, "train")


def test_practice_gives_a_hint_and_another_try(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=practice&p_kind=relu-backward&p_seed=3")
    seen.wait_for_selector("#practice-matrices td.blank")
    assert_seen(seen.locator("#practice-kind"), "the Kind menu")
    seen.fill("#practice-answer", "three")
    seen.keyboard.press("Enter")
    warning = seen.locator("#practice-result .warning")
    expect(warning).to_contain_text("is not a number")
    assert_seen(warning, "the message about a non-number")
    seen.fill("#practice-answer", "1000")
    seen.keyboard.press("Enter")
    hint = seen.locator("#practice-result .hint")
    expect(hint).to_contain_text("Hint:")
    assert_seen(hint, "the hint")
    assert seen.locator(".worked li").count() == 0 and "the answer is" not in seen.locator(".verdict").inner_text()
    assert_seen(seen.locator("#btn-reveal"), "Show the solution")
    seen.locator("#btn-reveal").click()
    seen.wait_for_selector(".worked li")
    assert_seen(seen.locator(".worked li").last, "the worked solution's last line")
    score = seen.locator("#practice-score")
    expect(score).to_have_text("Score: 0 of 1 right (0 at the first try, 0 after a hint; 1 solution shown).")
    assert_seen(score, "the running score")
    assert_no_sideways_scroll(seen, "the Practice view")
    screenshot(seen, "practice")


def test_a_classroom_link_has_no_share_button_and_says_what_it_does(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=train&t_dataset=moons")
    # the share panel's checkboxes are made where the toggle's click handler is attached: clicking before that
    # (the page's script still loading on a busy machine) did nothing, and the panel stayed closed
    seen.wait_for_selector("#share-hide input", state="attached")
    seen.locator("#share-toggle").click()
    limits = seen.locator("#classroom-limits")
    assert_seen(limits, "what the classroom option does")
    assert "does not do: lock anything" in limits.inner_text() and "hide=" in limits.inner_text()
    seen.goto(f"{server}/?view=train&t_dataset=moons&hide=optimizer")
    expect(seen.locator("#classroom-note")).to_be_visible()
    assert_seen(seen.locator("#classroom-note"), "the classroom note")
    assert not seen.locator("#share-toggle").is_visible() and not seen.locator("#train-optimizer").is_visible()
    assert_no_sideways_scroll(seen, "the classroom page")


def test_a_link_past_the_step_limit_says_so_and_starts_at_0(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=train&t_dataset=moons&t_step=100000")
    error = seen.locator("#error")
    expect(error).to_contain_text("step 100000")
    assert_seen(error, "the message about the step in the link")
    expect(seen.locator("#train-step")).to_have_text("0")
    expect(seen.locator("#train-clipped")).not_to_contain_text("Preparing")
    wait_until(lambda: "t_step=0" in seen.evaluate("location.href"), "the link corrected to step 0")


DIAGRAM_SIZES = """() => {
  const svg = document.getElementById("diagram");
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll(".node-value, .node-grad")].map((text) => {
    const circle = text.closest(".node").querySelector("circle");
    return {text: text.textContent, px: parseFloat(getComputedStyle(text).fontSize) * scale,
            width: text.getBBox().width,
            room: text.classList.contains("node-value") ? 2 * circle.r.baseVal.value : 1e9};
  });
}"""


def assert_explanation_in_view(page) -> None:
    box = page.locator("#explain-text").bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 40) <= height, box


def test_the_diagram_is_readable_and_its_numbers_explain_themselves(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=step&s_example=diagonal-flip")
    seen.wait_for_selector('#step-matrices [data-cell="W1[0,0]"]')
    assert "is off" not in seen.locator("#step-narration").inner_text()  # nothing is computed yet
    assert_seen(seen.locator("#diagram-legend"), "the diagram's legend")
    assert "dashed" in seen.locator("#diagram-legend").inner_text()
    seen.locator("#btn-forward").click()
    seen.wait_for_selector('#step-matrices [data-cell="Z1[0]"]')
    expect(seen.locator("#step-narration")).to_contain_text("Hidden neuron 2 (index 1 in code) is off (Z₁[2] < 0)")
    for _ in range(2):
        seen.locator("#btn-backward").click()
    seen.wait_for_selector('#step-matrices [data-cell="dW1[0,0]"]')
    for number in seen.evaluate(DIAGRAM_SIZES):
        assert number["px"] >= READABLE_PX, f"diagram number {number['text']} is drawn at {number['px']:.1f} px"
    assert_no_sideways_scroll(seen, "the step-through")
    seen.locator("#step-matrices [data-cell='dW2[3,2]']").scroll_into_view_if_needed()  # far from the diagram
    node = seen.locator('#diagram .node-value[data-cell="A1[0]"]')
    node.scroll_into_view_if_needed()
    node.click()
    expect(seen.locator("#explain-text")).to_contain_text("A₁[1]")  # the cell A1[0], counting from 1
    assert_explanation_in_view(seen)
    seen.locator('#diagram .node-grad[data-cell="dZ1[0]"]').click()
    expect(seen.locator("#explain-text")).to_have_text(re.compile(r"^∂L/∂Z₁\[1\]"))
    assert_explanation_in_view(seen)
    seen.locator('#diagram .node-grad[data-cell="dZ1[2]"]').focus()
    seen.keyboard.press("Enter")
    expect(seen.locator("#explain-text")).to_have_text(re.compile(r"^∂L/∂Z₁\[3\]"))  # the cell dZ1[2], counting from 1
    screenshot(seen, "step-through")


def test_a_diverging_step_through_says_why_and_its_numbers_fit(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=step&s_example=diagonal-flip&s_lr=10&s_actions=f+b+b+u+f+b+b+u+f")
    warning = seen.locator("#step-warning")
    expect(warning).to_contain_text("The loss grew from 0.8963 to")
    assert "overshoots the valley" in warning.inner_text() and "η = 1" in warning.inner_text()
    assert_seen(warning, "the divergence warning")
    for number in seen.evaluate(DIAGRAM_SIZES):
        assert number["width"] <= number["room"], f"{number['text']} spills out of its circle"
    seen.locator("#step-loss-value").click()
    expect(seen.locator("#explain-text")).to_contain_text("L =")
    for key in "bbu":  # after Update the loss is not computed: its explanation is not asked for (no 422)
        seen.keyboard.press(key)
    wait_until(lambda: not seen.locator("#step-loss-value").is_enabled(), "the update")
    expect(seen.locator("#explain-heading")).to_have_text("Click any number")


KEY_SIZES = """() => [...document.querySelectorAll("kbd")].filter((key) => key.getClientRects().length)
  .map((key) => ({text: key.textContent, where: key.parentElement.id || key.parentElement.textContent.slice(0, 30),
                  px: parseFloat(getComputedStyle(key).fontSize)}))"""


@pytest.mark.parametrize("view", ["step", "practice", "train"])
def test_the_keyboard_shortcuts_are_written_at_a_readable_size(server, seen, view):  # noqa: F811
    """The key on a button (Forward F) and in the page's key legend is what a keyboard user reads to use the page;
    at 0.75em of the page's text it came out at 9.75 px."""
    seen.goto(f"{server}/?view={view}")
    seen.wait_for_selector("main kbd:visible")
    if view == "step":  # a number's edit form, with its keys in small print (E, Esc): 11 px there
        seen.locator('#step-matrices [data-cell="W1[0,0]"]').click()
        expect(seen.locator("#edit-form kbd").first).to_be_visible()
    keys = seen.evaluate(KEY_SIZES)
    assert len(keys) >= 2, keys
    for key in keys:
        assert key["px"] >= READABLE_PX, f"the key {key['text']} ({key['where']}) is written at {key['px']} px"
    legend = seen.locator("p.muted", has_text="Keys:")
    assert_seen(legend.locator("kbd").first, "the key legend's first key")
    assert_no_sideways_scroll(seen, f"the {view} view")


TICK_SIZES = """(id) => {
  const svg = document.getElementById(id), frame = svg.getBoundingClientRect();
  return [...svg.querySelectorAll(".tick")].map((tick) => {
    const box = tick.getBoundingClientRect(), drawn = tick.getScreenCTM();  // the scale it is drawn at, borders apart
    return {text: tick.textContent, px: parseFloat(getComputedStyle(tick).fontSize) * Math.hypot(drawn.a, drawn.b),
            inside: box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5 &&
                    box.top >= frame.top - 0.5 && box.bottom <= frame.bottom + 0.5};
  });
}"""


def test_the_loss_charts_labels_are_readable_and_inside_the_chart(server, seen):  # noqa: F811
    """The loss curve is drawn in 480 units and shown 352 px wide on a phone: its labels (the loss at the top of the
    axis, 0, step 0, the last step), 11 units tall, came out at 8 px there."""
    seen.goto(f"{server}/?view=train&t_dataset=moons")
    expect(seen.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
    seen.fill("#compare-steps", "20")
    seen.locator("#btn-compare").click()
    seen.wait_for_selector("#compare-legend li >> text=final loss")
    for chart in ("loss-curve", "compare-curve"):
        seen.locator(f"#{chart}").scroll_into_view_if_needed()
        ticks = seen.evaluate(TICK_SIZES, chart)
        texts = [tick["text"] for tick in ticks]
        assert re.match(r"\d", texts[0]) and {"0", "step 0"} <= set(texts) and len(texts) == 4, texts
        for tick in ticks:
            assert tick["px"] >= READABLE_PX, f"{chart}: the label {tick['text']!r} is {tick['px']:.1f} px on screen"
            assert tick["inside"], f"{chart}: the label {tick['text']!r} is cut off at the chart's edge"
    assert_no_sideways_scroll(seen, "the Train view")
    screenshot(seen, "train-charts")


def test_the_landscapes_marks_are_readable_and_inside_their_drawings(server, seen):  # noqa: F811
    """The landscape's map and slice are drawn in 440 units and shown 352 px wide on a phone: their axis marks,
    13 units tall, came out at 10.4 px there."""
    seen.goto(f"{server}/?view=landscape")
    seen.wait_for_selector("#landscape-map .walk.chosen circle")
    for drawing in ("landscape-map", "landscape-line"):
        seen.locator(f"#{drawing}").scroll_into_view_if_needed()
        marks = seen.evaluate(TICK_SIZES, drawing)
        assert len(marks) >= 5, marks
        for mark in marks:
            assert mark["px"] >= READABLE_PX, f"{drawing}: the mark {mark['text']!r} is {mark['px']:.1f} px on screen"
            assert mark["inside"], f"{drawing}: the mark {mark['text']!r} is cut off at the drawing's edge"
        for label in seen.locator(f"#{drawing} .axis-label").all():  # the weights' names: 15 units, 11.9 px
            size = label.evaluate(DRAWN_SIZE)
            assert size >= READABLE_PX, f"{drawing}: the axis label {label.text_content()!r} is {size:.1f} px"
    assert_no_sideways_scroll(seen, "the Landscape view")


def test_a_falling_loss_is_shown_without_a_warning(server, seen):  # noqa: F811
    """η = 1 on the moons: five steps, each loss lower than the one before; the page said "The loss is climbing"."""
    from glassgrad.playground import training

    engine = training.TrainingJob(training.TrainingConfig(dataset="moons", lr=1.0))
    engine.advance(5)
    assert all(later < earlier for earlier, later in zip(engine.losses, engine.losses[1:])), engine.losses
    seen.goto(f"{server}/?view=train&t_dataset=moons&t_lr=1&t_step=5")
    expect(seen.locator("#train-step")).to_have_text("5")
    loss = seen.locator("#train-loss-value")
    assert float(loss.get_attribute("data-value")) == pytest.approx(engine.losses[-1], rel=1e-6)
    assert_seen(loss, "the loss after step 5")
    expect(seen.locator("#train-message")).to_be_hidden()
    assert_no_sideways_scroll(seen, "the Train view")


def test_the_train_views_panels_are_apart(server, seen):  # noqa: F811
    """On a phone the gradient norms' panel and the comparison panel below it shared one border (no gap)."""
    seen.goto(f"{server}/?view=train&t_dataset=moons")
    expect(seen.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
    norms = seen.locator("section.panel", has=seen.locator("#norms-heading"))
    compare = seen.locator("section.panel", has=seen.locator("#compare-heading"))
    assert_seen(norms.locator("h2"), "the gradient norms' heading")
    assert_seen(compare.locator("h2"), "the comparison's heading")
    above, below = norms.bounding_box(), compare.bounding_box()
    grid = seen.locator(".train-grid").bounding_box()
    assert below["y"] - (grid["y"] + grid["height"]) >= 8, (grid, below)
    assert below["y"] - (above["y"] + above["height"]) >= 8, (above, below)


DRAWN_SIZE = """(text) => {  // a text's size on screen: its font size times the scale its drawing is shown at
  const drawn = text.getScreenCTM();
  return parseFloat(getComputedStyle(text).fontSize) * Math.hypot(drawn.a, drawn.b);
}"""


def test_the_off_the_map_notice_is_readable(server, seen):  # noqa: F811
    """η = 10 leaves the map at step 3: the notice saying so, 13 units tall, was 10.3 px on a phone."""
    seen.goto(f"{server}/?view=landscape&l_rate=10&l_at=3")
    notice = seen.locator("#landscape-offmap")
    expect(notice).to_contain_text("step 3 is off the map: L = ")
    notice.scroll_into_view_if_needed()
    size = notice.evaluate(DRAWN_SIZE)
    assert size >= READABLE_PX, f"the notice is {size:.1f} px on screen"
    box, frame = notice.bounding_box(), seen.locator("#landscape-map").bounding_box()
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"], (box, frame)
    assert_no_sideways_scroll(seen, "the Landscape view")


@pytest.mark.parametrize("example", ["diagonal-flip", "linear-regression"])
def test_every_numbers_introduction_fits_its_example(server, seen, example):  # noqa: F811
    """Linear regression has no ReLU box, and the introduction said each graph went 'then ReLU'."""
    seen.goto(f"{server}/?view=scalar&g_example={example}")
    seen.locator("#scalar-graph .scalar-node").first.wait_for()
    titles = seen.locator("#scalar-graph .scalar-node").evaluate_all("boxes => boxes.map(b => b.ariaLabel)")
    has_relu = any("ReLU" in title for title in titles)
    intro = seen.locator("#scalar-intro")
    assert_seen(intro, "the introduction")
    assert has_relu == (example == "diagonal-flip")
    assert "then ReLU" not in intro.inner_text()  # ReLU named as a network's activation, not every graph's step
    if has_relu:
        assert "ReLU" in intro.inner_text()


@pytest.fixture(params=list(VIEWPORTS))
def refused(request, browser, server):  # noqa: F811
    """A page at one of the two sizes whose link the server refuses: its 422 is shown to the learner in words."""
    with offline_page(browser, VIEWPORTS[request.param], ignore=lambda text: "status of 422" in text) as tab:
        yield tab


def refused_link(page, address: str, said: str):
    """Open ``address``; the page says ``said`` about it, where a person sees it. Returns the message's place."""
    page.goto(address)
    error = page.locator("#error")
    expect(error).to_contain_text(said)
    assert_seen(error, "the message about the link")
    return error


def test_a_landscape_link_with_an_unknown_weight_still_draws_the_map(server, refused):  # noqa: F811
    """The page said what was wrong with the link, but drew nothing and left the weights and steps empty."""
    seen = refused
    error = refused_link(seen, f"{server}/?view=landscape&l_x=W9[9,9]", "'W9[9,9]' is not one of the network's weights")
    seen.wait_for_selector("#landscape-map .walk.chosen circle")
    assert seen.locator("#landscape-x").input_value() and seen.locator("#landscape-steps").input_value()
    assert_seen(seen.locator("#landscape-map"), "the map")
    seen.locator("#landscape-draw").click()  # the form as shown draws: no field left for the learner to guess
    expect(error).to_be_hidden()
    assert_no_sideways_scroll(seen, "the Landscape view")


@pytest.mark.parametrize("link, said", [("s_actions=zzz", "'zzz'): not an action"), ("s_lr=NaN", 'got "NaN"')])
def test_a_refused_step_through_link_starts_afresh_and_its_buttons_work(server, refused, link, said):  # noqa: F811
    """The message was shown, but nothing was drawn and every button threw (Cannot read properties of null)."""
    seen = refused
    error = refused_link(seen, f"{server}/?view=step&{link}", said)
    seen.wait_for_selector('#step-matrices [data-cell="W1[0,0]"]')
    expect(seen.locator("#step-lr")).to_have_value("0.1")
    seen.locator("#btn-forward").click()
    expect(seen.locator("#step-loss-value")).not_to_have_text("?")
    assert_seen(seen.locator("#step-loss-value"), "the loss after Forward")
    expect(error).to_be_hidden()
    seen.locator("#btn-reset").click()
    expect(seen.locator("#step-loss-value")).to_have_text("?")
    assert_no_sideways_scroll(seen, "the step-through")


def test_a_refused_practice_link_shows_the_first_problem(server, refused):  # noqa: F811
    """An unknown kind in the link left no problem on the page, and New problem asked for the same kind again."""
    seen = refused
    error = refused_link(seen, f"{server}/?view=practice&p_kind=zzz", 'Kind "zzz" is unknown')
    seen.wait_for_selector("#practice-matrices td.blank")
    assert_seen(seen.locator("#practice-question"), "the question")
    seen.locator("#btn-new").click()
    expect(seen.locator("#practice-seed")).to_have_value("1")
    expect(error).to_be_hidden()
    assert seen.locator("#practice-kind").input_value() in seen.evaluate("location.href")


@pytest.mark.parametrize("status, requests", [(422, 2), (503, 1)])
@pytest.mark.parametrize("link, path", [("view=step&s_actions=zzz", "/api/step"),
                                        ("view=practice&p_kind=zzz", "/api/practice/new"),
                                        ("view=landscape&l_x=W9[9,9]", "/api/landscape")])
def test_a_fresh_start_is_tried_once_and_only_for_a_refused_link(server, browser, link, path, status,  # noqa: F811
                                                                 requests):
    """When every request fails, the fresh start after a refused link (422) is one more request, not a loop; a busy
    engine (503) refused nothing, so the link is kept as it is, for the learner to try again."""
    with offline_page(browser, VIEWPORTS["phone"], ignore=lambda text: f"status of {status}" in text) as page:
        asked = []
        page.route(f"**{path}", lambda route: asked.append(route.request.url) or route.fulfill(
            status=status, content_type="application/json", body='{"error": "the engine says no: try again"}'))
        page.goto(f"{server}/?{link}")
        expect(page.locator("#error")).to_contain_text("the engine says no")
        page.wait_for_timeout(1500)
        assert len(asked) == requests, asked  # the link's request, then (422) the defaults' once
        key, value = link.split("&")[1].split("=")
        assert parse_qs(urlparse(page.evaluate("location.href")).query)[key] == [value]  # the link is as it was


def test_a_train_link_with_an_unknown_dataset_says_which_exist_and_trains_the_default(server, refused):  # noqa: F811
    """The page said the dataset was unknown, but drew nothing: no loss, no curve, an empty Dataset menu, and Step
    asked for the same unknown dataset again."""
    seen = refused
    error = refused_link(seen, f"{server}/?view=train&t_dataset=zzz&t_step=3", 'Dataset "zzz" is unknown')
    assert all(name in error.inner_text() for name in ("moons", "circles", "xor", "spirals", "digits"))
    expect(seen.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
    expect(seen.locator("#train-dataset")).to_have_value("moons")  # the first data set, as a new learner has it
    assert_seen(seen.locator("#train-loss-value"), "the loss of the default run")
    assert_seen(seen.locator("#train-dataset"), "the Dataset menu")
    assert_seen(error, "the message about the link, beside the default run")
    curve = seen.locator("#loss-curve")
    curve.scroll_into_view_if_needed()
    assert curve.is_visible() and seen.locator("#loss-curve .tick").count() == 4
    seen.locator("#btn-step").click()
    expect(seen.locator("#train-step")).to_have_text("1")
    expect(error).to_be_hidden()
    assert parse_qs(urlparse(seen.evaluate("location.href")).query)["t_dataset"] == ["moons"]
    assert_no_sideways_scroll(seen, "the Train view")


@pytest.mark.parametrize("typed, said", [("-1", "η = -1 would move the weights uphill"),
                                         ("0", "η = 0 would leave the weights where they are"),
                                         ("", "The learning rate η must be a number"),
                                         ("500", "η = 500 is out of range")])
def test_a_learning_rate_the_engine_refuses_is_refused_where_it_is_typed(server, seen, typed, said):  # noqa: F811
    """η ≤ 0 (or none) was sent to the engine, whose 422 was the only check; now the field says what is wrong and
    how to fix it, and nothing is sent (``seen`` fails the test on any 4xx in the console)."""
    seen.goto(f"{server}/?view=step&s_example=diagonal-flip")
    seen.wait_for_selector('#step-matrices [data-cell="W1[0,0]"]')
    sent = []
    seen.on("request", lambda request: sent.append(request.post_data) if "/api/step" in request.url else None)
    seen.fill("#step-lr", typed)
    seen.locator("#step-lr").press("Enter")
    problem = seen.locator("#step-lr-problem")
    expect(problem).to_contain_text(said)
    assert "from 1e-05 to 100" in problem.inner_text() and "\n" not in problem.inner_text().strip()
    assert_seen(problem, "the message about the learning rate")
    assert_seen(seen.locator("#step-lr"), "the learning rate's field")
    expect(seen.locator("#step-lr")).to_have_value("0.1")  # the η in use: the refused one is not left there
    seen.locator("#btn-forward").focus()  # a second change event, had the first been missed
    seen.wait_for_timeout(300)
    assert sent == [], sent
    seen.fill("#step-lr", "0.5")
    seen.locator("#step-lr").press("Enter")
    wait_until(lambda: parse_qs(urlparse(seen.evaluate("location.href")).query).get("s_actions") == ["lr=0.5"],
               "η = 0.5 in the link")
    expect(problem).to_be_hidden()
    assert_no_sideways_scroll(seen, "the step-through")


def test_a_learning_rate_that_diverges_at_once_is_drawn_and_says_where(server, seen):  # noqa: F811
    """η = 100 on a deep ReLU network with MSE: the loss is infinite by step 2. Its curve was a line hidden on the
    y axis (or, diverging at step 1, no line at all), and its legend said "final loss inf"."""
    from glassgrad.playground import training

    settings = {"dataset": "moons", "loss": "mse", "activation": "relu", "hidden": (32, 32, 32, 32)}
    engine = training.TrainingJob(training.TrainingConfig(**settings, lr=100.0))
    engine.advance(40)
    diverged_at = next(step for step, loss in enumerate(engine.losses) if not np.isfinite(loss))
    assert engine.status == "diverged" and diverged_at <= 3, engine.losses
    seen.goto(f"{server}/?view=train&t_dataset=moons&t_loss=mse&t_activation=relu&t_hidden=32,32,32,32")
    expect(seen.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
    seen.fill("#compare-rates", "0.001, 0.1, 1, 100")
    seen.fill("#compare-steps", "40")
    seen.locator("#btn-compare").click()
    seen.wait_for_selector("#compare-legend li >> text=η = 100")
    entry = seen.locator("#compare-legend li", has_text="η = 100")
    expect(entry).to_contain_text(f"η = 100: diverged at step {diverged_at}")
    assert_seen(entry, "the diverged rate's legend entry")
    assert entry.locator(".curve-end").is_visible()  # the legend's sample ends in the chart's dot
    chart = seen.locator("#compare-curve")
    chart.scroll_into_view_if_needed()
    frame = chart.bounding_box()
    # every rate is drawn, the diverged one too (a curve that leaves through the top and comes back is two pieces)
    drawn = {line.get_attribute("class") for line in chart.locator("polyline").all()}
    assert drawn == {f"curve curve-{n}" for n in range(4)}, drawn
    line = chart.locator("polyline.curve-3")
    assert line.is_visible() and line.bounding_box()["height"] > 0.5 * frame["height"]  # up to the top edge
    dot = chart.locator(".curve-end")
    assert dot.count() == 1 and dot.is_visible()
    box = dot.bounding_box()
    assert box["width"] >= 7 and box["height"] >= 7, box  # a dot a person sees, on a phone too
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"], (box, frame)
    assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"], (box, frame)
    assert_no_sideways_scroll(seen, "the Train view")
    screenshot(seen, "train-diverged")
