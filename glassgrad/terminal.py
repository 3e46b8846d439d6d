"""Where standard output goes: a terminal of some width, or a pipe or a file (no width to fit).

The one place that decides it: the text-trace renderer (:func:`glassgrad.trace.render_text.render_text`) and the
commands' prose (:func:`glassgrad.commands.prose_output`) both fit a terminal's width, and neither fits a pipe.
"""

from __future__ import annotations

import shutil
import sys


def terminal_width() -> int | None:
    """The columns of the terminal standard output is (``COLUMNS`` if set, as :func:`shutil.get_terminal_size`
    reads it), or None where it is none: a pipe, a file, a notebook, a test's captured output, no stdout at all,
    whatever ``COLUMNS`` says."""
    if sys.stdout is None or not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns
