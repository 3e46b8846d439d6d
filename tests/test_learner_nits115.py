"""Round 115: what a learner reads, measured as printed, and two rules that were written twice.

* ``glassgrad learn --map`` printed lines up to 100 columns: a chapter's titles now continue on the next line,
  under the part's name, so that every line fits 80 columns, in an 80-column terminal and in a pipe.
* ``glassgrad train``'s per-epoch lines were 89 columns in a pipe: they are now a table under one heading line
  (``epoch  train loss  train accuracy  val loss  val accuracy``), accuracy in % as the final table writes it.
* The playground's Train slider spanned 1e-4…31.6 inside the server's rule 1e-5…100 (``safety.LR_RANGE``): it now
  reads its range from ``lr_rule``, so each end of the slider is a rate the server takes.
* Refusals of ``seed`` and ``steps`` named the code's fields: they now name the label of the view (Seed, Steps,
  Problem number).
* A diverging step-through (η = 100, 12 updates) warned "overflow encountered in multiply" on the server's console
  wherever glassgrad's import-time warnings filter is set aside (pytest collecting, a ``catch_warnings`` block
  around the import): the step-through now computes under ``np.errstate``, as Train already did.
* "Is standard output a terminal, and how wide" is :func:`glassgrad.terminal.terminal_width`, for the text traces
  and the commands' prose; "= or ≈" is :func:`glassgrad.trace.numbers.relation`, for the trace's explanations and
  the landscape's steps, and it writes "=" where the written numbers' arithmetic is exact.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import unicodedata
import warnings
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from browser import offline_page, require_playwright
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_train import run_in_terminal
from test_playground_browser import browser, server  # noqa: F401  (fixtures shared with those tests)

import glassgrad
from glassgrad.course import load_course
from glassgrad.course.chapter_map import ChapterMap
from glassgrad.lessons.landscape import landscape
from glassgrad.playground import create_app
from glassgrad.playground.explain import WRITER
from glassgrad.playground.safety import LR_RANGE
from glassgrad.trace import explain, numbers

starlette_testclient = pytest.importorskip("starlette.testclient")
PACKAGE = Path(glassgrad.__file__).parent
STATIC = PACKAGE / "playground" / "static"
CLI = "from glassgrad.cli import entry_point; entry_point()"


def columns(line: str) -> int:
    """The columns a terminal gives ``line``: a combining mark none, a wide character two."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def widest(text: str) -> tuple[int, str]:
    return max((columns(line), line) for line in text.splitlines())


def piped(*argv: str, env: dict | None = None) -> str:
    """The CLI's standard output in a pipe (``COLUMNS=80`` set, as pytest-xdist's workers set it)."""
    done = subprocess.run([sys.executable, "-c", CLI, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "80", **(env or {})}, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout


def in_terminal(*argv: str, width: int = 80, env: dict | None = None, code: str = CLI) -> str:
    """What a ``width``-column terminal shows of the CLI (a pseudo-terminal of that size, COLUMNS unset)."""
    return run_in_terminal(*argv, columns=width, env=env, code=code).replace("\r\n", "\n")


# --- 1. the chapter map fits 80 columns ----------------------------------------------------------------------------


def test_learn_map_fits_an_80_column_terminal_and_a_pipe(tmp_path):
    env = {"GLASSGRAD_DATA_DIR": str(tmp_path)}
    for shown in (in_terminal("learn", "--map", env=env), piped("learn", "--map", env=env)):
        width, line = widest(shown)
        assert width <= 80, (width, line)
        assert shown.startswith("Chapter map: Y → H → X (0 of ") and "Next: chapter 1." in shown
        words = " ".join(shown.split())  # every chapter's title is there, in the course's order
        for chapter in load_course().chapters:
            assert f"{chapter.number}. {chapter.title}" in words, chapter.title
    assert in_terminal("learn", "--map", env=env) == piped("learn", "--map", env=env)


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789éüŷ→−:,()", min_size=1, max_size=16)
"""Words of a title, one column a character (a wide character, CJK, would count two: not handled)."""


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(WORD, min_size=1, max_size=12).map(" ".join), min_size=11, max_size=11))
def test_a_map_of_any_titles_fits_80_columns_and_keeps_each_title(titles):
    course = load_course()
    chapters = tuple(replace(chapter, title=title) for chapter, title in zip(course.chapters, titles))
    text = ChapterMap(replace(course, chapters=chapters), set()).text()
    assert widest(text)[0] <= 80, text
    words = " ".join(text.split())
    for chapter in chapters:
        assert f"{chapter.number}. {chapter.title}" in words


