"""A printed worksheet, as a teacher prints it from Chromium: each kind's instructions once, no heading
left at the foot of a page, and 10 problems on two A4 pages with the key on one more. Screenshots of
the sheet as printed, at a laptop's and a phone's width, go to ``test-artifacts/screenshots/``, and
the PDF to ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest
from browser import SCREENSHOTS, VIEWPORTS, assert_no_sideways_scroll, assert_seen
from browser import chromium as headless_chromium

from glassgrad.cli import main
from glassgrad.practice import generate_set
from glassgrad.practice.worksheet import split_instructions


@pytest.fixture(scope="module")
def chromium():
    with headless_chromium() as launched:
        yield launched


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_ten_problems_print_on_two_pages_with_each_instruction_once(tmp_path, chromium, capsys, size):
    sheet = tmp_path / "sheet.html"
    assert main(["practice", "generate", "--count", "10", "--seed", "1", "--format", "html", "--out", str(sheet)]) == 0
    capsys.readouterr()
    page = chromium.new_page(viewport=VIEWPORTS[size])
    fetched = []
    page.route(re.compile(r"^(?!file:).*"), lambda route: (fetched.append(route.request.url), route.abort()))
    page.goto(sheet.as_uri())
    shared, own = split_instructions(generate_set(None, 10, 1))
    body = page.locator("main").inner_text()
    for kind, text in shared.items():
        assert body.count(text) == 1, f"{kind}'s instruction is printed {body.count(text)} times"
    assert len(shared) >= 5 and page.locator("li.problem").count() == 10
    for n in range(10):
        assert_seen(page.locator("li.problem .blank").nth(n), f"problem {n + 1}'s blank")
    assert_no_sideways_scroll(page, "the worksheet")
    page.emulate_media(media="print")
    assert page.locator("main h2").first.evaluate("el => getComputedStyle(el).breakAfter") == "avoid"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"worksheet-printed-{VIEWPORTS[size]['width']}.png"), full_page=True)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    (SCREENSHOTS.parent / "worksheet.pdf").write_bytes(pdf)
    assert _pages(pdf) <= 3  # 2 pages of problems + 1 of key (5 when every problem repeated its instructions)
    page.close()
    assert fetched == []


def test_a_trace_sheets_headings_stay_with_their_steps(tmp_path, chromium, capsys):
    out = tmp_path / "flip.html"
    assert main(["practice", "sheet", "--from-trace", "diagonal-flip", "--blanks", "8", "--seed", "1",
                 "--format", "html", "--out", str(out)]) == 0
    capsys.readouterr()
    page = chromium.new_page(viewport=VIEWPORTS["wide"])
    page.goto(out.as_uri())
    page.emulate_media(media="print")
    for heading in page.locator("main h2").all():  # "Forward pass", "Backward pass": never the last line of a page
        assert heading.evaluate("el => getComputedStyle(el).breakAfter") == "avoid"
    (SCREENSHOTS.parent / "trace-sheet.pdf").write_bytes(page.pdf(format="A4", prefer_css_page_size=True))
    page.close()
