"""``gg.fit(compile=True)``, ``glassgrad train --compile`` and the lessons' experiments against the same runs eager.

The holes found: a value check made in Python before an op was recorded ran on the captures' batches alone, so a
replayed batch was never checked. ``BCELoss`` with a target of 2, -1 or NaN in a later batch trained on (eager
refuses it); ``Embedding`` given index -1 in a later batch read the last row (eager refuses it), and index
``num_embeddings`` raised NumPy's raw ``IndexError``. Both checks are now kernels of the step. The rest pins what
already held: divergence at a replayed step, bad data in a replayed batch, callbacks, BatchNorm and Dropout around
validation, float64, an ``IterableDataset``, the CLI's rows and saved weights, and an experiment.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.training as training
from glassgrad.cli import main
from glassgrad.data import DataLoader, TensorDataset, make_moons

nn = gg.nn


def _run(make: Callable[[], tuple], compile: bool, **options: Any) -> tuple:
    """Train what ``make()`` gives; return (records without times, divergence message, error, model, optimizer)."""
    model, loss_fn, optimizer, loader = make()
    try:
        history = gg.fit(model, loss_fn, optimizer, loader, progress=False, compile=compile, **options)
    except (ValueError, RuntimeError, IndexError) as error:
        return None, None, f"{type(error).__name__}: {error}", model, optimizer
    records = [{key: value for key, value in record.items() if key != "seconds"} for record in history.records]
    return records, history.diverged and history.diverged.message, None, model, optimizer


def _same_runs(make: Callable[[], tuple], **options: Any) -> tuple:
    """Run eagerly and compiled; assert the same records, stop, error, weights, buffers and optimizer state."""
    eager, compiled = _run(make, False, **options), _run(make, True, **options)
    assert eager[:3] == compiled[:3]
    for (name, a), b in zip(eager[3].state_dict().items(), compiled[3].state_dict().values()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=name)
    for key, entries in eager[4].state_dict()["state"].items():
        for name, value in entries.items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(compiled[4].state_dict()["state"][key][name]))
    return eager


def _moons(n: int = 200) -> TensorDataset:
    return make_moons(n_samples=n, noise=0.2, seed=0)


def _classifier(dataset: Callable[[], Any], model: Callable[[], Any] | None = None, loss: Any = None,
                batch_size: int = 8, lr: float = 0.01, sgd: bool = False, shuffle: bool = False) -> Callable[[], tuple]:
    def make() -> tuple:
        gg.manual_seed(0)
        net = model() if model else nn.mlp([2, 16, 16, 2], seed=0)
        opt = gg.optim.SGD(net.parameters(), lr=lr) if sgd else gg.optim.Adam(net.parameters(), lr=lr)
        return net, loss() if loss else nn.CrossEntropyLoss(), opt, DataLoader(dataset(), batch_size=batch_size,
                                                                           shuffle=shuffle, seed=0)
    return make


def _probability_targets(value: float) -> Callable[[], TensorDataset]:
    def dataset() -> TensorDataset:
        features, labels = _moons().tensors
        targets = labels.array.astype(np.float32).reshape(-1, 1)
        targets[150] = value  # batch 19 of 25: long after the two captures
        return TensorDataset(features, gg.tensor(targets))
    return dataset


def _sigmoid_net() -> Any:
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())


@pytest.mark.parametrize("value", [2.0, -1.0, math.nan])
def test_bce_refuses_a_bad_target_in_a_replayed_batch_as_eager_does(value: float) -> None:
    """Was: the compiled run trained on past it; now both raise the same one-line RuntimeError."""
    eager = _same_runs(_classifier(_probability_targets(value), _sigmoid_net, nn.BCELoss), epochs=1)
    assert eager[2].startswith("RuntimeError: binary_cross_entropy: target must hold probabilities")


def _index_data(bad: int) -> Callable[[], TensorDataset]:
    def dataset() -> TensorDataset:
        rng = np.random.default_rng(0)
        tokens = rng.integers(0, 10, size=(200, 3))
        tokens[150, 1] = bad
        return TensorDataset(gg.tensor(tokens), gg.tensor(rng.integers(0, 2, size=200)))
    return dataset


def _embedding_net() -> Any:
    return nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))


@pytest.mark.parametrize("bad", [-1, 10])
def test_embedding_refuses_an_index_out_of_range_in_a_replayed_batch_as_eager_does(bad: int) -> None:
    """Was: -1 read the last row without a word, 10 raised NumPy's raw IndexError; now eager's one line."""
    eager = _same_runs(_classifier(_index_data(bad), _embedding_net), epochs=1)
    assert eager[2] == f"IndexError: embedding: index {bad} is out of range: the table has 10 rows (0 … 9)"


def test_embedding_and_bce_with_good_data_still_train_as_eager_does() -> None:
    assert _same_runs(_classifier(_index_data(3), _embedding_net), epochs=2)[2] is None
    assert _same_runs(_classifier(_probability_targets(1.0), _sigmoid_net, nn.BCELoss), epochs=2)[2] is None


def test_divergence_at_a_replayed_step_stops_at_the_same_step_with_the_same_state() -> None:
    eager = _same_runs(_classifier(_moons, lr=0.5, sgd=True, shuffle=True), epochs=4, max_loss_growth=1.5)
    assert "epoch 1, step 15:" in eager[1]  # the two captures were steps 1 and 2


def test_a_non_finite_input_in_a_replayed_batch_gives_eager_error() -> None:
    def dataset() -> TensorDataset:
        features, labels = _moons().tensors
        values = features.array.copy()
        values[190, 0] = np.inf
        return TensorDataset(gg.tensor(values), labels)
    eager = _same_runs(_classifier(dataset), epochs=2)
    assert eager[2].startswith("ValueError: fit: at epoch 1, step 24 the batch's inputs hold inf")


class _Recorder(gg.training.Callback):
    """Reads the step's loss and number after each batch, lowers the learning rate, stops at step 30."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []

    def on_batch_end(self, state: Any) -> None:
        self.seen.append((state.step, state.batch_loss))
        for group in state.optimizer.param_groups:
            group["lr"] *= 0.97
        state.stop_training = state.step == 30


