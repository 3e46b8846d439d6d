"""Round 124: small leftovers in what a learner reads.

* ``glassgrad learn --map`` counted a line's width in characters: a course with CJK titles (two columns each in a
  terminal) went past 80 columns. It counts terminal cells now (rich's ``cell_len``).
* ``glassgrad train``'s divergence message showed a rounded loss and gradient norm without saying they were rounded.
* Playground refusals named request fields by their code names ("unknown dataset …", "answer must be a string"):
  they name the label the page shows.
* The HTML trace pages' wide tables scrolled sideways on a phone with no cue: they have the graph's cue now.

Screenshots go to ``/tmp/w51/shots124/``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from browser import VIEWPORTS, assert_no_sideways_scroll, assert_seen, chromium, require_playwright
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

import glassgrad as gg
from glassgrad.course import load_course
from glassgrad.course.chapter_map import TEXT_WIDTH, ChapterMap
from glassgrad.data import DataLoader, TensorDataset
from glassgrad.lessons import lesson
from glassgrad.playground.safety import FIELD_LABELS, PRACTICE_LABELS, ApiError, Fields
from glassgrad.playground.stepper import example_network
from glassgrad.trace.render_html import render_html

SHOTS = Path("/tmp/w51/shots124")
INDEX_HTML = (Path(__file__).resolve().parents[1] / "glassgrad" / "playground" / "static" / "index.html").read_text(
    encoding="utf-8")

# --- 1. the chapter map's width in terminal cells ------------------------------------------------------------------

WIDE_WORDS = st.lists(st.text(alphabet="梯度下降学习率反向传播链式法则优化器数值检查", min_size=1, max_size=6)
                      | st.sampled_from(["gradient", "descent", "the", "rate", "Adam"]), min_size=1, max_size=14)


@settings(max_examples=60, deadline=None)
@given(titles=st.lists(WIDE_WORDS, min_size=11, max_size=11), done=st.integers(0, 2**11 - 1))
def test_the_chapter_map_fits_80_terminal_columns_with_wide_titles(titles, done):
    course = load_course()
    chapters = tuple(dataclasses.replace(chapter, title=" ".join(words))
                     for chapter, words in zip(course.chapters, titles))
    course = dataclasses.replace(course, chapters=chapters)
    completed = {chapter.id for i, chapter in enumerate(chapters) if done >> i & 1}
    text = ChapterMap(course, completed).text()
    for line in text.splitlines():  # no word here is longer than a line's room
        assert cell_len(line) <= TEXT_WIDTH, f"{cell_len(line)} columns: {line!r}"
    for chapter in chapters:  # every title is there, its words whole and in order
        assert " ".join(f"{chapter.number}. {chapter.title}".split()) in " ".join(text.split())


def test_a_cjk_title_is_wrapped_at_80_columns_not_80_characters():
    course = load_course()
    title = "梯度下降 " * 12  # 60 characters, 108 columns
    chapters = tuple(dataclasses.replace(c, title=title.strip()) if c.map_part == "loss" else c
                     for c in course.chapters)
    lines = ChapterMap(dataclasses.replace(course, chapters=chapters), set()).text().splitlines()
    loss_lines = [line for line in lines if "梯度" in line]
    assert len(loss_lines) >= 2 and max(cell_len(line) for line in lines) <= TEXT_WIDTH, "\n".join(lines)


# --- 2. the divergence message says its numbers are rounded -------------------------------------------------------

def _diverge(max_loss_growth):
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.normal(size=(32, 3)).astype("float32"))
    y = gg.tensor(rng.normal(size=(32, 1)).astype("float32"))
    gg.manual_seed(0)
    model = gg.nn.Linear(3, 1)
    history = gg.fit(model, gg.nn.MSELoss(), gg.optim.SGD(model.parameters(), lr=100.0),
                     DataLoader(TensorDataset(x, y), batch_size=8), epochs=5, progress=False,
                     max_loss_growth=max_loss_growth)
    return history.diverged.message


@pytest.mark.parametrize("growth", [10, None])
def test_the_divergence_message_says_its_numbers_are_rounded_in_one_paragraph(growth):
    message = _diverge(growth)
    shown = "the loss rose from" if growth else "blew up first (norm"
    assert shown in message, message
    assert message.endswith(" Values rounded to 4 significant digits for display."), message
    assert "\n" not in message


# --- 3. playground refusals name the page's labels -----------------------------------------------------------------

@pytest.mark.parametrize(("read", "labels", "body", "expected"), [
    (lambda f: f.choice("dataset", ["moons", "circles"]), FIELD_LABELS, {"dataset": "zzz"},
     'Dataset "zzz" is unknown: choose one of moons, circles'),
    (lambda f: f.choice("optimizer", ["sgd", "adam"]), FIELD_LABELS, {"optimizer": 3},
     "Optimizer 3 is unknown: choose one of sgd, adam"),
    (lambda f: f.text("name", "", 200), FIELD_LABELS, {"name": 5}, "Save as must be a string"),
    (lambda f: f.text("name", "", 3), FIELD_LABELS, {"name": "abcd"}, "Save as is too long (4 characters; at most 3)"),
    (lambda f: f.choice("kind", ["forward-blank"]), PRACTICE_LABELS, {"kind": "zzz"},
     'Kind "zzz" is unknown: choose one of forward-blank'),
    (lambda f: f.text("answer", "", 64), PRACTICE_LABELS, {"answer": 1}, "Your answer must be a string"),
])
def test_refusals_name_the_label_beside_the_input(read, labels, body, expected):
    with pytest.raises(ApiError) as caught:
        read(Fields(body, labels=labels))
    assert caught.value.message == expected


@pytest.mark.parametrize(("sizes", "loss", "expected"), [
    ([2], "mse", "Layer sizes: give at least an input and an output size, e.g. [2, 3, 2]"),
    ([2, 3, 1], "cross_entropy", "Layer sizes: cross-entropy needs at least 2 output classes"),
])
def test_the_step_through_names_its_layer_sizes_field(sizes, loss, expected):
    with pytest.raises(ApiError) as caught:
        example_network("custom", Fields({"sizes": sizes, "loss": loss}))
    assert caught.value.message == expected


@pytest.mark.parametrize("label", ["Dataset", "Activation", "Loss", "Optimizer", "Save as"])
def test_each_label_is_the_text_the_page_shows(label):
    assert re.search(rf"<label[^>]*>{re.escape(label)} <", INDEX_HTML), f"no {label!r} label on the page"


# --- 4. a wide table on a trace page says it scrolls ---------------------------------------------------------------

def test_a_wide_trace_table_says_it_scrolls_on_a_phone(tmp_path):
    require_playwright()
    path = tmp_path / "diagonal-flip.html"
    path.write_text(render_html(lesson("diagonal-flip")), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS["phone"])
        page.goto(path.as_uri())
        assert_no_sideways_scroll(page, "the diagonal-flip trace page")
        figure = page.locator("figure.scrolls:has(table.steps)").first
        assert figure.evaluate("f => f.scrollWidth > f.clientWidth + 50"), "the table fits a phone: nothing to test"
        hint = figure.locator(".scroll-hint")
        assert_seen(hint, "the line saying the table scrolls sideways")
        assert hint.inner_text() == "scroll sideways to see the whole table →"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "trace-table-390.png"))
        figure.evaluate("f => { f.scrollLeft = f.scrollWidth; }")
        page.wait_for_function("() => getComputedStyle(document.querySelector("
                               "'figure.scrolls:has(table.steps) .scroll-hint')).display === 'none'")
        assert_no_sideways_scroll(page, "the diagonal-flip trace page, its table scrolled")
