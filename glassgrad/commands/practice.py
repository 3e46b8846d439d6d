"""Practice commands: ``glassgrad practice`` (interactive drill), ``practice generate`` (problem
sets as JSON or printable worksheets), ``practice check`` (grade a set), ``practice sheet`` (a traced
network by hand: ``--from-trace diagonal-flip``) and ``glassgrad quiz``.

Interactive commands read answers line by line from standard input, so they can be piped:
``printf '3\\n-2.5\\n' | glassgrad practice --count 2 --seed 7``.
"""

from __future__ import annotations

import secrets
import sys
from fractions import Fraction
from pathlib import Path
from typing import Optional

import typer

from ..trace.numbers import rounded_text
from . import CommandError, prose_output
from .output_files import refuse_overwriting_an_input, reporting_write_errors

FORMATS = ("json", "md", "html")
KIND_HELP = ("forward-blank, backward-blank, relu-backward, softmax-ce-gradient, gd-update, "
             "linear-regression-step, chain-rule or numerical-gradient (all kinds, mixed, when left out)")


def practice(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, help=KIND_HELP),
    count: int = typer.Option(5, help="How many problems."),
    seed: Optional[int] = typer.Option(None, help="Seed for the problems (random, and printed, when left out)."),
    size: Optional[int] = typer.Option(None, help="Problem size (each kind's default when left out)."),
    difficulty: int = typer.Option(1, help="1, 2 or 3."),
) -> None:
    """Practise in the terminal: answer generated problems, get graded, see worked solutions
    (answers are read line by line, so they can be piped). Subcommands write and grade problem sets."""
    if ctx.invoked_subcommand is not None:
        return
    from glassgrad.practice import ProblemExercise, generate_set, run_session

    seed = _seed(seed)
    problems = generate_set(kind, count, seed, size, difficulty)
    run_session([ProblemExercise(p) for p in problems], sys.stdin, prose_output(), title=f"Practice (seed {seed})")


def generate(
    kind: Optional[str] = typer.Option(None, help=KIND_HELP),
    count: int = typer.Option(10, help="How many problems."),
    seed: Optional[int] = typer.Option(None, help=(
        "Seed of the set (each problem's seed is derived from it and the problem's number). Left out: a random one, "
        "kept in the JSON but not printed on a worksheet, which shows a sheet id instead: a student who knew the "
        "seed could regenerate the key. A seed you choose yourself (1, 2, 3…) is easy to guess.")),
    size: Optional[int] = typer.Option(None, help="Problem size (each kind's default when left out)."),
    difficulty: int = typer.Option(1, help="1, 2 or 3."),
    format: str = typer.Option("json", "--format", help="json (for other tools), md or html (printable worksheets)."),
    out: Optional[Path] = typer.Option(None, help="File to write (standard output when left out)."),
) -> None:
    """Write a set of problems: JSON, or a printable worksheet with the answer key on its own page."""
    import json

    from glassgrad.practice import generate_set, problem_set_document, problems_html, problems_markdown
    from glassgrad.practice.problems import SEED_BITS, sheet_id

    if format not in FORMATS:
        raise CommandError(f"unknown format {format!r}: choose json, md or html")
    seed = secrets.randbits(SEED_BITS) if seed is None else seed
    problems = generate_set(kind, count, seed, size, difficulty)
    title = f"Practice: {kind or 'mixed kinds'} (sheet {sheet_id(kind, count, seed, size, difficulty)})"
    if format == "json":
        text = json.dumps(problem_set_document(problems, kind, seed), ensure_ascii=False, indent=2) + "\n"
    else:
        text = problems_markdown(problems, title) if format == "md" else problems_html(problems, title)
    _emit(text, out)


def check(
    file: Path = typer.Argument(..., help="A problem set written by 'glassgrad practice generate --format json'."),
    answers: list[str] = typer.Option(..., "--answers", "-a", metavar="<str>", help=(
        "The answers in order, separated by commas ('3, -2.5, 3/2'), or a file with one answer per line; "
        "an empty answer or '?' counts as not answered.")),
) -> None:
    """Grade answers to a problem set, showing the worked solution where an answer is wrong."""
    from glassgrad.practice import AnswerError, load_problem_set
    from glassgrad.practice.worksheet import answer_text

    problems = load_problem_set(file)
    given = _answer_list(answers)
    if len(given) > len(problems):
        raise CommandError(f"{len(given)} answers for {len(problems)} problems: give at most one answer per problem")
    given += [""] * (len(problems) - len(given))
    right = 0
    for number, (problem, answer) in enumerate(zip(problems, given), 1):
        if answer in ("", "?"):
            feedback, correct = f"No answer; the answer is {answer_text(problem)}.", False
        else:
            try:
                verdict = problem.check(answer)
                feedback, correct = verdict.feedback, verdict.correct
            except AnswerError as error:
                feedback, correct = f"{error}.", False
        right += correct
        print(f"{number}. {problem.kind}: {feedback}")
        if not correct:
            print("\n".join(f"     {line}" for line in problem.solution))
    print(f"Score: {right} of {len(problems)} right ({rounded_text(Fraction(right, len(problems)), 0, '%')}).")


