"""Practice and quiz sessions refuse odd answers politely and ask again; sets have a size cap
(issue 10, item 14). Sessions are fed their answers on standard input, as a pipe would."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from glassgrad.cli import main
from glassgrad.practice import (
    AnswerError,
    ProblemExercise,
    QuizExercise,
    build_quiz,
    generate_set,
    number_text,
    parse_answer,
    run_session,
)

CLI = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()"]


def test_an_answer_of_5000_digits_is_refused_and_the_question_asked_again():
    problems = generate_set("gd-update", 2, seed=4)
    output = io.StringIO()
    answers = f"{'9' * 5000}\n1/{'7' * 5000}\n{number_text(problems[0].answer)}\n{number_text(problems[1].answer)}\n"
    score = run_session([ProblemExercise(p) for p in problems], io.StringIO(answers), output)
    shown = output.getvalue()
    assert score.right == 2 and score.wrong == 0
    assert shown.count("characters long, more than any answer here (at most 100)") == 2
    assert shown.count("? = ") == 4  # question 1 asked three times, question 2 once
    assert "9" * 100 not in shown  # the long answer is not echoed back


def test_parse_answer_refuses_long_input_with_an_answer_error():
    for text in ("1" * 4301, "0." + "3" * 200, "1" * 101):
        with pytest.raises(AnswerError, match="more than any answer here"):
            parse_answer(text)
    assert parse_answer("1" * 100) == int("1" * 100)


@pytest.mark.parametrize("odd", ["²", "¹", "٣", "1" * 5000, "0" * 4400 + "1"])
def test_the_quiz_refuses_unicode_digits_and_huge_numbers_then_asks_again(odd):
    question = build_quiz(1, seed=2)[0]
    exercise = QuizExercise(question)
    output = io.StringIO()
    right = "ABCDEFGH"[question.answer]
    score = run_session([exercise], io.StringIO(f"{odd}\n{right}\n"), output)
    assert score.right == 1
    assert "is not one of the options: type a letter from A to" in output.getvalue()


def test_quiz_numbers_still_pick_options():
    exercise = QuizExercise(build_quiz(1, seed=0)[0])
    assert [exercise.choice(str(k)) for k in range(1, len(exercise.item.options) + 1)] == \
        list(range(len(exercise.item.options)))


def test_the_quiz_command_survives_a_superscript_two():
    question = build_quiz(1, seed=5)[0]
    run = subprocess.run([*CLI, "quiz", "--count", "1", "--seed", "5"], input=f"²\n{'ABCDEFGH'[question.answer]}\n",
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Traceback" not in run.stdout + run.stderr, run.stderr
    assert "'²' is not one of the options" in run.stdout
    assert run.stdout.rstrip().endswith("Score: 1 of 1 answered right (100%).")


@pytest.mark.parametrize("argv, message", [
    (["practice", "generate", "--count", "1000000000"],
     "count 1000000000 is more than the 10000 problems one set can have; for more, make several sets"),
    (["practice", "--count", "1000000000"], "count 1000000000 is more than the 10000 problems one set can have"),
    (["quiz", "--count", "1000000000"], "count 1000000000 is more than the 1000 questions one quiz can have"),
])
def test_huge_counts_are_refused_at_once(capsys, argv, message):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
