"""A practice problem as Jupyter shows it: the question, the relation, each tensor's exact numbers with the
blank as a bold ``?``, and how to answer in the notebook (:func:`glassgrad.course.check`).

It uses the shared box of :mod:`glassgrad.notebook_display` (escaped text, a box that scrolls sideways).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from ..notebook_display import box
from .numbers import number_text

if TYPE_CHECKING:
    from .problem import Problem


def problem_html(problem: Problem) -> str:
    """``problem`` as one HTML box."""
    notes = "".join(f'<div class="note">{html.escape(note)}</div>' for note in problem.notes)
    rows = "".join(f'<tr><td class="arch">{html.escape(name)} =</td><td>{_exact_matrix(values)}</td></tr>'
                   for name, values in problem.tensors.items())
    return box("problem", (
        f'<div>{html.escape(problem.question)}</div><div class="arch"><strong>{html.escape(problem.equation)}</strong>'
        f'</div><table class="plain"><tbody>{rows}</tbody></table>{notes}'
        '<div class="note">Answer with glassgrad.course.check(answer, problem): an integer, a decimal or a '
        "fraction.</div>"))


def _exact_matrix(values: np.ndarray) -> str:
    """Exact numbers (fractions) in the matrix markup, the blank (None) as a bold ``?``."""
    rows = values.reshape(1, -1) if values.ndim <= 1 else values.reshape(values.shape[0], -1)
    body = "".join("<tr>" + "".join(
        '<td class="blank"><strong>?</strong></td>' if value is None else f"<td>{html.escape(_text(value))}</td>"
        for value in row) + "</tr>" for row in rows)
    return f'<table class="matrix"><tbody>{body}</tbody></table>'


def _text(value: object) -> str:
    """A number exactly (3/2), or a labelled blank (``?3``) as it is."""
    return value if isinstance(value, str) else number_text(value)