def sheet(
    blanks: int = typer.Option(6, help="How many numbers to blank out."),
    seed: int = typer.Option(0, help="Seed for the blanks (and for the network's weights when no trace is named)."),
    from_trace: Optional[str] = typer.Option(None, "--from-trace", help=(
        "A worked example's trace (diagonal-flip, mlp3, linear-regression) or a trace JSON file written by "
        "'glassgrad trace NAME --format json'. Left out: the diagonal-flip network with seeded integer weights.")),
    places: Optional[int] = typer.Option(None, help=(
        "Decimal places shown, 0 to 8 (default: exact when every number is a short decimal, else 4).")),
    format: str = typer.Option("md", "--format", help="md or html."),
    out: Optional[Path] = typer.Option(None, help="File to write (standard output when left out)."),
) -> None:
    """A by-hand worksheet from a traced network: numbers blanked out, each solvable from what is shown, with a key."""
    from glassgrad.practice import diagonal_flip_steps, load_trace, steps_from_trace, trace_worksheet
    from glassgrad.practice.problems import sheet_id

    if format not in FORMATS[1:]:
        raise CommandError(f"unknown format {format!r}: choose md or html")
    if places is not None and not 0 <= places <= 8:
        raise CommandError(f"--places must be from 0 to 8, not {places}")
    if from_trace is None:
        steps, title = diagonal_flip_steps(seed), f"The diagonal-flip network by hand (sheet {sheet_id(blanks, seed)})"
    else:
        refuse_overwriting_an_input(out, "--out", {"the --from-trace file": from_trace})
        document = load_trace(from_trace)
        steps, title = steps_from_trace(document), f"By hand: {document.get('title') or from_trace}"
    worksheet = trace_worksheet(steps, blanks, seed, places, title=title)
    _emit(worksheet.markdown() if format == "md" else worksheet.html(), out)


def quiz(
    count: int = typer.Option(10, help="How many questions."),
    seed: Optional[int] = typer.Option(None, help="Seed (random, and printed, when left out)."),
) -> None:
    """A multiple-choice quiz: concepts of backprop and gradient descent, and questions about a live model."""
    from glassgrad.practice import QuizExercise, build_quiz, run_session

    seed = _seed(seed)
    questions = build_quiz(count, seed)
    run_session([QuizExercise(q) for q in questions], sys.stdin, prose_output(), title=f"Quiz (seed {seed})")


def _seed(seed: Optional[int]) -> int:
    return secrets.randbelow(1_000_000) if seed is None else seed


def _answer_list(answers: list[str]) -> list[str]:
    """Answers from the options: each is a comma-separated list, or the name of a file of lines
    (:func:`_refuse_a_missing_answers_file` first)."""
    found: list[str] = []
    for item in answers:
        path = Path(item)
        if "," not in item and path.is_file():
            try:
                found += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
            except UnicodeDecodeError:
                raise CommandError(f"--answers file {path} is not UTF-8 text: give a text file with one answer per "
                                   "line, or the answers separated by commas") from None
        else:
            _refuse_a_missing_answers_file(item)
            found += [part.strip() for part in item.split(",")]
    return found


def _refuse_a_missing_answers_file(item: str) -> None:
    """Refuse an ``--answers`` item that is no answer but names a folder, or looks like a file name that is not
    there (``answers.txt``, ``marks/ann``: letters, and a suffix or a slash): graded as an answer, a mistyped file
    name would score the whole set 0 of n and exit 0."""
    from glassgrad.practice import AnswerError, parse_answer
    from glassgrad.practice.answers import HOW_TO_ANSWER

    path = Path(item)
    file_like = any(c.isalpha() for c in item) and bool(path.suffix or "/" in item or "\\" in item)
    if "," in item or item.strip() in ("", "?") or not (path.is_dir() or file_like):
        return
    try:
        parse_answer(item)
    except AnswerError:
        problem = "a folder" if path.is_dir() else "no such file"
        raise CommandError(f"--answers {item!r} is neither an answer nor a file of answers ({problem}): "
                           f"{HOW_TO_ANSWER}, or give a file with one answer per line") from None


def _emit(text: str, out: Optional[Path]) -> None:
    """Print ``text``, or write it to ``out`` atomically."""
    if out is None:
        sys.stdout.write(text)
        return
    from glassgrad.io import write_atomically

    with reporting_write_errors(out):
        print(f"wrote {write_atomically(out, text)}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    group = typer.Typer(invoke_without_command=True, no_args_is_help=False)
    group.callback()(practice)
    group.command()(generate)
    group.command()(check)
    group.command()(sheet)
    app.add_typer(group, name="practice")
    app.command()(quiz)
