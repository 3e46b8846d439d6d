# Softmax regression written with NumPy habits: axis=/keepdims=, out=, sizes by keyword, f-strings of a loss,
# batches cut with tensor indices, a list of tensors saved and loaded back.
import os
import tempfile

import numpy as np
import torch

dtype = "float64"
rng = np.random.default_rng(3)
features = torch.tensor(rng.normal(size=(60, 4)))
labels = torch.tensor(rng.integers(0, 3, size=60))
weights = torch.zeros(size=(4, 3), dtype=torch.float64, requires_grad=True)
bias = torch.zeros(3, dtype=torch.float64, requires_grad=True)


def softmax(z):
    shifted = z - z.max(axis=1, keepdims=True).values
    e = torch.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


starts = torch.arange(0, 60, 20)
losses, lines = [], []
for epoch in range(4):
    for start in starts:
        x, y = features[start:start + 20], labels[start:start + 20]  # a 0-d tensor as a Python index
        probabilities = softmax(x @ weights + bias)
        loss = -torch.log(probabilities[torch.arange(20), y]).mean()
        loss.backward()
        with torch.no_grad():
            for p in (weights, bias):
                p -= 0.5 * p.grad
                p.grad.zero_()
    losses.append(loss.item())
    lines.append(f"epoch {epoch}: loss {loss:.4f}")

scores = torch.empty(60, 3, dtype=torch.float64)
with torch.no_grad():
    torch.matmul(features, weights, out=scores)
    predictions = scores.argmax(axis=1)
accuracy = (predictions == labels).double().mean()
assert (weights.grad == None) is False and abs(-weights).sum() >= 0  # noqa: E711

folder = tempfile.mkdtemp()
torch.save([weights.detach(), bias.detach()], os.path.join(folder, "params"))
loaded_weights, loaded_bias = torch.load(os.path.join(folder, "params"), weights_only=True)

results = {"losses": losses, "formatted": [float(line.split()[-1]) for line in lines], "accuracy": accuracy,
           "weights": loaded_weights, "bias": loaded_bias, "cumsum": features.cumsum(axis=0)[-1],
           "mask": torch.where(scores > 0.5, scores, torch.tensor(-torch.inf)).max(axis=0).values}
