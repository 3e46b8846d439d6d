"""The playground's Course view: the chapters, the chapter map filled in from the stored progress, and links.

``GET /api/course`` answers with the course's chapters (text, live worked example, activity,
practice, quiz size, complete or not), the chapter map as SVG (:class:`glassgrad.course.chapter_map.ChapterMap`)
and, per chapter, links into the page's other views as view states (``{view, step|train|practice}``) that
the page turns into addresses. Progress is read from the same SQLite file ``glassgrad learn`` writes, so
a chapter completed in the terminal fills in on the page. A progress file that cannot be read is
reported in the answer (``progress_error``), and the course is shown as not started.
"""

from __future__ import annotations

from typing import Any

from ..course import load_course
from ..course.chapter_map import ChapterMap
from ..course.chapters import Chapter
from ..course.examples import worked_example
from ..course.progress import Progress, ProgressError
from .stepper import EXAMPLES


def chapter_links(chapter: Chapter) -> list[dict[str, Any]]:
    """Where in the page to go on: the step-through of the chapter's network, the training view for an
    experiment, and the practice view with the chapter's first problem kind."""
    links = []
    activity = chapter.activity
    network = activity["name"] if activity["kind"] in ("trace", "gradcheck") else None
    if network in EXAMPLES:
        links.append({"label": f"Step through {network}", "view": "step", "fields": {"example": network}})
    if activity["kind"] == "experiment":
        links.append({"label": "Train a network (the Train view)", "view": "train", "fields": {}})
    first = chapter.practice[0]
    links.append({"label": f"Practise {first.kind}", "view": "practice",
                  "fields": {"kind": first.kind, "seed": first.seed}})
    return links


def course_overview(state: Any, fields: Any) -> dict[str, Any]:
    """The course, its map and the learner's progress, for the Course view."""
    fields.finish()
    course = load_course()
    error = None
    try:
        with Progress() as progress:
            completed, position = progress.completed(course.id), progress.position(course.id)
    except ProgressError as problem:
        completed, position, error = set(), None, str(problem)
    chapter_map = ChapterMap(course, completed)
    done, total = chapter_map.count()
    return {
        "id": course.id, "title": course.title, "done": done, "total": total, "position": position,
        "progress_error": error, "map_svg": chapter_map.svg(), "map_text": chapter_map.text(),
        "chapters": [{**chapter.to_dict(), "complete": chapter.id in completed, "current": chapter.id == position,
                      "quiz_count": len(chapter.quiz), "practice_count": sum(p.count for p in chapter.practice),
                      "worked_example": worked_example(chapter.example), "links": chapter_links(chapter),
                      "terminal": [f"glassgrad learn --chapter {chapter.number}", chapter.activity_command()]}
                     for chapter in course.chapters],
    }
