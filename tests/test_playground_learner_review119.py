"""Round 119: the playground as a learner sees it, at 1280×800 and 390×844, after rounds 101–114.

* The step-through's network diagram was 2 px wider than its box at every width (``width: 100%`` plus its
  1 px borders): its right border was cut off and the box scrolled sideways by 2 px.
* On a phone the diagram (640 px) scrolls sideways in a 350 px box, the outputs ŷ wholly out of sight, and
  the Every number graph (about 1900 px) scrolls in its box at both sizes, with nothing on the screen saying
  so (round 113 gave the HTML pages a cue, not the playground): a line now says it while more is to the right.
* The Every number introduction named the gradient ``∂L/∂`` with nothing after it; it now says ``∂L/∂ of
  it``, as the boxes' own note does.
* The Code view's editor keeps Tab for indenting (CodeMirror's rule: Esc, then Tab, leaves it) and nothing
  said so: a keyboard user who tabbed in could not reach Run, Stop or the output. A line under the editor
  now says how, and the editor's name for a screen reader says it too.
* A worked solution numbered each line, so ``= (-6) + (-3) + (-6)`` and ``= -15``, which carry on the line
  above with their ``=`` under its ``=``, were steps 3 and 4 of their own, their alignment lost: they are
  now part of the step they continue, with the engine's alignment kept.

Every number the page shows here is compared with glassgrad's own (the lesson's model trained by gg.optim).
Playwright drives Debian's Chromium with no network; screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import pytest
from browser import VIEWPORTS, assert_no_sideways_scroll, assert_seen, offline_page, require_playwright
from test_playground_browser import SERVED, browser, server  # noqa: F401  (fixtures shared with those tests)
from test_playground_seen import screenshot, seen  # noqa: F401

import glassgrad as gg
from glassgrad.lessons.diagonal_flip import lesson_model, sample
from glassgrad.playground import bridge
from glassgrad.trace.numbers import format_number

sync_api = require_playwright()
expect = sync_api.expect

HINT_SHOWN = "hint => getComputedStyle(hint).display !== 'none'"


def open_step(page, server, actions: str = "f b b", lr: float = 0.1) -> None:  # noqa: F811
    page.goto(f"{server}/?view=step&s_example=diagonal-flip&s_lr={lr}&s_actions={actions.replace(' ', '+')}")
    page.wait_for_selector("#diagram .node")


def test_the_diagram_fits_its_box_on_a_laptop(server, browser):  # noqa: F811
    """At 1280 px the diagram (818 px with its borders) sat in an 816 px box: its right border was cut off."""
    with offline_page(browser, VIEWPORTS["wide"]) as page:
        open_step(page, server)
        box = page.locator(".diagram-box")
        inner, whole = box.evaluate("b => [b.clientWidth, b.scrollWidth]")
        assert whole <= inner, f"the diagram is {whole} px wide in a {inner} px box"
        drawing, frame = page.locator("#diagram").bounding_box(), box.bounding_box()
        assert drawing["x"] + drawing["width"] <= frame["x"] + frame["width"] + 0.5, (drawing, frame)
        assert not page.locator(".diagram-box .scroll-hint").evaluate(HINT_SHOWN), "a cue with nothing to scroll"
        screenshot(page, "review119-diagram")


def test_the_diagram_says_it_scrolls_on_a_phone_until_the_outputs_are_in_sight(server, browser):  # noqa: F811
    with offline_page(browser, VIEWPORTS["phone"]) as page:
        open_step(page, server)
        box = page.locator(".diagram-box")
        assert box.evaluate("b => b.scrollWidth > b.clientWidth + 100"), "the diagram fits: nothing to test"
        hint = page.locator(".diagram-box .scroll-hint")
        expect(hint).to_contain_text("scroll sideways")
        assert_seen(hint, "the line saying the diagram scrolls sideways")
        screenshot(page, "review119-diagram")
        box.evaluate("b => b.scrollTo(b.scrollWidth, 0)")
        expect(hint).to_be_hidden()  # at the far end there is no more to see
        output = page.locator("#diagram .node", has_text="+0.1000").last  # ŷ[1], the first output
        box_right = box.bounding_box()["x"] + box.bounding_box()["width"]
        drawn = output.bounding_box()
        assert drawn["x"] >= 0 and drawn["x"] + drawn["width"] <= box_right + 0.5, (drawn, box_right)
        assert_no_sideways_scroll(page, "the step-through")


def test_every_numbers_graph_says_it_scrolls_and_names_its_gradient(server, seen):  # noqa: F811
    seen.goto(f"{server}/?view=scalar&g_example=diagonal-flip")
    seen.locator("#scalar-graph .scalar-node").first.wait_for()
    assert "gradient, ∂L/∂ of it (" in seen.locator("#scalar-intro").inner_text()
    box, hint = seen.locator(".scalar-box"), seen.locator(".scalar-box .scroll-hint")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth + 100"), "the graph fits: nothing to test"
    assert_seen(hint, "the line saying the graph scrolls sideways")
    box.evaluate("b => b.scrollTo(200, 400)")  # part way, right and down: the line stays at the box's top left
    seen.wait_for_timeout(100)
    line, frame = hint.bounding_box(), box.bounding_box()
    assert abs(line["x"] - frame["x"]) <= 2 and abs(line["y"] - frame["y"]) <= 2, (line, frame)
    screenshot(seen, "review119-scalar")
    box.evaluate("b => b.scrollTo(b.scrollWidth, 0)")
    expect(hint).to_be_hidden()
    assert_no_sideways_scroll(seen, "the Every number view")


def test_the_code_editor_says_how_a_keyboard_user_leaves_it(server, browser):  # noqa: F811
    """Tab into the editor, then Esc and Tab: the keyboard reaches Run, as the line under the editor says."""
    with offline_page(browser, VIEWPORTS["phone"]) as page:
        page.goto(f"{server}/?view=code&token={SERVED['app'].state.code_token}")
        page.wait_for_selector("#code-editor .cm-content")
        expect(page.locator("#code-starter option")).to_have_count(3)
        keys = page.locator("#code-editor-keys")
        expect(keys).to_contain_text("Esc")
        assert_seen(keys, "how to leave the editor")
        name = page.locator("#code-editor .cm-content").get_attribute("aria-label")
        assert "Esc, then Tab, leaves the editor" in name, name
        page.locator("#btn-code-restore").focus()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # the editor's text: Tab now indents
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "code-editor"
        page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "btn-run"
        screenshot(page, "review119-code-keys")


def test_a_worked_solution_numbers_its_steps_and_keeps_their_alignment(server, seen):  # noqa: F811
    """forward-blank, problem 0: the engine's four lines are two steps; ``=`` under ``=``."""
    engine = bridge.practice_check("forward-blank", 0, "0", True)["solution"]
    assert [line.startswith(" ") for line in engine] == [False, False, True, True], engine
    seen.goto(f"{server}/?view=practice&p_kind=forward-blank&p_seed=0")
    seen.wait_for_selector("#practice-matrices td.blank")
    seen.fill("#practice-answer", "1000")
    seen.keyboard.press("Enter")
    seen.locator("#btn-reveal").click()
    steps = seen.locator(".worked li")
    expect(steps).to_have_count(2)
    assert steps.last.inner_text().split("\n") == engine[1:]
    equals = steps.last.evaluate("""li => {
      const text = li.firstChild, xs = [];
      let start = 0;
      for (const line of text.data.split('\\n')) {
        const range = document.createRange();
        range.setStart(text, start + line.indexOf('='));
        range.setEnd(text, start + line.indexOf('=') + 1);
        xs.push(range.getBoundingClientRect().x);
        start += line.length + 1;
      }
      return xs; }""")
    assert len(equals) == 3 and max(equals) - min(equals) < 1, f"the '=' signs stand at x = {equals}"
    for k in range(2):
        assert_seen(steps.nth(k), f"step {k + 1} of the worked solution")
    assert_no_sideways_scroll(seen, "the Practice view")
    screenshot(seen, "review119-worked")


@pytest.mark.parametrize("lr", [0.1, 10])
def test_the_step_throughs_loss_is_glassgrads_after_each_update(server, browser, lr):  # noqa: F811
    """The loss line after 0–3 updates, clicked for its formula, against the lesson's model in float32 (as the
    step-through computes) trained by gg.optim.SGD: at η = 10 it reads 2360.1025 after one update (in float64:
    2360.1021)."""
    model, (x, y) = lesson_model().float(), (part.float() for part in sample())  # the step-through's float32
    optimizer = gg.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(4):
        loss = gg.nn.functional.mse_loss(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with offline_page(browser, VIEWPORTS["phone"]) as page:
        for updates, expected in enumerate(losses):
            open_step(page, server, " ".join(["f b b u"] * updates + ["f"]), lr)
            shown = page.locator("#step-loss-value")
            expect(shown).to_have_text(format_number(expected).lstrip("+"))
            shown.click()
            formula = page.locator("#explain-text")
            expect(formula).to_contain_text(f"≈ {format_number(expected).lstrip('+')}")
            assert_seen(formula, "the loss's formula")
