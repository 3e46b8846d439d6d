"""A newcomer's first hour, following README.md literally (round 107): what its commands and its first example
print must fit an 80-column terminal, its Ctrl+C must stop the playground as the playground says, and a command
the README offers must not send the learner to a file it never told them how to make.

Defects found: ``print(tape.render("text"))`` (the README's first example) laid its tables out 120 columns wide
whatever the terminal, so an 80-column one wrapped every table row in two; ``glassgrad serve`` says
"Ctrl+C to stop" and then reported that Ctrl+C as an error ("stopped by Ctrl-C before the command finished ...
run the command again to finish it", exit 130); ``glassgrad evaluate model.safetensors`` (the README's "try"
column) named no way to make the file it lacked; ``experiment`` and ``landscape`` named the files they wrote on
one line of up to 200 columns; ``train`` opened with a line of 116.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import time
import unicodedata
import urllib.request
from pathlib import Path

import pytest

from glassgrad.cli import main
from glassgrad.lessons import lesson
from glassgrad.trace.render_text import render_text

README = Path(__file__).resolve().parents[1] / "README.md"
CLI = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()"]


def _columns(line: str) -> int:
    """The columns a terminal gives ``line`` (combining marks, as the ^ of X̂, take none)."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _first_example() -> str:
    return re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)


def _run_example(columns: int | None) -> str:
    """The README's example run with its output in a terminal ``columns`` wide (a pseudo-terminal), or into a pipe
    (None); ``COLUMNS`` is set in neither, so the width comes from the terminal itself, or from there being none."""
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    command = [sys.executable, "-c", _first_example()]
    if columns is None:
        ran = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=README.parent, env=env)
        assert ran.returncode == 0, ran.stderr
        return ran.stdout
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, cwd=README.parent, env=env) as child:
        os.close(follower)
        shown = b""
        while True:
            try:
                part = os.read(leader, 65536)
            except OSError:  # the terminal's other end closed: the child has finished writing
                break
            if not part:
                break
            shown += part
        assert child.wait(timeout=120) == 0, child.stderr.read().decode()
    os.close(leader)
    return shown.decode().replace("\r\n", "\n")


def test_the_readme_example_fits_the_terminal_and_is_120_columns_in_a_pipe():
    """README: "every step as a table, as wide as the terminal it is printed in (120 columns in a file or a pipe;
    a matrix too wide for it is shown a few columns at a time)"."""
    narrow = _run_example(80)
    assert "loss 0.8963" in narrow and "columns 1–3 of 4" in narrow and "∂L/∂W₂ = ∂L/∂ŷ·A₁ᵀ" in narrow
    assert max(map(_columns, narrow.splitlines())) <= 80
    piped = _run_example(None)  # stdout is a pipe here, not a terminal
    assert max(map(_columns, piped.splitlines())) == 120


def _wait_until_it_answers(url: str) -> None:
    """Return once the playground answers ``url`` (as a learner presses Ctrl+C after using it)."""
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the playground never answered {url}")


