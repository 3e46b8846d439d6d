# Experiment tracking as a course's chapter teaches it: a small classifier trained with two learning rates,
# each run logged by SummaryWriter (losses, accuracy, a weight histogram, the hyperparameters), then the logged
# numbers read back the way TensorBoard reads them (written for this project).
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

rng = np.random.default_rng(7)
X = torch.tensor(rng.standard_normal((64, 5)), dtype=torch.float32)
y = torch.tensor((rng.standard_normal(64) > 0).astype(np.int64))
start = [rng.normal(0, 0.4, size) for size in [(8, 5), (8,), (2, 8), (2,)]]
logs = Path(tempfile.mkdtemp())


def train(lr):
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        for p, values in zip(model.parameters(), start):
            p.copy_(torch.tensor(values, dtype=torch.float32))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    writer = SummaryWriter(log_dir=str(logs / f"lr_{lr}"))
    for epoch in range(5):
        for batch in range(0, 64, 16):
            loss = loss_fn(model(X[batch:batch + 16]), y[batch:batch + 16])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.inference_mode():
            logits = model(X)
            accuracy = (logits.argmax(dim=1) == y).float().mean().item()
        writer.add_scalars("Loss", {"train": loss.item(), "all": loss_fn(logits, y).item()}, epoch)
        writer.add_scalar("Accuracy/train", accuracy, epoch)
        writer.add_histogram("first.weight", model[0].weight, epoch)
    writer.add_hparams({"lr": lr, "momentum": 0.9}, {"hparam/accuracy": accuracy}, run_name="hparams")
    writer.close()


for lr in (0.01, 0.1):
    train(lr)

read = {}
for run in sorted(path for path in logs.rglob("*") if path.is_dir()):
    events = EventAccumulator(str(run)).Reload()
    for tag in sorted(events.Tags()["scalars"]):
        read[f"{run.relative_to(logs)}:{tag}"] = [event.value for event in events.Scalars(tag)]
    for tag in sorted(events.Tags()["histograms"]):
        read[f"{run.relative_to(logs)}:{tag}:buckets"] = [len(event.histogram_value.bucket)
                                                          for event in events.Histograms(tag)]

results = {"run_names": [len(name) for name in read], "logged": list(read.values())}
