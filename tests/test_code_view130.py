"""Round 130: the Code view opened without the launch's token (a bookmark, a shared link, a typed address).

It used to show an empty editor and an empty starter menu under a dismissable banner; Run was on and did
nothing useful. Now the starters (the package's own files: reading them runs nothing) come without the
token, the editor shows them, Run is off and one line next to the code says which URL to open. Running,
stopping and reading runs still need the token; a wrong token, a foreign Origin or Host is still refused.
Oracle: the starter files themselves, the runner's process starts (counted), and what the page shows at
1280×800 and 390×844 (screenshots: ``test-artifacts/screenshots/code-no-token-<width>.png``).
"""

from __future__ import annotations

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
from test_code_guard import make_client, refusal, spawned  # noqa: F401  (spawned: the counted process starts)
from test_playground_browser import browser  # noqa: F401  (the shared Chromium)
from test_playground_step_browser import assert_readable

from glassgrad.playground.code_view import STARTERS, STARTERS_FOLDER

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
sync_api = require_playwright()
expect = sync_api.expect
OWN = {"Origin": "http://127.0.0.1:8000"}


def starter_text(name: str) -> str:
    return (STARTERS_FOLDER / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("headers", [{}, {"X-Glassgrad-Token": ""}, OWN], ids=["no header", "empty", "own origin"])
def test_a_tab_without_the_token_reads_the_starters(tmp_path, headers):
    client, _ = make_client(tmp_path)
    with client:
        answer = client.get("/api/code/starters", headers=headers)
        assert answer.status_code == 200, answer.text
        assert {s["name"]: s["code"] for s in answer.json()["starters"]} == {n: starter_text(n) for n in STARTERS}


def test_without_the_token_nothing_else_is_let_through_and_nothing_runs(tmp_path, spawned):  # noqa: F811
    client, app = make_client(tmp_path)
    with client:
        for method, path in [("POST", "/api/code/run"), ("GET", "/api/code/runs/0123456789abcdef"),
                             ("POST", "/api/code/runs/0123456789abcdef/stop"), ("POST", "/api/code/starters"),
                             ("HEAD", "/api/code/starters"), ("GET", "/api/code/starters/"),
                             ("GET", "/api/code//starters"), ("GET", "/api/code/STARTERS")]:
            response = client.request(method, path, json={"code": "print(1)"} if method == "POST" else None,
                                      headers=OWN)
            if method == "HEAD":
                assert response.status_code == 403, path
            else:
                assert "secret token" in refusal(response), (method, path)
        assert "not this server's" in refusal(client.get("/api/code/starters", headers={"X-Glassgrad-Token": "x"}))
        assert refusal(client.get("/api/code/starters", headers={"Origin": "http://example.com"}))
        assert "example.com" in refusal(client.get("/api/code/starters", headers={"Host": "example.com"}), 400)
        answer = client.get("/api/code/starters", params={"since": "1"})  # an unknown field: 4xx, never 500
        assert 400 <= answer.status_code < 500
    off, _ = make_client(tmp_path, code=False)
    with off:
        assert "--no-code" in refusal(off.get("/api/code/starters"))
    assert spawned == []


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with playground(tmp_path_factory.mktemp("code-no-token")) as (url, app):
        yield url, app.state.code_token


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_without_the_token_the_code_view_shows_the_starter_and_one_line_on_what_to_open(served, browser, size):  # noqa: F811
    url, _ = served
    runs = []
    with offline_page(browser, VIEWPORTS[size]) as page:
        page.on("request", lambda request: runs.append(request.url) if "/api/code/run" in request.url else None)
        page.goto(f"{url}/?view=code")
        content = page.locator("#code-editor .cm-content")
        expect(content).to_contain_text("gg.trace(model)")  # the first starter, the diagonal flip
        note = page.locator("#code-token-note")
        expect(note).to_contain_text("?token=")
        assert "glassgrad serve" in note.inner_text()
        expect(page.locator("#error")).to_be_hidden()  # one line, not a banner as well
        expect(page.locator("#btn-run")).to_be_disabled()
        assert page.locator("#btn-run").get_attribute("aria-describedby") == "code-token-note"
        expect(page.locator("#code-state")).to_have_text("cannot run in this tab")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"code-no-token-{VIEWPORTS[size]['width']}.png"), full_page=True)
        for selector, what in (("#code-token-note", "the line about the token"), ("#code-state", "the state line"),
                               ("#code-starter", "the starter menu"), ("#code-editor .cm-editor", "the editor")):
            assert_seen(page.locator(selector), what)
        assert_readable(page, "#code-token-note", VIEWPORTS[size])
        first_line = page.locator("#code-editor .cm-line").first
        assert_seen(first_line, "the starter's first line")
        # the note is above the editor, seen before the code
        assert note.bounding_box()["y"] < page.locator("#code-editor").bounding_box()["y"]
        assert_no_sideways_scroll(page, "the Code view without the token")
        page.locator("#code-starter").select_option("two-d-classifier")  # the other starters are there too
        expect(content).to_contain_text("moons")
        content.click()
        page.keyboard.press("Control+Enter")  # Run is off from the editor as well: nothing is asked
        page.wait_for_timeout(300)
        assert runs == []
        expect(page.locator("#error")).to_be_hidden()


