"""Round 114: three places where what a learner reads disagreed with itself.

* The step-through took learning rates from 1e-6 (``stepper.LR_RANGE``, and ``min="0.000001"`` in its markup)
  while Train and Compare took them from 1e-5 (two literals): η = 5e-6 worked in one view and was refused in the
  next, each saying so in other words. Now one rule, ``safety.LR_RANGE``, read by every view and its server check,
  sent to the page as ``/api/options``' ``lr_rule`` with the one wording of a refusal.
* The playground's refusals named code fields (``batch_size = 0``, ``rates = 1e-06``) where the page shows
  "Batch size" and "Learning rates": now they name the field as the page labels it (``safety.FIELD_LABELS``).
* ``glassgrad experiment optimizers`` called its count "the first step whose loss is below …" but counted fit's
  loss *before* each step (off by one), and its "final loss" was taken before the last step. Now the losses are
  measured before the first step and after each one (epochs + 1 of them) and "steps to target" counts the steps
  taken; checked against PyTorch's SGD and Adam from the same weights.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from browser import offline_page, require_playwright
from hypothesis import given, settings
from hypothesis import strategies as st
from test_playground_browser import browser, server  # noqa: F401  (fixtures shared with those tests)

from glassgrad.lessons import experiments
from glassgrad.playground import create_app

starlette_testclient = pytest.importorskip("starlette.testclient")
STATIC = Path(create_app.__code__.co_filename).parent / "static"
PAGE_TEXT = (STATIC / "index.html").read_text(encoding="utf-8") + (STATIC / "step_markup.js").read_text("utf-8")
RANGE = "use a value from 1e-05 to 100"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with starlette_testclient.TestClient(create_app(output_dir=tmp_path_factory.mktemp("out")),
                                         base_url="http://127.0.0.1") as test_client:
        yield test_client


def answer(client, path: str, body: dict) -> tuple[int, str]:
    """The status and the error (if any); a training job it starts is stopped (4 may run at once)."""
    response = client.post(path, json=body)
    if response.status_code == 200 and "id" in response.json():
        client.delete(f"{path}/{response.json()['id']}")
    return response.status_code, (response.json().get("error", "") if response.status_code != 200 else "")


def refusals(client, lr: float, typed: str | None = None) -> dict[str, tuple[int, str]]:
    """What each view's server check says to η = ``lr``: the step's field and its ``lr=`` action, Train, Compare."""
    return {
        "step": answer(client, "/api/step", {"example": "diagonal-flip", "lr": lr}),
        "step action": answer(client, "/api/step", {"example": "diagonal-flip", "actions": f"lr={typed or repr(lr)}"}),
        "train": answer(client, "/api/train", {"config": {"dataset": "moons", "lr": lr}, "steps": 1}),
        "compare": answer(client, "/api/train/compare", {"config": {"dataset": "moons"}, "rates": [0.1, lr],
                                                         "steps": 1}),
    }


# --- 1. one learning-rate rule -----------------------------------------------------------------------------------


def test_the_options_carry_the_one_rule_and_the_step_markup_writes_no_bound_of_its_own(client):
    rule = client.get("/api/options").json()["lr_rule"]
    assert rule == {"low": 1e-5, "high": 100.0, "label": "Learning rate η", "fix": RANGE}
    assert "0.000001" not in (STATIC / "step_markup.js").read_text("utf-8")


@settings(max_examples=12, deadline=None)
@given(exponent=st.floats(-7.0, -4.0), mantissa=st.sampled_from([1.0, 2.0, 5.0]))
def test_every_view_takes_and_refuses_the_same_small_rates(client, exponent, mantissa):
    """5e-6 went through the step-through and was refused by Train and Compare."""
    lr = float(f"{mantissa * 10 ** round(exponent):.0e}")
    said = refusals(client, lr)
    statuses = {view: status for view, (status, _) in said.items()}
    assert set(statuses.values()) == {200 if lr >= 1e-5 else 422}, (lr, said)


@pytest.mark.parametrize("lr, shown", [(1e-6, "1e-06"), (500.0, "500")])
def test_every_view_refuses_a_rate_in_one_wording(client, lr, shown):
    said = refusals(client, lr, shown)
    for view in ("step", "step action", "train"):
        assert f"Learning rate η = {shown} is out of range: {RANGE}" in said[view][1], (view, said[view])
    assert f"Learning rates = {shown} is out of range: {RANGE}" in said["compare"][1], said["compare"]
    assert all("\n" not in text for _, text in said.values())


# --- 2. refusals name the field as the page labels it ------------------------------------------------------------


@pytest.mark.parametrize("path, body, label, rest", [
    ("/api/train", {"config": {"batch_size": 0}}, "Batch size", " = 0 is out of range: use a whole number from 1"),
    ("/api/train", {"config": {"clip": -1}}, "Clip gradient norm", f" = -1 is out of range: {RANGE[:16]}"),
    ("/api/train", {"config": {"hidden": [4] * 9}}, "Hidden layers", ": 9 layers is too many"),
    ("/api/train/compare", {"rates": [0.1], "steps": 1}, "Learning rates", " must be a list of 2 to 5 numbers"),
    ("/api/train/compare", {"rates": [0.1, 1e-6], "steps": 1}, "Learning rates", " = 1e-06 is out of range"),
    ("/api/step", {"example": "custom", "sizes": "2,99,2"}, "Layer sizes", ": a layer of 99 neurons"),
])
def test_a_refusal_names_the_field_as_the_page_labels_it(client, path, body, label, rest):
    status, error = answer(client, path, body)
    assert status == 422 and error.startswith(label + rest), error
    assert re.search(rf">\s*{re.escape(label)}|\"{re.escape(label)} \"", PAGE_TEXT), f"{label!r} is not on the page"
    assert not re.match(r"(batch_size|rates|clip|hidden|sizes)\b", error)


def test_a_python_caller_of_the_widget_still_reads_the_argument_name():
    """StepThrough(lr=...) is Python: its refusal names ``lr``, the argument, not the page's label."""
    widgets = pytest.importorskip("glassgrad.widgets.stepthrough")
    import glassgrad as gg

    with pytest.raises(ValueError, match=r"^StepThrough: lr = 1e-06 is out of range: use a value from 1e-05 to 100$"):
        widgets.StepThrough(gg.nn.Sequential(gg.nn.Linear(2, 2)), [0.5, -1.0], [1.0, 0.0], lr=1e-6)


