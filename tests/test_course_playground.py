"""The playground's Course view: ``GET /api/course`` and the page in a real browser (Debian's Chromium,
offline), at 1280×800 and at a phone's 390 px, with the chapter map filling in as chapters are completed
(screenshots in ``test-artifacts/screenshots/``)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import pytest
from browser import (
    SCREENSHOTS,
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_seen,
    chromium,
    offline_page,
    playground,
    require_playwright,
)

from glassgrad.course import load_course
from glassgrad.course.progress import DATA_DIR_VARIABLE, Progress
from glassgrad.playground import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
COURSE = load_course()


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "data"))


def complete(*chapter_ids: str) -> None:
    """Complete chapters as 'glassgrad learn' records a passed attempt."""
    with Progress() as progress:
        for chapter_id in chapter_ids:
            attempt, _ = progress.start_attempt(COURSE.id, chapter_id)
            progress.finish_attempt(attempt, (2, 2), (3, 3), True, 30.0)


def filled_parts(svg: str) -> set[str]:
    groups = ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g")
    return {group.get("data-part") for group in groups if group.get("data-done") == "true"}


@pytest.fixture
def client(tmp_path):
    testclient = pytest.importorskip("starlette.testclient")
    with testclient.TestClient(create_app(output_dir=tmp_path / "out"), base_url="http://127.0.0.1:8000") as test:
        yield test


def test_the_course_endpoint_reads_the_stored_progress(client):
    first = client.get("/api/course").json()
    assert (first["done"], first["total"]) == (0, 11) and filled_parts(first["map_svg"]) == set()
    assert [c["id"] for c in first["chapters"]] == [c.id for c in COURSE.chapters]
    complete("gradient", "softmax-cross-entropy")
    with Progress() as progress:
        progress.move_to(COURSE.id, "gradient-descent")
    second = client.get("/api/course").json()
    assert second["done"] == 2 and filled_parts(second["map_svg"]) == {"loss", "output"}
    chapters = {c["id"]: c for c in second["chapters"]}
    assert chapters["gradient"]["complete"] and not chapters["gradient-descent"]["complete"]
    assert chapters["gradient-descent"]["current"] and second["position"] == "gradient-descent"
    assert chapters["backprop-by-hand"]["links"][0] == {"label": "Step through diagonal-flip", "view": "step",
                                                        "fields": {"example": "diagonal-flip"}}
    assert {"view": "practice", "fields": {"kind": "softmax-ce-gradient", "seed": 707},
            "label": "Practise softmax-ce-gradient"} in chapters["softmax-cross-entropy"]["links"]
    assert any(link["view"] == "train" for link in chapters["learning-rate"]["links"])
    rows = dict(map(tuple, chapters["softmax-cross-entropy"]["worked_example"]["rows"]))
    assert rows["ŷ − y"] == rows["glassgrad's backward pass: ∂L/∂z"]


def test_the_course_endpoint_refuses_bad_requests_with_4xx(client, monkeypatch, tmp_path):
    assert client.post("/api/course", content=b"{}", headers={"content-type": "application/json"}).status_code == 405
    answer = client.request("GET", "/api/course", content=b'{"x": 1}')
    assert answer.status_code == 422 and "unknown field 'x'" in answer.json()["error"]
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "progress.sqlite3").write_bytes(b"not a database" * 200)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(damaged))
    answer = client.get("/api/course")
    assert answer.status_code == 200 and "is damaged or not a glassgrad database" in answer.json()["progress_error"]


@pytest.mark.parametrize("size", ["wide", "phone"])
def test_the_course_view_fills_in_as_chapters_are_completed(tmp_path, size):
    require_playwright()
    viewport = {"width": 1280, "height": 800} if size == "wide" else VIEWPORTS["phone"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playground(tmp_path / "out") as (url, _), chromium() as browser, offline_page(browser, viewport) as page:
        page.goto(f"{url}/?view=course")
        filled = page.locator("#course-map svg g[data-done=true]")
        page.locator("#course-chapters li").nth(10).wait_for()
        assert filled.count() == 0
        assert page.locator("#course-summary").inner_text().startswith("0 of 11 chapters complete")
        assert_seen(page.locator("#course-map svg"), "the chapter map")
        assert_seen(page.locator("#course-chapters li").first.locator("summary"), "the first chapter")
        assert_no_sideways_scroll(page, f"the course view at {viewport['width']} px")
        page.screenshot(path=str(SCREENSHOTS / f"course-{size}-before.png"), full_page=True)

        complete("gradient", "gradient-descent", "chain-rule", "softmax-cross-entropy")
        with Progress() as progress:
            progress.move_to(COURSE.id, "learning-rate")
        page.locator("#course-refresh").click()
        page.locator("#course-summary").filter(has_text="4 of 11 chapters complete").wait_for()
        assert sorted(filled.evaluate_all("gs => gs.map(g => g.dataset.part)")) == [
            "loss", "output", "update", "weights-out"]
        current = page.locator("li.current")
        assert current.get_attribute("data-chapter") == "learning-rate"
        assert "Worked example (computed now by glassgrad)" in current.inner_text()  # the current chapter is open
        assert_seen(current.locator("caption"), "the current chapter's worked example")
        assert_no_sideways_scroll(page, f"the course view at {viewport['width']} px, chapters open")
        page.screenshot(path=str(SCREENSHOTS / f"course-{size}-after.png"), full_page=True)

        page.locator("li[data-chapter=softmax-cross-entropy] summary").click()
        page.locator("li[data-chapter=softmax-cross-entropy] a[data-view=practice]").click()
        page.wait_for_url("**view=practice**")
        assert "p_kind=softmax-ce-gradient" in page.url
        page.locator("#practice-equation").filter(has_text="∂L/∂z").wait_for()
        assert page.locator("#tab-practice").get_attribute("aria-selected") == "true"


BROKEN_WORDS = """() => {  // words of up to 12 characters ('η = 0.001'); a longer identifier may break to fit
  const broken = [];
  for (const label of document.querySelectorAll("#course-chapters .course-example th")) {
    const text = label.firstChild;
    let start = 0;
    for (const word of text.textContent.split(" ")) {
      const range = document.createRange();
      range.setStart(text, start);
      range.setEnd(text, start + word.length);
      const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
      if (word.length <= 12 && tops.size > 1) broken.push(`${word} in "${text.textContent}"`);
      start += word.length + 1;
    }
  }
  return broken;
}"""


@contextmanager
def every_chapter_open(tmp_path, size: str):
    """The Course view at one of the two sizes, offline, with every chapter opened: yields (page, chapters)."""
    require_playwright()
    with playground(tmp_path / "out") as (url, _), chromium() as browser, \
            offline_page(browser, VIEWPORTS[size]) as page:
        page.goto(f"{url}/?view=course")
        chapters = page.locator("#course-chapters li")
        chapters.nth(10).wait_for()
        for number in range(chapters.count()):
            chapters.nth(number).locator("summary").click()
        yield page, chapters


@pytest.mark.parametrize("size", ["wide", "phone"])
def test_the_worked_examples_row_labels_keep_their_words_whole(tmp_path, size):
    """At 390 px the labels were broken inside words ('ste' over 'p 0' in chapter 2's steps)."""
    with every_chapter_open(tmp_path, size) as (page, chapters):
        assert page.locator("#course-chapters .course-example th").count() >= 2 * chapters.count()
        assert page.evaluate(BROKEN_WORDS) == []
        assert_seen(page.locator("li[data-chapter=gradient-descent] th", has_text="step 0"), "the label step 0")
        assert_no_sideways_scroll(page, f"the course view at {VIEWPORTS[size]['width']} px, every chapter open")


CROSSED_WORDS = """() => {  // each text of the map, and the strokes (curve, lines, circles, boxes) that run through it
  const svg = document.querySelector("#course-map svg"), crossed = [];
  const boxes = [...svg.querySelectorAll("text")].map((text) => [text.textContent, text.getBBox()]);
  const inside = (point, box) => point.x > box.x - 0.5 && point.x < box.x + box.width + 0.5 &&
                                 point.y > box.y - 0.5 && point.y < box.y + box.height + 0.5;
  for (const shape of svg.querySelectorAll("path, line, circle, rect")) {
    for (let along = 0; along <= shape.getTotalLength(); along += 0.5) {
      const point = shape.getPointAtLength(along);
      for (const [text, box] of boxes) if (inside(point, box)) crossed.push(`${text} crossed by a ${shape.tagName}`);
    }
  }
  return [...new Set(crossed)];
}"""


@pytest.mark.parametrize("completed", [(), tuple(chapter.id for chapter in COURSE.chapters)])
def test_no_line_of_the_chapter_map_runs_through_its_words(tmp_path, completed):
    """The skip connection's curve and a weight line ran through 'ch. 10' (and the curve touched 'skip')."""
    require_playwright()
    complete(*completed)
    with playground(tmp_path / "out") as (url, _), chromium() as browser, \
            offline_page(browser, VIEWPORTS["wide"]) as page:
        page.goto(f"{url}/?view=course")
        page.locator("#course-map svg g[data-part=skip] text").first.wait_for()
        shown = "false" if completed else "true"  # every part filled in, or none
        assert page.locator(f"#course-map svg g[data-done={shown}]").count() == 0
        assert page.evaluate(CROSSED_WORDS) == []
        assert_seen(page.locator("#course-map svg"), "the chapter map")


NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def significant_digits(number: str) -> int:
    digits = number.lstrip("+-").split("e")[0].replace(".", "").lstrip("0")
    return max(len(digits), 1)


@pytest.mark.parametrize("size", ["wide", "phone"])
def test_each_worked_example_says_how_its_numbers_are_rounded(tmp_path, size):
    """The worked examples showed 0.0594629 and 3.3831e+26 beside 0.6938 with no word on their precision."""
    with every_chapter_open(tmp_path, size) as (_, chapters):
        for number in range(chapters.count()):
            chapter = chapters.nth(number)
            said = chapter.locator(".course-precision")
            assert_seen(said, f"chapter {number + 1}'s word on precision")
            limit = int(re.search(r"at most (\d+) significant digits", said.inner_text()).group(1))
            values = chapter.locator(".course-example td").all_inner_texts()
            numbers = [found for value in values for found in NUMBER.findall(value)]
            assert numbers, f"chapter {number + 1} shows no numbers"
            assert all(significant_digits(found) <= limit for found in numbers), numbers  # the claim, checked
