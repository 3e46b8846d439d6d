"""The Code view in a real browser: a learner types a program, runs it, stops it and reads what it did.

Playwright drives Debian's Chromium with no network, against the real server with its Code view on
(a 3 s time limit and a 512 MB memory limit, so that a runaway program ends soon). Programs are
typed into the editor with the keyboard, key by key, as a learner types them. Expected numbers are
computed here by hand with NumPy. Screenshots: ``test-artifacts/screenshots/code-<width>.png``.
"""

from __future__ import annotations

import json
import re
import urllib.request

import numpy as np
import pytest
from browser import (
    SCREENSHOTS,
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_seen,
    offline_page,
    playground,
    require_playwright,
)
from test_playground_browser import browser  # noqa: F401  (the shared Chromium)
from test_playground_step_browser import assert_readable

from glassgrad.trace.numbers import format_number

sync_api = require_playwright()
expect = sync_api.expect

TIME_LIMIT_S = 3.0
MEMORY_MB = 512
RUN_TIMEOUT_MS = 60_000  # a run's answer, on a busy machine (the programs themselves take well under a second)
REFUSED = ("status of 403", "status of 404", "status of 422")  # answers the page shows in words


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with playground(tmp_path_factory.mktemp("code-output"), code_time_limit=TIME_LIMIT_S,
                    code_memory_mb=MEMORY_MB) as (url, app):
        yield url, app.state.code_token


@pytest.fixture
def page(browser):  # noqa: F811
    with offline_page(browser, VIEWPORTS["wide"], timeout_ms=RUN_TIMEOUT_MS,
                      ignore=lambda text: any(code in text for code in REFUSED)) as tab:
        yield tab


def open_code_view(page, served) -> None:
    url, token = served
    page.goto(f"{url}/?view=code&token={token}")
    page.wait_for_selector("#code-editor .cm-content")
    expect(page.locator("#code-starter option")).to_have_count(3)  # the starters came (the token was accepted)
    expect(page.locator("#code-editor .cm-content")).to_contain_text("import glassgrad")


