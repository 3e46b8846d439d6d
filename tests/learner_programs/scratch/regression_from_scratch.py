# Linear regression, softmax regression, a multilayer perceptron and dropout, each built from scratch the way a
# "dive into" course builds them (written for this project): synthetic data, a minibatch iterator, a hand-written
# sgd under no_grad, an own softmax and cross-entropy, accuracy by argmax, an Accumulator, relu by torch.max.
import random
import time

import numpy as np
import torch

rng = np.random.default_rng(0)
random.seed(0)
torch.manual_seed(0)


class Timer:
    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        self.tik = time.time()

    def stop(self):
        self.times.append(time.time() - self.tik)
        return self.times[-1]

    def sum(self):
        return sum(self.times)


class Accumulator:
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    noise_shape = X.shape
    X = torch.from_numpy(rng.normal(0, 1, (num_examples, len(w))).astype(np.float32))
    y = torch.matmul(X, w) + b
    y += torch.from_numpy(rng.normal(0, 0.01, y.shape).astype(np.float32))
    return X, y.reshape((-1, 1)), noise_shape


true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels, drawn_shape = synthetic_data(true_w, true_b, 100)


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
w_shape = list(w.shape)
with torch.no_grad():
    w.copy_(torch.from_numpy(rng.normal(0, 0.01, (2, 1)).astype(np.float32)))
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


lr, num_epochs, net, loss = 0.03, 3, linreg, squared_loss
timer = Timer()
linreg_losses = []
for _epoch in range(num_epochs):
    for X, y in data_iter(10, features, labels):
        l = loss(net(X, w, b), y)
        l.sum().backward()
        sgd([w, b], lr, 10)
    with torch.no_grad():
        train_l = loss(net(features, w, b), labels)
        linreg_losses.append(float(train_l.mean()))
timer.stop()
w_error = true_w - w.reshape(true_w.shape)
b_error = true_b - b

# softmax regression
num_inputs, num_outputs = 12, 4
Xs = torch.from_numpy(rng.normal(size=(60, num_inputs)).astype(np.float32))
ys = torch.from_numpy(rng.integers(0, num_outputs, 60))
W = torch.from_numpy(rng.normal(0, 0.01, (num_inputs, num_outputs)).astype(np.float32)).requires_grad_(True)
b2 = torch.zeros(num_outputs, requires_grad=True)

X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
sums = (X.sum(0, keepdim=True), X.sum(1, keepdim=True))


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def net_softmax(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b2)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


y_toy = torch.tensor([0, 2])
y_hat_toy = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
picked = y_hat_toy[[0, 1], y_toy]


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data):
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def batches(X, y, size):
    return [(X[i:i + size], y[i:i + size]) for i in range(0, len(X), size)]


softmax_metrics = []
for _epoch in range(3):
    metric = Accumulator(3)
    for X, y in batches(Xs, ys, 20):
        y_hat = net_softmax(X)
        l = cross_entropy(y_hat, y)
        l.sum().backward()
        sgd([W, b2], 0.1, X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    test_acc = evaluate_accuracy(net_softmax, batches(Xs, ys, 20))
    softmax_metrics.append([metric[0] / metric[2], metric[1] / metric[2], test_acc])

# MLP from scratch, with relu by torch.max and dropout by a mask
num_hiddens = 16
W1 = torch.nn.Parameter(torch.from_numpy(rng.normal(0, 0.1, (num_inputs, num_hiddens)).astype(np.float32)))
b1 = torch.nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = torch.nn.Parameter(torch.from_numpy(rng.normal(0, 0.1, (num_hiddens, num_outputs)).astype(np.float32)))
b3 = torch.nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
params = [W1, b1, W2, b3]


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


def net_mlp(X, training=False):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)
    if training:
        H = dropout_layer(H, 0.5)
    return H @ W2 + b3


loss_fn = torch.nn.CrossEntropyLoss(reduction="none")
updater = torch.optim.SGD(params, lr=0.5)
mlp_losses = []
for _epoch in range(4):
    for X, y in batches(Xs, ys, 15):
        l = loss_fn(net_mlp(X), y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
    mlp_losses.append(loss_fn(net_mlp(Xs), ys).mean().item())

X_drop = torch.arange(16, dtype=torch.float32).reshape((2, 8))
dropped = dropout_layer(X_drop, 0.5)
kept = dropped[dropped != 0]
trained_out = net_mlp(Xs[:4], training=True)
v = torch.arange(3.0)
M = torch.arange(6.0).reshape(2, 3)

results = {
    "drawn_shape": list(drawn_shape), "w_shape": w_shape, "linreg_losses": linreg_losses, "w_error": w_error,
    "b_error": b_error, "sums": list(sums), "softmax_rows": softmax(X_drop[:, :3]).sum(1), "picked": picked,
    "ce_toy": cross_entropy(y_hat_toy, y_toy), "acc_toy": accuracy(y_hat_toy, y_toy) / len(y_toy),
    "softmax_metrics": softmax_metrics, "mlp_losses": mlp_losses, "W1": W1.detach(),
    "dropout_all": dropout_layer(X_drop, 1.0), "dropout_none": dropout_layer(X_drop, 0.0),
    "dropout_shape": list(dropped.shape), "kept_are_doubled": bool(torch.all(kept % 2 == 0)),
    "trained_out_shape": list(trained_out.shape), "vm": torch.matmul(v, M.T), "mv": torch.matmul(M, v),
    "numel": M.numel(), "timer_positive": timer.sum() >= 0, "relu": relu(torch.tensor([-1.0, 0.0, 2.0])),
}
