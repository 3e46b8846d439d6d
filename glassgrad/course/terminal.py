"""The course in a terminal (``glassgrad learn``): map, chapter text, live example, practice, quiz, progress.

One chapter at a time: the chapter map (text), the chapter's text, its worked example computed
now by the engine, the command of its activity, then its practice problems and quiz questions,
asked and graded by :func:`glassgrad.practice.run_session` (the practice's own grader: a wrong
answer gets the worked solution, input that is not an answer gets a message and the question
again). Every graded answer is stored as it is given. A chapter whose practice and quiz both
reach the course's pass mark is complete, its part of the map fills in, and the course moves on.

``q`` (or the end of the input, or Ctrl-C) stops at any question or pause; the next run starts at
the same chapter. A chapter with stored progress that the course no longer has (its file removed, or its
id changed) is named in one line first (:func:`gone_chapters_note`): its progress is kept, not shown.
Prompts go to ``output`` and answers come line by line from ``input``, so the whole course can be driven
by piped text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, TextIO

from ..practice import ProblemExercise, QuizExercise, Verdict, run_session
from ..practice.session import QUIT_WORDS
from .chapter_map import ChapterMap
from .chapters import Chapter, Course, practice_problems, quiz_questions
from .examples import example_text, worked_example
from .progress import Progress

RULE = "═" * 72


@dataclass(frozen=True)
class RecordedExercise:
    """An exercise whose graded answers are stored (skips and unreadable input are not answers)."""

    exercise: Any
    question: str
    record: Callable[[str, bool], None]

    @property
    def label(self) -> str:
        return self.exercise.label

    @property
    def prompt(self) -> str:
        return self.exercise.prompt

    def text(self) -> str:
        return self.exercise.text()

    def explanation(self) -> str:
        return self.exercise.explanation()

    def grade(self, answer: str) -> Verdict:
        verdict = self.exercise.grade(answer)
        self.record(answer, verdict.correct)
        return verdict


def starting_chapter(course: Course, progress: Progress) -> Chapter:
    """Where the learner stopped; else the first chapter not yet complete; else the last."""
    position = progress.position(course.id)
    if position is not None and position in {chapter.id for chapter in course.chapters}:
        return course.chapter(position)
    completed = progress.completed(course.id)
    return next((c for c in course.chapters if c.id not in completed), course.chapters[-1])


def gone_chapters_note(course: Course, progress: Progress) -> str | None:
    """A line naming the chapters with stored progress that ``course`` no longer has (a chapter file removed, or
    its id changed): their progress is kept, not shown; None when there are none."""
    gone = sorted(progress.chapters(course.id) - {chapter.id for chapter in course.chapters})
    if not gone:
        return None
    completed = progress.completed(course.id)
    names = ", ".join(f"{chapter!r}" + (" (complete)" if chapter in completed else "") for chapter in gone)
    return (f"Note: the course {course.id!r} no longer has {'this chapter' if len(gone) == 1 else 'these chapters'} "
            f"with stored progress: {names}; that progress is kept (a chapter file with the same id brings it back)")


def _pause(message: str, input: TextIO, output: TextIO) -> bool:
    """Show ``message`` and wait for a line; False when the learner quits (``q``, end of input, Ctrl-C)."""
    output.write(f"\n{message} ")
    output.flush()
    try:
        line = input.readline()
    except KeyboardInterrupt:
        return False
    return bool(line) and line.strip().lower() not in QUIT_WORDS


def show_chapter(chapter: Chapter, course: Course, progress: Progress, output: TextIO) -> None:
    """The map, the chapter's text, its worked example (computed now) and its activity."""
    output.write(f"\n{ChapterMap(course, progress.completed(course.id)).text()}\n")
    output.write(f"\n{RULE}\nChapter {chapter.number} of {len(course.chapters)}: {chapter.title}\n{RULE}\n")
    for paragraph in chapter.text:
        output.write(f"\n{paragraph}\n")
    output.write(f"\nWorked example, computed now by glassgrad:\n{example_text(worked_example(chapter.example))}\n")
    output.write(f"\nTry it yourself: {chapter.activity_command()} (or the playground: glassgrad serve)\n")