def test_with_the_token_there_is_no_such_line_and_run_is_on(served, browser):  # noqa: F811
    url, token = served
    with offline_page(browser, VIEWPORTS["wide"]) as page:
        page.goto(f"{url}/?view=code&token={token}")
        expect(page.locator("#code-editor .cm-content")).to_contain_text("import glassgrad")
        expect(page.locator("#code-token-note")).to_be_hidden()
        expect(page.locator("#btn-run")).to_be_enabled()
        assert page.locator("#btn-run").get_attribute("aria-describedby") is None
        expect(page.locator("#code-state")).to_have_text("not run yet")


# --- Practice: the score survives a reload of the tab ---------------------------------------------------------


def right_answer(page) -> float:
    """The blank of a forward-blank problem whose blank is in Z = W·X, by hand: row r of W dotted with X."""
    problem = page.evaluate("""async () => (await (await fetch('/api/practice/new', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({kind: 'forward-blank', seed: 0})})).json())""")
    assert problem["blank"]["tensor"] == "Z"
    row = problem["blank"]["index"][0]
    weights, inputs = (np.array(problem["tensors"][name], dtype=float) for name in ("W", "X"))
    return float(weights[row] @ inputs[:, 0])


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_practice_score_is_kept_when_the_tab_reloads(served, browser, size):  # noqa: F811
    url, _ = served
    with offline_page(browser, VIEWPORTS[size]) as page:
        page.goto(f"{url}/?view=practice&p_kind=forward-blank&p_seed=0")
        page.wait_for_selector('#practice-matrices table[data-name="Z"]')
        score = page.locator("#practice-score")
        page.fill("#practice-answer", f"{right_answer(page):g}")
        page.keyboard.press("Enter")
        page.wait_for_selector('.verdict[data-correct="true"]')
        first = "Score: 1 of 1 right (1 at the first try, 0 after a hint; 0 solutions shown)."
        expect(score).to_have_text(first)
        page.reload()
        page.wait_for_selector('#practice-matrices table[data-name="Z"]')
        expect(score).to_have_text(first)  # it said "Score: no problems finished yet."
        assert_seen(score, "the score after a reload")
        page.fill("#practice-answer", f"{right_answer(page):g}")  # the same problem again: it counted already
        page.keyboard.press("Enter")
        page.wait_for_selector('.verdict[data-correct="true"]')
        expect(score).to_have_text(first)
        page.locator("#btn-new").click()
        expect(page.locator("#practice-seed")).to_have_value("1")
        page.fill("#practice-answer", "123456")
        page.keyboard.press("Enter")
        page.locator("#btn-reveal").click()
        page.wait_for_selector(".worked li")
        second = "Score: 1 of 2 right (1 at the first try, 0 after a hint; 1 solution shown)."
        expect(score).to_have_text(second)
        page.reload()
        expect(score).to_have_text(second)
        other = page.context.new_page()  # a new tab starts at none
        other.goto(f"{url}/?view=practice&p_kind=forward-blank&p_seed=0")
        expect(other.locator("#practice-score")).to_have_text("Score: no problems finished yet.")
        other.close()


def test_a_spoilt_stored_score_is_none(served, browser):  # noqa: F811
    url, _ = served
    with offline_page(browser, VIEWPORTS["wide"]) as page:
        for spoilt in ('{"first": -1, "retry": 0, "shown": 0, "settled": []}', "null", "[", '{"first": 1}'):
            page.goto(f"{url}/?view=practice&p_kind=forward-blank&p_seed=0")
            page.evaluate("text => sessionStorage.setItem('glassgrad-practice-score', text)", spoilt)
            page.reload()
            expect(page.locator("#practice-score")).to_have_text("Score: no problems finished yet.")