def test_a_batch_end_callback_sees_what_eager_shows_it() -> None:
    seen = []
    for compile in (False, True):
        callback = _Recorder()
        _run(_classifier(_moons, batch_size=16), compile, epochs=3, callbacks=[callback])
        seen.append(callback.seen)
    assert seen[0] == seen[1] and len(seen[0]) == 30


def test_batchnorm_dropout_validation_float64_and_an_iterable_dataset_train_as_eager_does() -> None:
    def batchnorm() -> Any:
        return nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    validation = DataLoader(make_moons(n_samples=60, noise=0.3, seed=1), batch_size=25)
    _same_runs(_classifier(lambda: _moons(203), batchnorm, batch_size=30), epochs=2, val_loader=validation)

    def doubles() -> TensorDataset:
        features, labels = _moons().tensors
        return TensorDataset(features.double(), labels)
    _same_runs(_classifier(doubles, lambda: nn.mlp([2, 16, 2], seed=0).double()), epochs=2)

    class Stream(gg.data.IterableDataset):
        def __iter__(self):
            features, labels = _moons(90).tensors
            return ((features[i], labels[i]) for i in range(len(labels)))
    _same_runs(_classifier(Stream, batch_size=16), epochs=2)


def test_cli_train_digits_compiled_prints_and_saves_what_eager_does(tmp_path: Path, capsys: Any) -> None:
    outputs, weights = [], []
    for flag in ([], ["--compile"]):
        path = tmp_path / f"model{len(flag)}.safetensors"
        assert main(["train", "--data", "digits", "--layers", "64,16,10", "--epochs", "2", "--clip", "1.0",
                     "--save", str(path), *flag]) == 0
        lines = capsys.readouterr().out.splitlines()
        outputs.append([line for line in lines if "s)" not in line and "saved" not in line])
        weights.append(gg.load(path)["model"])
    assert outputs[0] == outputs[1]
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        np.testing.assert_array_equal(weights[0][key].array, weights[1][key].array)


def test_the_learning_rate_experiment_compiled_finds_what_it_finds_eagerly(monkeypatch: Any) -> None:
    from glassgrad.lessons import experiments

    fit = training.fit
    found = []
    for compile in (False, True):
        monkeypatch.setattr(training, "fit", lambda *args, _c=compile, **kwargs: fit(*args, **{**kwargs,
                                                                                             "compile": _c}))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = experiments.learning_rate(learning_rates=(0.1, 5.0, 100.0), steps=30)
        found.append((repr(result.tables), result.explanation))
    assert found[0] == found[1]


def test_multi_margin_loss_refuses_a_label_out_of_range_in_a_replayed_batch_as_eager_does() -> None:
    """Was: the compiled run trained on past label 2 of two classes; now both raise eager's RuntimeError."""
    def dataset() -> TensorDataset:
        features, labels = _moons().tensors
        values = labels.array.copy()
        values[150] = 2
        return TensorDataset(features, gg.tensor(values))
    eager = _same_runs(_classifier(dataset, loss=nn.MultiMarginLoss), epochs=1)
    assert eager[2] == "RuntimeError: multi_margin_loss: target label 2 is out of range: labels must be in [0, 1]"
