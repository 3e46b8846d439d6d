"""``glassgrad learn``: the course in the terminal, one chapter at a time, with progress that lasts.

Answers are read line by line from standard input, so a session can be piped:
``printf '\\n3\\nB\\nq\\n' | glassgrad learn``. Progress lives in SQLite in the user's data
directory (``GLASSGRAD_DATA_DIR`` overrides it); ``--export`` writes it as JSON for a teacher, and refuses
the progress file itself and SQLite's files beside it (``-wal``, ``-shm``) as targets.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from . import CommandError, prose_output, switch
from .output_files import refuse_overwriting_an_input, reporting_write_errors


def learn(
    chapter: Optional[int] = typer.Option(None, "--chapter", help="Start at chapter N (1 is the first)."),
    reset: bool = switch("--reset", "forget this course's progress (chapters, scores, answers), then stop"),
    export: Optional[Path] = typer.Option(None, "--export", help=(
        "Write this course's progress (attempts, scores, every answer, times) to this JSON file, then stop.")),
    course: Optional[Path] = typer.Option(None, "--course", help=(
        "A course folder of your own (course.json and one JSON file per chapter); the built-in course when left "
        "out.")),
    show_map: bool = switch("--map", "print the chapter map and where you are, then stop"),
) -> None:
    """Learn backpropagation chapter by chapter: text, a live worked example, practice and a quiz;
    the chapter map fills in as you go, and the next run continues where you stopped ('q' stops).
    Progress is kept in your user data folder (the environment variable GLASSGRAD_DATA_DIR moves it)."""
    import json

    from ..course import CourseError, load_course
    from ..course.chapter_map import ChapterMap
    from ..course.progress import Progress
    from ..course.terminal import gone_chapters_note, run_course, starting_chapter

    chosen = [name for name, given in (("--reset", reset), ("--export", export is not None), ("--map", show_map),
                                       ("--chapter", chapter is not None)) if given]
    if len(chosen) > 1:
        raise CommandError(f"{' and '.join(chosen)} do different things: give one of them")
    try:
        loaded = load_course(course)
        start = None if chapter is None else loaded.chapter(chapter)
    except CourseError as error:
        raise CommandError(str(error)) from None
    with Progress() as progress:
        if reset:
            removed = progress.reset(loaded.id)
            typer.echo(f"forgot the progress of the course {loaded.id!r} ({removed} attempts) in {progress.path}")
            return
        if export is not None:
            from ..io import write_atomically

            sidecars = {f"the progress file's {suffix[1:].upper()} file": Path(f"{progress.path}{suffix}")
                        for suffix in ("-wal", "-shm")}  # SQLite's own files beside it, holding recent writes
            refuse_overwriting_an_input(export, "--export", {"the progress file": progress.path, **sidecars})
            text = json.dumps(progress.export(loaded.id), ensure_ascii=False, indent=1) + "\n"
            with reporting_write_errors(export, "--export"):
                written = write_atomically(export, text)
            typer.echo(f"wrote {written}")
            return
        if show_map:
            typer.echo(ChapterMap(loaded, progress.completed(loaded.id)).text())
            note = gone_chapters_note(loaded, progress)
            if note:
                typer.echo(note)
            typer.echo(f"Next: chapter {(start or starting_chapter(loaded, progress)).number}.")
            return
        try:
            run_course(loaded, progress, sys.stdin, prose_output(), start)
        except KeyboardInterrupt:  # Ctrl-C while an example computes: every answer given is already stored
            typer.echo("\nStopped (Ctrl-C). Your progress is saved: 'glassgrad learn' continues at this chapter.")


def register(app: typer.Typer) -> None:
    app.command()(learn)
