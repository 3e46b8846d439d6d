"""Interactive practice and quizzes, driven by piped answers (the way scripts and tests use them)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from importlib import resources

from glassgrad.cli import main
from glassgrad.practice import ProblemExercise, QuizExercise, build_quiz, generate_set, number_text, run_session

CLI = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()"]


def test_piped_session_scores_right_and_wrong_answers_and_re_asks_after_garbage():
    problems = generate_set("forward-blank", 3, seed=11)
    right_0 = number_text(problems[0].answer)
    wrong_1 = number_text(problems[1].answer + 1)
    right_2 = f"{problems[2].answer.numerator * 3} / {problems[2].answer.denominator * 3}"  # a fraction spelling
    script = f"{right_0}\nbanana\n{wrong_1}\n{right_2}\n"
    run = subprocess.run([*CLI, "practice", "--kind", "forward-blank", "--count", "3", "--seed", "11"],
                         input=script, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Traceback" not in out + run.stderr
    assert "'banana' is not a number: type an integer (3), a decimal (-2.5) or a fraction (3/2)" in out
    assert len(re.findall(r"^\? = ", out, flags=re.MULTILINE)) == 4  # question 2 was asked again after the garbage
    assert out.count("Right:") == 2 and out.count("Not quite:") == 1
    assert f"the answer is {number_text(problems[1].answer)}" in out
    assert "Worked solution:" in out
    assert out.rstrip().endswith("Score: 2 of 3 answered right (67%).")


def test_end_of_input_gives_the_summary_and_exit_code_0():
    problems = generate_set("relu-backward", 4, seed=3)
    run = subprocess.run([*CLI, "practice", "--kind", "relu-backward", "--count", "4", "--seed", "3"],
                         input=f"{number_text(problems[0].answer)}\n", capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    assert "(end of input)" in run.stdout
    assert run.stdout.rstrip().endswith("Score: 1 of 1 answered right (100%), 3 not reached.")


def test_skip_and_quit():
    problems = generate_set(None, 5, seed=8)
    wrong = number_text(problems[1].answer + 1)
    output = io.StringIO()
    score = run_session([ProblemExercise(p) for p in problems], io.StringIO(f"skip\n{wrong}\nquit\n9\n"), output)
    assert (score.right, score.wrong, score.skipped, score.asked) == (0, 1, 1, 2)
    text = output.getvalue()
    assert "Skipped.\nWorked solution:" in text
    assert text.rstrip().endswith("Score: 0 of 1 answered right (0%), 1 skipped, 3 not reached.")


def test_piped_quiz_with_the_bank_answers(monkeypatch, capsys):
    bank = json.loads(resources.files("glassgrad.practice").joinpath("quiz_bank.json").read_text(encoding="utf-8"))
    right_text = {q["question"]: q["options"][q["answer"]] for q in bank["questions"]}
    questions = build_quiz(3, seed=21)
    letters = ["ABCD"[q.options.index(right_text[q.question])] for q in questions]
    letters[1] = "B" if letters[1] == "A" else "A"  # a wrong choice for question 2
    typed = f"{letters[0].lower()}\nE\n{letters[1]}\n{'ABCD'.index(letters[2]) + 1}\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    assert main(["quiz", "--count", "3", "--seed", "21"]) == 0
    out = capsys.readouterr().out
    assert "'E' is not one of the options: type a letter from A to D (or its number, 1 to 4)" in out
    assert out.count("Why: ") == 3 and out.count("The answer is ") == 3
    assert out.rstrip().endswith("Score: 2 of 3 answered right (67%).")


def test_a_skipped_quiz_question_shows_the_right_letter(monkeypatch, capsys):
    question = build_quiz(1, seed=5)[0]
    monkeypatch.setattr(sys, "stdin", io.StringIO("skip\n"))
    assert main(["quiz", "--count", "1", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    right = f"{'ABCD'[question.answer]}) {question.options[question.answer]}"
    assert f"Skipped.\nThe answer is {right}.\nWhy: " in out


def test_quiz_exercise_reads_letters_and_numbers():
    exercise = QuizExercise(build_quiz(1, seed=2)[0])
    right = exercise.item.answer
    assert exercise.grade("ABCD"[right]).correct
    assert exercise.grade(f" {'abcd'[right]}) ").correct
    assert exercise.grade(str(right + 1)).correct
    assert not exercise.grade("ABCD"[(right + 1) % 4]).correct


class _InterruptedInput(io.StringIO):
    """Answers, then Ctrl-C (KeyboardInterrupt) where the next line would be read."""

    def readline(self, *args):
        line = super().readline(*args)
        if not line:
            raise KeyboardInterrupt
        return line


def test_ctrl_c_ends_the_session_with_the_summary():
    problems = generate_set("gd-update", 3, seed=4)
    output = io.StringIO()
    answers = _InterruptedInput(f"{number_text(problems[0].answer)}\n")
    score = run_session([ProblemExercise(p) for p in problems], answers, output)
    assert (score.right, score.wrong, score.asked) == (1, 0, 1)
    text = output.getvalue()
    assert "(interrupted)" in text and "Traceback" not in text
    assert text.rstrip().endswith("Score: 1 of 1 answered right (100%), 2 not reached.")
