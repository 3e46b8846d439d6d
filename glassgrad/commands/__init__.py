"""CLI command groups, one module per area; each has ``register(app)``.

Keep imports at the top of these modules light: load NumPy-heavy or plotting code
inside the command functions.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Callable
from typing import Any, TextIO

from ..terminal import terminal_width

COMMAND_MODULES = ["engine", "train", "serve", "practice", "glassbox", "learn", "landscape", "notebook", "export"]


def switch(name: str, help: str) -> Any:
    """An on/off option given alone (``--no-browser``, never ``--no-browser true``): the help shows no value."""
    import typer

    return typer.Option(False, name, help=f"{help} (a switch: give it alone, without a value)")


class CommandError(Exception):
    """A problem with what the user asked for: reported in one line, exit code 2."""


IN_OPTION_WORDS = {"target=": "--target ", "task='regression'": "--loss mse"}
"""How the library's errors name a fix in Python (``load_csv(..., target=…)``) and how a command's user gives it:
the CLI shows every error in the option's words (``pass --target <column name>``; :func:`in_option_words`)."""


def in_option_words(message: str) -> str:
    """``message`` with each fix named as the command's option (:data:`IN_OPTION_WORDS`), not the Python keyword.

    >>> in_option_words("the header has no column named 'y'; pass target=<column name> or a column index")
    "the header has no column named 'y'; pass --target <column name> or a column index"
    """
    return re.sub(r"(?<![\w-])(" + "|".join(map(re.escape, IN_OPTION_WORDS)) + ")",
                  lambda found: IN_OPTION_WORDS[found[0]], message)


NUMBERS: dict[str, tuple[str, str]] = {
    "--lr": ("a positive finite number", "0.01"),
    "--epochs": ("a whole number from 1", "30"),
    "--batch-size": ("a whole number from 1", "32"),
    "--seed": ("a whole number from 0", "0"),
    "--val-fraction": ("a number between 0 and 1", "0.2"),
    "--clip": ("a positive finite number", "1.0"),
    "--max-parameters": ("a whole number from 1", "100000"),
}
"""What a numeric option takes, and an example of it; an option not listed takes a number of its annotation's
kind, its default the example (:func:`number_refusal`)."""


class NumberRefused(CommandError):
    """:func:`number_refusal`'s one line. A number read from the command line is shown again as typed
    (:meth:`as_typed`): ``--lr 1e400`` was read as ``inf``."""

    def __init__(self, option: str, shown: object, allowed: str, example: object) -> None:
        super().__init__(f"{option} {shown} is not allowed: give {allowed}"
                         + ("" if example is None else f", e.g. {option} {example}"))
        self.option, self.allowed, self.example = option, allowed, example

    def as_typed(self, typed: str) -> NumberRefused:
        """The same refusal, quoting the number as the user typed it."""
        return NumberRefused(self.option, typed, self.allowed, self.example)


def number_refusal(option: str, value: object, whole: bool = False, default: object = None) -> NumberRefused:
    """The one line for numeric ``option`` given ``value`` (a word, a fraction, a number out of range): the option,
    the value as given, what it takes and an example (:data:`NUMBERS`; else ``whole``: a whole number, and
    ``default``, if any, the example).

    >>> str(number_refusal("--epochs", 0))
    '--epochs 0 is not allowed: give a whole number from 1, e.g. --epochs 30'
    >>> str(number_refusal("--port", "x", whole=True, default=8000))
    "--port 'x' is not allowed: give a whole number, e.g. --port 8000"
    """
    allowed, example = NUMBERS.get(option, ("a whole number" if whole else "a number", default))
    shown = repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else value
    return NumberRefused(option, shown, allowed, example)


def comma_separated(text: str, kind: Callable[[str], Any], refusal: str) -> list:
    """``text``'s comma-separated entries read by ``kind`` (``int``, ``float``), or the one-line ``refusal``. An
    empty entry (``64,,10``, a trailing comma) is refused, not skipped: it is usually a number left out, and
    skipping it would run something else than was meant."""
    parts = [part.strip() for part in text.split(",")]
    try:
        if "" in parts:
            raise ValueError(text)
        return [kind(part) for part in parts]
    except ValueError:
        raise CommandError(f"{refusal}, got {text!r}") from None


NOTE_WIDTH = 80
"""The columns a command's closing note fits in, piped or in a terminal."""


def say_rounding(note: str) -> None:
    """Print ``note`` (what the numbers above were rounded to: :func:`glassgrad.trace.numbers.rounding_note`) once,
    after them, within :data:`NOTE_WIDTH` columns: a longer note is broken after its ``;`` (then between words)."""
    print(";\n".join(textwrap.fill(part, NOTE_WIDTH) for part in note.split("; ")) if len(note) > NOTE_WIDTH
          else note)


class CommandFailed(Exception):
    """The command ran but did not get its result (training diverged): said in one line, exit code 1.

    The details (the reason, what to try) are printed to standard output first; this line on standard
    error is what a script or a log filtering errors sees.
    """


class ProseOutput:
    """A terminal for the prose of ``practice``, ``quiz`` and ``learn``: a line wider than the terminal is broken
    between words, its continuation indented as the line (unbroken, the terminal would cut words in two).

    A line with a run of spaces inside it is a layout (a matrix, the chapter map) and passes as written; so does
    text not ended by a newline, a prompt, when it is flushed.
    """

    def __init__(self, stream: TextIO, width: int) -> None:
        self.stream, self.width, self.pending = stream, width, ""

    def write(self, text: str) -> int:
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        for line in lines:
            self.stream.write(self._fitted(line) + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.write(self.pending)
        self.pending = ""
        self.stream.flush()

    def _fitted(self, line: str) -> str:
        body = line.lstrip(" ")
        if len(line) <= self.width or "  " in body:
            return line
        indent = line[:len(line) - len(body)]
        return textwrap.fill(body, self.width, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=False, break_on_hyphens=False)


def prose_output() -> TextIO | ProseOutput:
    """Standard output for a session's prose: :class:`ProseOutput` at the terminal's width in a terminal, else
    ``sys.stdout`` itself (a pipe or a file keeps each paragraph on one line)."""
    width = terminal_width()
    return sys.stdout if width is None else ProseOutput(sys.stdout, width)
