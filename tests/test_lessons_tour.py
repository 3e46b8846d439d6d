"""``glassgrad tour``: every chapter runs offline, and the report opens in a browser without a network."""

from __future__ import annotations

import io
import shutil
import subprocess
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from test_trace_render import check_html

from glassgrad.cli import main

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


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


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium_without_network(report):
    shot = report / "screenshot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
                    "--window-size=1200,3000", f"--screenshot={shot}", (report / "index.html").as_uri()],
                   check=True, timeout=120, capture_output=True)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 50_000


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
