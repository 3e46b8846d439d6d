"""Round 131: leftovers of the learner-text rounds.

1. A per-entry explanation writes a bool operand as the displays do (``True``/``False``, saying it counts 1/0) and an
   integer one exactly, not ``1.0000``/``0``; the arithmetic still checks out exactly (``=``).
3. ``glassgrad train`` (and every command) answers a numeric option given a word, a fraction or a value out of
   range in one line naming the option, the value, what it takes and an example.
4. The schedulers' whole-number options take a bool as PyTorch does (``True`` counts 1): the same learning rates as
   torch 2.13, or its exception class.
5. A Code view tab holding a token the server refuses (an earlier launch's) shows the starters with Run off and the
   line on which URL to open, as a tab without one does; the wrong token still runs nothing (403).
Oracles: the engine's own numbers (exact fractions of what is written), PyTorch 2.13, the starter files, the
counted process starts, and what the page shows at 1280×800 and 390×844 (screenshots in ``/tmp/w52/shots131`` when
that folder's parent exists, else ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from browser import SCREENSHOTS, VIEWPORTS, assert_no_sideways_scroll, assert_seen, offline_page, playground
from hypothesis import given, settings
from hypothesis import strategies as st
from test_code_guard import make_client, refusal
from test_playground_browser import browser  # noqa: F401  (the shared Chromium)
from test_playground_step_browser import assert_readable

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.playground.explain import WRITER
from glassgrad.trace.explain import trace_entry

BOOL_NOTE = "True counts as 1, False as 0"  # said beside arithmetic with a bool in it

# --- 1. explanations write a bool as True/False, an integer exactly ----------------------------------------------


def _first_step(make) -> dict:
    with gg.trace() as tape:
        make()
    return tape.describe()["forward"][0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-4, 4, allow_nan=False).map(lambda v: round(v, 2)), st.booleans()),
                min_size=1, max_size=6))
def test_a_mask_in_a_product_is_written_true_or_false_and_said_to_count_1_or_0(pairs):
    values, flags = [v for v, _ in pairs], [f for _, f in pairs]
    x, mask = gg.tensor(values, dtype=gg.float64, requires_grad=True), gg.tensor(flags)
    step = _first_step(lambda: x * mask)
    for i, flag in enumerate(flags):
        entry = trace_entry(step, "forward", (i,), WRITER)
        text = entry.text(WRITER)
        factor = text.split(" = ")[2]
        assert factor.endswith("·" + str(flag)), text  # not ·1.0000 or ·0
        assert BOOL_NOTE in text
        assert " = " + WRITER.result(values[i] * flag) in text or "≈" in text
        assert [term.value for term in entry.terms] == [values[i], float(flag)]  # the engine's numbers


def test_an_integer_operand_is_written_exactly_and_a_negative_one_in_parentheses():
    x = gg.tensor([0.5, -1.5], requires_grad=True)
    step = _first_step(lambda: x + gg.tensor([3, -2]))
    texts = [trace_entry(step, "forward", (i,), WRITER).text(WRITER) for i in range(2)]
    assert texts[0].endswith("= 0.5000 + 3 = +3.5000"), texts[0]
    assert texts[1].endswith("= (-1.5000) + (-2) = -3.5000"), texts[1]
    assert BOOL_NOTE not in texts[0]


def test_a_bool_product_checks_out_exactly_from_the_written_numbers():
    x, mask = gg.tensor([0.5, 0.25]), gg.tensor([True, False])
    step = _first_step(lambda: x * mask)
    text = trace_entry(step, "forward", (0,), WRITER).text(WRITER)
    assert text.endswith("= 0.5000·True = +0.5000") and "≈" not in text, text


# --- 2. a trace of where shows its condition and its values ---------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=6), st.sampled_from([1, 2, 3]))
def test_where_shows_its_condition_among_its_inputs(flags, rows):
    shape = (len(flags),) if rows == 1 else (rows, len(flags))  # a vector, or a batch of rows
    mask = gg.tensor([flags] * rows).reshape(shape)
    x = gg.arange(len(flags) * rows, dtype=gg.float64).reshape(shape).requires_grad_()
    with gg.trace() as tape:
        gg.where(mask, x, 3.0).sum().backward()
    step = tape.describe()["forward"][0]
    assert re.search(r"= where\(c, \S+, 3\)$", step["formula"]), step["formula"]  # X, or θ for one number
    condition = step["inputs"][0]
    assert condition["symbol"] == "c" and condition["values"].tolist() == mask.tolist()
    for index in np.ndindex(*np.shape(condition["values"])):
        text = trace_entry(step, "forward", index, WRITER).text(WRITER)
        flag = bool(mask.numpy()[index])
        assert f"where({flag}, " in text, text
        assert BOOL_NOTE not in text  # where picks; it does not count
        assert text.endswith(WRITER.result(float(x.detach().numpy()[index]) if flag else 3.0)), text
    assert "True" in tape.render("text") or not any(flags)


# --- 3. the CLI's numeric options: one line with the option, the value, what it takes, an example ------------------


def _error(capsys, *argv) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("argv, expected", [
    (["--lr", "true"], "--lr 'true' is not allowed: give a positive finite number, e.g. --lr 0.01"),
    (["--lr=yes"], "--lr 'yes' is not allowed: give a positive finite number, e.g. --lr 0.01"),
    (["--lr", "-1"], "--lr -1 is not allowed: give a positive finite number, e.g. --lr 0.01"),
    (["--lr", "nan"], "--lr nan is not allowed: give a positive finite number, e.g. --lr 0.01"),
    (["--epochs", "0"], "--epochs 0 is not allowed: give a whole number from 1, e.g. --epochs 30"),
    (["--epochs", "true"], "--epochs 'true' is not allowed: give a whole number from 1, e.g. --epochs 30"),
    (["--batch-size", "2.5"], "--batch-size '2.5' is not allowed: give a whole number from 1, e.g. --batch-size 32"),
    (["--batch-size", "0"], "--batch-size 0 is not allowed: give a whole number from 1, e.g. --batch-size 32"),
    (["--val-fraction", "1"], "--val-fraction 1 is not allowed: give a number between 0 and 1, e.g. "
                              "--val-fraction 0.2"),
    (["--seed", "-1"], "--seed -1 is not allowed: give a whole number from 0, e.g. --seed 0"),
])
def test_train_numeric_options_are_refused_in_one_line_with_an_example(capsys, argv, expected):
    err = _error(capsys, "train", *argv)
    assert expected in err, err
    assert "Input should be" not in err and "Invalid value" not in err


def test_every_commands_numeric_option_given_a_word_follows_the_same_rule(capsys):
    err = _error(capsys, "serve", "--port", "true")
    assert "--port 'true' is not allowed: give a whole number, e.g. --port 8000" in err, err
    err = _error(capsys, "experiment", "depth", "--seed", "-1", "--steps", "1")
    assert "--seed -1 is not allowed: give a whole number from 0" in err, err


# --- 4. the schedulers' whole numbers take a bool as PyTorch's do -----------------------------------------------------


SCHEDULES = {
    "LinearLR": lambda S, o: S.LinearLR(o, total_iters=True),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=True),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=True),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=1.0, epochs=True, steps_per_epoch=7),
    "ReduceLROnPlateau": lambda S, o: S.ReduceLROnPlateau(o, patience=True, cooldown=True),
    "ReduceLROnPlateau-False": lambda S, o: S.ReduceLROnPlateau(o, patience=False),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=True, T_mult=True),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[True, False, 3]),
    "StepLR": lambda S, o: S.StepLR(o, step_size=True, gamma=0.5),
}


def _rates(library, make) -> list[float] | type:
    S = library.optim.lr_scheduler
    p = library.nn.Parameter(library.zeros(2))
    optimizer = library.optim.SGD([p], lr=0.1)
    try:
        scheduler = make(S, optimizer)
        rates = []
        for _ in range(6):
            optimizer.step()
            scheduler.step(1.0) if isinstance(scheduler, S.ReduceLROnPlateau) else scheduler.step()
            rates.append(optimizer.param_groups[0]["lr"])
        return rates
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        return type(error)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_bool_whole_number_gives_pytorchs_schedule(torch, name):
    ours, theirs = _rates(gg, SCHEDULES[name]), _rates(torch, SCHEDULES[name])
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("make", [lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=False),
                                  lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=False)])
def test_false_where_a_positive_count_goes_is_pytorchs_valueerror(torch, make):
    assert _rates(gg, make) is _rates(torch, make) is ValueError


# --- 5. a tab holding a refused token shows the starters, runs nothing -----------------------------------------------


def test_a_wrong_token_still_runs_nothing(tmp_path):
    client, _ = make_client(tmp_path)
    with client:
        wrong = {"X-Glassgrad-Token": "an-earlier-launch", "Origin": "http://127.0.0.1:8000"}
        assert "not this server's" in refusal(client.post("/api/code/run", json={"code": "print(1)"}, headers=wrong))
        assert "not this server's" in refusal(client.get("/api/code/runs/0123456789abcdef", headers=wrong))


SHOTS = Path("/tmp/w52/shots131") if Path("/tmp/w52").is_dir() else None


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("playwright", reason="Playwright not installed: pip install playwright")
    with playground(tmp_path_factory.mktemp("code-wrong-token")) as (url, app):
        yield url


@pytest.mark.parametrize("size", ["wide", "phone"])
def test_a_tab_with_a_stale_token_shows_the_starters_with_run_off(served, browser, size):  # noqa: F811
    from playwright.sync_api import expect

    runs = []
    refused = lambda text: "403" in text  # noqa: E731 (the stale token's one refusal, then the starters come without it)
    with offline_page(browser, VIEWPORTS[size], ignore=refused) as page:
        page.on("request", lambda request: runs.append(request.url) if "/api/code/run" in request.url else None)
        page.goto(f"{served}/?view=code&token=an-earlier-launch")
        content = page.locator("#code-editor .cm-content")
        expect(content).to_contain_text("gg.trace(model)")  # the first starter, not an empty editor
        note = page.locator("#code-token-note")
        expect(note).to_be_visible()
        assert "glassgrad serve" in note.inner_text() and "?token=" in note.inner_text()
        expect(page.locator("#error")).to_be_hidden()
        expect(page.locator("#btn-run")).to_be_disabled()
        expect(page.locator("#code-state")).to_have_text("cannot run in this tab")
        for selector, what in (("#code-token-note", "the line about the token"), ("#code-starter", "the starter menu"),
                               ("#code-editor .cm-editor", "the editor"), ("#btn-run", "Run")):
            assert_seen(page.locator(selector), what)
        assert_readable(page, "#code-token-note", VIEWPORTS[size])
        assert_no_sideways_scroll(page, "the Code view with a stale token")
        folder = SHOTS or SCREENSHOTS
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"code-stale-token-{VIEWPORTS[size]['width']}.png"))  # at Run
        note.scroll_into_view_if_needed()
        page.screenshot(path=str(folder / f"code-stale-token-{VIEWPORTS[size]['width']}-note.png"))
        content.click()
        page.keyboard.press("Control+Enter")  # Run is off from the editor too
        page.wait_for_timeout(300)
        assert runs == []

