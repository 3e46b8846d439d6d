"""``glassgrad learn`` with answers piped in: right, wrong and unreadable answers, quitting and resuming,
--chapter, --reset, --export, --map and a teacher's --course."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from course_answers import right_answers, wrong_answers

from glassgrad import cli
from glassgrad.course import load_course
from glassgrad.course.chapters import packaged_folder
from glassgrad.course.progress import DATA_DIR_VARIABLE, Progress

COURSE = load_course()


@pytest.fixture(autouse=True)
def data_dir(monkeypatch, tmp_path):
    """Every test keeps its progress in its own folder, never in the real home."""
    folder = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(folder))
    return folder


def learn(monkeypatch, capsys, lines: list[str], *options: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    code = cli.main(["learn", *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def chapter_lines(number: int, attempt: int = 0, right: bool = True) -> list[str]:
    """Enter to start, then every practice answer, then every quiz letter."""
    practice, quiz = (right_answers if right else wrong_answers)(COURSE.chapter(number), attempt)
    return ["", *practice, *quiz]


def test_right_answers_complete_the_chapter_and_fill_its_part(monkeypatch, capsys):
    code, out, _ = learn(monkeypatch, capsys, [*chapter_lines(1), "q"])
    assert code == 0
    assert "Chapter 1 of 11: What a gradient is" in out and "∂L/∂w = -4 (negative: raise w)" in out
    assert out.count("Right.") >= 3 and "Chapter 1 complete: its part of the map fills in." in out
    maps = [block for block in out.split("Chapter map: ")[1:]]
    assert "(0 of 11 chapters complete" in maps[0] and "□ the loss" in maps[0]
    assert "(1 of 11 chapters complete" in maps[1] and "■ the loss" in maps[1]
    assert "continues at chapter 2 (Gradient descent: the update rule)" in out
    code, out, _ = learn(monkeypatch, capsys, [], "--map")
    assert code == 0 and "■ the loss: 1. What a gradient is" in out and "Next: chapter 2." in out
    with Progress() as progress:
        assert progress.completed(COURSE.id) == {"gradient"} and progress.position(COURSE.id) == "gradient-descent"
        answers = progress.export(COURSE.id)["attempts"][0]["answers"]
    practice, quiz = right_answers(COURSE.chapter(1))
    assert [a["answer"] for a in answers] == practice + quiz and all(a["correct"] for a in answers)
    assert [a["question"] for a in answers if a["part"] == "quiz"] == list(COURSE.chapter(1).quiz)


def test_wrong_and_unreadable_answers(monkeypatch, capsys):
    practice, quiz = wrong_answers(COURSE.chapter(1))
    lines = ["", "three", practice[0], practice[1], "Z", quiz[0], quiz[1], quiz[2], "q"]
    code, out, _ = learn(monkeypatch, capsys, lines)
    assert code == 0
    assert "'three' is not a number: type an integer (3)" in out
    assert "'Z' is not one of the options: type a letter from A to" in out
    assert out.count("Not quite") == 5 and "Worked solution:" in out
    assert "Chapter 1 is not complete yet: it needs 1 of 2, 2 of 3 right (practice, quiz)" in out
    assert "continues at chapter 1 (What a gradient is)" in out
    with Progress() as progress:
        assert progress.completed(COURSE.id) == set()
        answers = progress.export(COURSE.id)["attempts"][0]["answers"]
    assert [a["answer"] for a in answers] == practice + quiz and not any(a["correct"] for a in answers)


def test_quit_in_the_middle_and_resume_at_the_same_chapter_with_new_numbers(monkeypatch, capsys):
    learn(monkeypatch, capsys, [*chapter_lines(1), ""])  # on to chapter 2
    practice, _ = right_answers(COURSE.chapter(2))
    code, out, _ = learn(monkeypatch, capsys, ["", practice[0], "q"])
    assert code == 0 and "Chapter 2 of 11" in out and "continues at chapter 2" in out
    with Progress() as progress:
        stopped = progress.export(COURSE.id)["attempts"][-1]
    assert stopped["chapter"] == "gradient-descent" and stopped["finished_at"] is None and stopped["seconds"] > 0
    assert [a["answer"] for a in stopped["answers"]] == [practice[0]]
    code, out, _ = learn(monkeypatch, capsys, chapter_lines(2, attempt=1) + ["q"])
    assert code == 0 and "Chapter 2 of 11: Gradient descent" in out and "Chapter 1 of 11" not in out
    assert "Chapter 2 complete" in out and "(2 of 11 chapters complete" in out


def test_the_end_of_input_stops_like_q(monkeypatch, capsys):
    code, out, err = learn(monkeypatch, capsys, [""])
    assert code == 0 and "(end of input)" in out and "continues at chapter 1" in out and not err


def test_chapter_option_and_its_errors(monkeypatch, capsys):
    code, out, _ = learn(monkeypatch, capsys, ["q"], "--chapter", "7")
    assert code == 0 and "Chapter 7 of 11: Softmax, cross-entropy and ŷ − y" in out
    assert "glassgrad's backward pass: ∂L/∂z" in out and "glassgrad trace mlp3" in out
    code, _, err = learn(monkeypatch, capsys, [], "--chapter", "12")
    assert code == 2 and err == "glassgrad: error: there is no chapter 12: choose 1 to 11\n"
    code, _, err = learn(monkeypatch, capsys, [], "--chapter", "0")
    assert code == 2 and err == "glassgrad: error: there is no chapter 0: choose 1 to 11\n"
    code, _, err = learn(monkeypatch, capsys, [], "--reset", "--export", "p.json")
    assert code == 2 and err == "glassgrad: error: --reset and --export do different things: give one of them\n"


def test_the_last_chapter_ends_the_course(monkeypatch, capsys):
    code, out, _ = learn(monkeypatch, capsys, chapter_lines(11), "--chapter", "11")
    assert code == 0 and "That was the last chapter" in out


def test_reset_and_export(monkeypatch, capsys, tmp_path):
    learn(monkeypatch, capsys, [*chapter_lines(1), "q"])
    target = tmp_path / "progress.json"
    code, out, _ = learn(monkeypatch, capsys, [], "--export", str(target))
    assert code == 0 and out.strip() == f"wrote {target}"
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["course"] == COURSE.id and list(document["completed"]) == ["gradient"]
    assert not list(tmp_path.glob(".progress.json.*.tmp"))
    code, _, err = learn(monkeypatch, capsys, [], "--export", str(tmp_path / "no" / "such" / "p.json"))
    assert code == 2 and len(err.splitlines()) == 1 and "does not exist" in err
    code, out, _ = learn(monkeypatch, capsys, [], "--reset")
    assert code == 0 and "forgot the progress" in out and "(1 attempts)" in out
    code, out, _ = learn(monkeypatch, capsys, [], "--map")
    assert "(0 of 11 chapters complete" in out and "Next: chapter 1." in out


def test_a_teachers_course_folder(monkeypatch, capsys, tmp_path):
    folder = tmp_path / "course"
    shutil.copytree(packaged_folder(), folder)
    (folder / "07-softmax-cross-entropy.json").rename(folder / "00-softmax-cross-entropy.json")
    manifest = json.loads((folder / "course.json").read_text(encoding="utf-8"))
    (folder / "course.json").write_text(json.dumps({**manifest, "id": "my-class"}), encoding="utf-8")
    code, out, _ = learn(monkeypatch, capsys, ["q"], "--course", str(folder))
    assert code == 0 and "Chapter 1 of 11: Softmax, cross-entropy and ŷ − y" in out
    (folder / "01-gradient.json").write_text("{", encoding="utf-8")
    code, _, err = learn(monkeypatch, capsys, [], "--course", str(folder))
    assert code == 2 and len(err.splitlines()) == 1 and "01-gradient.json: not valid JSON" in err
    code, _, err = learn(monkeypatch, capsys, [], "--course", str(tmp_path / "nowhere"))
    assert code == 2 and "no such course folder" in err


def test_an_unusable_data_directory_is_one_line(monkeypatch, capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(blocker))
    code, _, err = learn(monkeypatch, capsys, [], "--map")
    assert code == 2 and len(err.splitlines()) == 1 and "set GLASSGRAD_DATA_DIR" in err


def test_a_learner_killed_mid_chapter_resumes_there_with_the_answers_kept(tmp_path, monkeypatch, capsys):
    """A real 'glassgrad learn' process, SIGKILLed after its first answer was stored; the next run continues."""
    root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": str(root), DATA_DIR_VARIABLE: os.environ[DATA_DIR_VARIABLE]}
    learner = subprocess.Popen([sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()", "learn"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=environment)
    practice, _ = right_answers(COURSE.chapter(1))
    learner.stdin.write(f"\n{practice[0]}\n")
    learner.stdin.flush()
    deadline = time.monotonic() + 120  # patience, not a timing assertion
    stored = []
    while not stored and time.monotonic() < deadline and learner.poll() is None:
        with Progress() as progress:
            attempts = progress.export(COURSE.id)["attempts"]
        stored = attempts[0]["answers"] if attempts else []
        time.sleep(0.05)
    assert stored, f"the learner stored no answer: {learner.stderr.read() if learner.poll() is not None else ''}"
    learner.send_signal(signal.SIGKILL)  # waiting at question 2, as if the terminal was closed hard
    learner.wait(timeout=30)
    assert [(a["answer"], a["correct"]) for a in stored] == [(practice[0], 1)]
    code, out, _ = learn(monkeypatch, capsys, [], "--map")
    assert code == 0 and "Next: chapter 1." in out and "(0 of 11 chapters complete" in out
    code, out, _ = learn(monkeypatch, capsys, [*chapter_lines(1, attempt=1), "q"])
    assert code == 0 and "Chapter 1 complete" in out


def test_an_unwritable_export_names_it_not_the_temporary_file(monkeypatch, capsys, tmp_path, refuse_new_files):
    target = tmp_path / "progress.json"
    refuse_new_files()
    code, _, err = learn(monkeypatch, capsys, [], "--export", str(target))
    assert code == 2 and err.strip() == (f"glassgrad: error: cannot write {target}: Operation not permitted; give "
                                         "--export a path you can write to")
