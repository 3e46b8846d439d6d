"""Printable worksheets in a real browser: Playwright driving Debian's Chromium, offline.

A 10-problem worksheet and a by-hand sheet from the diagonal-flip trace are opened as files;
the test checks what a reader sees (every problem and blank laid out, matrices in square
brackets), that printing puts the answer key on its own page, that the key shown matches the
JSON answers, and that the page fetches nothing. Screenshots go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import re

import pytest
from browser import SCREENSHOTS
from browser import chromium as headless_chromium

from glassgrad.cli import main


@pytest.fixture(scope="module")
def page():
    """A Chromium page that may open files and nothing else (every other request is refused and recorded)."""
    with headless_chromium() as launched:
        view = launched.new_page(viewport={"width": 1000, "height": 1400})
        view.fetched = []
        view.route(re.compile(r"^(?!file:).*"), lambda route: (view.fetched.append(route.request.url), route.abort()))
        yield view


def _pdf_pages(view) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", view.pdf(format="A4")))


def test_ten_problem_worksheet_in_chromium(tmp_path, page, capsys):
    options = ["--count", "10", "--seed", "1"]
    assert main(["practice", "generate", *options, "--out", str(tmp_path / "set.json")]) == 0
    assert main(["practice", "generate", *options, "--format", "html", "--out", str(tmp_path / "sheet.html")]) == 0
    capsys.readouterr()
    answers = [p["answer_text"] for p in json.loads((tmp_path / "set.json").read_text(encoding="utf-8"))["problems"]]
    page.goto((tmp_path / "sheet.html").as_uri())
    problems = page.locator("li.problem")
    assert problems.count() == 10
    for n in range(10):
        problem = problems.nth(n)
        assert problem.is_visible() and problem.locator(".blank").count() == 1
        box = problem.locator(".blank").bounding_box()
        assert box["width"] > 5 and box["height"] > 5
    assert page.locator(".answer-key span.answer").all_inner_texts() == answers
    bracket = page.locator(".brackets").first.evaluate(
        "el => [getComputedStyle(el, '::before').borderLeftWidth, getComputedStyle(el, '::before').borderRightWidth,"
        " getComputedStyle(el, '::after').borderRightWidth]")
    assert bracket == ["2px", "0px", "2px"]  # [ … ]: a left and a right bracket, not two bars
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "practice-worksheet.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator(".answer-key").evaluate("el => getComputedStyle(el).breakBefore") == "page"
    assert _pdf_pages(page) >= 2
    page.emulate_media(media="screen")
    assert page.fetched == []


def test_trace_sheet_in_chromium(tmp_path, page, capsys):
    out = tmp_path / "flip.html"
    assert main(["practice", "sheet", "--from-trace", "diagonal-flip", "--blanks", "8", "--seed", "1",
                 "--format", "html", "--out", str(out)]) == 0
    capsys.readouterr()
    page.goto(out.as_uri())
    blanks = page.locator("main .blank")
    assert blanks.all_inner_texts() == [f"?{n}" for n in range(1, 9)]
    assert all(blanks.nth(n).is_visible() for n in range(8))
    assert page.locator(".answer-key span.answer").all_inner_texts() == [
        "0.5", "0", "0.89625", "-0.45", "-0.025", "0.115", "0", "-0.8"]  # the seed lesson's numbers
    headings = page.locator("section.step h3").all_inner_texts()
    assert any("ReLU'(Z₁) = 1 where Z₁ > 0, else 0" in heading for heading in headings)
    page.screenshot(path=str(SCREENSHOTS / "practice-trace-sheet.png"), full_page=True)
    page.emulate_media(media="print")
    assert _pdf_pages(page) >= 2
    page.emulate_media(media="screen")
    assert page.fetched == []
