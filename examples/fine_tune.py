"""Fine-tuning: adapt a trained network to new data by training only some of its layers.

    python examples/fine_tune.py [OUT_DIR]

1. Pre-train a 64→128→10 digits classifier on the digits 0–4 only, and save it.
2. Load it into a fresh model, freeze the first layer (``requires_grad_(False)``: no gradient,
   no update), and train the rest on the digits 5–9 for a few epochs.
3. The frozen weights are unchanged bit for bit; accuracy on 5–9 climbs from ~0 to high,
   because the output layer learns the new classes on top of the features already learned.
   Accuracy on 0–4 falls: trained only on 5–9, the output layer unlearns the old classes
   ("catastrophic forgetting"); keep some old samples in the new training set to avoid it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import glassgrad as gg
from glassgrad.data import DataLoader, TensorDataset, load_digits, train_val_split


def digits_with_labels(labels: range, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    features, targets = load_digits().tensors
    keep = np.isin(targets.numpy(), list(labels))
    subset = TensorDataset(gg.tensor(features.numpy()[keep]), gg.tensor(targets.numpy()[keep]))
    return train_val_split(subset, val_fraction=0.25, seed=seed)


def accuracy_on(model: gg.nn.Module, dataset: TensorDataset) -> float:
    return gg.training.evaluate(model, gg.nn.CrossEntropyLoss(), DataLoader(dataset, batch_size=256))["accuracy"]


def main(out_dir: Path) -> dict[str, float]:
    loss_fn = gg.nn.CrossEntropyLoss()
    old_train, old_val = digits_with_labels(range(0, 5))
    new_train, new_val = digits_with_labels(range(5, 10))

    model = gg.nn.mlp([64, 128, 10], seed=0)
    gg.fit(model, loss_fn, gg.optim.Adam(model.parameters(), lr=0.005),
           DataLoader(old_train, batch_size=32, shuffle=True, seed=0), epochs=10, progress=False)
    path = out_dir / "digits-0-4.safetensors"
    gg.save({"model": model.state_dict(), "architecture": gg.nn.architecture(model)}, path)

    saved = gg.load(path)
    tuned = gg.nn.from_architecture(saved["architecture"])
    tuned.load_state_dict(saved["model"])
    before = {"old digits (0-4), before": accuracy_on(tuned, old_val),
              "new digits (5-9), before": accuracy_on(tuned, new_val)}
    first_layer = tuned[0]
    first_layer.requires_grad_(False)
    frozen = first_layer.weight.numpy().copy()
    trainable = [p for p in tuned.parameters() if p.requires_grad]
    gg.fit(tuned, loss_fn, gg.optim.Adam(trainable, lr=0.01),
           DataLoader(new_train, batch_size=32, shuffle=True, seed=1), epochs=15, progress=False)
    result = {**before, "old digits (0-4), after": accuracy_on(tuned, old_val),
              "new digits (5-9), after": accuracy_on(tuned, new_val),
              "frozen layer unchanged": float(np.array_equal(frozen, first_layer.weight.numpy()))}
    for name, value in result.items():
        print(f"{name:28} {value:.3f}")
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder))
