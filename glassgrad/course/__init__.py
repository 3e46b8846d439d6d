"""The course: chapters as data, a chapter map that fills in, and progress that lasts (``glassgrad learn``).

* :mod:`.chapters`: a course folder (``course.json`` and one JSON file per chapter, checked against
  ``chapter.schema.json``) read into a :class:`Course`; the packaged course follows the lessons' order.
* :mod:`.examples`: each chapter's worked example, computed live by the engine.
* :mod:`.progress`: the learner's progress in SQLite (the user's data directory, or ``GLASSGRAD_DATA_DIR``).
* :mod:`.chapter_map`: the lessons' diagram Y → H → X, each part filled in when its chapter is complete
  (SVG for the page and Jupyter, text for the terminal).
* :mod:`.terminal`: the course in a terminal, as ``glassgrad learn`` runs it.
* :mod:`.exercise`: :func:`check`, the grading of an answer typed into a lesson notebook's cell.
"""

from __future__ import annotations

from pathlib import Path

from .chapter_map import ChapterMap
from .chapters import Chapter, Course, CourseError, load_course
from .exercise import Checked, check


def chapter_map(folder: str | Path | None = None, progress_file: str | Path | None = None) -> ChapterMap:
    """The map of the course in ``folder`` (the packaged course when None), filled in from the progress stored in
    ``progress_file`` (the one ``glassgrad learn`` uses when None). In Jupyter it draws itself as SVG.

    >>> chapter_map().count()[1]  # doctest: +SKIP
    11
    """
    from .progress import Progress

    course = load_course(folder)
    with Progress(progress_file) as progress:
        return ChapterMap(course, progress.completed(course.id))


__all__ = ["Chapter", "ChapterMap", "Checked", "Course", "CourseError", "chapter_map", "check", "load_course"]
