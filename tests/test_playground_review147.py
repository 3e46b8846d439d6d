"""Round 147: the playground in a browser after the step-through's matrices began writing class targets as they are.

The matrices write a class target as the integer it is (``1``, not ``+1.0000``), and its explanation said
``y[1] = 1: the target, class 2 …``, but the line under it still called it ``Full float32 value: 1.0.``: the
model's float dtype applied to an integer class index. It now names the target's own dtype (``Full int64 value:
1.``), as the matrix shows it.

Playwright drives Debian's Chromium with no network, at 1280×800 and 390×844.
"""

from __future__ import annotations

import re

import pytest
from browser import VIEWPORTS, assert_seen, offline_page, require_playwright
from test_playground_browser import browser, server  # noqa: F401  (fixtures shared with those tests)

sync_api = require_playwright()
expect = sync_api.expect


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize(("example", "label"), [("mlp3", 1), ("moons", 0)])
def test_a_class_targets_explanation_calls_it_an_integer(server, browser, size, example, label):  # noqa: F811
    with offline_page(browser, VIEWPORTS[size]) as page:
        page.goto(f"{server}/?view=step&s_example={example}&s_actions=f+b")
        cell = page.locator("table.matrix[data-name=y] .cell").first
        expect(cell).to_have_text(str(label))
        assert_seen(cell, "the class target in the matrices")
        cell.click()
        meaning = page.locator("#explain-meaning")
        expect(page.locator("#explain-text")).to_contain_text(f"y[1] = {label}: the target, class {label + 1}")
        assert_seen(meaning, "the class target's full value")
        text = meaning.inner_text()
        assert re.fullmatch(rf"Full int\d+ value: {label}\.", text), f"the class target {label} is written {text!r}"
