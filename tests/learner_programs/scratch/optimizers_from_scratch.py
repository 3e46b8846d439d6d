# Optimization algorithms written from scratch, as a "dive into" course writes them (written for this project):
# gradient descent in one and two dimensions on plain numbers, minibatch SGD, momentum, AdaGrad, RMSProp, AdaDelta
# and Adam on a linear model with state tensors updated by slice assignment under no_grad, then the library's
# optimizers and a learning-rate schedule on the same problem.
import math

import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(21)


def f(x):
    return x**2


def f_grad(x):
    return 2 * x


def gd(eta, f_grad):
    x = 10.0
    results = [x]
    for _i in range(10):
        x -= eta * f_grad(x)
        results.append(float(x))
    return results


c = torch.tensor(0.15 * np.pi)


def f_nonconvex(x):
    return x * torch.cos(c * x)


def f_nonconvex_grad(x):
    return torch.cos(c * x) - c * x * torch.sin(c * x)


def train_2d(trainer, steps=20, f_grad=None):
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for _i in range(steps):
        if f_grad:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        else:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    return results


def f_2d(x1, x2):
    return 0.1 * x1**2 + 2 * x2**2


def adagrad_2d(x1, x2, s1, s2):
    eps = 1e-6
    g1, g2 = 0.2 * x1, 4 * x2
    s1 += g1**2
    s2 += g2**2
    x1 -= eta * g1 / math.sqrt(s1 + eps)
    x2 -= eta * g2 / math.sqrt(s2 + eps)
    return x1, x2, s1, s2


eta = 0.4
plain = {"gd": gd(0.2, f_grad), "nonconvex": gd(2, f_nonconvex_grad), "adagrad_2d": train_2d(adagrad_2d)}

features = torch.from_numpy(rng.normal(size=(60, 5)).astype(np.float32))
labels = (features @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.3).reshape(-1, 1)
labels += torch.from_numpy(rng.normal(0, 0.1, (60, 1)).astype(np.float32))
data_iter = [(features[i:i + 10], labels[i:i + 10]) for i in range(0, 60, 10)]
feature_dim = features.shape[1]


def init_momentum_states(feature_dim):
    v_w = torch.zeros((feature_dim, 1))
    v_b = torch.zeros(1)
    return (v_w, v_b)


def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v[:] = hyperparams["momentum"] * v + p.grad
            p[:] -= hyperparams["lr"] * v
        p.grad.data.zero_()


def init_adagrad_states(feature_dim):
    return (torch.zeros((feature_dim, 1)), torch.zeros(1))


def adagrad(params, states, hyperparams):
    eps = 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] += torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()


def init_rmsprop_states(feature_dim):
    return (torch.zeros((feature_dim, 1)), torch.zeros(1))


def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams["gamma"], 1e-6
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()


def init_adadelta_states(feature_dim):
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    delta_w, delta_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((s_w, delta_w), (s_b, delta_b))


def adadelta(params, states, hyperparams):
    rho, eps = hyperparams["rho"], 1e-5
    for p, (s, delta) in zip(params, states):
        with torch.no_grad():
            s[:] = rho * s + (1 - rho) * torch.square(p.grad)
            g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * p.grad
            p[:] -= g
            delta[:] = rho * delta + (1 - rho) * g * g
        p.grad.data.zero_()


def init_adam_states(feature_dim):
    v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((v_w, s_w), (v_b, s_b))


def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p[:] -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams["t"] += 1


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def train_scratch(trainer_fn, states, hyperparams, num_epochs=2):
    w = torch.from_numpy(rng.normal(0, 0.01, (feature_dim, 1)).astype(np.float32)).requires_grad_(True)
    b = torch.zeros((1), requires_grad=True)
    net, loss = lambda X: linreg(X, w, b), squared_loss
    curve = []
    for _ in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y).mean()
            l.backward()
            trainer_fn([w, b], states, hyperparams)
            curve.append(loss(net(features), labels).mean().item())
    return curve


scratch = {
    "momentum": train_scratch(sgd_momentum, init_momentum_states(feature_dim), {"lr": 0.02, "momentum": 0.5}),
    "adagrad": train_scratch(adagrad, init_adagrad_states(feature_dim), {"lr": 0.1}),
    "rmsprop": train_scratch(rmsprop, init_rmsprop_states(feature_dim), {"lr": 0.01, "gamma": 0.9}),
    "adadelta": train_scratch(adadelta, init_adadelta_states(feature_dim), {"rho": 0.9}),
    "adam": train_scratch(adam, init_adam_states(feature_dim), {"lr": 0.01, "t": 1}),
}


def train_concise(trainer_fn, hyperparams, num_epochs=2, scheduler_fn=None):
    net = nn.Sequential(nn.Linear(5, 1))

    def init_weights(module):
        if type(module) is nn.Linear:
            torch.nn.init.normal_(module.weight, std=0.01)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(rng.normal(0, 0.01, (1, 5)).astype(np.float32)))
            torch.nn.init.constant_(module.bias, 0.0)

    net.apply(init_weights)
    optimizer = trainer_fn(net.parameters(), **hyperparams)
    scheduler = scheduler_fn(optimizer) if scheduler_fn else None
    loss = nn.MSELoss(reduction="none")
    curve, lrs = [], []
    for _ in range(num_epochs):
        for X, y in data_iter:
            optimizer.zero_grad()
            out = net(X)
            y = y.reshape(out.shape)
            l = loss(out, y)
            l.mean().backward()
            optimizer.step()
            curve.append((loss(net(features), labels).mean() / 2).item())
        if scheduler:
            scheduler.step()
            lrs.append(optimizer.param_groups[0]["lr"])
    return curve, lrs


concise = {
    "sgd_momentum": train_concise(torch.optim.SGD, {"lr": 0.01, "momentum": 0.9}),
    "adagrad": train_concise(torch.optim.Adagrad, {"lr": 0.1}),
    "rmsprop": train_concise(torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9}),
    "adadelta": train_concise(torch.optim.Adadelta, {"rho": 0.9}),
    "adam": train_concise(torch.optim.Adam, {"lr": 0.01}),
    "step_lr": train_concise(torch.optim.SGD, {"lr": 0.05}, 3,
                             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5)),
    "multistep": train_concise(torch.optim.SGD, {"lr": 0.05}, 3,
                               lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[1, 2], gamma=0.5)),
}


class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)


class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (
                1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr


cosine = CosineScheduler(20, warmup_steps=5, base_lr=0.3, final_lr=0.01)
schedules = {"sqrt": [SquareRootScheduler(0.1)(t) for t in range(5)], "cosine": [cosine(t) for t in range(0, 25, 3)]}
net = nn.Sequential(nn.Linear(5, 1))
trainer = torch.optim.SGD(net.parameters(), lr=0.3)
scheduler = CosineScheduler(6, base_lr=0.3, final_lr=0.01)
lrs = []
for epoch in range(6):
    for param_group in trainer.param_groups:
        param_group["lr"] = scheduler(epoch)
    lrs.append(trainer.param_groups[0]["lr"])

results = {"plain": plain, "scratch": scratch, "concise": concise, "schedules": schedules, "set_lrs": lrs}