def test_the_page_shows_each_refusal_under_the_label_the_learner_typed_into(browser, server):  # noqa: F811
    sync_api = require_playwright()
    expect = sync_api.expect
    with offline_page(browser, {"width": 1280, "height": 900}, timeout_ms=15_000,
                      ignore=lambda text: "status of 422" in text) as page:
        page.goto(f"{server}/?view=step&s_example=diagonal-flip")
        page.wait_for_selector('#step-matrices [data-cell="W1[0,0]"]')
        label = page.locator("label[data-control=step-lr]").inner_text().strip()
        page.fill("#step-lr", "0.000005")
        page.locator("#step-lr").press("Enter")
        expect(page.locator("#step-lr-problem")).to_contain_text(f"{label} = 0.000005 is out of range: {RANGE}")

        page.goto(f"{server}/?view=train&t_dataset=moons")
        expect(page.locator("#train-loss-value")).to_have_attribute("data-value", re.compile(r"\d"))
        page.fill("#compare-rates", "0.1, 0.000005")
        page.locator("#btn-compare").click()
        rates_label = page.locator("label:has(#compare-rates)").inner_text().strip()
        expect(page.locator("#error")).to_contain_text(f"{rates_label} = 5e-06 is out of range: {RANGE}")

        page.fill("#train-batch", "0")
        page.locator("#train-batch").press("Enter")
        page.locator("#train-batch").blur()
        batch_label = page.locator("label:has(#train-batch)").inner_text().strip()
        expect(page.locator("#error")).to_contain_text(f"{batch_label} = 0 is out of range")


# --- 3. the optimizers experiment counts steps one way -----------------------------------------------------------


def torch_losses(torch, model, inputs, targets, make, steps: int) -> list[float]:
    """PyTorch's full-batch run from ``model``'s weights: the loss before the first step and after each one."""
    layers = [layer for layer in model if hasattr(layer, "weight")]
    net = torch.nn.Sequential(*[part for layer in layers for part in (torch.nn.Linear(*layer.weight.shape[::-1]),
                                                                       torch.nn.ReLU())][:-1])
    with torch.no_grad():
        for mine, theirs in zip(layers, [m for m in net if isinstance(m, torch.nn.Linear)]):
            theirs.weight.copy_(torch.tensor(mine.weight.numpy()))
            theirs.bias.copy_(torch.tensor(mine.bias.numpy()))
    x, y = torch.tensor(inputs), torch.tensor(targets).long()
    optimizer, losses = make(net.parameters()), []
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses + [torch.nn.functional.cross_entropy(net(x), y).item()]


def test_steps_to_target_counts_the_steps_taken_as_pytorch_does(torch):
    from glassgrad.data import make_moons
    from glassgrad.nn import mlp

    epochs, target = 40, 0.45
    result = experiments.optimizers(epochs=epochs, target_loss=target)
    data = make_moons(n_samples=200, noise=0.2, seed=0)
    inputs, targets = (np.asarray(t.numpy() if hasattr(t, "numpy") else t) for t in data[:])
    makers = {"SGD (η = 0.1)": lambda p: torch.optim.SGD(p, lr=0.1),
              "SGD + momentum 0.9 (η = 0.1)": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
              "Adam (η = 0.01)": lambda p: torch.optim.Adam(p, lr=0.01)}
    rows = {row[0]: row for row in result.tables[0]["rows"]}
    for name, make in makers.items():
        theirs = torch_losses(torch, mlp([2, 16, 16, 2], seed=0), inputs, targets, make, epochs)
        curve = result.data["curves"][name]
        assert len(curve["losses"]) == epochs + 1
        np.testing.assert_allclose(curve["losses"], theirs, rtol=2e-4, atol=1e-6)
        assert min(abs(value - target) for value in theirs) > 1e-3  # no loss so near the line that float32 decides
        expected = next((k for k, value in enumerate(theirs) if value < target), None)
        assert curve["steps_to_target"] == expected, (name, curve["steps_to_target"], expected)
        assert rows[name][1] == curve["losses"][-1]  # the final loss is the trained network's
        assert rows[name][2] == (str(expected) if expected is not None else f"not within {epochs}")
    assert result.data["curves"]["Adam (η = 0.01)"]["steps_to_target"] is not None
    text = " ".join(result.explanation)
    assert f"({epochs} steps, {epochs + 1} losses)" in text and "counts the steps taken" in text
    assert "first step whose loss" not in text
