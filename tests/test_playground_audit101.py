"""Round 101's audit of the playground as a learner: rounded arithmetic written with "=", and an error box
that could not be closed.

* Clicking a number explained it as ``(-0.5500) · 0.5000 = -0.2750``: the numbers are the engine's float32
  values shown to 4 decimals, so the written arithmetic need not give the value shown (``0.1885·1.0000 +
  (-0.1000)·0 + 0.0885·1.0000 + 0.1885·1.0000 + (-0.0115) = +0.4540``). The trace package's explainer writes
  ``≈`` when a number is rounded (practice sheets already asked it to); the playground's writer did not say
  which of its numbers are rounded. The Landscape view's step (``b₂[4] ← w − η·(g) = w'``) had the same ``=``.
* The page's one error box (Compare with learning rates "abc", a refused link) had no way to close it: it
  stayed, sticky at the top of a phone's screen, over the view, until another request succeeded.

Playwright drives Debian's Chromium with no network, at 1280×800 and 390×844; screenshots go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest
from browser import VIEWPORTS, assert_no_sideways_scroll, assert_seen, offline_page, require_playwright
from hypothesis import given, settings
from hypothesis import strategies as st
from test_playground_browser import browser, server  # noqa: F401  (fixtures shared with those tests)
from test_playground_seen import screenshot
from test_playground_visual_audit89 import compare_refused, refused  # noqa: F401  (a refused Compare, both sizes)

from glassgrad.lessons.landscape import landscape
from glassgrad.playground import create_app
from glassgrad.trace.numbers import format_number

starlette_testclient = pytest.importorskip("starlette.testclient")
sync_api = require_playwright()
expect = sync_api.expect

RELATION = re.compile(r" ([=≈]) (\S+)$")
"""The explanation's last relation and the result it writes."""


def read_back(text: str) -> float:
    """A number as the page writes it (``+0.5000``, ``(-0.3000)``, ``1.6e-05``), as a float."""
    return float(text.strip("()"))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from(["relu", "tanh", "sigmoid"]), st.sampled_from(["mse", "cross_entropy"]),
       st.sampled_from(["Z1[0]", "Z2[1]", "A1[2]", "dW1[1,2]", "dW2[0,1]", "dZ1[0]", "dA1[1]", "loss", "W1[0,0]"]))