# --- 2. train's per-epoch lines fit 80 columns ---------------------------------------------------------------------


def test_train_per_epoch_lines_fit_80_columns_when_piped():
    shown = piped("train", "--data", "moons", "--epochs", "3")
    lines = shown.splitlines()
    heading = lines.index("epoch  train loss  train accuracy  val loss  val accuracy")
    rows = lines[heading + 1:heading + 4]
    for epoch, row in enumerate(rows, 1):
        assert re.fullmatch(rf" +{epoch} +\d\.\d{{4}} +\d+\.\d\d% +\d\.\d{{4}} +\d+\.\d\d%", row), row
        assert row.endswith("%") and len(row) == len(lines[heading])  # right-aligned under the heading
    width, line = widest(shown)
    assert width <= 80, (width, line)
    regression = piped("train", "--data", "linear-1d", "--epochs", "2")
    assert "epoch  train loss  val loss" in regression.splitlines() and widest(regression)[0] <= 80


# --- 3. the Train slider spans the server's one learning-rate rule ---------------------------------------------------


def test_the_train_slider_reads_its_range_from_the_servers_rule(server, browser):  # noqa: F811
    require_playwright()
    markup = (STATIC / "index.html").read_text(encoding="utf-8")
    slider = re.search(r'<input id="train-lr"[^>]*>', markup).group()
    assert "min=" not in slider and "max=" not in slider  # no second copy of the range in the page
    with offline_page(browser, {"width": 1280, "height": 900}, timeout_ms=20_000) as page:
        page.goto(f"{server}/?view=train&t_dataset=moons")
        page.wait_for_selector("#train-loss-value[data-value]")
        low, high = page.eval_on_selector("#train-lr", "e => [Number(e.min), Number(e.max)]")
        assert (low, high) == (math.log10(LR_RANGE[0]), math.log10(LR_RANGE[1]))
        for end, rate in ((low, LR_RANGE[0]), (high, LR_RANGE[1])):
            page.eval_on_selector("#train-lr", f"e => {{ e.value = {end}; e.dispatchEvent(new Event('input')); "
                                               "e.dispatchEvent(new Event('change')); }")
            page.wait_for_function(f"new URLSearchParams(location.search).get('t_lr') == {rate!r}")
            assert page.locator("#train-lr-text").inner_text() == f"η = {rate:g}".replace("1e-05", "0.00001")
            page.wait_for_selector("#train-loss-value[data-value]")
            assert page.locator("#error").is_hidden(), page.locator("#error").inner_text()


# --- 4. seed and steps refusals name the view's label ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with starlette_testclient.TestClient(create_app(output_dir=tmp_path_factory.mktemp("out")),
                                         base_url="http://127.0.0.1") as test_client:
        yield test_client


def page_label(input_id: str) -> str:
    """The text of the label around ``input_id`` in the page's markup (index.html)."""
    markup = (STATIC / "index.html").read_text(encoding="utf-8")
    return re.search(rf'<label[^>]*>([^<]*)<input id="{input_id}"', markup).group(1).strip()


