"""The page names positions as the trace does, counting from 1 (the cell ids keep the code's index)."""

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
