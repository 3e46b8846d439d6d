"""The page names positions as the trace does, counting from 1 (the cell ids keep the code's index): the
step-through, practice, the Landscape view (its weight fields take the trace's names) and the Every number view."""

from __future__ import annotations

import pytest
from browser import chromium, offline_page, playground, require_playwright

from glassgrad.trace.counting import CONVENTION

sync_api = require_playwright()
expect = sync_api.expect


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with playground(tmp_path_factory.mktemp("playground-output")) as (url, _):
        yield url


@pytest.fixture
def page(server):
    with chromium() as browser, offline_page(browser, {"width": 1280, "height": 1000}, timeout_ms=15_000) as tab:
        yield tab


def test_the_step_through_and_practice_views_count_from_1(server, page):
    page.goto(f"{server}/?view=step&s_example=diagonal-flip&s_actions=f+b+b")
    cell = page.locator('#step-matrices [data-cell="dW1[1,0]"]')  # the code's index, as an id
    cell.wait_for()
    assert cell.get_attribute("aria-label").startswith("∂L/∂W₁[2,1] = ")
    expect(page.locator("#step-counting")).to_have_text(CONVENTION)
    cell.click()
    expect(page.locator("#explain-heading")).to_have_text("∂L/∂W₁[2,1]")
    expect(page.locator("#explain-text")).to_contain_text("∂L/∂W₁[2,1] = ∂L/∂Z₁[2] · X[1] = ")
    titles = page.locator("#diagram line title").all_text_contents()
    assert any(title.startswith("W₁[2,1] = ") and "∂L/∂W₁[2,1] = " in title for title in titles)
    page.goto(f"{server}/?view=practice")
    expect(page.locator("#practice-counting")).to_have_text(CONVENTION)


@pytest.fixture
def refusing_page(server):
    """A page that may log the one refusal (422) it then shows to the learner."""
    with chromium() as browser, offline_page(browser, {"width": 1280, "height": 1000}, timeout_ms=15_000,
                                             ignore=lambda text: "status of 422" in text) as tab:
        yield tab


def test_the_landscape_and_every_number_views_name_the_same_entry_the_same_way(server, refusing_page):
    page = refusing_page
    page.goto(f"{server}/?view=landscape&l_x=W1%5B2%2C1%5D&l_y=W1%5B3%2C4%5D")  # typed as the trace prints them
    page.wait_for_selector("#landscape-map .walk.chosen circle")
    expect(page.locator("#landscape-title")).to_have_text("The landscape in fog: L over W₁[2,1] and W₁[3,4]")
    assert page.locator("#landscape-x").input_value() == "W1[2,1]"
    axis_labels = page.locator("#landscape-map .axis-label").all_text_contents()
    assert axis_labels == ["W₁[2,1] (W₁[1, 0] in code)", "W₁[3,4] (W₁[2, 3] in code)"]
    slope = page.locator("#landscape-info dt:text-is('Slope under your feet') + dd").inner_text()
    assert slope.startswith("∂L/∂W₁[2,1] = 0, ∂L/∂W₁[3,4] = -0.8000")  # hidden unit 2 is off: no slope along W₁[2,1]
    expect(page.locator("#landscape-convention")).to_contain_text(CONVENTION)
    page.fill("#landscape-x", "W1[0,1]")  # 0 is no position: said in one line, with the convention
    page.locator("#landscape-draw").click()
    expect(page.locator("#error")).to_contain_text("use W1[1..3,1..4]. " + CONVENTION)
    page.goto(f"{server}/?view=scalar")
    box = page.locator("#scalar-graph [data-name='W₁[2,1]']")
    box.wait_for()
    box.scroll_into_view_if_needed()
    assert box.locator("text").all_text_contents()[0] == "W₁[2,1]"
    box.click()
    expect(page.locator("#scalar-detail")).to_have_text(
        "W₁[2,1] (W₁[1, 0] in code) (a leaf: nothing makes it): value -0.3; ∂L/∂ of it = 0")
    expect(page.locator("#scalar-note")).to_contain_text(CONVENTION)
