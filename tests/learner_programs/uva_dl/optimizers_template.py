# UvA Deep Learning tutorial 4 style (written for this project): optimizers written as subclasses of an
# OptimizerTemplate (SGD, SGD with momentum, Adam with bias correction) stepping on a pathological curvature
# function and training a small MLP, compared with torch.optim's SGD and Adam from the same start. In float64: at
# lr=10 the curve's 1 - tanh(w)^2 near w=5 cancels, so float32 would turn one rounding of tanh into 1e-3.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.default_rng(4)
torch.set_default_dtype(torch.float64)
dtype = "float64"


class OptimizerTemplate:
    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.detach_()
                p.grad.zero_()

    @torch.no_grad()
    def step(self):
        for p in self.params:
            if p.grad is None:
                continue
            self.update_param(p)

    def update_param(self, p):
        raise NotImplementedError


class SGD(OptimizerTemplate):
    def update_param(self, p):
        p_update = -self.lr * p.grad
        p.add_(p_update)


class SGDMomentum(OptimizerTemplate):
    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        self.momentum = momentum
        self.param_momentum = {p: torch.zeros_like(p.data) for p in self.params}

    def update_param(self, p):
        self.param_momentum[p] = (1 - self.momentum) * p.grad + self.momentum * self.param_momentum[p]
        p_update = -self.lr * self.param_momentum[p]
        p.add_(p_update)


class Adam(OptimizerTemplate):
    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, lr)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.param_step = {p: 0 for p in self.params}
        self.param_momentum = {p: torch.zeros_like(p.data) for p in self.params}
        self.param_2nd_momentum = {p: torch.zeros_like(p.data) for p in self.params}

    def update_param(self, p):
        self.param_step[p] += 1
        self.param_momentum[p] = (1 - self.beta1) * p.grad + self.beta1 * self.param_momentum[p]
        self.param_2nd_momentum[p] = (1 - self.beta2) * (p.grad) ** 2 + self.beta2 * self.param_2nd_momentum[p]
        bias_correction_1 = 1 - self.beta1 ** self.param_step[p]
        bias_correction_2 = 1 - self.beta2 ** self.param_step[p]
        p_2nd_mom = self.param_2nd_momentum[p] / bias_correction_2
        p_mom = self.param_momentum[p] / bias_correction_1
        p_lr = self.lr / (torch.sqrt(p_2nd_mom) + self.eps)
        p_update = -p_lr * p_mom
        p.add_(p_update)


def pathological_curve_loss(w1, w2):
    x1_loss = torch.tanh(w1) ** 2 + 0.01 * torch.abs(w1)
    x2_loss = torch.sigmoid(w2)
    return x1_loss + x2_loss


def train_curve(optimizer_func, init=(5, 5), num_updates=100):
    weights = nn.Parameter(torch.tensor(list(init), dtype=torch.float64), requires_grad=True)
    optimizer = optimizer_func([weights])
    list_points = []
    for _ in range(num_updates):
        loss = pathological_curve_loss(weights[0], weights[1])
        list_points.append(torch.cat([weights.data.detach(), loss.unsqueeze(dim=0).detach()], dim=0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    points = torch.stack(list_points, dim=0)
    return points


results = {}
curves = {  # plain SGD at lr=10 bounces chaotically (a rounding grows 1000-fold per 10 steps): 20 steps of it
    "SGD": (lambda params: SGD(params, lr=10), 20),
    "SGDMom": (lambda params: SGDMomentum(params, lr=10, momentum=0.9), 100),
    "Adam": (lambda params: Adam(params, lr=1), 100),
}
for name, (make, num_updates) in curves.items():
    points = train_curve(make, num_updates=num_updates)
    results[f"curve_{name}"] = points[::5]
    results[f"curve_{name}_last"] = points[-1]

# torch.optim's Adam takes the same steps (its momentum form differs from SGDMomentum's dampening)
ours = train_curve(lambda params: Adam(params, lr=1), num_updates=30)
theirs = train_curve(lambda params: optim.Adam(params, lr=1), num_updates=30)
results["adam_gap"] = (ours - theirs).abs().max().item() < 1e-4
ours = train_curve(lambda params: SGD(params, lr=10), num_updates=20)
theirs = train_curve(lambda params: optim.SGD(params, lr=10), num_updates=20)
results["sgd_gap"] = (ours - theirs).abs().max().item() < 1e-9


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.net(x)


init = [rng.standard_normal(shape) * 0.3 for shape in [(32, 10), (32,), (16, 32), (16,),
                                                                       (3, 16), (3,)]]
data = torch.from_numpy(rng.standard_normal((64, 10)))
targets = torch.from_numpy(rng.integers(0, 3, 64))


def make_model():
    model = MLP()
    with torch.no_grad():
        for p, w in zip(model.parameters(), init):
            p.copy_(torch.from_numpy(w))
    return model


mlp = {}
for name, make in {"SGD": lambda p: SGD(p, lr=0.1), "SGDMom": lambda p: SGDMomentum(p, lr=0.1, momentum=0.9),
                   "Adam": lambda p: Adam(p, lr=1e-2), "torchSGD": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                   "torchAdam": lambda p: optim.Adam(p, lr=1e-2)}.items():
    model = make_model()
    optimizer = make(model.parameters())
    losses = []
    for _ in range(20):
        for start in range(0, 64, 16):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(data[start:start + 16]), targets[start:start + 16])
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = (model(data).argmax(dim=-1) == targets).float().mean().item()
    mlp[name] = {"losses": losses, "acc": acc}
results["mlp"] = mlp