def type_program(page, program: str) -> None:
    """Select all and type ``program`` key by key. The editor indents a new line itself, so each line's
    indentation is typed over the editor's (Shift+Home selects it); an open completion list is closed
    (Escape) before Enter, as a learner who did not want it does."""
    page.locator("#code-editor .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    for number, line in enumerate(program.strip("\n").split("\n")):
        if number:
            if page.locator(".cm-tooltip-autocomplete").count():
                page.keyboard.press("Escape")
            page.keyboard.press("Enter")
            page.keyboard.press("Shift+Home")
        page.keyboard.type(line)
    if page.locator(".cm-tooltip-autocomplete").count():
        page.keyboard.press("Escape")
    typed = page.locator("#code-editor .cm-content").inner_text()
    assert typed.strip("\n") == program.strip("\n"), f"the editor holds:\n{typed}"


def output(page, stream: str) -> str:
    return "".join(page.locator(f"#code-output .{stream}").all_inner_texts())


def wait_for_state(page, pattern: str) -> None:
    expect(page.locator("#code-state")).to_have_text(re.compile(pattern), timeout=RUN_TIMEOUT_MS)


TRACED = """
import glassgrad as gg
x = gg.tensor([[1.0, -2.0, 0.5]])
w = gg.tensor([[0.3, -0.1, 0.8], [-0.5, 0.2, 0.4]], requires_grad=True)
with gg.trace() as tape:
    loss = (x @ w.T).relu().sum()
    loss.backward()
print("loss is", round(loss.item(), 6))
"""


def traced_by_hand() -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """The TRACED program's numbers and ∂L/∂ of each: W, Wᵀ, Z = x·Wᵀ, A = relu(Z), L = ΣA, with ∂L/∂A = 1,
    ∂L/∂Z = [Z > 0], ∂L/∂Wᵀ = xᵀ·∂L/∂Z, ∂L/∂W = (∂L/∂Z)ᵀ·x (L has no ∂L/∂ in the trace: it is where it ends)."""
    x = np.array([[1.0, -2.0, 0.5]])
    w = np.array([[0.3, -0.1, 0.8], [-0.5, 0.2, 0.4]])
    z = x @ w.T
    a = np.maximum(z, 0)
    dz = (z > 0).astype(float)
    return [("W", w, dz.T @ x), ("Wᵀ", w.T, x.T @ dz), ("Z", z, dz), ("A", a, np.ones_like(a)),
            ("L", np.array(a.sum()), None)]


def shown_numbers(cell) -> np.ndarray:
    """The full values (data-value) of the numbers in one cell of the trace's numbers table."""
    return np.array([float(value) for value in cell.locator(".code-number").evaluate_all(
        "spans => spans.map(span => span.dataset.value)")])


def test_a_typed_program_runs_and_its_trace_numbers_are_the_engines(served, page):
    open_code_view(page, served)
    type_program(page, TRACED)
    page.locator("#btn-run").click()
    wait_for_state(page, r"^finished in \d+\.\d s$")
    assert "loss is 0.9" in output(page, "stdout")
    assert output(page, "stderr") == ""
    expect(page.locator("#code-result")).to_be_visible()
    rows = page.locator("#code-summary table.code-numbers > tbody > tr")
    shown = [(shown_numbers(rows.nth(n).locator("td.values")), shown_numbers(rows.nth(n).locator("td.grads")))
             for n in range(rows.count())]
    # each number of the computation appears with ∂L/∂ of it (float32 in the program: 1e-6)
    assert len(shown) >= 5, page.locator("#code-summary").inner_text()
    for name, values, grad in traced_by_hand():
        assert any(shown_values.shape == values.ravel().shape and np.allclose(shown_values, values.ravel(), atol=1e-6)
                   and (shown_grad.size == 0 if grad is None else np.allclose(shown_grad, grad.ravel(), atol=1e-6))
                   for shown_values, shown_grad in shown), (name, values, grad, shown)
    expect(page.locator("#code-trace-box")).to_be_visible()
    assert "relu" in page.locator("#code-trace").text_content().lower()


EXTREMES = """
import glassgrad as gg
x = gg.tensor([3e-7, -2.0, 0.0])
w = gg.tensor([2e-6, -1e7, 0.5], requires_grad=True)
v = gg.tensor([1.0, 0.0], requires_grad=True)
with gg.trace() as tape:
    loss = (x * w).sum() + (1 / v).sum()
    loss.backward()
"""


def test_tiny_huge_and_infinite_numbers_are_shown_as_the_engine_writes_them(served, page):
    """Every number in the trace's table is the text of glassgrad.trace.numbers.format_number for its full value
    (data-value, also its tooltip): ∂L/∂w = x holds a tiny 3·10⁻⁷ (once written 3.00e-7 by a JavaScript copy of
    the rule), w a huge −10⁷, 1/v an ∞ (once written —)."""
    open_code_view(page, served)
    type_program(page, EXTREMES)
    page.locator("#btn-run").click()
    wait_for_state(page, r"^finished")
    rows = page.locator("#code-summary table.code-numbers > tbody > tr")
    expect(rows).to_have_count(7)
    spans = page.locator("#code-summary .code-number")
    numbers = spans.evaluate_all("spans => spans.map(s => [s.textContent, s.dataset.value, s.title, s.className])")
    for text, value, title, classes in numbers:
        assert text == format_number(float(value)) and title == value, (text, value)
        sign = "negative" if text.startswith("-") else "positive" if text.startswith("+") else "zero"
        assert classes.split() == ["code-number", sign]
    assert len(numbers) == 3 + 3 + 3 + 3 + 1 + 1 + 2 + 2 + 2 + 2 + 1 + 1 + 1  # values and ∂L/∂ of each row (L has none)

    def texts(symbol: str, column: str) -> list[str]:
        row = rows.locator(f"xpath=self::*[@data-symbol='{symbol}']")
        return row.locator(f"td.{column} .code-number").all_inner_texts()

    assert texts("θ", "grads") == ["+3.0e-07", "-2.0000", "0"]  # ∂L/∂w = x, in float32
    assert texts("θ", "values") == ["+2.0e-06", "-1.0e+07", "+0.5000"]
    assert texts("θ′", "grads") == ["-1.0000", "-inf"]  # −1/v², −∞ at 0
    assert texts("v₄", "values") == ["+inf"]  # a number that JSON carries as null: its text says which
    assert texts("v₅", "values") == ["+inf"] and texts("v₅", "grads") == []  # where L ends: no ∂L/∂ of it
    assert rows.locator("xpath=self::*[@data-symbol='v₅']").locator("td.grads").inner_text() == "—"
    assert "4 decimal places for display" in page.locator("#code-summary-precision").inner_text()


def test_a_tensor_of_three_dimensions_is_shown_as_rows_of_its_last(served, page):
    """A 2×2×3 tensor reads as 4 rows of 3, as the trace writes it (the page once failed on it: a number
    formatter handed a list)."""
    open_code_view(page, served)
    type_program(page, "import numpy as np\nimport glassgrad as gg\n"
                       "x = gg.tensor(np.arange(12.0).reshape(2, 2, 3) / 7, requires_grad=True)\n"
                       "with gg.trace() as tape:\n    (x * 2).sum().backward()")
    page.locator("#btn-run").click()
    wait_for_state(page, r"^finished")
    cell = page.locator("#code-summary tr[data-symbol='X'] td.values")
    expect(cell.locator("table.matrix tr")).to_have_count(4)
    rows = [row.locator(".code-number").evaluate_all("spans => spans.map(s => [s.textContent, s.dataset.value])")
            for row in cell.locator("table.matrix tr").all()]
    assert [len(row) for row in rows] == [3, 3, 3, 3]
    values = np.array([[float(value) for _, value in row] for row in rows])
    np.testing.assert_allclose(values, np.arange(12.0).reshape(4, 3) / 7, rtol=1e-6)
    assert all(text == format_number(float(value)) for row in rows for text, value in row)
    grads = page.locator("#code-summary tr[data-symbol='X'] td.grads .code-number").all_inner_texts()
    assert grads == ["+2.0000"] * 12  # ∂(Σ 2x)/∂x = 2


def test_ctrl_enter_runs_and_an_error_shows_its_line(served, page):
    open_code_view(page, served)
    type_program(page, 'x = 1\nprint("before the error")\ny = x / 0\nprint("never printed")')
    page.keyboard.press("Control+Enter")  # the caret is in the editor
    wait_for_state(page, r"^stopped by an error on line 3$")
    assert output(page, "stdout") == "before the error\n"
    assert "ZeroDivisionError" in output(page, "stderr")
    expect(page.locator("#code-message")).to_contain_text("ZeroDivisionError")
    marked = page.locator("#code-editor .cm-error-line")
    expect(marked).to_have_count(1)
    assert marked.inner_text() == "y = x / 0"
    page.keyboard.type("1")  # an edit takes the mark away: the line may be fixed now
    expect(marked).to_have_count(0)


LOOP = 'print("looping")\nwhile True: pass'


def test_stop_ends_an_infinite_loop(served, page):
    open_code_view(page, served)
    type_program(page, LOOP)
    page.locator("#btn-run").click()
    expect(page.locator("#code-output .stdout")).to_have_text("looping\n")
    expect(page.locator("#btn-run")).to_be_disabled()
    page.locator("#btn-stop").click()
    wait_for_state(page, r"^stopped$")
    expect(page.locator("#btn-run")).to_be_enabled()
    expect(page.locator("#btn-stop")).to_be_disabled()


def test_the_time_limit_ends_an_infinite_loop_and_the_server_answers_meanwhile(served, page):
    url, _ = served
    open_code_view(page, served)
    type_program(page, LOOP)
    page.locator("#btn-run").click()
    expect(page.locator("#code-output .stdout")).to_have_text("looping\n")
    # while the loop runs: another view's request and a plain API request are answered
    page.locator("#tab-practice").click()
    expect(page.locator("#practice-equation")).not_to_be_empty()
    with urllib.request.urlopen(f"{url}/api/options", timeout=30) as answer:
        assert json.load(answer)["code"]["time_limit_s"] == TIME_LIMIT_S
    page.locator("#tab-code").click()
    wait_for_state(page, rf"^timed out after {TIME_LIMIT_S:g} s$")
    expect(page.locator("#code-message")).to_be_visible()


def test_a_program_past_the_memory_limit_is_stopped_with_a_clear_message(served, page):
    open_code_view(page, served)
    type_program(page, 'import numpy as np\nprint("allocating")\nbig = np.ones((1024, 1024, 256))')  # 2 GiB
    page.locator("#btn-run").click()
    wait_for_state(page, rf"^out of memory \(limit {MEMORY_MB} MB\)$")
    expect(page.locator("#code-message")).to_contain_text(f"{MEMORY_MB} MB")
    assert output(page, "stdout") == "allocating\n"


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_code_view_is_seen_at_a_laptops_and_a_phones_width(served, browser, size):  # noqa: F811
    url, token = served
    with offline_page(browser, VIEWPORTS[size], timeout_ms=RUN_TIMEOUT_MS) as page:
        page.goto(f"{url}/?view=code&c_starter=diagonal-flip&token={token}")
        page.wait_for_selector("#code-editor .cm-content")
        expect(page.locator("#code-editor .cm-content")).to_contain_text("gg.trace(model)")
        page.locator("#btn-run").click()
        wait_for_state(page, r"^finished")
        expect(page.locator("#code-summary tbody tr").first).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # before the checks below scroll the boxes
        path = SCREENSHOTS / f"code-{VIEWPORTS[size]['width']}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        for selector, what in (("#btn-run", "the Run button"), ("#btn-stop", "the Stop button"),
                               ("#code-state", "the state line"), ("#code-notice", "the notice"),
                               ("#code-starter", "the starter menu"), ("#code-output", "the output"),
                               ("#code-summary", "the trace's numbers")):
            assert_seen(page.locator(selector), what)
        for selector in ("#btn-run", "#code-state", "#code-notice", "#code-output .stdout", "#code-summary td.values"):
            assert_readable(page, selector, VIEWPORTS[size])
        assert_seen(page.locator("#code-editor .cm-editor"), "the editor")
        for line in page.locator("#code-editor .cm-line").all()[:12]:  # a phone wraps long lines
            assert_seen(line, f"the editor's line {line.inner_text()!r}")
        assert "this computer" in page.locator("#code-notice").inner_text()
        # the notice is right under the row of Run and Stop
        toolbar = page.locator("#btn-run").locator("xpath=..").bounding_box()
        notice = page.locator("#code-notice").bounding_box()
        assert 0 <= notice["y"] - (toolbar["y"] + toolbar["height"]) < 20, "the notice is not next to Run"
        assert_no_sideways_scroll(page, "the Code view")


