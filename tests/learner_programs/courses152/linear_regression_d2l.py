# Linear regression from scratch as a "dive into" course writes it (written for this project): synthetic_data with
# torch.normal (its draws checked by shape and dtype, the values used from NumPy), a data_iter generator over a
# shuffled index list, a hand-written squared loss and sgd under torch.no_grad(), then the concise version with
# data.TensorDataset/DataLoader, nn.Sequential(nn.Linear), weight.data.normal_ and bias.data.fill_, nn.MSELoss.
import random

import numpy as np
import torch
from torch import nn
from torch.utils import data

rng = np.random.default_rng(1)
random.seed(1)


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    shape, kind = X.shape, X.dtype
    X = torch.from_numpy(rng.normal(0, 1, (num_examples, len(w))).astype(np.float32))
    y = torch.matmul(X, w) + b
    y += torch.from_numpy(rng.normal(0, 0.01, tuple(y.shape)).astype(np.float32))
    return X, y.reshape((-1, 1)), [list(shape), kind == torch.float32]


true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels, drawn = synthetic_data(true_w, true_b, 200)
print("features:", features[0], "\nlabel:", labels[0])


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
w_drawn = [list(w.shape), w.requires_grad, w.is_leaf]
w = torch.tensor(rng.normal(0, 0.01, (2, 1)), dtype=torch.float32, requires_grad=True)
b = torch.zeros(1, requires_grad=True)


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr, num_epochs, batch_size = 0.03, 3, 10
history = []
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        l = squared_loss(linreg(X, w, b), y)
        l.sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        train_l = squared_loss(linreg(features, w, b), labels)
        print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")
        history.append(float(train_l.mean()))
print(f"error in estimating w: {true_w - w.reshape(true_w.shape)}")
print(f"error in estimating b: {true_b - b}")

dataset = data.TensorDataset(features, labels)
loader = data.DataLoader(dataset, batch_size, shuffle=False)
net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)
with torch.no_grad():
    net[0].weight.copy_(torch.tensor([[0.01, -0.02]]))
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)
concise = []
for epoch in range(3):
    for X, y in loader:
        l = loss(net(X), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)
    print(f"epoch {epoch + 1}, loss {l:f}")
    concise.append(l.item())
results = {"drawn": drawn, "w_drawn": w_drawn, "history": history, "w": w, "b": b, "concise": concise,
           "weight": net[0].weight.data, "bias": net[0].bias, "batches": len(loader), "len": len(dataset),
           "item": [t.shape for t in dataset[3]]}
