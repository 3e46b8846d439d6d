"""gg.fit names the real problem: bad data is not a learning rate, a file is not a folder (issue 10, item 13)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import DataLoader, TensorDataset
from glassgrad.training import Callback, fit


class CountBatches(Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_batch_end(self, state) -> None:
        self.batches += 1


def setup(features: np.ndarray, lr: float = 0.1):
    labels = np.arange(len(features)) % 2
    model = gg.nn.mlp([features.shape[1], 4, 2], seed=0)
    optimizer = gg.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(features.astype(np.float32), labels), batch_size=4)
    return model, optimizer, loader


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_input_is_reported_as_the_data_not_the_learning_rate(bad):
    features = np.random.default_rng(0).normal(size=(12, 3))
    features[5, 1] = bad  # batch 2 (rows 4-7), its sample 1, column 1
    model, optimizer, loader = setup(features)
    counter = CountBatches()
    with pytest.raises(ValueError) as caught:
        fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=3, callbacks=[counter], progress=False)
    message = str(caught.value)
    assert f"at epoch 1, step 2 the batch's inputs hold {bad} at index [1, 1] (sample 1 of the batch, column 1)" \
        in message
    assert "learning rate" not in message and len(message.splitlines()) == 1
    assert counter.batches == 1


def test_a_non_finite_target_is_reported_too():
    features = np.zeros((4, 2), np.float32)
    model = gg.nn.Linear(2, 1)
    targets = np.array([[0.0], [1.0], [np.nan], [0.0]], np.float32)
    loader = DataLoader(TensorDataset(features, targets), batch_size=4)
    with pytest.raises(ValueError, match=r"the batch's targets hold nan at index \[2, 0\]"):
        fit(model, gg.nn.MSELoss(), gg.optim.SGD(model.parameters(), lr=0.1), loader, progress=False)


def test_a_nan_before_any_update_does_not_blame_the_learning_rate():
    model, optimizer, loader = setup(np.ones((8, 3)))
    model[0].weight.array[0, 0] = np.nan  # the starting weights themselves are broken
    history = fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=1, progress=False)
    assert history.diverged is not None and history.diverged.step == 1
    assert "No update had run yet, so the learning rate is not the cause" in history.diverged.message
    assert "lower the learning rate" not in history.diverged.message


def test_a_divergence_after_updates_still_blames_the_learning_rate():
    model, optimizer, loader = setup(np.random.default_rng(1).normal(size=(64, 3)) * 100, lr=1e6)
    history = fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=5, progress=False)
    assert history.diverged is not None and history.diverged.step > 1
    assert "lower the learning rate (now 1e+06)" in history.diverged.message


@pytest.mark.parametrize("below", [False, True])
def test_a_checkpoint_dir_that_is_a_file_is_refused_before_training(tmp_path, below):
    blocker = tmp_path / "checkpoints"
    blocker.write_text("not a folder")
    folder = blocker / "run1" if below else blocker
    model, optimizer, loader = setup(np.ones((8, 3)))
    counter = CountBatches()
    with pytest.raises(ValueError) as caught:
        fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=2, checkpoint_every=1,
            checkpoint_dir=folder, callbacks=[counter], progress=False)
    assert str(caught.value) == (f"fit: checkpoint_dir {folder} cannot be a folder: {blocker} is a file; "
                                 "give another checkpoint_dir (or move the file)")
    assert counter.batches == 0


def test_a_checkpoint_dir_still_to_be_made_is_fine(tmp_path):
    model, optimizer, loader = setup(np.ones((8, 3)))
    fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=1, checkpoint_every=1,
        checkpoint_dir=tmp_path / "new" / "run", progress=False)
    assert (tmp_path / "new" / "run" / "checkpoint-epoch001.safetensors").is_file()