def test_the_programs_network_opens_in_the_step_through_and_every_number_views(served, page):
    open_code_view(page, served)  # the first starter, the diagonal flip, leaves model, x, y and tape
    page.locator("#btn-run").click()
    wait_for_state(page, r"^finished")
    expect(page.locator("#btn-open-train")).to_be_hidden()  # four inputs: Train's data sets are 2-D
    page.locator("#btn-open-step").click()
    expect(page.locator("#tab-step")).to_have_attribute("aria-selected", "true")
    page.locator("#btn-forward").click()
    expect(page.locator("#step-loss-value")).to_have_text(re.compile(r"\d"))
    assert "s_example=code%3A" in page.evaluate("location.href")
    page.locator("#tab-code").click()
    page.locator("#btn-open-scalar").click()
    expect(page.locator("#tab-scalar")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#scalar-graph g").first).to_be_attached()


def test_the_token_is_kept_for_the_tab_and_never_in_a_link(served, page):
    url, token = served
    open_code_view(page, served)
    assert "token" not in page.evaluate("location.href")
    page.locator("#share-toggle").click()
    assert "token" not in page.locator("#share-link").input_value()
    assert page.evaluate("sessionStorage.getItem('glassgrad-token')") == token


def test_without_the_token_the_page_says_what_to_open(served, browser):  # noqa: F811
    url, _ = served
    with offline_page(browser, VIEWPORTS["wide"]) as page:  # the starters need no token: nothing is refused
        page.goto(f"{url}/?view=code")
        note = page.locator("#code-token-note")
        expect(note).to_contain_text("secret token")  # not "the token is not this server's"
        assert "not this server's" not in note.inner_text()
        assert_seen(note, "the line about the token")


def test_without_the_editor_bundle_a_text_box_stands_in_and_says_how_to_build_it(served, browser):  # noqa: F811
    url, token = served
    with offline_page(browser, VIEWPORTS["wide"], ignore=lambda text: "status of 404" in text) as page:
        page.route("**/static/build/editor.js", lambda route: route.fulfill(status=404, body="not built"))
        page.goto(f"{url}/?view=code&token={token}")
        expect(page.locator("#code-editor-note")).to_contain_text("cd frontend && npm ci && npm run build")
        area = page.locator("#code-editor textarea")
        expect(area).to_have_value(re.compile("import glassgrad"))
        area.click()
        page.keyboard.press("Control+A")
        page.keyboard.type('print("from the text box")')
        page.keyboard.press("Control+Enter")
        wait_for_state(page, r"^finished")
        assert output(page, "stdout") == "from the text box\n"


def test_no_code_tab_when_the_code_view_is_off(browser, tmp_path):  # noqa: F811
    with playground(tmp_path, code=False) as (url, _), offline_page(browser, VIEWPORTS["wide"]) as page:
        page.goto(f"{url}/?view=code")
        expect(page.locator("#tab-step")).to_have_attribute("aria-selected", "true")  # the first view instead
        assert page.locator("#tab-code").count() == 0 and page.locator("#view-code").count() == 0


def test_the_two_d_classifier_trains_on_from_its_own_weights(served, page):
    open_code_view(page, served)
    page.locator("#code-starter").select_option("two-d-classifier")
    expect(page.locator("#code-editor .cm-content")).to_contain_text("moons")
    page.locator("#btn-run").click()
    wait_for_state(page, r"^finished")
    assert "accuracy" in output(page, "stdout").lower()
    page.locator("#btn-open-train").click()
    expect(page.locator("#tab-train")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#train-loss-value")).to_have_text(re.compile(r"\d"))
    expect(page.locator("#error")).to_be_hidden()
    assert "t_from_code=" in page.evaluate("location.href")
    expect(page.locator("#train-from-code")).to_be_visible()
    page.locator("#btn-train-fresh").click()  # back to a network of the Train view's own settings
    expect(page.locator("#train-from-code")).to_be_hidden()
    expect(page.locator("#train-step")).to_have_text("0")
    assert "t_from_code" not in page.evaluate("location.href")