def test_ctrl_c_stops_the_playground_as_its_first_line_says_with_exit_code_0():
    server = subprocess.Popen([*CLI, "serve", "--no-browser", "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        assert "(Ctrl+C to stop)" in first, first
        assert all(_columns(server.stdout.readline()) <= 80 for _ in range(2))  # the Code view's warning
        _wait_until_it_answers(re.search(r"http://\S+", first).group(0))
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert out.strip().splitlines()[-1] == "glassgrad playground stopped" and err == ""


@pytest.mark.parametrize("argv", [["evaluate"], ["export-torch"], ["predict", "--input", "0.5,0.5"]])
def test_a_missing_model_file_says_how_to_make_one(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    command, options = argv[0], argv[1:]
    code = main([command, "model.safetensors", *options])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "model file 'model.safetensors' does not exist" in err
    assert err.rstrip().endswith("`glassgrad train --data digits --save model.safetensors` makes one")


def test_the_readme_training_row_runs_as_written(capsys, tmp_path, monkeypatch):
    """The "try" column's commands in order: the model is made first, then evaluated and exported."""
    row = next(line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("| training |"))
    commands = re.findall(r"`(glassgrad [^`]*)`", row.split("|")[3])
    assert commands[0] == "glassgrad train --data digits --save model.safetensors"
    assert commands[1:] == ["glassgrad evaluate model.safetensors", "glassgrad export-torch model.safetensors"]
    monkeypatch.chdir(tmp_path)
    printed = []
    for command in commands:
        assert main(command.split()[1:]) == 0, capsys.readouterr().err
        printed.append(capsys.readouterr().out)
    assert "saved the model to model.safetensors" in printed[0]
    accuracy = float(re.search(r"accuracy (\d+\.\d+)%", printed[1]).group(1))
    assert accuracy > 95  # "about 98 %" (Learning rate, momentum and friends); 98.33 % with the default seed 0
    assert "nn.Linear(in_features=64, out_features=256, bias=True)" in printed[2]


def test_train_opens_with_lines_that_fit_80_columns(capsys):
    assert main(["train", "--data", "moons", "--layers", "2,16,16,1", "--epochs", "1"]) == 0
    first, second = capsys.readouterr().out.splitlines()[:2]
    assert first == "training 2 → 16 → 16 → 1 (relu, bce, adam lr=0.003, batch 32)"
    assert second == "on moons: 800 train / 200 validation samples"


@pytest.mark.parametrize(("argv", "names"), [
    (["experiment", "learning-rate", "--steps", "2"], ["learning-rate.png", "learning-rate.svg",
                                                       "learning-rate.json", "learning-rate.html"]),
    (["landscape", "--steps", "1", "--grid", "5"], ["landscape.png", "landscape.svg", "landscape.json"]),
])
def test_each_written_file_is_named_on_its_own_line(capsys, tmp_path, argv, names):
    folder = tmp_path / "glassgrad-output"
    assert main([*argv, "--out", str(folder)]) == 0
    wrote = [line for line in capsys.readouterr().out.splitlines() if line.startswith("wrote ")]
    assert wrote == [f"wrote {folder / name}" for name in names]
    assert all((folder / name).is_file() for name in names)


def _in_an_80_column_terminal(argv: list[str], answers: str) -> str:
    """What ``glassgrad ARGV`` shows in a terminal 80 columns wide (a pseudo-terminal), given ``answers``."""
    import fcntl  # POSIX only, as the pseudo-terminal
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    ran = subprocess.Popen([*CLI, *argv], stdin=subprocess.PIPE, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    ran.communicate(answers.encode(), timeout=120)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end is closed: everything was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert ran.returncode == 0, shown
    return shown.decode().replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX's")
@pytest.mark.parametrize("argv", [["practice", "--seed", "457169", "--count", "2"],
                                  ["quiz", "--seed", "1", "--count", "2"], ["learn"]])
def test_practice_quiz_and_learn_break_prose_between_words_in_an_80_column_terminal(argv, tmp_path, monkeypatch):
    """Their questions, solutions and chapter texts are paragraphs of up to 200 columns: a terminal cut words in
    two. Layouts (the chapter map's rows, aligned by runs of spaces) are left as they are."""
    monkeypatch.setenv("GLASSGRAD_DATA_DIR", str(tmp_path))
    answers = "skip\nquit\n" if argv[0] != "learn" else "q\n"
    shown = _in_an_80_column_terminal(argv, answers)
    assert ("Score:" if argv[0] != "learn" else "Stopped.") in shown
    wide = [line for line in shown.splitlines() if _columns(line) > 80]
    assert all("  " in line.strip() and argv == ["learn"] for line in wide), wide
    piped = subprocess.run([*CLI, *argv], input=answers, capture_output=True, text=True, timeout=120).stdout
    assert max(map(_columns, piped.splitlines())) > 100  # a pipe keeps each paragraph on one line
    assert shown.split() == piped.split()  # the same words, only the line breaks differ


def test_a_wrapped_paragraph_of_a_text_trace_keeps_its_indent():
    """``glassgrad tour`` and ``glassgrad trace`` at 80 columns: a paragraph's second line began at column 0,
    under the heading it belongs to ("Notes", "What this shows")."""
    text = render_text(lesson("diagonal-flip"), width=80)
    notes = text[text.rindex("\nNotes\n") + len("\nNotes\n"):].splitlines()
    assert len(notes) >= 4 and notes[1].strip() == "full in JSON"  # the first note took two lines
    assert all(line.startswith("  ") and not line.startswith("   ") for line in notes if line.strip())
