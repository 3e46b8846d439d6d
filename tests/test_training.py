"""gg.fit, evaluate, divergence reports, callbacks, clipping and checkpoints."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import DataLoader, make_moons
from glassgrad.training import Callback, accuracy, evaluate, fit

ROOT = Path(__file__).resolve().parents[1]


def moons_setup(lr=0.05, seed=0):
    data = make_moons(n_samples=200, noise=0.1, seed=seed)
    model = gg.nn.mlp([2, 16, 2], seed=seed)
    optimizer = gg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(data, batch_size=20, shuffle=True, seed=seed)
    return data, model, optimizer, loader


def test_fit_records_each_epoch_and_learns():
    data, model, optimizer, loader = moons_setup()
    history = fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=15, val_loader=DataLoader(data, 50),
                  progress=False)
    assert len(history) == 15
    assert history["epoch"] == list(range(1, 16))
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history.last["val_accuracy"] > 0.85
    assert history.diverged is None
    # the recorded validation numbers are what evaluate() computes independently
    again = evaluate(model, gg.nn.CrossEntropyLoss(), DataLoader(data, 200))
    assert again["loss"] == pytest.approx(history.last["val_loss"], rel=1e-5)


class BatchLosses(Callback):
    """Records every batch's loss."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_batch_end(self, state):
        self.losses.append(state.batch_loss)


def test_history_train_loss_is_the_mean_of_batch_losses():
    data, model, optimizer, loader = moons_setup()
    spy = BatchLosses()
    seen = spy.losses
    history = fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=1, callbacks=[spy], progress=False)
    assert len(seen) == len(loader) == 10
    assert history["train_loss"][0] == pytest.approx(np.mean(seen), rel=1e-6)  # equal batch sizes


def test_callbacks_run_in_order_with_gradients_ready_after_backward():
    data, model, optimizer, loader = moons_setup()
    events = []

    class Spy(Callback):
        def on_train_begin(self, state):
            events.append("begin")

        def on_after_backward(self, state):
            assert all(p.grad is not None for p in state.model.parameters())
            events.append("backward")

        def on_batch_end(self, state):
            events.append("batch")

        def on_epoch_end(self, state):
            events.append("epoch")

        def on_train_end(self, state):
            events.append("end")

    fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=2, callbacks=[Spy()], progress=False)
    assert events[0] == "begin" and events[-1] == "end"
    assert events.count("backward") == events.count("batch") == 2 * len(loader)
    assert events.count("epoch") == 2
    assert events[1:4] == ["backward", "batch", "backward"]


def test_divergence_stops_with_an_explanation():
    data, model, optimizer, loader = moons_setup(lr=1e6)
    history = fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=50, progress=False)
    report = history.diverged
    assert report is not None
    assert report.step >= 1 and report.epoch >= 1
    assert report.parameter in dict(model.named_parameters())
    assert "learning rate" in report.message and "clip" in report.message
    assert f"step {report.step}" in report.message
    assert len(history) < 50


def test_clip_grad_norm_bounds_every_update():
    data, model, optimizer, loader = moons_setup()
    norms = []
    real_step = optimizer.step

    def spying_step():
        total = math.sqrt(sum(float((p.grad.array.astype(np.float64) ** 2).sum()) for p in model.parameters()))
        norms.append(total)
        real_step()

    optimizer.step = spying_step
    fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=1, clip_grad_norm=0.01, progress=False)
    assert len(norms) == len(loader)
    assert max(norms) <= 0.01 * (1 + 1e-4)


def test_checkpoints_are_written_and_load(tmp_path):
    data, model, optimizer, loader = moons_setup()
    fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=4, checkpoint_every=2, checkpoint_dir=tmp_path,
        progress=False)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["checkpoint-epoch002.safetensors", "checkpoint-epoch004.safetensors"]
    saved = gg.load(tmp_path / files[-1])
    rebuilt = gg.nn.from_architecture(saved["architecture"])
    rebuilt.load_state_dict(saved["model"])
    for (name, a), (_, b) in zip(model.state_dict().items(), rebuilt.state_dict().items()):
        assert np.array_equal(a.array, b.array), name


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"epochs": True}, {"clip_grad_norm": -1.0}, {"checkpoint_every": 2}])
def test_bad_arguments_are_refused(bad):
    data, model, optimizer, loader = moons_setup()
    options = {"epochs": 1, **bad}
    with pytest.raises(ValueError, match="fit:"):
        fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, progress=False, **options)


def test_accuracy_kinds():
    scores = gg.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(scores, gg.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    logits = gg.tensor([[2.0], [-1.0]])
    assert accuracy(logits, gg.tensor([[1.0], [1.0]]), gg.nn.BCEWithLogitsLoss()) == 0.5
    assert accuracy(gg.tensor([[0.3], [2.0]]), gg.tensor([[0.5], [1.0]]), gg.nn.MSELoss()) is None


def test_fine_tuning_example_keeps_frozen_layer_and_learns_new_classes(tmp_path):
    example = runpy.run_path(str(ROOT / "examples" / "fine_tune.py"))
    result = example["main"](tmp_path)
    assert result["frozen layer unchanged"] == 1.0
    assert result["new digits (5-9), before"] < 0.2  # the pre-trained head never predicts 5-9
    assert result["new digits (5-9), after"] > 0.9
    assert result["old digits (0-4), before"] > 0.95
    assert result["old digits (0-4), after"] < result["old digits (0-4), before"]  # forgetting, as documented


def test_max_loss_growth_stops_at_the_first_batch_past_the_limit():
    data = gg.data.load_digits()

    def run(limit):
        model = gg.nn.mlp([64, 32, 10], seed=0)
        spy = BatchLosses()
        history = fit(model, gg.nn.CrossEntropyLoss(), gg.optim.SGD(model.parameters(), lr=30.0),
                      DataLoader(data, batch_size=64, shuffle=True, seed=0), epochs=1, callbacks=[spy],
                      progress=False, max_loss_growth=limit)
        return history, spy.losses

    unlimited, losses = run(None)
    assert unlimited.diverged is None  # the loss explodes but stays finite: plain fit keeps going
    limit = 20.0
    expected_step = next(step for step, loss in enumerate(losses, 1) if loss > limit * losses[0])
    stopped, _ = run(limit)
    report = stopped.diverged
    assert report is not None and report.step == expected_step and report.loss > limit * losses[0]
    assert f"the loss rose from {losses[0]:.4g} at step 1 to {report.loss:.4g}, more than 20 times" in report.message
    assert "lower the learning rate (now 30)" in report.message


@pytest.mark.parametrize("bad", [1.0, 0.5, math.inf, math.nan, True])
def test_max_loss_growth_must_be_a_finite_factor_above_one(bad):
    data, model, optimizer, loader = moons_setup()
    with pytest.raises(ValueError, match="max_loss_growth must be a finite number > 1"):
        fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, progress=False, max_loss_growth=bad)


def test_on_train_end_runs_even_when_the_loop_raises():
    data, model, optimizer, loader = moons_setup()
    ended = []

    class Spy(Callback):
        def on_train_end(self, state):
            ended.append(state.step)

    def broken_loss(output, target):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fit(model, broken_loss, optimizer, loader, epochs=1, callbacks=[Spy()], progress=False)
    assert ended == [1]
