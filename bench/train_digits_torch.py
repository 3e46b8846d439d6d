"""What ``glassgrad train --data digits`` does, written as a plain PyTorch script: the yardstick for its wall time.

    hyperfine -w 1 -r 5 'glassgrad train --data digits' 'python bench/train_digits_torch.py'

The same work with ``train``'s defaults: scikit-learn's digits (pixels / 16), 80 % to train and
20 % held out, a 64→256→10 ReLU MLP, cross-entropy, Adam (lr 0.003), batch 32, 30 epochs, then
the loss and accuracy of the final model on both parts. Loading the digits through scikit-learn
is how a PyTorch user would, and part of what is timed.
"""

from __future__ import annotations

import time

import torch
from sklearn.datasets import load_digits

EPOCHS, BATCH, LR = 30, 32, 0.003


def main() -> None:
    started = time.perf_counter()
    torch.manual_seed(0)
    images, labels = load_digits(return_X_y=True)
    features = torch.tensor(images / 16, dtype=torch.float32)
    targets = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(targets))
    cut = int(0.8 * len(targets))
    parts = {"train": order[:cut], "validation": order[cut:]}
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    train = parts["train"]
    for epoch in range(EPOCHS):
        shuffled = train[torch.randperm(len(train))]
        for start in range(0, len(shuffled), BATCH):
            index = shuffled[start:start + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(features[index]), targets[index])
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1:3}  train loss {loss.item():.4f}")
    with torch.no_grad():
        for name, index in parts.items():
            logits = model(features[index])
            accuracy = (logits.argmax(dim=1) == targets[index]).float().mean().item()
            print(f"{name:10}  loss {loss_fn(logits, targets[index]).item():.4f}  accuracy {accuracy:.2%}")
    print(f"{time.perf_counter() - started:.2f} s after the imports")


if __name__ == "__main__":
    main()
