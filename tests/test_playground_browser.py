"""The playground in a real browser: Playwright driving Debian's Chromium, with no network.

The server runs in a thread on 127.0.0.1; every request to any other host is blocked (and
recorded: the test fails if the page tried one). Each test saves a screenshot of its view under
``test-artifacts/screenshots/`` and prints the path. Expected numbers are computed here with
glassgrad, independently of the server's code.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser import SCREENSHOTS, chromium, offline_page, playground, require_playwright

import glassgrad as gg

sync_api = require_playwright()
expect = sync_api.expect


SERVED = {}  # the running app, for tests that look at its state


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with playground(tmp_path_factory.mktemp("playground-output")) as (url, app):
        SERVED["app"] = app
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    """A page that may reach only 127.0.0.1/localhost; it fails the test on a blocked request or a JS error."""
    with offline_page(browser, {"width": 1280, "height": 1000}, timeout_ms=15_000,
                      ignore=lambda text: "status of 422" in text) as tab:  # 422: shown to the learner in words
        yield tab


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def wait_until(condition, what: str, seconds: float = 15.0) -> None:
    """Poll from Python (the page's Content-Security-Policy forbids evaluating strings in it)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def shown_number(text: str) -> float:
    return float(text.replace("\u2212", "-").replace("+", ""))


def lesson_gradient_w2_10() -> float:
    """∂L/∂W₂[1,0] of the diagonal-flip lesson, computed here with glassgrad tensors."""
    from glassgrad.lessons.diagonal_flip import INPUT, LESSON_WEIGHTS, TARGET

    w1, b1, w2, b2 = (gg.tensor(LESSON_WEIGHTS[name], requires_grad=True)
                      for name in ("0.weight", "0.bias", "2.weight", "2.bias"))
    hidden = (gg.tensor([INPUT]) @ w1.T + b1).relu()
    loss = ((hidden @ w2.T + b2 - gg.tensor([TARGET])) ** 2).mean()
    loss.backward()
    return float(w2.grad.array[1, 0])


def test_step_through_shows_the_engines_gradient(server, page):
    page.goto(f"{server}/?view=step&s_example=diagonal-flip")
    page.wait_for_selector('#step-matrices [data-cell="W1[0,0]"]')  # drawn after the buttons' handlers are attached
    page.locator("#btn-forward").click()
    page.wait_for_selector('[data-cell="Z1[0]"]')
    assert page.locator("#step-loss-value").inner_text() == "0.8963"
    assert page.evaluate("document.activeElement.id") == "btn-backward"  # focus moves on when Forward is done
    page.keyboard.press("b")  # the keyboard shortcut: backward through the output layer
    cell = page.locator('[data-cell="dW2[1,0]"]')
    cell.wait_for()
    assert page.locator('table[data-name="dW1"] .unknown').count() == 3 * 4  # layer 1: not yet
    page.locator("#btn-backward").click()
    page.wait_for_selector('[data-cell="dW1[0,0]"]')

    expected = lesson_gradient_w2_10()
    assert shown_number(cell.inner_text()) == pytest.approx(expected, abs=5e-5)  # shown to 4 decimals
    assert float(cell.get_attribute("data-value")) == pytest.approx(expected, abs=1e-7)
    cell.click()
    expect(page.locator("#explain-text")).to_have_text(re.compile(r"^∂L/∂W₂\[2,1\]"))  # cell dW2[1,0], from 1
    formula = page.locator("#explain-text").inner_text()
    assert formula.startswith("∂L/∂W₂[2,1] = ∂L/∂ŷ[2] · A₁[1] = ") and formula.endswith(cell.inner_text())
    assert "s_actions=f+b+b" in page.url  # the state is in the URL
    assert page.locator("#diagram line").count() == 3 * 4 + 4 * 3
    assert "4 inputs → 3 hidden neurons" in page.locator("#diagram desc").text_content()
    screenshot(page, "step-through")

    page.goto(page.url)  # the shared link reproduces the same numbers without pressing anything
    page.wait_for_selector('[data-cell="dW2[1,0]"]')
    assert float(page.locator('[data-cell="dW2[1,0]"]').get_attribute("data-value")) == pytest.approx(expected,
                                                                                                      abs=1e-7)


def actions_in_url(page) -> str:
    """The step-through's actions as the address bar holds them (page.url lags behind replaceState)."""
    query = parse_qs(urlparse(page.evaluate("location.href")).query)
    return query.get("s_actions", [""])[0]


def test_keyboard_only_walkthrough_with_an_edit_and_a_classroom_link(server, page):
    page.goto(f"{server}/?view=step&s_example=mlp3")
    page.wait_for_selector('[data-cell="W1[0,0]"]')
    assert not page.locator("#step-seed").is_visible()  # the lesson's weights are fixed: no seed to choose
    assert "(logits)" in page.locator("#diagram").text_content()  # ŷ is the softmax of the last layer
    for key in "fbbbu":  # pressed at once: each is applied, in order, to the view it follows
        page.keyboard.press(key)
    wait_until(lambda: actions_in_url(page) == "f b b b u", "five key presses in the URL")
    cell = page.locator('#step-matrices [data-cell="W1[0,0]"]')
    cell.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#explain-text")).to_contain_text("(update 1)")
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.id") == "edit-value"
    page.keyboard.type("0.5")
    page.keyboard.press("Enter")
    wait_until(lambda: actions_in_url(page) == "f b b b u W1[0,0]=0.5", "the edit in the URL")
    wait_until(lambda: page.evaluate("document.activeElement.dataset.cell") == "W1[0,0]", "focus back on the cell")
    expect(page.locator("#explain-text")).to_contain_text("set by you")
    page.keyboard.press("f")
    page.locator('[data-cell="Z1[0]"]').wait_for()
    weights = np.array([[float(page.locator(f'#step-matrices [data-cell="W1[0,{j}]"]').get_attribute("data-value"))
                         for j in range(4)]])
    inputs = np.array([float(page.locator(f'#step-matrices [data-cell="x[{j}]"]').get_attribute("data-value"))
                       for j in range(4)])
    bias = float(page.locator('#step-matrices [data-cell="b1[0]"]').get_attribute("data-value"))
    assert weights[0, 0] == 0.5
    z = float(page.locator('#step-matrices [data-cell="Z1[0]"]').get_attribute("data-value"))
    assert z == pytest.approx(float(weights[0] @ inputs) + bias, abs=1e-6)  # the edited weight is used
    page.keyboard.press("Backspace")
    wait_until(lambda: actions_in_url(page) == "f b b b u W1[0,0]=0.5", "step back")

    page.goto(f"{server}/?view=step&s_example=mlp3&s_actions=f+b+b+b&hide=update,edit")
    page.wait_for_selector('[data-cell="dW1[0,0]"]')
    assert not page.locator("#btn-update").is_visible()
    page.keyboard.press("u")  # the hidden control's shortcut does nothing either
    page.locator('#step-matrices [data-cell="W2[0,0]"]').click()
    expect(page.locator("#explain-text")).to_contain_text("given by the example")
    assert actions_in_url(page) == "f b b b" and not page.locator("#edit-value").is_visible()


def test_training_moons_lowers_the_loss(server, page):
    page.goto(f"{server}/?view=train&t_dataset=moons&t_optimizer=momentum&t_lr=0.1&hide=optimizer,clip")
    loss = page.locator("#train-loss-value")
    expect(loss).to_have_attribute("data-value", re.compile(r"\d"))
    first = float(loss.get_attribute("data-value"))
    assert not page.locator("#train-optimizer").is_visible()  # the classroom link hides chosen controls
    page.locator("#btn-play").click()
    wait_until(lambda: int(page.locator("#train-step").inner_text()) >= 40, "40 training steps")
    page.keyboard.press("p")  # pause
    expect(page.locator("#btn-play")).to_have_attribute("aria-pressed", "false")
    page.locator("#btn-step").click()
    page.wait_for_timeout(300)
    step = int(page.locator("#train-step").inner_text())
    last = float(loss.get_attribute("data-value"))
    assert step >= 41 and last < 0.8 * first
    assert f"t_step={step}" in page.url
    assert page.locator("#grad-norms li").count() == 6
    assert "accuracy" in page.locator("#boundary").get_attribute("aria-label")
    page.locator("#btn-compare").click()
    page.wait_for_selector("#compare-legend li >> text=final loss")
    assert page.locator("#compare-curve polyline").count() >= 2
    screenshot(page, "training")

    page.goto(page.evaluate("location.href"))  # the shared link replays the run to the same step and loss
    expect(page.locator("#train-step")).to_have_text(str(step))
    assert float(loss.get_attribute("data-value")) == last


def read_matrix(page, name: str) -> np.ndarray:
    cells = page.locator(f'#practice-matrices table[data-name="{name}"] tr')
    return np.array([[float(v) if v else np.nan for v in row.locator("td").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")] for row in cells.all()])


def test_practice_right_and_wrong(server, page):
    page.goto(f"{server}/?view=practice&p_kind=forward-blank&p_seed=4")
    page.wait_for_selector('#practice-matrices table[data-name="Z"]')
    weights, inputs, outputs = (read_matrix(page, name) for name in ("W", "X", "Z"))
    blank = page.locator("#practice-matrices td.blank")
    row = int(blank.get_attribute("data-index").split(",")[0])
    if np.isnan(outputs[row, 0]) and not np.isnan(inputs).any():  # Z[row] = row of W · X
        right = (gg.tensor(weights[row]) @ gg.tensor(inputs[:, 0])).item()
    else:  # the blank is X[row]: solve one row's equation for it
        use = next(i for i in range(len(weights)) if weights[i, row] != 0)
        known = np.nansum(weights[use] * np.nan_to_num(inputs[:, 0]))
        right = ((gg.tensor(outputs[use, 0]) - known) / weights[use, row]).item()
    page.fill("#practice-answer", f"{right + 1:g}")
    page.keyboard.press("Enter")
    page.wait_for_selector('.verdict[data-correct="false"]')
    assert page.locator(".hint").is_visible() and page.locator(".worked li").count() == 0  # a second chance
    page.fill("#practice-answer", f"{right:g}")
    page.locator("#btn-check").click()
    page.wait_for_selector('.verdict[data-correct="true"]')
    assert page.locator(".worked li").count() >= 2
    expect(page.locator("#practice-score")).to_contain_text("1 of 1 right (0 at the first try, 1 after a hint")
    screenshot(page, "practice")


def test_the_page_reports_bad_input_in_words(server, page):
    page.goto(f"{server}/?view=step&s_example=custom&s_sizes=2,3,2")
    page.wait_for_selector('[data-cell="W1[0,0]"]')
    page.fill("#step-sizes", "2,100,2")
    page.locator("#step-sizes").press("Enter")
    page.locator("#step-lr").focus()  # change event
    page.wait_for_selector("#error:not([hidden])")
    assert "out of range" in page.locator("#error").inner_text()
    assert page.locator('[data-cell="W1[0,0]"]').count() == 1  # the last good view stays


def test_another_sites_page_cannot_start_training(server, browser):
    """A page elsewhere submits a form to the API (text/plain: a body type another site may send without
    asking first). The request reaches the server, which refuses it (403) before reading it."""
    context = browser.new_context()
    evil = ("<!doctype html><title>evil</title><body>"
            f"<form method='post' action='{server}/api/train' enctype='text/plain'>"
            "<input name='{\"steps\": 1, \"x\": \"' value='\"}'></form>"
            "<script>document.forms[0].submit()</script>")
    context.route("http://evil.example/**", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                        body=evil))
    seen = []
    jobs_before = set(SERVED["app"].state.jobs.jobs)  # the other tests' jobs
    tab = context.new_page()
    tab.on("response", lambda response: seen.append((response.url, response.status)))
    with tab.expect_navigation(url=f"{server}/api/train"):
        tab.goto("http://evil.example/")
    refusal = tab.locator("body").inner_text()
    context.close()
    assert (f"{server}/api/train", 403) in seen and "http://evil.example" in refusal
    assert set(SERVED["app"].state.jobs.jobs) <= jobs_before
