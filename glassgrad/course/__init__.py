"""The course: chapters as data, a chapter map that fills in, and progress that lasts (``glassgrad learn``).

* :mod:`.chapters`: a course folder (``course.json`` and one JSON file per chapter, checked against
  ``chapter.schema.json``) read into a :class:`Course`; the packaged course follows the lessons' order.
* :mod:`.examples`: each chapter's worked example, computed live by the engine.
* :mod:`.progress`: the learner's progress in SQLite (the user's data directory, or ``GLASSGRAD_DATA_DIR``).
* :mod:`.chapter_map`: the lessons' diagram Y → H → X, each part filled in when its chapter is complete
  (SVG for the page and Jupyter, text for the terminal).
* :mod:`.terminal`: the course in a terminal, as ``glassgrad learn`` runs it.
"""

from .chapters import Chapter, Course, CourseError, load_course

__all__ = ["Chapter", "Course", "CourseError", "load_course"]
