"""``glassgrad learn`` in a real terminal (tmux): a garbage answer, a wrong one, right ones, quitting (q and
Ctrl-C), and resuming at the same chapter in a new process.

tmux is installed by CI (.ci/run); elsewhere, without tmux, this test is skipped saying how to install it,
and under CI (``CI=true``) a missing tmux fails."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from course_answers import right_answers, wrong_answers

from glassgrad.course import load_course

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 120.0
"""How long to wait for the terminal to show something (a patience limit, not a timing assertion)."""


@pytest.fixture
def terminal(tmp_path):
    """Start ``glassgrad learn`` in tmux sessions; yields (start, send, wait_for); the sessions are closed after."""
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the terminal test needs tmux: apt-get install -y tmux", pytrace=False)
        pytest.skip("the terminal test needs tmux: apt-get install -y tmux")
    sessions: list[str] = []
    environment = f"GLASSGRAD_DATA_DIR={shlex.quote(str(tmp_path / 'data'))} PYTHONPATH={shlex.quote(str(ROOT))}"
    command = f"{shlex.quote(sys.executable)} -c 'from glassgrad.cli import entry_point; entry_point()' learn"

    def start() -> str:
        name = f"glassgrad-learn-{uuid.uuid4().hex[:8]}"
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "50",
                        f"env {environment} {command}; echo EXITED $?; sleep 600"], check=True)
        sessions.append(name)
        return name

    def send(name: str, text: str) -> None:
        if text:
            subprocess.run(["tmux", "send-keys", "-t", name, "-l", "--", text], check=True)
        subprocess.run(["tmux", "send-keys", "-t", name, "Enter"], check=True)

    def screen(name: str) -> str:
        result = subprocess.run(["tmux", "capture-pane", "-p", "-J", "-S", "-3000", "-t", name],
                                check=True, capture_output=True, text=True)
        return result.stdout

    def wait_for(name: str, text: str, count: int = 1) -> str:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            shown = screen(name)
            if shown.count(text) >= count:
                return shown
            time.sleep(0.1)
        pytest.fail(f"the terminal never showed {text!r} ({count}×); it shows:\n{screen(name)[-3000:]}")

    yield start, send, wait_for
    for name in sessions:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)


def test_learn_in_a_real_terminal_answers_quits_and_resumes(terminal):
    start, send, wait_for = terminal
    course = load_course()
    practice, quiz = right_answers(course.chapter(1))
    wrong, _ = wrong_answers(course.chapter(1))

    first = start()
    shown = wait_for(first, "Press Enter to start the practice")
    assert "Chapter 1 of 11: What a gradient is" in shown and "□ the loss" in shown
    send(first, "")
    wait_for(first, "? = ")
    send(first, "minus four")
    wait_for(first, "'minus four' is not a number")
    send(first, wrong[0])
    wait_for(first, "Not quite")
    send(first, practice[1])
    wait_for(first, "Right:")
    for number, letter in enumerate(quiz, 1):
        wait_for(first, "Your choice (A-D): ", number)
        send(first, letter)
    shown = wait_for(first, "Press Enter for chapter 2")
    assert "Chapter 1 complete" in shown and "(1 of 11 chapters complete" in shown and "■ the loss" in shown
    send(first, "q")
    shown = wait_for(first, "EXITED 0")
    assert "continues at chapter 2 (Gradient descent: the update rule)" in " ".join(shown.split())  # wrapped to fit

    second = start()
    wait_for(second, "Press Enter to start the practice")
    send(second, "")
    wait_for(second, "? = ")
    send(second, "q")
    shown = wait_for(second, "EXITED 0")
    assert "Chapter 2 of 11: Gradient descent" in shown and "Chapter 1 of 11" not in shown
    assert "continues at chapter 2" in shown

    third = start()
    shown = wait_for(third, "Press Enter to start the practice")
    assert "Chapter 2 of 11: Gradient descent" in shown and "■ the loss" in shown
    subprocess.run(["tmux", "send-keys", "-t", third, "C-c"], check=True)  # Ctrl-C stops like q, no traceback
    shown = wait_for(third, "EXITED 0")
    assert "continues at chapter 2" in shown and "Traceback" not in shown
