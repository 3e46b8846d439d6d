"""Where commands write their files, and a failed write said in one line.

Every command that writes (``trace --out``, ``export-torch --weights``, ``practice generate --out``,
``learn --export``, ``notebook --folder``, ``train --save`` …) reports a write that fails the same way:
the file the user named (never the temporary file that :func:`glassgrad.io.write_atomically` writes
first, ``.name.<pid>.<hex>.tmp``), the system's reason, and the option to change. A command that reads
files refuses, before doing any work, an output that is one of them (:func:`refuse_overwriting_an_input`):
``export-torch m.safetensors --weights m.safetensors`` would replace the model with its bare weights.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..io import file_in_the_way
from . import CommandError


@contextmanager
def reporting_write_errors(target: Path, option: str = "--out", what: str = "a path") -> Iterator[None]:
    """Turn a failed write under ``target`` into a one-line error that names it and says what to do.

    ``option`` is the command-line option that chose ``target``; ``what`` is what to give it (``a path``,
    ``a folder``). ``--out`` keeps the wording ``choose an --out you can write to``.
    """
    try:
        yield
    except OSError as error:
        if str(error).startswith("cannot write"):  # glassgrad.io's own message already names the fix
            raise CommandError(str(error)) from None
        raise CommandError(f"cannot write {target}: {error.strerror or error}; {_fix(option, what)}") from None


def refuse_overwriting_an_input(target: Path | None, option: str, inputs: dict[str, object]) -> None:
    """Refuse an output ``target`` that is the same file as one of ``inputs`` (what each input is, by name:
    ``{"the model": path}``; ``None`` entries and names that are no path, such as a dataset's, are skipped), so
    that writing it cannot replace what the command reads; links and other spellings of a path count too."""
    if target is None:
        return
    for what, source in inputs.items():
        if source is None or not str(source):
            continue
        try:
            same = os.path.samefile(target, source)
        except OSError:  # either does not exist (yet): they cannot be the same file
            continue
        if same:
            raise CommandError(f"{option} {target} is {what} this command reads: writing it would replace "
                               f"{what}; give {option} another file name")


def say_written(files: list[Path]) -> None:
    """One ``wrote PATH`` line per file, so that a terminal 80 columns wide shows each path whole."""
    for path in files:
        print(f"wrote {path}")


def output_folder(folder: Path, option: str = "--out") -> Path:
    """``folder``, created if needed; a one-line error naming ``option`` if it or a folder above it is a file, or it
    cannot be written."""
    refuse_a_file_as_folder(folder, option, "give a folder for the files to go in")
    with reporting_write_errors(folder, option, "a folder"):
        folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise CommandError(f"cannot write into the folder {folder}: permission denied; {_fix(option, 'a folder')}")
    return folder


def refuse_a_file_as_folder(folder: Path, option: str, fix: str) -> None:
    """Refuse the folder ``option`` names when it, or a folder above it, is a file
    (:func:`glassgrad.io.file_in_the_way`): ``mkdir`` would fail with a bare "Not a directory", and nothing could
    be written there. ``fix`` ends the line (what to give instead)."""
    blocker = file_in_the_way(folder)
    if blocker is not None:
        named = f"{option} {folder}" + ("" if blocker == folder else f": {blocker}")
        raise CommandError(f"{named} is a file, not a folder: {fix}")


def _fix(option: str, what: str) -> str:
    return "choose an --out you can write to" if option == "--out" else f"give {option} {what} you can write to"
