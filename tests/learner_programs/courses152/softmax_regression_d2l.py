# Softmax regression the concise way a "dive into" course writes it (written for this project): 1x28x28 images
# made in the program, nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), net.apply(init_weights) with
# nn.init.normal_, nn.CrossEntropyLoss(reduction='none') with .mean() taken by hand, accuracy by argmax and
# .type(y.dtype), an Accumulator, and an evaluate_accuracy that switches to net.eval().
import numpy as np
import torch
from torch import nn
from torch.utils import data

rng = np.random.default_rng(3)
images = torch.from_numpy(rng.random((120, 1, 28, 28)).astype(np.float32))
targets = torch.from_numpy(rng.integers(0, 10, 120))
images[torch.arange(120), 0, targets, targets] += 3.0  # each class lights one pixel
train_iter = data.DataLoader(data.TensorDataset(images[:96], targets[:96]), batch_size=32)
test_iter = data.DataLoader(data.TensorDataset(images[96:], targets[96:]), batch_size=32)
X0, y0 = next(iter(train_iter))
print(X0.shape, X0.dtype, y0.shape, y0.dtype)

net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def init_weights(m):
    if type(m) == nn.Linear:  # noqa: E721 (the course's spelling)
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)
drawn = [list(net[1].weight.shape), float(net[1].weight.std()) < 0.05]
with torch.no_grad():
    net[1].weight.copy_(torch.from_numpy(rng.normal(0, 0.01, (10, 784)).astype(np.float32)))
    net[1].bias.zero_()


class Accumulator:
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


loss = nn.CrossEntropyLoss(reduction="none")
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
print(f"chance accuracy {evaluate_accuracy(net, test_iter):.3f}")
history = []
for epoch in range(4):
    net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    test_acc = evaluate_accuracy(net, test_iter)
    print(f"epoch {epoch + 1}: loss {metric[0] / metric[2]:.3f}, train acc {metric[1] / metric[2]:.3f}, "
          f"test acc {test_acc:.3f}")
    history.append([metric[0] / metric[2], metric[1] / metric[2], test_acc])
preds = net(images[96:104]).argmax(axis=1)
print(preds, targets[96:104])
results = {"drawn": drawn, "history": history, "weight": net[1].weight[:, :8], "bias": net[1].bias,
           "preds": preds, "training": net.training, "per_example": loss(net(X0), y0)[:5],
           "cmp_dtype": str(accuracy(net(X0), y0))}
