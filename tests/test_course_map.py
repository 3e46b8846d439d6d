"""The chapter map: each part fills in exactly when all its chapters are complete, in SVG, text and Jupyter."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from glassgrad.course import load_course
from glassgrad.course.chapter_map import PARTS, ChapterMap

COURSE = load_course()
IDS = [chapter.id for chapter in COURSE.chapters]
SVG = "{http://www.w3.org/2000/svg}"


def _drawn_parts(svg: str) -> dict[str, bool]:
    root = ET.fromstring(svg)
    return {group.get("data-part"): group.get("data-done") == "true" for group in root.iter(f"{SVG}g")}


@given(st.sets(st.sampled_from(IDS)))
def test_a_part_is_filled_exactly_when_its_chapters_are_complete(completed):
    chapter_map = ChapterMap(COURSE, completed)
    expected = {key: any(c.map_part == key for c in COURSE.chapters)
                and all(c.id in completed for c in COURSE.chapters if c.map_part == key) for key in PARTS}
    assert _drawn_parts(chapter_map.svg()) == expected
    lines = []  # a part's line with its continuations (round 115: titles go on under the name, within 80 columns)
    for line in chapter_map.text().splitlines():
        if line.startswith(" " * 20) and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    assert lines[0].startswith(f"Chapter map: Y → H → X ({len(completed)} of {len(IDS)} chapters complete")
    for key, line in zip(PARTS, lines[1:]):
        assert ("■ " + PARTS[key][1]) in line if expected[key] else ("□ " + PARTS[key][1]) in line
    assert f"{len(completed)} of {len(IDS)} chapters complete" in ET.fromstring(chapter_map.svg()).get("aria-label")


def test_every_chapter_labels_its_part():
    svg = ChapterMap(COURSE, set()).svg()
    for chapter in COURSE.chapters:
        assert f"{chapter.number}. {chapter.title}".replace("&", "&amp;") in svg
    assert "<script" not in svg and "href" not in svg


def test_the_map_shows_itself_in_jupyter():
    chapter_map = ChapterMap(COURSE, {"gradient"})
    assert chapter_map._repr_svg_() == chapter_map.svg()
    html = chapter_map._repr_html_()
    assert html.startswith("<figure") and chapter_map.svg() in html and "1 of 11 chapters complete" in html


def test_a_part_no_chapter_names_stays_empty(tmp_path):
    import json
    import shutil

    from glassgrad.course.chapters import packaged_folder

    folder = tmp_path / "course"
    shutil.copytree(packaged_folder(), folder)
    (folder / "10-vanishing-exploding.json").unlink()  # nothing names "skip" now
    course = load_course(folder)
    parts = _drawn_parts(ChapterMap(course, {c.id for c in course.chapters}).svg())
    assert parts["skip"] is False and all(done for key, done in parts.items() if key != "skip")
    assert json.loads((folder / "course.json").read_text(encoding="utf-8"))["id"] == course.id


def test_the_stored_progress_draws_itself_in_a_notebook(tmp_path):
    from glassgrad.course import chapter_map
    from glassgrad.course.progress import Progress

    store = tmp_path / "progress.sqlite3"
    with Progress(store) as progress:
        attempt, _ = progress.start_attempt(COURSE.id, "chain-rule")
        progress.finish_attempt(attempt, (2, 2), (3, 3), True, 1.0)
    shown = chapter_map(progress_file=store)
    assert shown.count() == (1, 11)
    assert {key for key, done in _drawn_parts(shown._repr_svg_()).items() if done} == {"weights-out"}