def _exercises(chapter: Chapter, attempt: int, number: int, progress: Progress) -> tuple[list, list]:
    """The attempt's practice and quiz exercises, each storing its answers in ``progress``."""
    def recorder(part: str, question: str) -> Callable[[str, bool], None]:
        return lambda answer, correct: progress.record_answer(attempt, part, question, answer, correct)

    practice = [RecordedExercise(ProblemExercise(problem), f"{problem.kind}#{problem.seed}",
                                 recorder("practice", f"{problem.kind}#{problem.seed}"))
                for problem in practice_problems(chapter, number)]
    quiz = [RecordedExercise(QuizExercise(question), key, recorder("quiz", key))
            for key, question in zip(chapter.quiz, quiz_questions(chapter, number))]
    return practice, quiz


def run_chapter(chapter: Chapter, course: Course, progress: Progress, input: TextIO, output: TextIO) -> str:
    """One attempt at ``chapter``: ``'passed'``, ``'not passed'`` or ``'quit'``."""
    started = time.monotonic()
    show_chapter(chapter, course, progress, output)
    if not _pause("Press Enter to start the practice (q quits):", input, output):
        return "quit"
    attempt, number = progress.start_attempt(course.id, chapter.id)
    practice, quiz = _exercises(chapter, attempt, number, progress)
    scores = []
    for title, exercises in ((f"Chapter {chapter.number} practice", practice),
                             (f"Chapter {chapter.number} quiz", quiz)):
        score = run_session(exercises, input, output, title=title)
        if score.asked < score.total:
            progress.record_time(attempt, time.monotonic() - started)
            return "quit"
        scores.append((score.right, score.total))
    passed = all(right >= course.needed(total) for right, total in scores)
    progress.finish_attempt(attempt, scores[0], scores[1], passed, time.monotonic() - started)
    need = ", ".join(f"{course.needed(total)} of {total}" for _, total in scores)
    if passed:
        output.write(f"\nChapter {chapter.number} complete: its part of the map fills in.\n")
    else:
        output.write(f"\nChapter {chapter.number} is not complete yet: it needs {need} right (practice, quiz). "
                     "The next try asks new numbers.\n")
    return "passed" if passed else "not passed"


def run_course(course: Course, progress: Progress, input: TextIO, output: TextIO,
               start: Chapter | None = None) -> None:
    """Run the course from ``start`` (where the learner stopped when None) until the learner quits or finishes."""
    note = gone_chapters_note(course, progress)
    if note:
        output.write(f"{note}\n")
    chapter = start or starting_chapter(course, progress)
    while True:
        progress.move_to(course.id, chapter.id)
        outcome = run_chapter(chapter, course, progress, input, output)
        if outcome == "quit":
            _stopped(chapter, output)
            return
        if outcome == "passed":
            output.write(f"\n{ChapterMap(course, progress.completed(course.id)).text()}\n")
            if chapter.number == len(course.chapters):
                output.write("\nThat was the last chapter. 'glassgrad learn --chapter N' goes back to any chapter.\n")
                return
            chapter = course.chapters[chapter.number]
            progress.move_to(course.id, chapter.id)
            question = f"Press Enter for chapter {chapter.number} ({chapter.title}), q to stop:"
        else:
            question = f"Press Enter to try chapter {chapter.number} again, q to stop:"
        if not _pause(question, input, output):
            _stopped(chapter, output)
            return


def _stopped(chapter: Chapter, output: TextIO) -> None:
    output.write(f"\nStopped. Your progress is saved: 'glassgrad learn' continues at chapter {chapter.number} "
                 f"({chapter.title}).\n")
    output.flush()
