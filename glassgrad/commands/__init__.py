"""CLI command groups, one module per area; each has ``register(app)``.

Keep imports at the top of these modules light: load NumPy-heavy or plotting code
inside the command functions.
"""

from collections.abc import Callable
from typing import Any

COMMAND_MODULES = ["engine", "train", "serve", "practice", "glassbox", "learn", "landscape", "notebook", "export"]


def switch(name: str, help: str) -> Any:
    """An on/off option given alone (``--no-browser``, never ``--no-browser true``): the help shows no value."""
    import typer

    return typer.Option(False, name, metavar="", help=f"{help} (a switch: give it alone, without a value)")


class CommandError(Exception):
    """A problem with what the user asked for: reported in one line, exit code 2."""


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


class CommandFailed(Exception):
    """The command ran but did not get its result (training diverged): said in one line, exit code 1.

    The details (the reason, what to try) are printed to standard output first; this line on standard
    error is what a script or a log filtering errors sees.
    """