def test_an_explanation_writes_equals_only_where_no_number_is_rounded(seed, activation, loss, cell):
    """The explanation's text ends ``= result`` only when every number it plugs in and its result are shown
    exactly as the engine holds them; otherwise ``≈ result``. A given number (``W₁[1,1] = +0.1000: a weight``)
    has no arithmetic and keeps its ``=``. Round 115: a sum of products whose written numbers give the written
    result exactly (``(-0.5500) · 0.5000 = -0.2750``) is true as written, and writes ``=`` whatever was rounded."""
    body = {"example": "custom", "sizes": [3, 4, 3], "activation": activation, "loss": loss, "seed": seed,
            "actions": "f b b u f b b", "cell": cell}
    with starlette_testclient.TestClient(create_app(output_dir="/nonexistent-never-written"),
                                         base_url="http://localhost") as client:
        response = client.post("/api/step/explain", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    if not data["plugged"]:
        assert " ≈ " not in data["text"]
        return
    relation, result = RELATION.search(data["text"]).groups()
    assert result == data["result"]
    numbers = [(term["value"], term["text"]) for term in data["terms"]] + [(data["value"], data["result"])]
    exact = written_sum(data["plugged"])
    if exact is not None:
        assert relation == ("=" if exact == Fraction(result.strip("()")) else "≈"), (data["text"], numbers)
        return
    rounded = any(value is None or read_back(text) != value for value, text in numbers)
    assert relation == ("≈" if rounded else "="), (data["text"], numbers)


def written_sum(plugged: str) -> Fraction | None:
    """A plugged sum of products (``0.5·1 + (-0.3)·0 + 0.1``) done exactly on its numbers as written; None for
    anything else (a function: ``tanh(0.31)``, ``max(…)``) or a number that is not finite."""
    try:
        return sum((math.prod(Fraction(factor.strip().strip("()")) for factor in summand.split("·"))
                    for summand in plugged.split(" + ")), Fraction(0))
    except (ValueError, ZeroDivisionError):
        return None


def explained(cell: str, **body) -> tuple[dict, dict]:
    """The step view and one cell's explanation, for the same request body."""
    with starlette_testclient.TestClient(create_app(output_dir="/nonexistent-never-written"),
                                         base_url="http://localhost") as client:
        view = client.post("/api/step", json=body)
        data = client.post("/api/step/explain", json={**body, "cell": cell})
    assert view.status_code == data.status_code == 200, (view.text, data.text)
    return view.json(), data.json()


@pytest.mark.parametrize("lr, updates", [(0.1, 1), (100, 12)])
def test_the_loss_is_explained_as_the_loss_line_writes_it_and_an_overflow_is_said(lr, updates):
    """The loss line read ``Loss L = 0.5635`` (a loss is never negative: no sign) while its explanation ended
    ``= +0.5635``; after 12 updates at η = 100 the float32 loss overflows and the explanation ended ``+inf``
    with nothing under it. Now it ends with the loss line's own text and says why the number is not finite."""
    view, data = explained("loss", example="diagonal-flip", lr=lr, actions=" ".join(["f b b u"] * updates) + " f")
    assert data["result"] == view["loss"]["text"] and data["text"].endswith(f" ≈ {view['loss']['text']}")
    if view["loss"]["value"] is None:  # ±inf or NaN travel as null
        assert view["loss"]["text"] == "inf" and "not a finite number" in data["meaning"], data
    else:
        assert data["meaning"] == ""


def test_a_rounded_product_is_written_approximately_in_the_page(server, browser):  # noqa: F811
    """The learner clicks ∂L/∂W₂[2,1] after Forward, Backward, Backward: the engine's float32 factors are
    -0.550000011920929 and 0.5, shown -0.5500 and 0.5000. Round 101 wrote "≈" for any rounded number; round 115
    writes what is true of the numbers as written: (-0.5500) · 0.5000 = -0.2750 exactly."""
    with offline_page(browser, VIEWPORTS["phone"]) as page:
        page.goto(f"{server}/?view=step&s_example=diagonal-flip&s_actions=f+b+b")
        page.locator('[data-cell="dW2[1,0]"]').first.click()
        text = page.locator("#explain-text")
        expect(text).to_contain_text("(-0.5500) · 0.5000 = -0.2750")
        assert_seen(text, "the explanation")
        assert_no_sideways_scroll(page, "the step-through")
        screenshot(page, "audit101-explain-approx")


STEP = re.compile(r"(\S+) ← (\S+) − ([\d.e+-]+)·\((\S+)\) ([=≈]) ([^;\s]+)")


@pytest.mark.parametrize("rate, at", [(0.1, 1), (10, 3)])
def test_the_landscapes_step_writes_equals_only_where_no_number_is_rounded(server, browser, rate, at):  # noqa: F811
    """"The step": ``b₂[4] ← +0.0500 − 0.1·(+0.6500) = -0.0150`` was written with "=" whatever the rounding;
    each weight's update now says ``≈`` where one of its shown numbers is not the engine's own."""
    walk = next(p for p in landscape()["paths"] if p["learning_rate"] == rate)["points"]
    here, after = walk[at], walk[at + 1]
    with offline_page(browser, VIEWPORTS["wide"]) as page:
        page.goto(f"{server}/?view=landscape&l_rate={rate}&l_at={at}")
        page.wait_for_selector("#landscape-map .walk.chosen circle")
        fact = page.locator("#landscape-info dt:text-is('The step') + dd")
        updates = STEP.findall(fact.inner_text())
        assert len(updates) == 2, fact.inner_text()
        relations = []
        for k, (_, old, _, gradient, relation, new) in enumerate(updates):
            numbers = [(here["weights"][k], old), (here["gradient"][k], gradient), (after["weights"][k], new)]
            assert [text for _, text in numbers] == [format_number(value) for value, _ in numbers]
            # round 115: "=" exactly when w − η·g, done on the numbers as written, is the next w as written
            exact = Fraction(old) - Fraction(repr(rate)) * Fraction(gradient) == Fraction(new)
            assert relation == ("=" if exact else "≈"), (fact.inner_text(), numbers)
            relations.append(relation)
        assert_seen(fact, "the step's numbers")


def test_the_error_box_has_a_dismiss_button_a_person_can_see_and_reach(server, refused):  # noqa: F811
    """The box had no way to close it. Now its × button has a name, is on the screen beside the message (a
    target of at least 24×24 px), is reached by Tab right after the controls above it, and Enter closes the
    box and takes the keyboard back to Compare, where the learner was."""
    page = refused
    error = compare_refused(page, server)
    dismiss = page.get_by_role("button", name="Dismiss this message")
    expect(dismiss).to_be_visible()
    height, width = page.viewport_size["height"], page.viewport_size["width"]
    for part, what in ((error, "the message box"), (dismiss, "its dismiss button")):
        box = part.bounding_box()  # where it is now, without scrolling to it (the box is sticky at the top)
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, \
            f"{what} is at y = {box['y']:.0f}…{box['y'] + box['height']:.0f} px, off the {height} px screen"
        assert 0 <= box["x"] and box["x"] + box["width"] <= width, f"{what} is outside the {width} px screen"
    button = dismiss.bounding_box()
    assert button["width"] >= 24 and button["height"] >= 24, f"the × button is {button} px, under 24×24"
    assert_seen(page.locator("#error-text"), "the message")
    assert_no_sideways_scroll(page, "the Train view")
    screenshot(page, "audit101-error-dismiss")
    page.locator("#share-toggle").focus()  # the last control before the message, in the page's order
    page.keyboard.press("Tab")
    expect(dismiss).to_be_focused()
    page.keyboard.press("Enter")
    expect(error).to_be_hidden()
    expect(page.locator("#btn-compare")).to_be_focused()


def test_escape_or_a_click_closes_the_error_box_and_a_new_problem_shows_it_again(server, refused):  # noqa: F811
    page = refused
    error = compare_refused(page, server)
    page.get_by_role("button", name="Dismiss this message").click()
    expect(error).to_be_hidden()
    page.locator("#btn-compare").click()  # the same problem again: said again
    expect(error).to_be_visible()
    page.get_by_role("button", name="Dismiss this message").focus()
    page.keyboard.press("Escape")
    expect(error).to_be_hidden()
    page.fill("#compare-rates", "0.01, 0.1")  # a good request after a dismissed one: no empty box comes back
    page.locator("#btn-compare").click()
    expect(page.locator("#compare-legend li")).to_have_count(2, timeout=60_000)
    expect(error).to_be_hidden()
