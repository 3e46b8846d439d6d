"""Round 89's visual audit of the playground: what a learner sees, at 1280×800 and at a phone's 390×844.

Each view was visited in the states a learner reaches (a few steps, after training, answers typed right and
wrong, errors shown), screenshotted and looked at. The tests below hold what was wrong there:

* a neuron's value (+1.0000) filled its whole circle in the step-through's diagram: the digits touched the
  circle's outline on both sides;
* a problem with a control far down the page (Compare on a phone) was written at the top of the page, 1,000 px
  above the screen: the learner pressed Compare and saw nothing happen;
* a learning rate whose loss goes above the comparison chart's top ran flat along the top edge, which reads as a
  loss that stays at the top value (2.5356 where the run ended at 41.4554), and nothing said so;
* the practice hint for a chain-rule problem read "First ∂L/∂A₁, entry by entry:" and stopped there;
* Play became Pause, 13.7 px wider, and Step and Reset jumped sideways under the pointer;
* with 8 neurons a layer, the 8×8 weight matrices made the phone's page 607 px wide.

(The weights' lines that ran through the gradients' text under the neurons now stop at a halo round it: seen on
the screenshots, not asserted here.)

A last test walks every view at both sizes and checks what any page must hold: no sideways scroll, no text
under 12 px, no text outside the screen, and text that contrasts with its background (WCAG AA).
Playwright drives Debian's Chromium with no network; screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re

import pytest
from browser import VIEWPORTS, assert_no_sideways_scroll, assert_seen, offline_page, require_playwright
from test_playground_browser import SERVED, browser, server, wait_until  # noqa: F401  (fixtures shared with those tests)
from test_playground_seen import screenshot, seen  # noqa: F401  (the page at both sizes)

from glassgrad.practice import KINDS, generate

sync_api = require_playwright()
expect = sync_api.expect


@pytest.fixture(params=list(VIEWPORTS))
def refused(request, browser, server):  # noqa: F811
    """A page at one of the two sizes where the server refuses a request: its 422 is shown to the learner in words.

    On leaving, the learner goes to another page, and the test ends when the server has let go of the training job
    the page held, as it has for a person who opens the playground next. (The page frees its job on ``pagehide`` with
    a keepalive request, which a browser context closed at once on a busy machine need not send: three such jobs
    and the next page's own held the server's 4 slots, and that page's Compare was refused with 429.)"""
    jobs = SERVED["app"].state.jobs

    def held() -> set:
        with jobs.lock:  # the server's threads add and remove jobs meanwhile
            return set(jobs.jobs)

    before = held()
    with offline_page(browser, VIEWPORTS[request.param], ignore=lambda text: "status of 422" in text) as tab:
        yield tab
        tab.goto("about:blank")  # the learner leaves the page: its pagehide sends the request that frees the job
        wait_until(lambda: held() <= before, "the server to let go of the training job of the page just left")


CLEARANCE = """() => [...document.querySelectorAll("#diagram .node")].map((node) => {
  const circle = node.querySelector("circle"), value = node.querySelector(".node-value");
  const stroke = parseFloat(getComputedStyle(circle).strokeWidth);
  return {text: value.textContent, width: value.getBBox().width, inside: 2 * circle.r.baseVal.value - stroke};
})"""
"""Each neuron's value: its drawn width and the room inside its circle's outline (SVG units)."""

ROOM_EACH_SIDE = 3.0
"""SVG units (≥ 3 px on screen: the diagram is drawn at least 1:1) between a value's digits and the outline."""


@pytest.mark.parametrize("link", ["s_example=diagonal-flip&s_actions=f+b+b",
                                  "s_example=diagonal-flip&s_lr=10&s_actions=f+b+b+u+f+b+b+u+f"])
def test_every_neurons_value_clears_its_circles_outline(server, seen, link):  # noqa: F811
    """A circle of radius 27 held +1.0000 (52 units of digits) with 1 unit to spare each side, inside a 1.2-unit
    outline: the digits touched it. The second link diverges, with values in the hundreds and thousands."""
    seen.goto(f"{server}/?view=step&{link}")
    seen.wait_for_selector('#diagram .node-value[data-cell="A2[0]"]')
    numbers = seen.evaluate(CLEARANCE)
    assert len(numbers) == 11 and any(len(number["text"]) == 7 for number in numbers), numbers
    for number in numbers:
        spare = (number["inside"] - number["width"]) / 2
        assert spare >= ROOM_EACH_SIDE, \
            f"the value {number['text']} has {spare:.1f} units between its digits and its circle's outline"
    assert_seen(seen.locator('#diagram .node-value[data-cell="x[0]"]'), "the first input's value")
    assert_no_sideways_scroll(seen, "the step-through")
    screenshot(seen, "audit89-diagram")


GAPS = """() => {
  const circles = [...document.querySelectorAll("#diagram circle")].map((circle) => circle.getBBox());
  return [...document.querySelectorAll("#diagram .node-grad")].map((grad) => {
    const box = grad.getBBox(), below = circles.filter((c) => Math.abs(c.x - box.x - box.width / 2 + c.width / 2) < 1
                                                         && c.y > box.y);
    return {text: grad.textContent, gap: below.length ? Math.min(...below.map((c) => c.y)) - (box.y + box.height) : 99};
  });
}"""
"""Each gradient under a neuron: how far its text ends above the next circle of its column (SVG units)."""


def test_eight_neurons_a_column_keep_their_gradients_clear_of_the_next_circle(server, seen):  # noqa: F811
    """The larger circles (radius 31) need the rows to grow with them: at the old 84 units a row, a gradient's
    text ended 3 units above the next circle; the rows are 90 units now."""
    seen.goto(f"{server}/?view=step&s_example=custom&s_sizes=8,8,8&s_actions=f+b+b")
    seen.wait_for_selector('#diagram .node-grad[data-cell="dZ1[7]"]')
    gaps = seen.evaluate(GAPS)
    assert len(gaps) == 16, gaps
    for grad in gaps:
        assert grad["gap"] >= 6, f"{grad['text']} ends {grad['gap']:.1f} units above the next circle"


def test_an_eight_by_eight_weight_matrix_scrolls_in_its_card_not_the_page(server, seen):  # noqa: F811
    """Layer sizes 8,8,8: W₂ and ∂L/∂W₂ are 8×8 tables of +0.1234, 570 px wide, and the phone's page was 607 px
    wide. Now each layer's card scrolls sideways; its far column is reached and read there."""
    seen.goto(f"{server}/?view=step&s_example=custom&s_sizes=8,8,8&s_actions=f+b+b")
    far = seen.locator('#step-matrices [data-cell="dW2[7,7]"]')
    expect(far).to_be_visible()
    assert_no_sideways_scroll(seen, "the step-through with 8 neurons a layer")
    far.focus()  # as Tab brings it: the card scrolls to it
    assert_seen(far, "the last entry of ∂L/∂W₂")
    far.click()
    expect(seen.locator("#explain-text")).to_contain_text("∂L/∂W₂[8,8]")
    assert_no_sideways_scroll(seen, "the step-through with 8 neurons a layer")
    screenshot(seen, "audit89-eight-neurons")


def compare_refused(page, url: str):
    """Learning rates "abc" and Compare, on the Train view at ``url``: the page's error box says what is wrong."""
    page.goto(f"{url}/?view=train&t_dataset=moons")
    expect(page.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
    page.fill("#compare-rates", "abc")
    page.locator("#btn-compare").click()
    error = page.locator("#error")
    expect(error).to_contain_text("rates must be a list of 2 to 5 numbers")
    return error


def test_a_problem_with_a_control_far_down_the_page_is_shown_on_the_screen(server, refused):  # noqa: F811
    """Learning rates "abc" and Compare: the server's answer was written at the top of the page; on a phone,
    where Compare is 1,400 px down, the message was 1,165 px above the screen and the button seemed dead."""
    page = refused
    error = compare_refused(page, server)
    box = error.bounding_box()  # where it is now, without scrolling to it
    height = page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, \
        f"the message is at y = {box['y']:.0f}…{box['y'] + box['height']:.0f} px, off the {height} px screen"
    assert page.locator("#btn-compare").bounding_box()["y"] >= box["y"] + box["height"], \
        "the message covers the Compare button"
    assert_seen(error, "the message")
    assert_no_sideways_scroll(page, "the Train view")
    screenshot(page, "audit89-compare-error")


TOP_EDGE = """() => {
  const svg = document.getElementById("compare-curve"), top = svg.querySelector(".axis").y1.baseVal.value;
  return [...svg.querySelectorAll("polyline")].map((line) => {
    const ys = line.getAttribute("points").trim().split(/\\s+/).map((point) => parseFloat(point.split(",")[1]));
    const along = ys.filter((y, n) => n > 0 && y <= top + 0.05 && ys[n - 1] <= top + 0.05).length;
    return {cls: line.getAttribute("class"), along};
  });
}"""
"""For each curve of the comparison: how many of its segments run along the chart's top edge."""


def test_a_curve_above_the_comparison_charts_top_leaves_it_and_the_legend_says_so(server, seen):  # noqa: F811
    """η = 30 ends at a loss of 41.4554 on a chart whose top is 3× the starting loss (2.5356): its curve was
    clamped to the top edge and ran along it, a loss that seemed to stay at 2.5356. It now leaves through the top
    where it crosses it, and its legend line says from which step it is above the chart."""
    seen.goto(f"{server}/?view=train&t_dataset=moons")
    expect(seen.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
    seen.fill("#compare-rates", "0.01, 0.1, 1, 30")
    seen.fill("#compare-steps", "30")
    seen.locator("#btn-compare").click()
    legend = seen.locator("#compare-legend li")
    expect(legend).to_have_count(4)
    expect(legend.nth(3)).to_contain_text("η = 30: final loss 41.4554")
    curves = seen.evaluate(TOP_EDGE)
    assert len(curves) >= 4, curves
    for curve in curves:
        assert curve["along"] == 0, f"{curve['cls']} runs along the chart's top edge for {curve['along']} segments"
    expect(legend.nth(3)).to_contain_text("above the chart's top (2.5356) from step 1 on")
    for n in range(3):  # the others stay inside the chart: their lines say nothing of it
        assert "above the chart" not in legend.nth(n).inner_text()
    assert_seen(legend.nth(3), "the legend line of η = 30")
    assert_no_sideways_scroll(seen, "the Train view")
    screenshot(seen, "audit89-compare-top")


@pytest.mark.parametrize("kind, seed", [("chain-rule", 0), ("forward-blank", 2)])
def test_a_practice_hint_is_a_whole_sentence(server, seen, kind, seed):  # noqa: F811
    """A wrong first answer earns a hint: for these problems it was the worked solution's first line, which
    introduces the lines after it and ended in a colon ("First ∂L/∂A₁, entry by entry:"), shown alone."""
    seen.goto(f"{server}/?view=practice&p_kind={kind}&p_seed={seed}")
    seen.wait_for_selector("#practice-matrices td.blank")
    seen.fill("#practice-answer", "12345")
    seen.keyboard.press("Enter")
    hint = seen.locator("#practice-result .hint")
    expect(hint).to_contain_text("Hint: ")
    text = hint.inner_text().strip()
    assert text.endswith("."), f"the hint stops short: {text!r}"
    assert_seen(hint, "the hint")
    assert_no_sideways_scroll(seen, "the Practice view")


def test_no_hint_ends_in_a_colon():
    """The same, for every kind of problem the playground and ``glassgrad practice`` generate (10 seeds each)."""
    for kind in KINDS:
        for seed in range(10):
            hint = generate(kind, seed=seed).hint
            assert hint and not hint.rstrip().endswith(":"), (kind, seed, hint)


def test_play_and_pause_leave_the_buttons_beside_them_where_they_are(server, seen):  # noqa: F811
    """Play became Pause, 13.7 px wider, and Step and Reset jumped sideways under the pointer each time."""
    seen.goto(f"{server}/?view=train&t_dataset=moons")
    expect(seen.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))

    def places() -> list[dict]:
        return [seen.locator(button).bounding_box() for button in ("#btn-play", "#btn-step", "#btn-train-reset")]

    before = places()
    seen.locator("#btn-play").click()
    expect(seen.locator("#btn-play")).to_have_attribute("aria-pressed", "true")
    expect(seen.locator("#btn-play")).to_contain_text("Pause")
    during = places()
    seen.locator("#btn-play").click()
    expect(seen.locator("#btn-play")).to_have_attribute("aria-pressed", "false")
    for name, one, other in zip(("Play", "Step", "Reset"), before, during):
        assert abs(one["x"] - other["x"]) < 0.5 and abs(one["width"] - other["width"]) < 0.5, \
            f"{name} moved from x = {one['x']:.1f} ({one['width']:.1f} wide) to {other['x']:.1f} ({other['width']:.1f})"
    assert_seen(seen.locator("#btn-play"), "the Play button")


AUDIT = """() => {
  const width = document.documentElement.clientWidth, found = [];
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const light = (colour) => { const [r, g, b] = colour.match(/[\\d.]+/g).map(Number);
                              return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b); };
  const background = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const parts = getComputedStyle(at).backgroundColor.match(/[\\d.]+/g);
      if (parts && (parts.length < 4 || Number(parts[3]) > 0.5)) return getComputedStyle(at).backgroundColor;
    }
    return "rgb(255, 255, 255)";
  };
  const scrolls = (el) => { for (let at = el.parentElement; at && at !== document.body; at = at.parentElement) {
    if (["auto", "scroll", "hidden"].includes(getComputedStyle(at).overflowX)) return true; } return false; };
  for (const el of document.querySelectorAll("main *, header *, footer *")) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
    if (!own || ["TITLE", "DESC", "SCRIPT", "STYLE", "OPTION"].includes(el.tagName)) continue;
    if (!el.getClientRects().length) continue;
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || el.closest(".visually-hidden, .skip")) continue;
    let px = parseFloat(style.fontSize);
    const drawn = el instanceof SVGGraphicsElement && el.getScreenCTM();
    if (drawn) px *= Math.hypot(drawn.a, drawn.b);
    const name = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${own.slice(0, 30)}"`;
    if (px < 11.95) found.push(`${name} is written at ${px.toFixed(1)} px`);
    if (!scrolls(el) && (box.left < -0.5 || box.right > width + 0.5)) {
      found.push(`${name} spans x = ${box.left.toFixed(0)}…${box.right.toFixed(0)}`);
    }
    if (!(el instanceof SVGElement)) {
      const [a, b] = [light(style.color), light(background(el))].sort((p, q) => q - p);
      const large = px >= 18.66 || (px >= 14 && Number(style.fontWeight) >= 700);
      if ((a + 0.05) / (b + 0.05) < (large ? 3 : 4.5)) found.push(`${name}: ${style.color} on ${background(el)}`);
    }
  }
  return found;
}"""
"""What no view may show: text under 12 px (SVG text at its drawn size), text outside the screen that is not in a
box that scrolls, and text below WCAG AA contrast against the background it is drawn on."""

VIEWS = {"step": "#diagram circle", "train": "#grad-norms li", "practice": "#practice-matrices td.blank",
         "course": "#course-map svg", "landscape": "#landscape-map .walk.chosen circle", "scalar": "#scalar-graph rect"}


def test_every_view_fits_and_is_readable(server, seen):  # noqa: F811
    """Every view at both sizes, as it opens and after a step: none of the AUDIT's faults, no sideways scroll."""
    for view, drawn in VIEWS.items():
        seen.goto(f"{server}/?view={view}")
        seen.wait_for_selector(drawn)
        if view == "step":
            seen.keyboard.press("f")
            seen.wait_for_selector('#step-matrices [data-cell="Z1[0]"]')
        assert seen.evaluate(AUDIT) == [], f"the {view} view"
        assert_no_sideways_scroll(seen, f"the {view} view")
