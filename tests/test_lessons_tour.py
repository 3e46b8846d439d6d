"""``glassgrad tour``: every chapter runs offline, and the report opens in a browser without a network."""

from __future__ import annotations

import io
import re
import subprocess
from contextlib import redirect_stdout

import numpy as np
import pytest
from browser import require_chromium
from test_lessons_diagonal_flip import numpy_prediction
from test_trace_render import check_html

from glassgrad.cli import main
from glassgrad.lessons.diagonal_flip import TARGET


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert main(["tour", "--out", str(out)]) == 0
    return out, " ".join(printed.getvalue().split())


@pytest.fixture(scope="module")
def report(tour):
    return tour[0]


def test_tour_writes_a_standalone_report_with_every_chapter(report):
    page = (report / "index.html").read_text(encoding="utf-8")
    check_html(page)
    links = re.findall(r'<a href="#(part-\d+)">', page)  # contents: one link per section, each one there
    assert len(links) == 5 and all(f'<section id="{link}">' in page for link in links)
    for title in ("diagonal flip", "backprop against finite differences", "Learning rate", "digits classifier",
                  "vanishing gradients"):
        assert title in page
    assert page.count("<svg") >= 4  # the graph and three plots, inline
    for name in ("learning-rate", "depth", "digits-diagnostics"):
        assert (report / f"{name}.png").stat().st_size > 0 and (report / f"{name}.svg").exists()
    assert (report / "diagonal-flip.json").exists()


def test_tour_prints_the_key_tables_and_names_the_report(tour):
    out, printed = tour
    for expected in ("1. The forward pass", "3. The backward pass: all 31 gradients", "62 forward passes",
                     "5. One gradient-descent update", "diverging", "accuracy", "8. Vanishing gradients"):
        assert expected in printed
    assert "".join(str((out / "index.html").resolve()).split()) in "".join(printed.split())  # however rich wraps it
    squared = (np.array(numpy_prediction()) - np.array(TARGET)) ** 2  # the loss chapter, to 6 digits
    assert f"{squared.sum():.6g} / 4 = {squared.mean():.6g}" in printed


def test_report_renders_in_headless_chromium_without_network(report):
    shot = report / "screenshot.png"
    subprocess.run([require_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
                    "--window-size=1200,3000", f"--screenshot={shot}", (report / "index.html").as_uri()],
                   check=True, timeout=120, capture_output=True)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 50_000


def test_interactive_tour_stops_cleanly_when_the_input_ends(tmp_path, monkeypatch):
    from rich.console import Console

    from glassgrad.lessons.tour import run_tour

    def end_of_input(prompt=""):
        raise EOFError

    monkeypatch.setattr("builtins.input", end_of_input)
    printed = io.StringIO()
    path = run_tour(tmp_path, interactive=True, console=Console(file=printed, width=120))
    text = printed.getvalue()
    assert "no more input" in text and "chapters 1 to 1 of 8" in text and "2. The loss" not in text
    check_html(path.read_text(encoding="utf-8"))


def test_interactive_tour_pauses_and_can_stop_early(tmp_path, monkeypatch):
    from rich.console import Console

    from glassgrad.lessons.tour import run_tour

    answers = iter(["", "q"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    printed = io.StringIO()
    path = run_tour(tmp_path, interactive=True, console=Console(file=printed, width=120))
    text = printed.getvalue()
    assert "2. The loss" in text and "3. The backward pass" not in text  # stopped after chapter 2
    check_html(path.read_text(encoding="utf-8"))
    assert not (tmp_path / "learning-rate.png").exists()