REFUSALS = [
    ("/api/train", {"config": {"seed": -1}, "steps": 0}, "train-seed", " = -1 is out of range"),
    ("/api/train/compare", {"rates": [0.1, 1.0], "steps": 0}, "compare-steps", " = 0 is out of range"),
    ("/api/practice/new", {"seed": -1}, "practice-seed", " = -1 is out of range"),
    ("/api/practice/check", {"seed": 1.5, "answer": "1"}, "practice-seed", " must be a whole number"),
    ("/api/step", {"example": "moons", "seed": -1}, None, "Seed = -1 is out of range"),
    ("/api/landscape", {"steps": 0}, None, "Steps = 0 is out of range"),
]


@pytest.mark.parametrize("path, body, input_id, said", REFUSALS)
def test_seed_and_steps_refusals_name_the_label_the_learner_sees(client, path, body, input_id, said):
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    expected = (page_label(input_id) if input_id else "") + said
    assert response.json()["error"].startswith(expected), (response.json(), expected)


def test_the_step_through_and_landscape_labels_are_seed_and_steps():
    assert 'h("label", { "data-control": "seed", "data-title": "Seed", id: "step-seed-box" },\n      "Seed "' in (
        STATIC / "step_markup.js").read_text(encoding="utf-8")
    assert 'h("label", {}, "Steps ", this.steps)' in (STATIC / "landscape.js").read_text(encoding="utf-8")


# --- 5. a diverging run says nothing on the server's console ---------------------------------------------------------


def test_a_diverging_step_through_logs_no_numpy_warning(client):
    body = {"example": "diagonal-flip", "lr": 100, "actions": " ".join(["f b b u"] * 12) + " f"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # as where glassgrad's import-time filter was set aside (pytest, a notebook)
        view = client.post("/api/step", json=body)
        explained = client.post("/api/step/explain", json={**body, "cell": "loss"})
        trained = client.post("/api/train", json={"config": {"dataset": "moons", "lr": 10.0, "activation": "relu",
                                                             "loss": "mse"}, "steps": 60})
    assert view.status_code == explained.status_code == trained.status_code == 200
    client.delete(f"/api/train/{trained.json()['id']}")
    assert view.json()["loss"]["text"] == "inf" and "not a finite number" in explained.json()["meaning"]
    numpy_warnings = [str(w.message) for w in caught if "encountered in" in str(w.message)]
    assert numpy_warnings == []


# --- 6a. one place decides whether standard output is a terminal, and how wide ---------------------------------------


def test_the_terminal_check_is_written_once():
    for module in ("trace/render_text.py", "commands/__init__.py", "training.py", "commands/train.py"):
        assert "terminal_width" in (PACKAGE / module).read_text(encoding="utf-8"), module
    asking = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                    if re.search(r"isatty|get_terminal_size", path.read_text(encoding="utf-8")))
    assert asking == ["terminal.py"]


WIDTHS = ("from glassgrad.commands import prose_output; from glassgrad.trace.render_text import render_text; "
          "import glassgrad as gg; out = prose_output(); x = gg.tensor([2.0], requires_grad=True)\n"
          "with gg.trace() as tape: (x * x).sum().backward()\n"
          "text = render_text(tape.describe()); import sys\n"
          "print(getattr(out, 'width', None), max(len(line) for line in text.splitlines()))")


def test_a_terminal_and_a_pipe_get_the_same_answer_from_both_callers():
    prose, trace = in_terminal(width=64, code=WIDTHS).split()
    assert prose == "64" and int(trace) <= 64
    done = subprocess.run([sys.executable, "-c", WIDTHS], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "64"})
    prose, trace = done.stdout.split()
    assert prose == "None" and int(trace) > 64  # a pipe: paragraphs whole, the trace at 120 columns


# --- 6b. "=" or "≈": one rule, "=" where the written arithmetic is exact ---------------------------------------------


def test_the_relation_is_written_once():
    source = (PACKAGE / "trace" / "explain.py").read_text(encoding="utf-8")
    assert '" ≈ "' not in source and "relation(" in source


def test_an_exact_product_of_rounded_numbers_is_written_with_equals():
    """0.5000 · 0.5000 = 0.2500 where the engine's float32 factors are 0.50000003 (shown 0.5000)."""
    half = float(np.float32(0.50000003))
    a, b = explain.Operand("a", np.array([half])), explain.Operand("b", np.array([half]))
    out = explain.Operand("c", np.array([half * half]))
    text = explain.product(out, (0,), [(a, (0,)), (b, (0,))], WRITER).text(WRITER)
    assert text == "c[1] = a[1] · b[1] = 0.5000 · 0.5000 = +0.2500", text
    third = explain.Operand("t", np.array([1 / 3]))
    text = explain.product(explain.Operand("c", np.array([1 / 9])), (0,), [(third, (0,)), (third, (0,))],
                           WRITER).text(WRITER)
    assert text.endswith("0.3333 · 0.3333 ≈ +0.1111"), text


DECIMAL = st.integers(-20000, 20000).map(lambda k: k / 10**4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(DECIMAL, DECIMAL), min_size=1, max_size=4), st.one_of(st.none(), DECIMAL),
       st.sampled_from([np.float32, np.float64]))
def test_a_sum_of_products_writes_equals_exactly_when_its_written_numbers_give_the_written_result(pairs, bias,
                                                                                                   dtype):
    weights = np.array([[w for w, _ in pairs]], dtype=dtype)
    inputs = np.array([x for _, x in pairs], dtype=dtype)
    biases = None if bias is None else np.array([bias], dtype=dtype)
    value = weights @ inputs + (0 if biases is None else biases)
    entry = explain.weighted_sum(explain.Operand("Z", value), (0,), explain.Operand("W", weights),
                                 explain.Operand("X", inputs), WRITER,
                                 None if biases is None else explain.Operand("b", biases))
    text = entry.text(WRITER)
    written = [Fraction(numbers.format_number(float(v))) for v in (*weights.ravel(), *inputs)]
    exact = sum((written[k] * written[len(pairs) + k] for k in range(len(pairs))), Fraction(0))
    if biases is not None:
        exact += Fraction(numbers.format_number(float(biases[0])))
    shown = Fraction(numbers.format_number(float(value[0])))
    assert text.endswith(f" {'=' if exact == shown else '≈'} {numbers.format_number(float(value[0]))}"), text


def test_the_landscape_writes_equals_where_its_step_is_exact_as_written():
    """``w − η·g`` with the numbers as the page writes them: ``=`` exactly when it is the next ``w`` as written."""
    data = landscape(steps=6, grid_points=5)
    told = {"=": 0, "≈": 0}
    for walk in data["paths"]:
        for point, following in zip(walk["points"], walk["points"][1:]):
            for k, sent in enumerate(point["relation"]):
                w, g, after = (Fraction(point["text"]["weights"][k]), Fraction(point["text"]["gradient"][k]),
                               Fraction(following["text"]["weights"][k]))
                exact = w - Fraction(repr(walk["learning_rate"])) * g == after
                assert sent == ("=" if exact else "≈"), (walk["learning_rate"], point["text"], following["text"])
                told[sent] += 1
                rounded = any(numbers.written_rounded(v) for v in
                              (point["weights"][k], point["gradient"][k], following["weights"][k]))
                told.setdefault("= though rounded", 0)
                told["= though rounded"] += sent == "=" and rounded
    assert told["="] and told["≈"] and told["= though rounded"], told


def test_export_torch_source_fits_80_columns_but_for_the_path_it_names(tmp_path):
    """The load_state_dict line of ``export-torch``'s source was 106 columns; the comprehension now takes two lines."""
    model = tmp_path / "m.safetensors"
    piped("train", "--data", "moons", "--layers", "2,4,2", "--epochs", "1", "--save", str(model))
    source = piped("export-torch", str(model))
    width, line = widest(source.replace(repr(str(model)), "''"))
    assert width <= 80, (width, line)
    compile(source, "exported.py", "exec")
    assert "model.load_state_dict({name[6:]: tensor for name, tensor in weights.items()\n" in source
