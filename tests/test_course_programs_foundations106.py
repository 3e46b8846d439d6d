"""Round 106: programs written the way three more courses teach PyTorch, each run unchanged under PyTorch 2.13 and
under glassgrad (``import torch`` giving glassgrad), with the same numbers (rtol 1e-9 in float64), the same
exception classes for the mistakes they make on purpose, and the same warnings:

- fast.ai's "from the foundations" (course part 2): a hand-written Learner with callbacks and cancel exceptions,
  hooks, ``torch.histc`` histograms, GeneralRelu, kaiming/LSUV initialisation, a BatchNorm from scratch, a
  ``ModuleList`` of blocks, learning-rate finders and one-cycle schedules by hand and by ``OneCycleLR``;
- Stanford CS224n: word2vec with negative sampling, the dependency parser's feed-forward model, a character
  decoder over packed sequences, the NMT model's attention and beam bookkeeping, a character CNN;
- "Machine Learning with PyTorch and Scikit-Learn" (Raschka): datasets, seeded splits and loaders, logistic
  regression and an MLP with accuracy, saving and loading, a small CNN and an LSTM sentiment model.

The programs are written for this project (no course code copied), kept here as text: each test writes its program
to a temporary folder and runs it in two processes (``tests/test_learner_programs.py``'s runner). Random draws
differ between the libraries (glassgrad's generator), so the programs set their weights from NumPy and compare
dropout by its pattern, a seeded split by its sizes and reproducibility. Each starts with ``PRELUDE``.

What glassgrad did differently, found by these programs, is tested below them.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_learner_programs import HERE, assert_pytorchs_numbers

import glassgrad as gg

PRELUDE = """\
import math
import warnings
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
results = {}


def shown(value):
    if isinstance(value, (list, tuple)):
        return [shown(item) for item in value]
    plain = value is None or isinstance(value, (bool, int, float, str)) or hasattr(value, "tolist")
    return value if plain else type(value).__name__


def outcome(call):
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            value = call()
    except Exception as error:
        return [type(error).__name__]
    return ["ok", shown(value), [warning.category.__name__ for warning in seen]]
"""
"""What every program starts with: the imports, float64, and ``outcome(call)``, a learner's ``try``/``except``
around a call that names what it gave: ``["ok", value or its type's name, the warnings shown]`` or
``[the exception's class]``."""

FASTAI_FOUNDATIONS_LEARNER = """\
# fast.ai "from the foundations" (course part 2) style: a hand-written Learner whose callbacks run in `order` and
# whose fit is cut short by CancelBatchException/CancelFitException, a GeneralRelu (leak, sub, maxv), a BatchNorm
# written from scratch (register_buffer, lerp_ with a number and with a tensor weight), a ModuleList of conv blocks,
# a class patched by plain assignment, kaiming_normal_ statistics, an LSUV loop that rescales in no_grad through a
# forward hook it then removes, activation means/stds and torch.histc histograms from hooks, a hand-written
# one-cycle schedule and OneCycleLR, a learning-rate finder, torch.linspace/torch.stack curves, misuse classes.

from torch.optim.lr_scheduler import OneCycleLR

rng = np.random.default_rng(106)
xs = torch.from_numpy(rng.normal(size=(48, 2, 6, 6)))
ys = torch.from_numpy(rng.integers(0, 3, size=48))


class CancelFitException(Exception):
    pass


class CancelBatchException(Exception):
    pass


class Callback:
    order = 0


class Learner:
    def __init__(self, model, data, loss_func, lr, cbs):
        self.model, self.data, self.loss_func, self.lr, self.cbs = model, data, loss_func, lr, cbs

    def __call__(self, name):
        for cb in sorted(self.cbs, key=lambda c: c.order):
            getattr(cb, name, lambda learn: None)(self)

    def one_batch(self):
        try:
            self("before_batch")
            self.preds = self.model(self.xb)
            self.loss = self.loss_func(self.preds, self.yb)
            self("after_loss")
            self.loss.backward()
            self("before_step")
            self.opt.step()
            self.opt.zero_grad()
        except CancelBatchException:
            self("after_cancel_batch")
        finally:
            self("after_batch")

    def fit(self, epochs):
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=0.9)
        self.epochs, self.n_iter = epochs, 0
        try:
            self("before_fit")
            for self.epoch in range(epochs):
                self.model.train()
                for i in range(0, len(self.data[0]), 12):
                    self.xb, self.yb = self.data[0][i : i + 12], self.data[1][i : i + 12]
                    self.one_batch()
                    self.n_iter += 1
        except CancelFitException:
            self("after_cancel_fit")
        finally:
            self("after_fit")


class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__()
        self.leak, self.sub, self.maxv = leak, sub, maxv

    def forward(self, x):
        x = F.leaky_relu(x, self.leak) if self.leak else F.relu(x)
        if self.sub is not None:
            x = x - self.sub
        if self.maxv is not None:
            x = x.clamp(max=self.maxv)
        return x


class BatchNorm(nn.Module):
    def __init__(self, channels, momentum=0.1, eps=1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.scale = nn.Parameter(torch.ones(channels, 1, 1))
        self.shift = nn.Parameter(torch.zeros(channels, 1, 1))
        for name, fill in (("running_mean", 0.0), ("running_var", 1.0)):
            self.register_buffer(name, torch.full((1, channels, 1, 1), fill))
        self.register_buffer("steps", torch.tensor(0))

    def forward(self, x):
        if not self.training:
            return (x - self.running_mean) / (self.running_var + self.eps).sqrt() * self.scale + self.shift
        with torch.no_grad():
            mean = x.mean((0, 2, 3), keepdim=True)
            var = x.var((0, 2, 3), keepdim=True, unbiased=False)
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var, torch.full_like(var, self.momentum))
            self.steps += 1
        return (x - mean) / (var + self.eps).sqrt() * self.scale + self.shift


class ConvBlock(nn.Module):
    def __init__(self, ni, nf, stride=2):
        super().__init__()
        self.conv = nn.Conv2d(ni, nf, 3, stride=stride, padding=1, bias=False)
        self.bn = BatchNorm(nf)
        self.act = GeneralRelu(leak=0.1, sub=0.4, maxv=6.0)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Net(nn.Module):
    def __init__(self, nfs=(2, 4, 8)):
        super().__init__()
        self.blocks = nn.ModuleList([ConvBlock(nfs[i], nfs[i + 1]) for i in range(len(nfs) - 1)])
        self.head = nn.Linear(nfs[-1], 3)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x.mean((2, 3)))


def set_weights(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and not name.endswith("bn.weight"):
                p.copy_(torch.from_numpy(numbers.normal(0, 0.7, size=tuple(p.shape))))
            if name == "head.bias":
                p.copy_(torch.from_numpy(numbers.normal(0, 0.1, size=tuple(p.shape))))


# a hand-written "patch": plain assignment of a new method onto the class
def summary(self):
    return [[type(m).__name__, sum(p.numel() for p in m.parameters(recurse=False))] for m in self.modules()]


Net.summary = summary
model = Net()
set_weights(model, 1)
results["summary"] = model.summary()
results["buffers"] = sorted(name for name, _ in model.named_buffers())
results["state_keys"] = list(model.state_dict().keys())

# kaiming init on a ModuleList copy: its statistics, rounded
probe = nn.ModuleList([nn.Conv2d(32, 32, 3) for _ in range(2)])
for m in probe:
    nn.init.kaiming_normal_(m.weight, a=0.1, mode="fan_in", nonlinearity="leaky_relu")
    nn.init.zeros_(m.bias)
results["kaiming_ratio"] = round(probe[0].weight.std().item() / (math.sqrt(2 / 1.01) / math.sqrt(32 * 9)), 1)
results["kaiming_bias"] = probe[1].bias.abs().sum().item()

# LSUV: rescale each conv until the block's output has std 1 and mean 0
lsuv_log = []
xb = xs[:24]


def _hook(store, m, inp, outp):
    store["mean"], store["std"] = outp.mean().item(), outp.std().item()


for block in model.blocks:
    store = {}
    h = block.register_forward_hook(partial(_hook, store))
    with torch.no_grad():
        for i in range(30):
            model(xb)
            if abs(store["std"] - 1) < 1e-3 and abs(store["mean"]) < 1e-3:
                break
            block.bn.shift -= store["mean"] / store["std"]
            block.bn.scale /= store["std"]
    h.remove()
    lsuv_log.append([i, store["mean"], store["std"]])
results["lsuv"] = lsuv_log
results["lsuv_hooks_gone"] = [len(b._forward_hooks) for b in model.blocks]


class ActStats(Callback):
    def __init__(self, modules):
        self.hooks = [m.register_forward_hook(partial(self.record, i)) for i, m in enumerate(modules)]
        self.means, self.stds, self.hists = [[], []], [[], []], [[], []]

    def record(self, i, m, inp, outp):
        if not m.training:
            return
        acts = outp.detach()
        self.means[i].append(acts.mean().item())
        self.stds[i].append(acts.std().item())
        self.hists[i].append(acts.abs().histc(10, 0, 5))

    def after_fit(self, learn):
        for h in self.hooks:
            h.remove()


class OneCycle(Callback):
    order = 1

    def __init__(self, max_lr, total):
        self.max_lr, self.total = max_lr, total
        self.lrs = []

    @staticmethod
    def cos(start, end, pos):
        return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2

    def before_batch(self, learn):
        pos = learn.n_iter / self.total
        if pos < 0.3:
            lr = self.cos(self.max_lr / 25, self.max_lr, pos / 0.3)
        else:
            lr = self.cos(self.max_lr, self.max_lr / 1e5, (pos - 0.3) / 0.7)
        for g in learn.opt.param_groups:
            g["lr"] = lr
        self.lrs.append(lr)


class StopAfter(Callback):
    def __init__(self, n):
        self.n = n
        self.cancelled = 0

    def after_loss(self, learn):
        if learn.n_iter == 2:
            raise CancelBatchException()

    def after_cancel_batch(self, learn):
        self.cancelled += 1
        learn.opt.zero_grad()

    def after_batch(self, learn):
        if learn.n_iter + 1 >= self.n:
            raise CancelFitException()


losses = []


class Record(Callback):
    def after_loss(self, learn):
        losses.append(learn.loss.item())


stats = ActStats(model.blocks)
sched_cb, stop = OneCycle(0.3, 8), StopAfter(7)
learn = Learner(model, (xs, ys), F.cross_entropy, 0.1, [stats, sched_cb, stop, Record()])
learn.fit(3)
results["losses"] = losses
results["lrs"] = sched_cb.lrs
results["cancelled"] = stop.cancelled
results["n_iter"] = learn.n_iter
results["act_means"] = stats.means
results["act_stds"] = stats.stds
hist = torch.stack([torch.stack(h).t().float() for h in stats.hists])
results["hist_shape"] = list(hist.shape)
results["hist"] = hist
results["hist_small_frac"] = (hist[:, :2].sum(1) / hist.sum(1)).mean(0)
results["running"] = [
    model.blocks[0].bn.running_mean.flatten(),
    model.blocks[1].bn.running_var.flatten(),
    model.blocks[0].bn.steps,
]
model.eval()
with torch.no_grad():
    results["eval_out"] = model(xs[40:])
results["hooks_left"] = [len(b._forward_hooks) for b in model.blocks]

# the scheduler PyTorch ships: OneCycleLR's lr and momentum per step
sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = OneCycleLR(sgd, max_lr=0.3, total_steps=12, pct_start=0.25, div_factor=25, final_div_factor=1e4)
pylrs, moms = [], []
for _ in range(12):
    pylrs.append(sched.get_last_lr()[0])
    moms.append(sgd.param_groups[0]["momentum"])
    sgd.step()
    sched.step()
results["onecycle_lrs"], results["onecycle_moms"] = pylrs, moms
try:
    sched.step()
    results["onecycle_extra"] = "none"
except ValueError as e:
    results["onecycle_extra"] = type(e).__name__

# a learning-rate finder: lr grows geometrically until the loss passes 3x its minimum
finder = Net()
set_weights(finder, 2)
opt = torch.optim.SGD(finder.parameters(), lr=1e-4)
lr, best, found = 1e-4, math.inf, []
for i in range(40):
    xb, yb = xs[(i * 8) % 48 : (i * 8) % 48 + 8], ys[(i * 8) % 48 : (i * 8) % 48 + 8]
    loss = F.cross_entropy(finder(xb), yb)
    loss.backward()
    opt.step()
    opt.zero_grad()
    found.append([lr, loss.item()])
    best = min(best, loss.item())
    if loss.item() > 3 * best or math.isnan(loss.item()):
        break
    lr *= 1.8
    for g in opt.param_groups:
        g["lr"] = lr
results["finder"] = found

# plotting data: linspace and stack
grid = torch.linspace(-3, 3, 13)
acts = torch.stack([GeneralRelu()(grid), GeneralRelu(0.1, 0.4)(grid), GeneralRelu(0.1, 0.4, 1.5)(grid)])
results["curves"] = acts
results["curve_shape"] = list(acts.shape)
g = torch.linspace(0, 1, 5, requires_grad=True)
GeneralRelu(0.1, 0.4, 0.3)(g * 2 - 1).sum().backward()
results["curve_grad"] = g.grad

# misuse: a buffer name clashing with a parameter, a negative histc range, stacking unequal shapes
results["errors"] = [
    outcome(call)[0]
    for call in (
        lambda: BatchNorm(3).register_buffer("scale", torch.zeros(3)),
        lambda: torch.histc(torch.ones(3), bins=4, min=2, max=1),
        lambda: torch.stack([torch.ones(2), torch.ones(3)]),
        lambda: nn.ModuleList([nn.Linear(1, 1)])(torch.ones(1)),
    )
]
"""

FASTAI_SCHEDULES_HOOKS_AND_PATCHES = """\
# fast.ai part 2 style, more of it: Tensor and Module patched by assignment, OneCycleLR with Adam's betas cycled
# (three_phase, linear, without momentum), LinearLR + CosineAnnealingLR in SequentialLR, forward pre-hooks and
# hooks removed twice, torch.histc corners, fans and gains, LSUV through .data, linspace/logspace/lerp, buffers
# that are not persistent, ModuleList slicing/insert/extend/del, and the classes of misuse.
from torch.optim import lr_scheduler

rng = np.random.default_rng(7)


# patching Tensor and Module with plain assignment
def show_stats(self):
    return [self.mean().item(), self.std().item()]


torch.Tensor.stats106 = show_stats
results["patched"] = torch.tensor([1.0, 2.0, 4.0]).stats106()
nn.Module.n_params106 = property(lambda self: sum(p.numel() for p in self.parameters()))
results["patched_prop"] = nn.Linear(3, 2).n_params106
# OneCycleLR variants with Adam (betas cycled), three_phase, linear
w = nn.Parameter(torch.ones(3))
for kwargs in ({"three_phase": True}, {"anneal_strategy": "linear"}, {"cycle_momentum": False}):
    opt = torch.optim.Adam([w], lr=1e-3)
    s = lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=5, **kwargs)
    seq = []
    for _ in range(10):
        seq.append(
            [
                s.get_last_lr()[0],
                opt.param_groups[0]["betas"][0],
                opt.param_groups[0].get("initial_lr"),
                opt.param_groups[0].get("max_lr"),
                opt.param_groups[0].get("min_lr"),
            ]
        )
        opt.step()
        s.step()
    results["onecycle_" + "_".join(kwargs)] = seq
opt = torch.optim.SGD([w], lr=1e-3)
results["onecycle_no_momentum"] = outcome(lambda: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10))
results["onecycle_bad"] = outcome(
    lambda: lr_scheduler.OneCycleLR(torch.optim.SGD([w], lr=1e-3, momentum=0.9), max_lr=0.1)
)
results["onecycle_pct"] = outcome(
    lambda: lr_scheduler.OneCycleLR(
        torch.optim.SGD([w], lr=1e-3, momentum=0.9), max_lr=0.1, total_steps=10, pct_start=1.5
    )
)
opt = torch.optim.SGD([w], lr=1.0, momentum=0.9)
s = lr_scheduler.OneCycleLR(opt, max_lr=[0.5], total_steps=6)
results["onecycle_list"] = [s.get_last_lr()[0], opt.param_groups[0]["momentum"]]
# LambdaLR warmup, ExponentialLR, CosineAnnealingLR chained with SequentialLR
opt = torch.optim.SGD([w], lr=0.1)
s1 = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3)
s2 = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
s = lr_scheduler.SequentialLR(opt, [s1, s2], milestones=[3])
seq = []
for _ in range(9):
    seq.append(opt.param_groups[0]["lr"])
    opt.step()
    s.step()
results["sequential"] = seq
# hooks: forward pre hook, hook with kwargs, remove twice, hooks on a ModuleList's items
lin = nn.Linear(3, 3)
seen = []
h1 = lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 2,))
h2 = lin.register_forward_hook(lambda m, inp, out: seen.append(out.sum().item()))
x = torch.from_numpy(rng.normal(size=(2, 3)))
with torch.no_grad():
    lin.weight.copy_(torch.from_numpy(rng.normal(size=(3, 3))))
    lin.bias.zero_()
y = lin(x)
h1.remove()
h1.remove()
h2.remove()
results["hooks"] = [seen, y, lin(x), len(lin._forward_pre_hooks)]
# histc: ints, boundaries, default args, float32
results["histc"] = [
    torch.histc(torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]), bins=4, min=0, max=4),
    torch.tensor([1.0, 1.0, 1.0]).histc(bins=3),
    torch.tensor([0.5, 5.0, -1.0]).histc(bins=2, min=0, max=1),
    torch.histc(torch.tensor([1.0, 2.0, 7.0], dtype=torch.float32), 5).dtype == torch.float32,
]
results["histc_int"] = outcome(lambda: torch.histc(torch.tensor([1, 2, 3]), bins=3))
results["histc_bins0"] = outcome(lambda: torch.histc(torch.ones(3), bins=0))
# kaiming & init on views, fan_out, mode errors
conv = nn.Conv2d(4, 8, 3)
results["fan"] = [
    nn.init._calculate_fan_in_and_fan_out(conv.weight),
    nn.init.calculate_gain("relu"),
    nn.init.calculate_gain("leaky_relu", 0.2),
    nn.init.calculate_gain("selu"),
    nn.init.calculate_gain("tanh"),
]
results["kaiming_bad"] = outcome(lambda: nn.init.kaiming_normal_(conv.weight, mode="fan_avg"))
results["kaiming_1d"] = outcome(lambda: nn.init.kaiming_normal_(torch.ones(3)))
results["kaiming_returns"] = nn.init.kaiming_uniform_(conv.weight) is conv.weight
# LSUV with .data
with torch.no_grad():
    conv.weight.copy_(torch.from_numpy(rng.normal(size=(8, 4, 3, 3))))
    conv.bias.copy_(torch.from_numpy(rng.normal(size=8)))
inp = torch.from_numpy(rng.normal(size=(5, 4, 6, 6)))
for i in range(5):
    out = conv(inp)
    conv.bias.data -= out.mean()
    conv.weight.data /= out.std()
results["lsuv_data"] = [conv(inp).mean().item(), conv(inp).std().item()]
# linspace & stack & lerp
results["linspace"] = [
    torch.linspace(0, 1, 1),
    torch.linspace(2, 1, 4),
    torch.linspace(-1, 1, steps=5)[None],
    torch.stack([torch.linspace(0, 1, 3)] * 2, dim=1),
    torch.logspace(0, 2, 3),
]
results["linspace_bad"] = outcome(lambda: torch.linspace(0, 1, -1))
a = torch.zeros(3)
b = torch.tensor([1.0, 2.0, 3.0])
results["lerp"] = [a.lerp(b, 0.25), torch.lerp(a, b, torch.tensor([0.0, 0.5, 1.0])), a.clone().lerp_(b, 0.9)]
results["lerp_bad"] = outcome(lambda: torch.zeros(3).lerp_(torch.ones(2, 3), 0.5))
# register_buffer edge cases, persistent=False
m = nn.Module()
m.register_buffer("a", torch.ones(2))
m.register_buffer("b", torch.ones(2), persistent=False)
m.register_buffer("c", None)
results["buffers"] = [sorted(m.state_dict()), sorted(n for n, _ in m.named_buffers()), m.c is None]
results["buf_bad_name"] = [
    outcome(lambda: m.register_buffer("x.y", torch.ones(1))),
    outcome(lambda: m.register_buffer("", torch.ones(1))),
    outcome(lambda: m.register_buffer("d", [1.0])),
    outcome(lambda: m.register_buffer(3, torch.ones(1))),
]
ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
results["modulelist"] = [
    len(ml),
    len(ml[1:]),
    type(ml[1:]).__name__,
    len(ml + ml),
    outcome(lambda: ml[5])[0],
    outcome(lambda: ml.append(3))[0],
    len(list(ml.parameters())),
]
ml.insert(0, nn.ReLU())
ml.extend([nn.Tanh()])
results["modulelist_after"] = [type(x).__name__ for x in ml] + list(dict(ml.named_children()).keys())
del ml[1]
results["modulelist_del"] = list(dict(ml.named_children()).keys())
results["leaky_inplace"] = F.leaky_relu(torch.tensor([-1.0, 2.0]), 0.1, inplace=False)
"""

FASTAI_CUSTOM_OPTIMIZER_AND_TRUNCATED_BPTT = """\
# fast.ai part 2 and Raschka style: an optimizer written as a torch.optim.Optimizer subclass (state, closure,
# param groups) driven by OneCycleLR and saved/loaded by state_dict, a scheduler stepped before its optimizer
# (PyTorch's warning), a "momentum learner" whose zero_grad scales gradients, a char-level LSTM trained with
# truncated backpropagation (init_hidden, detach), temperature-scaled softmax, fast.ai's get_hist/get_min.
from torch.optim import lr_scheduler

rng = np.random.default_rng(17)


class MySGD(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, momentum=0.9, wd=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, wd=wd))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["step"] = 0
                state["step"] += 1
                state["avg"].mul_(group["momentum"]).add_(p.grad)
                p.mul_(1 - group["lr"] * group["wd"])
                p.add_(state["avg"], alpha=-group["lr"])
        return loss


model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
numbers = np.random.default_rng(1)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(numbers.normal(0, 0.5, size=tuple(p.shape))))
X = torch.from_numpy(rng.normal(size=(16, 3)))
Y = X.sum(1, keepdim=True).sin()
opt = MySGD([{"params": model[0].parameters(), "lr": 0.05}, {"params": model[2].parameters()}], lr=0.1, wd=1e-2)
sched = lr_scheduler.OneCycleLR(opt, max_lr=[0.2, 0.1], total_steps=8)
seq = []
for i in range(8):

    def closure():
        opt.zero_grad()
        loss = F.mse_loss(model(X), Y)
        loss.backward()
        return loss

    loss = opt.step(closure)
    sched.step()
    seq.append([loss.item(), sched.get_last_lr(), [g["momentum"] for g in opt.param_groups]])
results["custom_opt"] = seq
sd = opt.state_dict()
results["custom_sd"] = [
    sorted(sd),
    sorted(sd["state"][0]),
    sd["state"][0]["step"],
    sd["param_groups"][1]["params"],
    sorted(sd["param_groups"][0]),
]
opt2 = MySGD(model.parameters())
results["custom_load_bad"] = None
try:
    opt2.load_state_dict(sd)
except Exception as e:
    results["custom_load_bad"] = type(e).__name__
opt3 = MySGD([{"params": model[0].parameters()}, {"params": model[2].parameters()}])
opt3.load_state_dict(sd)
results["custom_load"] = [
    opt3.param_groups[0]["lr"],
    opt3.state[model[0].weight]["avg"],
    opt3.state[model[0].weight]["step"],
]
opt.zero_grad(set_to_none=False)
results["zero_grad_false"] = model[0].weight.grad
opt.zero_grad()
results["zero_grad_none"] = model[0].weight.grad is None

# a scheduler stepped before its optimizer warns
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    o = torch.optim.SGD(model.parameters(), lr=0.1)
    s = lr_scheduler.StepLR(o, step_size=2, gamma=0.5)
    s.step()
    o.step()
    s.step()
    results["sched_warn"] = [x.category.__name__ for x in w]
    results["steplr"] = [o.param_groups[0]["lr"], s.last_epoch]


# a momentum learner: zero_grad scales the gradient instead of clearing it
class MomentumLearner:
    def __init__(self, model, lr, mom):
        self.model, self.lr, self.mom = model, lr, mom
        self.opt = torch.optim.SGD(model.parameters(), lr=lr)

    def zero_grad(self):
        with torch.no_grad():
            for p in self.model.parameters():
                p.grad *= self.mom

    def fit(self, n):
        hist = []
        for i in range(n):
            loss = F.mse_loss(self.model(X), Y)
            loss.backward()
            self.opt.step()
            self.zero_grad()
            hist.append(loss.item())
        return hist


results["momentum_learner"] = MomentumLearner(model, 0.05, 0.85).fit(5)


# truncated BPTT for a char-level LSTM with init_hidden and detach
class CharRNN(nn.Module):
    def __init__(self, vocab, emb, hid):
        super().__init__()
        self.hid = hid
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hid, batch_first=True)
        self.fc = nn.Linear(hid, vocab)

    def forward(self, x, hidden, cell):
        out = self.embedding(x).unsqueeze(1)
        out, (hidden, cell) = self.rnn(out, (hidden, cell))
        return self.fc(out).reshape(out.size(0), -1), hidden, cell

    def init_hidden(self, batch_size):
        return torch.zeros(1, batch_size, self.hid), torch.zeros(1, batch_size, self.hid)


text = rng.integers(0, 9, size=(4, 21))
net = CharRNN(9, 5, 6)
numbers = np.random.default_rng(2)
net.load_state_dict(
    {k: torch.from_numpy(numbers.normal(0, 0.4, size=tuple(v.shape))) for k, v in net.state_dict().items()}
)
o = torch.optim.Adam(net.parameters(), lr=0.005)
seq_batch, target_batch = torch.from_numpy(text[:, :-1]), torch.from_numpy(text[:, 1:])
hist = []
for chunk in range(2):
    hidden, cell = net.init_hidden(4)
    o.zero_grad()
    loss = 0
    for c in range(10):
        pred, hidden, cell = net(seq_batch[:, chunk * 10 + c], hidden, cell)
        loss += nn.CrossEntropyLoss()(pred, target_batch[:, chunk * 10 + c])
        if c == 4:
            hidden, cell = hidden.detach(), cell.detach()
    loss.backward()
    o.step()
    hist.append(loss.item() / 10)
results["bptt"] = hist
results["bptt_grad"] = net.rnn.weight_hh_l0.grad
# temperature sampling distribution (scaled logits), no draws compared
logits = torch.tensor([1.0, 2.0, 3.0])
results["temperature"] = [F.softmax(logits / t, dim=0) for t in (0.5, 1.0, 2.0)]
results["dist_probs"] = torch.distributions.Categorical(logits=logits * 2).probs
# histogram stats: log1p of stacked histc, fraction of the smallest bins
stats = [torch.from_numpy(rng.normal(size=50)).abs().histc(20, 0, 4) for _ in range(3)]
h1 = torch.stack(stats).t().float()
results["get_hist"] = h1.double().log1p()
results["get_min"] = h1[0] / h1.sum(0)
results["get_min2"] = h1[:2].sum(0) / h1.sum(0)
"""

CS224N_WORD2VEC_NEGATIVE_SAMPLING = """\
# Stanford CS224n style: skip-gram word2vec with negative sampling written with raw tensors (index_select,
# torch.bmm, F.logsigmoid), its gradient checked against the hand-derived formula (index_add_), SGD by hand, the
# same model as two nn.Embedding tables with optim.SGD, nearest words by cosine similarity, misuse classes.

rng = np.random.default_rng(224)
V, D, K = 15, 6, 4
corpus = rng.integers(0, V, size=60).tolist()
window = 2
pairs = [
    (corpus[i], corpus[j])
    for i in range(len(corpus))
    for j in range(max(0, i - window), min(len(corpus), i + window + 1))
    if j != i
]
counts = np.bincount(corpus, minlength=V).astype(float)
unigram = torch.tensor(counts**0.75)
unigram = unigram / unigram.sum()
negatives_np = rng.choice(V, size=(len(pairs), K), p=unigram.numpy())
results = {"n_pairs": len(pairs), "unigram": unigram}

center_vecs = torch.tensor(rng.normal(0, 0.1, size=(V, D)), requires_grad=True)
outside_vecs = torch.tensor(rng.normal(0, 0.1, size=(V, D)), requires_grad=True)


def neg_sampling_loss(centers, outsides, negatives):
    v_c = center_vecs.index_select(0, centers)  # (B, D)
    u_o = outside_vecs.index_select(0, outsides)  # (B, D)
    u_k = outside_vecs[negatives]  # (B, K, D)
    pos = torch.bmm(u_o.unsqueeze(1), v_c.unsqueeze(2)).squeeze()  # (B,)
    neg = torch.bmm(u_k, v_c.unsqueeze(2)).squeeze(2)  # (B, K)
    return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(1)).mean()


centers = torch.tensor([p[0] for p in pairs])
outsides = torch.tensor([p[1] for p in pairs])
negatives = torch.from_numpy(negatives_np)

# one step by hand and the gradient checked against the formula
loss = neg_sampling_loss(centers[:5], outsides[:5], negatives[:5])
loss.backward()
results["first_loss"] = loss.item()
results["first_grad_center"] = center_vecs.grad.clone()
results["first_grad_outside"] = outside_vecs.grad.clone()
with torch.no_grad():
    v_c, u_o, u_k = center_vecs[centers[:5]], outside_vecs[outsides[:5]], outside_vecs[negatives[:5]]
    s_o = torch.sigmoid((u_o * v_c).sum(1))
    s_k = torch.sigmoid(-torch.einsum("bkd,bd->bk", u_k, v_c))
    grad_vc = (-(1 - s_o)[:, None] * u_o + ((1 - s_k)[:, :, None] * u_k).sum(1)) / 5
    by_hand = torch.zeros(V, D).index_add_(0, centers[:5], grad_vc)
results["hand_vs_autograd"] = (by_hand - center_vecs.grad).abs().max().item() < 1e-12
center_vecs.grad = None
outside_vecs.grad = None

# SGD by hand on minibatches
lr, history = 0.5, []
for epoch in range(3):
    for start in range(0, len(pairs), 32):
        sl = slice(start, start + 32)
        loss = neg_sampling_loss(centers[sl], outsides[sl], negatives[sl])
        loss.backward()
        with torch.no_grad():
            for p in (center_vecs, outside_vecs):
                p -= lr * p.grad
                p.grad.zero_()
        history.append(loss.item())
results["history"] = history


# the same model as nn.Embedding(sparse=False) with the SGD optimizer
class SkipGram(nn.Module):
    def __init__(self):
        super().__init__()
        self.center = nn.Embedding(V, D)
        self.outside = nn.Embedding(V, D)

    def forward(self, c, o, neg):
        v = self.center(c).unsqueeze(2)
        pos = torch.bmm(self.outside(o).unsqueeze(1), v).view(-1)
        negs = torch.bmm(self.outside(neg), v).view(len(c), -1)
        return -(F.logsigmoid(pos).sum() + F.logsigmoid(-negs).sum()) / len(c)


model = SkipGram()
with torch.no_grad():
    model.center.weight.copy_(torch.tensor(rng.normal(0, 0.1, size=(V, D))))
    model.outside.weight.copy_(torch.tensor(rng.normal(0, 0.1, size=(V, D))))
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for start in range(0, len(pairs), 40):
    opt.zero_grad()
    loss = model(centers[start : start + 40], outsides[start : start + 40], negatives[start : start + 40])
    loss.backward()
    opt.step()
results["module_loss"] = loss.item()
emb = F.normalize(model.center.weight.detach(), dim=1)
sims = emb @ emb[3]
results["nearest"] = sims.topk(4).indices
results["nearest_vals"] = sims.topk(4).values
results["cosine"] = F.cosine_similarity(model.center.weight[1:2], model.center.weight[2:3]).item()

results["errors"] = [
    outcome(call)[0]
    for call in (
        lambda: torch.bmm(torch.ones(2, 3, 4), torch.ones(2, 3, 4)),
        lambda: torch.bmm(torch.ones(3, 4), torch.ones(4, 3)),
        lambda: center_vecs.index_select(0, torch.tensor([V])),
        lambda: center_vecs.index_select(0, torch.tensor([0.0])),
        lambda: model.center(torch.tensor([V + 1])),
    )
]
"""

CS224N_DEPENDENCY_PARSER = """\
# Stanford CS224n style: a transition-based dependency parser's feed-forward model (an embedding matrix as an
# nn.Parameter looked up with index_select and view for 36 features, xavier_uniform_, cube or ReLU activation,
# dropout in train and eval mode, Adam, cross_entropy), illegal transitions masked with -inf, misuse classes.

rng = np.random.default_rng(2240)
n_words, n_feats, embed, hidden, n_classes = 30, 36, 5, 12, 3
emb_np = rng.normal(size=(n_words, embed))


class ParserModel(nn.Module):
    def __init__(self, embeddings, n_features=36, hidden_size=12, n_classes=3, dropout_prob=0.5, act="cube"):
        super().__init__()
        self.n_features, self.act = n_features, act
        self.embed_size = embeddings.shape[1]
        self.embeddings = nn.Parameter(torch.tensor(embeddings))
        self.embed_to_hidden_weight = nn.Parameter(torch.empty(self.n_features * self.embed_size, hidden_size))
        self.embed_to_hidden_bias = nn.Parameter(torch.empty(hidden_size))
        self.dropout = nn.Dropout(dropout_prob)
        self.hidden_to_logits_weight = nn.Parameter(torch.empty(hidden_size, n_classes))
        self.hidden_to_logits_bias = nn.Parameter(torch.empty(n_classes))
        nn.init.xavier_uniform_(self.embed_to_hidden_weight)
        nn.init.uniform_(self.embed_to_hidden_bias)
        nn.init.xavier_uniform_(self.hidden_to_logits_weight)
        nn.init.uniform_(self.hidden_to_logits_bias)

    def embedding_lookup(self, w):
        x = torch.index_select(self.embeddings, 0, w.view(-1))
        return x.view(w.shape[0], self.n_features * self.embed_size)

    def forward(self, w):
        x = self.embedding_lookup(w)
        h = x @ self.embed_to_hidden_weight + self.embed_to_hidden_bias
        h = h**3 if self.act == "cube" else F.relu(h)
        return self.dropout(h) @ self.hidden_to_logits_weight + self.hidden_to_logits_bias


def set_weights(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name != "embeddings":
                p.copy_(torch.from_numpy(numbers.uniform(-0.3, 0.3, size=tuple(p.shape))))


feats = torch.from_numpy(rng.integers(0, n_words, size=(40, n_feats)))
labels = torch.from_numpy(rng.integers(0, n_classes, size=40))
for act in ("cube", "relu"):
    model = ParserModel(emb_np, act=act)
    shapes = [list(p.shape) for p in model.parameters()]
    xavier_ok = model.embed_to_hidden_weight.abs().max().item() <= (6 / (180 + 12)) ** 0.5
    set_weights(model, 7)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    model.dropout.p = 0.0  # training numbers compared; dropout's draws are compared below by their pattern
    for epoch in range(4):
        model.train()
        for i in range(0, 40, 10):
            opt.zero_grad()
            logits = model(feats[i : i + 10])
            loss = F.cross_entropy(logits, labels[i : i + 10])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits = model(feats)
        acc = (logits.argmax(-1) == labels).double().mean().item()
    results[act] = {
        "shapes": shapes,
        "xavier_ok": xavier_ok,
        "losses": losses,
        "eval_logits": logits,
        "acc": acc,
        "emb_grad_rows": int((model.embeddings.grad.abs().sum(1) > 0).sum()),
    }

# dropout: in train mode each hidden unit is zeroed or scaled by 1/(1-p); in eval mode nothing changes
model = ParserModel(emb_np, dropout_prob=0.25)
set_weights(model, 8)
h = torch.ones(12, 12) * torch.arange(1.0, 13.0)
model.train()
dropped = model.dropout(h)
ratio = dropped / h
results["dropout_pattern"] = bool(((ratio == 0) | ((ratio - 1 / 0.75).abs() < 1e-12)).all())
results["dropout_some_zero"] = bool((dropped == 0).any())
model.eval()
results["dropout_eval_same"] = bool(torch.equal(model.dropout(h), h))
with torch.no_grad():
    results["eval_twice_equal"] = bool(torch.equal(model(feats[:3]), model(feats[:3])))
results["adam_state_keys"] = sorted(opt.state[opt.param_groups[0]["params"][0]].keys())
results["adam_step"] = opt.state[opt.param_groups[0]["params"][0]]["step"]
# predictions for the "legal transitions" mask: illegal ones at -inf before argmax
mask = torch.tensor([[1, 0, 1], [0, 0, 1], [1, 1, 0]], dtype=torch.bool)
masked = model(feats[:3]).masked_fill(~mask, float("-inf"))
results["masked_argmax"] = masked.argmax(1)
results["masked_softmax"] = F.softmax(masked, dim=1)

results["errors"] = [
    outcome(call)[0]
    for call in (
        lambda: model(feats[:, :35]),
        lambda: F.cross_entropy(torch.ones(4, 3), torch.tensor([0, 1, 2, 3])),
        lambda: F.cross_entropy(torch.ones(4, 3), torch.ones(4)),
        lambda: nn.Dropout(1.5),
        lambda: torch.optim.Adam(model.parameters(), lr=-1.0),
    )
]
"""

CS224N_CHAR_DECODER_PACKED = """\
# Stanford CS224n style: a character-level GRU/LSTM decoder over padded words (pad_sequence, an Embedding with
# padding_idx, pack_padded_sequence with enforce_sorted=False, pad_packed_sequence with total_length), the loss
# masked at padded positions and with ignore_index, clip_grad_norm_ (2, inf) and clip_grad_value_, greedy decoding.
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

rng = np.random.default_rng(22)
chars = ["<pad>", "<s>", "</s>"] + list("abcdefgh")
char2id = {c: i for i, c in enumerate(chars)}
words = ["".join(rng.choice(list("abcdefgh"), size=rng.integers(1, 7))) for _ in range(10)]
results = {"words": words}


def to_ids(word):
    return torch.tensor([char2id["<s>"]] + [char2id[c] for c in word] + [char2id["</s>"]])


class CharDecoder(nn.Module):
    def __init__(self, cell, hidden=7, embed=4):
        super().__init__()
        self.emb = nn.Embedding(len(chars), embed, padding_idx=char2id["<pad>"])
        self.rnn = getattr(nn, cell)(embed, hidden)
        self.out = nn.Linear(hidden, len(chars))

    def forward(self, ids, lengths, state=None):
        packed = pack_padded_sequence(self.emb(ids), lengths, enforce_sorted=False)
        out, state = self.rnn(packed, state)
        out, out_lengths = pad_packed_sequence(out, total_length=ids.shape[0])
        return self.out(out), state, out_lengths


def set_weights(model, seed):
    numbers = np.random.default_rng(seed)
    sd = {k: torch.from_numpy(numbers.normal(0, 0.4, size=tuple(v.shape))) for k, v in model.state_dict().items()}
    sd["emb.weight"][0] = 0
    model.load_state_dict(sd)


seqs = [to_ids(w) for w in words]
lengths = torch.tensor([len(s) for s in seqs])
padded = pad_sequence(seqs, padding_value=char2id["<pad>"])  # (T, B)
inputs, targets = padded[:-1], padded[1:]
in_lengths = lengths - 1
results["padded_shape"] = list(padded.shape)
for cell in ("GRU", "LSTM"):
    model = CharDecoder(cell)
    set_weights(model, 5)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    losses, norms = [], []
    for step in range(6):
        opt.zero_grad()
        logits, state, out_lengths = model(inputs, in_lengths)
        # sum of losses over real characters only: padded targets masked out
        mask = (targets != char2id["<pad>"]).double()
        per_char = F.cross_entropy(logits.reshape(-1, len(chars)), targets.reshape(-1), reduction="none")
        loss = (per_char * mask.reshape(-1)).sum() / mask.sum()
        ignore = F.cross_entropy(logits.reshape(-1, len(chars)), targets.reshape(-1), ignore_index=0)
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5).item())
        opt.step()
        losses.append([loss.item(), ignore.item()])
    h = state[0] if cell == "LSTM" else state
    results[cell] = {
        "losses": losses,
        "norms": norms,
        "out_lengths": out_lengths,
        "final_h": h,
        "pad_row_grad": model.emb.weight.grad[0],
        "clipped_norm": torch.norm(torch.stack([p.grad.norm() for p in model.parameters()])).item(),
        "padded_logits_equal_bias": bool(torch.allclose(logits[-1, lengths.argmin()], model.out.bias)),
    }
    # greedy decoding one character at a time, carrying the state
    with torch.no_grad():
        cur = torch.full((1, 3), char2id["<s>"])
        state, decoded = None, []
        for t in range(5):
            out, state = model.rnn(model.emb(cur), state)
            cur = model.out(out).argmax(-1)
            decoded.append(cur[0])
        results[cell]["decoded"] = torch.stack(decoded)

# a clip of a larger norm, of norm_type inf, and with no gradients at all
params = [nn.Parameter(torch.tensor([3.0, 4.0])), nn.Parameter(torch.tensor([[12.0]]))]
for p in params:
    p.grad = p.detach().clone()
total = nn.utils.clip_grad_norm_(params, 1.0)
results["clip"] = [total.item(), params[0].grad.clone(), params[1].grad.clone()]
total_inf = nn.utils.clip_grad_norm_(params, 0.1, norm_type="inf")
results["clip_inf"] = [total_inf.item(), params[0].grad.clone()]
results["clip_value"] = [nn.utils.clip_grad_value_(params, 0.02), params[0].grad]
results["clip_none"] = nn.utils.clip_grad_norm_([nn.Parameter(torch.ones(2))], 1.0).item()

results["errors"] = [
    outcome(call)[0]
    for call in (
        lambda: pack_padded_sequence(padded, lengths),  # not sorted, enforce_sorted=True
        lambda: pack_padded_sequence(padded, torch.zeros(10, dtype=torch.long), enforce_sorted=False),
        lambda: nn.GRU(4, 7)(torch.ones(3, 2, 5)),
    )
]
"""

CS224N_NMT_ATTENTION_AND_CHAR_CNN = """\
# Stanford CS224n style, NMT (assignment 4): a bidirectional LSTM encoder over packed sources, an LSTMCell decoder
# with multiplicative attention masked by masked_fill_ on .data, gather of gold log-probabilities, clip_grad_norm_,
# beam-search bookkeeping (topk, //, %, torch.div rounding modes), a character CNN with a highway layer
# (assignment 5), Embedding.from_pretrained, a two-layer bidirectional GRU over a batch_first packed batch,
# cross_entropy with label smoothing and ignore_index, functional dropout at p = 0 and 1.
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

rng = np.random.default_rng(11)


def setw(model, seed, scale=0.3):
    numbers = np.random.default_rng(seed)
    model.load_state_dict(
        {k: torch.from_numpy(numbers.normal(0, scale, size=tuple(v.shape))) for k, v in model.state_dict().items()}
    )


# NMT encoder: bidirectional LSTM over packed source, decoder LSTMCell with multiplicative attention
V, E, H = 12, 5, 4


class NMT(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_emb = nn.Embedding(V, E, padding_idx=0)
        self.tgt_emb = nn.Embedding(V, E, padding_idx=0)
        self.encoder = nn.LSTM(E, H, bidirectional=True)
        self.decoder = nn.LSTMCell(E + H, H)
        self.h_projection = nn.Linear(2 * H, H, bias=False)
        self.c_projection = nn.Linear(2 * H, H, bias=False)
        self.att_projection = nn.Linear(2 * H, H, bias=False)
        self.combined_output_projection = nn.Linear(3 * H, H, bias=False)
        self.target_vocab_projection = nn.Linear(H, V, bias=False)
        self.dropout = nn.Dropout(0.0)

    def encode(self, source_padded, source_lengths):
        X = self.src_emb(source_padded)
        enc_hiddens, (last_hidden, last_cell) = self.encoder(pack_padded_sequence(X, source_lengths))
        enc_hiddens, _ = pad_packed_sequence(enc_hiddens, batch_first=True)
        init_h = self.h_projection(torch.cat((last_hidden[0], last_hidden[1]), 1))
        init_c = self.c_projection(torch.cat((last_cell[0], last_cell[1]), 1))
        return enc_hiddens, (init_h, init_c)

    def decode(self, enc_hiddens, enc_masks, dec_init_state, target_padded):
        target_padded = target_padded[:-1]
        dec_state = dec_init_state
        o_prev = torch.zeros(enc_hiddens.size(0), H)
        combined_outputs = []
        enc_hiddens_proj = self.att_projection(enc_hiddens)
        Y = self.tgt_emb(target_padded)
        for Y_t in torch.split(Y, 1, dim=0):
            Ybar_t = torch.cat((Y_t.squeeze(0), o_prev), dim=1)
            dec_state = self.decoder(Ybar_t, dec_state)
            dec_hidden, dec_cell = dec_state
            e_t = torch.bmm(enc_hiddens_proj, dec_hidden.unsqueeze(2)).squeeze(2)
            e_t.data.masked_fill_(enc_masks.bool(), -float("inf"))
            alpha_t = F.softmax(e_t, dim=1)
            a_t = torch.bmm(alpha_t.unsqueeze(1), enc_hiddens).squeeze(1)
            U_t = torch.cat((a_t, dec_hidden), dim=1)
            O_t = self.dropout(torch.tanh(self.combined_output_projection(U_t)))
            combined_outputs.append(O_t)
            o_prev = O_t
        return torch.stack(combined_outputs, dim=0)

    def forward(self, source_padded, source_lengths, target_padded):
        enc_hiddens, dec_init_state = self.encode(source_padded, source_lengths)
        enc_masks = torch.zeros(enc_hiddens.size(0), enc_hiddens.size(1), dtype=torch.float)
        for e_id, src_len in enumerate(source_lengths):
            enc_masks[e_id, src_len:] = 1
        combined_outputs = self.decode(enc_hiddens, enc_masks, dec_init_state, target_padded)
        P = F.log_softmax(self.target_vocab_projection(combined_outputs), dim=-1)
        target_masks = (target_padded != 0).float()
        target_gold_words_log_prob = (
            torch.gather(P, index=target_padded[1:].unsqueeze(-1), dim=-1).squeeze(-1) * target_masks[1:]
        )
        return target_gold_words_log_prob.sum(dim=0)


model = NMT()
setw(model, 3)
src_lengths = [5, 4, 2]
src = torch.zeros(5, 3, dtype=torch.long)
for i, L in enumerate(src_lengths):
    src[:L, i] = torch.from_numpy(rng.integers(1, V, size=L))
tgt = torch.zeros(6, 3, dtype=torch.long)
for i, L in enumerate([6, 3, 4]):
    tgt[:L, i] = torch.from_numpy(rng.integers(1, V, size=L))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
hist = []
for it in range(4):
    opt.zero_grad()
    example_losses = -model(src, src_lengths, tgt)
    loss = example_losses.sum() / 3
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    hist.append([loss.item(), norm.item()])
results["nmt"] = hist
results["nmt_ppl"] = np.exp(loss.item() * 3 / (tgt[1:] != 0).sum().item())
# beam search pieces
log_p_t = F.log_softmax(torch.from_numpy(rng.normal(size=(2, V))), dim=-1)
hyp_scores = torch.tensor([-0.5, -1.25])
contiuating = (hyp_scores.unsqueeze(1).expand_as(log_p_t) + log_p_t).view(-1)
top_scores, top_pos = torch.topk(contiuating, k=3)
results["beam"] = [
    top_scores,
    top_pos // V,
    top_pos % V,
    torch.div(top_pos, V, rounding_mode="floor"),
    torch.div(top_pos, V, rounding_mode="trunc"),
]


# char CNN with highway (a5)
class Highway(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.gate = nn.Linear(d, d)

    def forward(self, x):
        p = F.relu(self.proj(x))
        g = torch.sigmoid(self.gate(x))
        return g * p + (1 - g) * x


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 3, padding_idx=0)
        self.conv = nn.Conv1d(3, 4, kernel_size=3, padding=1)
        self.hw = Highway(4)

    def forward(self, x):  # (sent, batch, word)
        s, b, w = x.shape
        e = self.emb(x.view(-1, w)).transpose(1, 2)
        c = torch.max(F.relu(self.conv(e)), dim=2)[0]
        return self.hw(c).view(s, b, -1)


cnn = CNN()
setw(cnn, 4)
chars = torch.from_numpy(rng.integers(0, 10, size=(3, 2, 6)))
out = cnn(chars)
out.pow(2).sum().backward()
results["charcnn"] = [out, cnn.conv.weight.grad, cnn.emb.weight.grad[0]]
# pretrained embeddings, freeze
pre = torch.from_numpy(rng.normal(size=(6, 3)))
emb = nn.Embedding.from_pretrained(pre, freeze=True, padding_idx=0)
results["pretrained"] = [
    emb.weight.requires_grad,
    emb(torch.tensor([[1, 0]])),
    emb.padding_idx,
    nn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad,
]
# clip_grad_norm_ with error_if_nonfinite, foreach, single tensor
p = nn.Parameter(torch.ones(3))
p.grad = torch.tensor([1.0, float("inf"), 0.0])
results["clip_inf"] = outcome(lambda: nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True))
p.grad = torch.tensor([3.0, 4.0, 0.0])
results["clip_single"] = [nn.utils.clip_grad_norm_(p, 1.0, norm_type=1.0).item(), p.grad]
# bidirectional GRU with batch_first packed sequence
gru = nn.GRU(3, 2, num_layers=2, bidirectional=True, batch_first=True, dropout=0.0)
setw(gru, 5)
xs = torch.from_numpy(rng.normal(size=(3, 4, 3)))
packed = pack_padded_sequence(xs, torch.tensor([4, 2, 3]), batch_first=True, enforce_sorted=False)
o, h = gru(packed)
o, lens = pad_packed_sequence(o, batch_first=True, padding_value=-1.0)
(o.sum() + h.sum()).backward()
results["bigru"] = [
    o,
    h,
    lens,
    gru.weight_hh_l1_reverse.grad,
    list(packed.sorted_indices),
    list(packed.unsorted_indices),
]
results["gru_dropout_warn"] = outcome(lambda: nn.GRU(3, 2, dropout=1.5))
# cross_entropy with label_smoothing and ignore_index together, reduction sum
logits = torch.from_numpy(rng.normal(size=(5, 4))).requires_grad_()
tg = torch.tensor([0, 3, -100, 2, 1])
l = F.cross_entropy(logits, tg, label_smoothing=0.1)
l.backward()
results["ce_ls"] = [
    l,
    logits.grad,
    F.cross_entropy(logits, tg, reduction="sum"),
    F.nll_loss(F.log_softmax(logits, 1), tg, ignore_index=-100),
]
# dropout functional in train/eval of p=0 and p=1
z = torch.ones(4)
results["dropout_fn"] = [F.dropout(z, 1.0, training=True), F.dropout(z, 0.5, training=False), F.dropout(z, 0.0)]
results["dropout_bad"] = outcome(lambda: F.dropout(z, -0.1))
"""

RASCHKA_DATASETS_LOGREG_MLP_SAVING = """\
# "Machine Learning with PyTorch and Scikit-Learn" style: standardised features in a TensorDataset, random_split
# with a seeded Generator (sizes, a partition, the same split again), DataLoaders, logistic regression and an MLP
# trained by a manual loop with accuracy from (pred.argmax(1) == y).float(), torch.save/torch.load of a state_dict
# (a file and a buffer, a checkpoint with the optimizer), load_state_dict(strict=False), misuse classes.
import io
import os
import tempfile

from torch.utils.data import DataLoader, Subset, TensorDataset, random_split

rng = np.random.default_rng(3)
X_np = rng.normal(size=(60, 4))
y_np = (X_np[:, 0] + 0.5 * X_np[:, 1] ** 2 - X_np[:, 2] > 0.3).astype(np.int64) + (X_np[:, 3] > 1.0)
X = torch.from_numpy(X_np)
y = torch.from_numpy(y_np)
X_norm = (X - X.mean(dim=0)) / X.std(dim=0)
ds = TensorDataset(X_norm, y)
results = {"ds_len": len(ds), "item": list(ds[3]), "n_classes": int(y.max()) + 1}

# random_split with a seeded generator: sizes, a partition, the same split again for the same seed
g = torch.Generator().manual_seed(1)
train_ds, valid_ds = random_split(ds, [45, 15], generator=g)
again, _ = random_split(ds, [45, 15], generator=torch.Generator().manual_seed(1))
frac_a, frac_b, frac_c = random_split(ds, [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(2))
results["split"] = [
    len(train_ds),
    len(valid_ds),
    sorted(train_ds.indices + valid_ds.indices) == list(range(60)),
    list(again.indices) == list(train_ds.indices),
    [len(frac_a), len(frac_b), len(frac_c)],
    type(train_ds).__name__,
]
# the numbers below are from a split every library makes alike
train_ds, valid_ds = Subset(ds, range(45)), Subset(ds, range(45, 60))
train_dl = DataLoader(train_ds, batch_size=10, shuffle=False)
valid_dl = DataLoader(valid_ds, batch_size=15)
results["n_batches"] = [len(train_dl), len(valid_dl)]
results["last_batch"] = [list(t.shape) for t in list(train_dl)[-1]]
# a shuffling loader with a generator visits every sample once an epoch
seen = torch.cat(
    [yb for _, yb in DataLoader(ds, batch_size=7, shuffle=True, generator=torch.Generator().manual_seed(0))]
)
results["shuffled_counts"] = torch.bincount(seen)


class LogisticRegression(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, x):
        return self.linear(x)


class MLP(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.layer1 = nn.Linear(n_in, hidden)
        self.layer2 = nn.Linear(hidden, n_out)

    def forward(self, x):
        x = torch.sigmoid(self.layer1(x))
        return self.layer2(x)


def set_weights(model, seed):
    numbers = np.random.default_rng(seed)
    model.load_state_dict(
        {k: torch.from_numpy(numbers.normal(0, 0.5, size=tuple(v.shape))) for k, v in model.state_dict().items()}
    )


def train(model, epochs, lr, opt_name):
    loss_fn = nn.CrossEntropyLoss()
    optimizer = (
        torch.optim.SGD(model.parameters(), lr=lr)
        if opt_name == "sgd"
        else torch.optim.Adam(model.parameters(), lr=lr)
    )
    loss_hist, acc_hist, valid_acc = [0] * epochs, [0] * epochs, []
    for epoch in range(epochs):
        model.train()
        for x_batch, y_batch in train_dl:
            pred = model(x_batch)
            loss = loss_fn(pred, y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            loss_hist[epoch] += loss.item() * y_batch.size(0)
            is_correct = (torch.argmax(pred, dim=1) == y_batch).float()
            acc_hist[epoch] += is_correct.sum()
        loss_hist[epoch] /= len(train_dl.dataset)
        acc_hist[epoch] /= len(train_dl.dataset)
        model.eval()
        with torch.no_grad():
            for x_batch, y_batch in valid_dl:
                valid_acc.append((model(x_batch).argmax(1) == y_batch).float().mean().item())
    return loss_hist, [a.item() for a in acc_hist], valid_acc


logreg = LogisticRegression(4, 3)
set_weights(logreg, 10)
results["logreg"] = train(logreg, 5, 0.3, "sgd")
mlp = MLP(4, 8, 3)
set_weights(mlp, 11)
results["mlp"] = train(mlp, 6, 0.02, "adam")
results["acc_dtype"] = (mlp(X_norm).argmax(1) == y).float().mean().dtype == torch.float32

# save and reload the weights, to a file and to a buffer; a whole checkpoint dict with the optimizer
path = os.path.join(tempfile.mkdtemp(), "mlp.pt")
torch.save(mlp.state_dict(), path)
reloaded = MLP(4, 8, 3)
reloaded.load_state_dict(torch.load(path))
reloaded.eval()
buffer = io.BytesIO()
opt = torch.optim.Adam(mlp.parameters(), lr=0.02)
mlp(X_norm).sum().backward()
opt.step()
torch.save({"epoch": 6, "model": mlp.state_dict(), "optimizer": opt.state_dict()}, buffer)
buffer.seek(0)
ckpt = torch.load(buffer, weights_only=True)
results["reloaded_out"] = reloaded(X_norm[:5])
results["ckpt"] = [
    ckpt["epoch"],
    sorted(ckpt["model"]),
    sorted(ckpt["optimizer"]),
    ckpt["optimizer"]["param_groups"][0]["lr"],
    ckpt["optimizer"]["state"][0]["exp_avg"],
]
incompatible = reloaded.load_state_dict(
    {k: v for k, v in mlp.state_dict().items() if k != "layer2.bias"}, strict=False
)
results["incompatible"] = [list(incompatible.missing_keys), list(incompatible.unexpected_keys)]

results["errors"] = [
    outcome(call)[0]
    for call in (
        lambda: random_split(ds, [40, 15]),
        lambda: TensorDataset(X, y[:10]),
        lambda: reloaded.load_state_dict({"layer1.weight": torch.zeros(8, 4)}),
        lambda: reloaded.load_state_dict({**mlp.state_dict(), "layer1.weight": torch.zeros(3, 4)}),
        lambda: DataLoader(ds, batch_size=0),
        lambda: nn.CrossEntropyLoss()(mlp(X_norm[:3]), y[:3].double()),
        lambda: nn.BCELoss()(torch.sigmoid(mlp(X_norm[:3]).float()), torch.ones(3, 3)),
        lambda: nn.BCELoss()(torch.sigmoid(mlp(X_norm[:3])), torch.ones(3, 3, dtype=torch.float32)),
    )
]
"""

RASCHKA_CNN_AND_SENTIMENT_LSTM = """\
# "Machine Learning with PyTorch and Scikit-Learn" style: the book's small CNN built with add_module (Conv2d,
# MaxPool2d, Dropout2d, nn.Flatten), trained with Adam; Dropout2d's channel pattern; the sentiment RNN with
# nn.Embedding(padding_idx=0), nn.LSTM(batch_first=True) and its last hidden state, BCELoss; misuse classes.
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(5)


def set_weights(model, seed, scale=0.3):
    numbers = np.random.default_rng(seed)
    model.load_state_dict(
        {
            k: torch.from_numpy(numbers.normal(0, scale, size=tuple(v.shape))) if v.is_floating_point() else v
            for k, v in model.state_dict().items()
        }
    )


# the book's small CNN for 1-channel images
model = nn.Sequential()
model.add_module("conv1", nn.Conv2d(in_channels=1, out_channels=4, kernel_size=3, padding=1))
model.add_module("relu1", nn.ReLU())
model.add_module("pool1", nn.MaxPool2d(kernel_size=2))
model.add_module("conv2", nn.Conv2d(in_channels=4, out_channels=6, kernel_size=3, padding=1))
model.add_module("relu2", nn.ReLU())
model.add_module("pool2", nn.MaxPool2d(kernel_size=2))
model.add_module("dropout", nn.Dropout2d(p=0.5))
model.add_module("flatten", nn.Flatten())
x = torch.ones((4, 1, 12, 12))
results["flat_shape"] = list(model(x).shape)
model.add_module("fc1", nn.Linear(6 * 3 * 3, 10))
model.add_module("relu3", nn.ReLU())
model.add_module("fc2", nn.Linear(10, 2))
set_weights(model, 1)
images = torch.from_numpy(rng.normal(size=(24, 1, 12, 12)))
labels = torch.from_numpy((images[:, 0, :6].mean((1, 2)) > images[:, 0, 6:].mean((1, 2))).numpy().astype(np.int64))
loader = DataLoader(TensorDataset(images, labels), batch_size=8)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
model.dropout.p = 0.0  # the training numbers are compared; Dropout2d's draws by their pattern below
history = []
for epoch in range(3):
    model.train()
    total, correct = 0.0, 0.0
    for xb, yb in loader:
        pred = model(xb)
        loss = loss_fn(pred, yb)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item() * yb.size(0)
        correct += (torch.argmax(pred, dim=1) == yb).float().sum().item()
    history.append([total / len(loader.dataset), correct / len(loader.dataset)])
results["cnn_history"] = history
model.eval()
with torch.no_grad():
    results["cnn_eval"] = model(images[:4])
results["cnn_modules"] = [name for name, _ in model.named_children()]
results["pool_idx"] = nn.MaxPool2d(2, return_indices=True)(images[:1, :, :4, :4])[1]

# Dropout2d zeroes whole channels, scales the rest by 1/(1-p), and does nothing in eval mode
drop = nn.Dropout2d(p=0.4)
feat = torch.from_numpy(rng.uniform(1, 2, size=(8, 16, 3, 3)))
out = drop(feat)
ratio = out / feat
per_channel = ratio.flatten(2)
results["dropout2d"] = [
    bool(((per_channel == 0).all(2) | ((per_channel - 1 / 0.6).abs() < 1e-12).all(2)).all()),
    bool((per_channel == 0).all(2).any()),
    bool((per_channel != 0).all(2).any()),
]
drop.eval()
results["dropout2d_eval"] = bool(torch.equal(drop(feat), feat))

# the sentiment RNN: Embedding(padding_idx=0), LSTM(batch_first=True), the last hidden state
vocab_size, embed_dim, rnn_hidden_size, fc_hidden_size = 25, 6, 8, 5
seqs = [rng.integers(1, vocab_size, size=rng.integers(3, 9)) for _ in range(16)]
max_len = max(len(s) for s in seqs)
padded = torch.zeros(len(seqs), max_len, dtype=torch.long)
for i, s in enumerate(seqs):
    padded[i, -len(s) :] = torch.from_numpy(s)  # left padding, so the last step is a real token
targets = torch.tensor([float(s.sum() % 3 == 0) for s in seqs])


class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim, rnn_hidden_size, fc_hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = nn.LSTM(embed_dim, rnn_hidden_size, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(rnn_hidden_size, fc_hidden_size), nn.ReLU(), nn.Linear(fc_hidden_size, 1), nn.Sigmoid()
        )

    def forward(self, text):
        _, (hidden, cell) = self.rnn(self.embedding(text))
        return self.head(hidden[-1]), hidden, cell


rnn = SentimentLSTM(vocab_size, embed_dim, rnn_hidden_size, fc_hidden_size)
results["pad_row_init"] = rnn.embedding.weight[0]
set_weights(rnn, 2)
with torch.no_grad():
    rnn.embedding.weight[0].zero_()
opt = torch.optim.Adam(rnn.parameters(), lr=0.01)
loss_fn = nn.BCELoss()
rnn_losses = []
for epoch in range(3):
    rnn.train()
    for i in range(0, 16, 4):
        opt.zero_grad()
        pred, hidden, cell = rnn(padded[i : i + 4])
        loss = loss_fn(pred[:, 0], targets[i : i + 4])
        loss.backward()
        opt.step()
        rnn_losses.append([loss.item(), ((pred[:, 0] >= 0.5).float() == targets[i : i + 4]).float().sum().item()])
results["rnn_losses"] = rnn_losses
results["pad_row_grad"] = rnn.embedding.weight.grad[0]
results["pad_row_after"] = rnn.embedding.weight[0]
out_seq, (h, c) = rnn.rnn(rnn.embedding(padded[:3]))
results["last_step_is_hidden"] = bool(torch.equal(out_seq[:, -1, :], h[-1]))
results["hidden_shape"] = [list(h.shape), list(c.shape), list(out_seq.shape)]
rnn.eval()
with torch.no_grad():
    results["rnn_eval"] = rnn(padded)[0]

results["errors"] = [
    outcome(call)[0]
    for call in (
        lambda: model(torch.ones(2, 1, 10, 10)),
        lambda: rnn(padded.double()),
        lambda: rnn(torch.tensor([[vocab_size]])),
        lambda: nn.BCELoss()(torch.tensor([1.5]), torch.tensor([1.0])),
        lambda: nn.MaxPool2d(3)(torch.ones(1, 1, 2, 2)),
        lambda: nn.LSTM(6, 8, batch_first=True)(torch.ones(2, 3, 5)),
    )
]
"""

RASCHKA_RNN_BY_HAND_AND_SAVING = """\
# "Machine Learning with PyTorch and Scikit-Learn" style, more of it: an nn.RNN's output recomputed by hand from
# weight_ih_l0/weight_hh_l0, Categorical over logits, torch.save/torch.load of a dict of tensors, one_hot, a
# Dataset with a transform, drop_last, a loader of dicts, fractional random_split, pooling and flattening
# variants, BCEWithLogitsLoss with pos_weight, misuse classes.
import io, os, tempfile
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split, Subset

rng = np.random.default_rng(13)


# hand-computed RNN check (chapter 15)
torch.manual_seed(1)
rnn_layer = nn.RNN(input_size=5, hidden_size=2, num_layers=1, batch_first=True)
numbers = np.random.default_rng(1)
with torch.no_grad():
    for p in rnn_layer.parameters():
        p.copy_(torch.from_numpy(numbers.normal(size=tuple(p.shape))))
w_xh = rnn_layer.weight_ih_l0
w_hh = rnn_layer.weight_hh_l0
b_xh = rnn_layer.bias_ih_l0
b_hh = rnn_layer.bias_hh_l0
x_seq = torch.tensor([[1.0] * 5, [2.0] * 5, [3.0] * 5]).float()
output, hn = rnn_layer(torch.reshape(x_seq, (1, 3, 5)).double())
out_man = []
for t in range(3):
    xt = torch.reshape(x_seq[t], (1, 5)).double()
    ht = torch.matmul(xt, torch.transpose(w_xh, 0, 1)) + b_xh
    if t > 0:
        prev_h = out_man[t - 1]
    else:
        prev_h = torch.zeros((ht.shape))
    ot = ht + torch.matmul(prev_h, torch.transpose(w_hh, 0, 1)) + b_hh
    ot = torch.tanh(ot)
    out_man.append(ot)
results["rnn_manual"] = [output, torch.cat(out_man), hn, x_seq.dtype == torch.float32]
results["rnn_float_mismatch"] = outcome(lambda: rnn_layer(torch.reshape(x_seq, (1, 3, 5))))
# Categorical over logits: probs, log_prob, entropy (sampling differs by generator)
from torch.distributions.categorical import Categorical

logits = torch.tensor([[1.0, 1.0, 1.0], [0.1, 0.5, 2.0]])
m = Categorical(logits=logits)
results["categorical"] = [
    m.probs,
    m.log_prob(torch.tensor([0, 2])),
    m.entropy(),
    list(m.sample().shape),
    list(m.sample((4,)).shape),
    m.sample().dtype == torch.int64,
]
results["cat_bad"] = outcome(lambda: Categorical(probs=torch.tensor([0.5, -0.1]), validate_args=True))


# whole-model save and load with weights_only=False
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


net = Net()
with torch.no_grad():
    net.fc.weight.copy_(torch.from_numpy(rng.normal(size=(2, 3))))
    net.fc.bias.zero_()
xx = torch.from_numpy(rng.normal(size=(4, 3)))
path = os.path.join(tempfile.mkdtemp(), "t.pt")
torch.save({"x": torch.arange(3), "list": [torch.ones(2), 3], "s": "hi"}, path)
got = torch.load(path)
results["save_misc"] = [got["x"], got["list"][0], got["list"][1], got["s"], got["x"].dtype == torch.int64]
results["load_missing"] = outcome(lambda: torch.load(os.path.join(tempfile.mkdtemp(), "nope.pt")))
# xavier_uniform_ and model.apply for weight init, one_hot, softmax predict_proba
results["one_hot"] = [F.one_hot(torch.tensor([0, 2, 1])), F.one_hot(torch.tensor([1]), num_classes=4)]
results["one_hot_bad"] = [
    outcome(lambda: F.one_hot(torch.tensor([3]), num_classes=2)),
    outcome(lambda: F.one_hot(torch.tensor([1.0]))),
]


# a Dataset with a transform, DataLoader drop_last, len of loaders, iter next
class JointDataset(Dataset):
    def __init__(self, x, y, transform=None):
        self.x, self.y, self.transform = x, y, transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        x = self.x[idx]
        if self.transform:
            x = self.transform(x)
        return x, self.y[idx]


t_x = torch.from_numpy(rng.normal(size=(10, 3)))
t_y = torch.arange(10)
jd = JointDataset(t_x, t_y, transform=lambda v: v * 2)
dl = DataLoader(jd, batch_size=4, drop_last=True)
batches = list(dl)
results["dl"] = [len(dl), [b[1] for b in batches], batches[0][0], next(iter(DataLoader(jd, batch_size=3)))[1]]
results["dl_dict"] = next(iter(DataLoader([{"a": torch.ones(2), "b": 1.5, "c": "s"}] * 3, batch_size=2)))["a"]
# random_split of a plain list and of a tensor with fractions summing to 1 within rounding
parts = random_split(range(10), [0.3, 0.3, 0.4], generator=torch.Generator().manual_seed(42))
results["split_fracs"] = [len(p) for p in parts]
results["split_bad_frac"] = outcome(lambda: random_split(range(10), [0.5, 0.6]))
results["subset_idx"] = [Subset(jd, [2, 5])[1][1], len(Subset(jd, [2, 5]))]
# MaxPool2d ceil_mode, Flatten start_dim, AdaptiveAvgPool
img = torch.from_numpy(rng.normal(size=(1, 2, 5, 5)))
results["pool"] = [
    nn.MaxPool2d(2, ceil_mode=True)(img).shape[-1],
    nn.MaxPool2d(2)(img),
    nn.Flatten(start_dim=2)(img).shape[-1],
    nn.Flatten(0, 1)(img).shape[0],
    nn.AdaptiveAvgPool2d(1)(img),
]
results["flatten_bad"] = outcome(lambda: nn.Flatten(2, 1)(img))
# BCEWithLogitsLoss with pos_weight, accuracy with threshold
lg = torch.from_numpy(rng.normal(size=6)).requires_grad_()
yt = torch.tensor([1.0, 0, 1, 0, 1, 1])
bl = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0))(lg, yt)
bl.backward()
results["bce_pw"] = [bl, lg.grad, ((torch.sigmoid(lg) > 0.5).float() == yt).float().mean()]
results["bce_shape_bad"] = outcome(lambda: nn.BCEWithLogitsLoss()(lg, yt[:5]))
results["bce_int_target"] = outcome(lambda: nn.BCELoss()(torch.sigmoid(lg), yt.long()))
"""

COURSE_MISUSE_EXCEPTION_CLASSES = """\
# The mistakes learners make in these courses' programs, each caught and named by its exception class (and the
# warnings of the calls that succeed): in-place changes of leaves, hooks, buffers, embeddings, masks, views,
# loaders, recurrent states, packing, clipping, optimizers and schedulers, state dicts, pooling, losses, autograd.
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.utils.data import DataLoader, TensorDataset, RandomSampler


p = nn.Parameter(torch.ones(2))
cases = {
    "leaf_inplace": lambda: p.sub_(1),
    "leaf_inplace_op": lambda: p.__isub__(1),
    "histc_backward": lambda: torch.histc(torch.ones(3, requires_grad=True), 3).sum().backward(),
    "stack_empty": lambda: torch.stack([]),
    "linspace_no_steps": lambda: torch.linspace(0, 1),
    "buffer_exists": lambda: nn.Linear(2, 2).register_buffer("weight", torch.ones(1)),
    "buffer_attr_exists": lambda: (lambda m: (setattr(m, "foo", 3), m.register_buffer("foo", torch.ones(1))))(
        nn.Module()
    ),
    "modulelist_str": lambda: nn.ModuleList([nn.ReLU()])["a"],
    "ce_target_2d": lambda: F.cross_entropy(torch.ones(3, 4), torch.zeros(3, 1, dtype=torch.long)),
    "bmm_batch": lambda: torch.bmm(torch.ones(2, 3, 4), torch.ones(3, 4, 5)),
    "index_select_2d": lambda: torch.ones(4, 3).index_select(0, torch.tensor([[0, 1]])),
    "logsigmoid_int": lambda: F.logsigmoid(torch.tensor([1, 2])),
    "emb_float_index": lambda: nn.Embedding(4, 2)(torch.tensor([1.0])),
    "emb_neg_index": lambda: nn.Embedding(4, 2)(torch.tensor([-1])),
    "masked_fill_float_mask": lambda: torch.ones(3).masked_fill_(torch.tensor([1.0, 0.0, 1.0]), 0.0),
    "view_two_minus": lambda: torch.ones(4).view(-1, -1),
    "view_noncontig": lambda: torch.ones(3, 4).t().view(12),
    "dl_shuffle_sampler": lambda: DataLoader(
        TensorDataset(torch.ones(4)), shuffle=True, sampler=RandomSampler(range(4))
    ),
    "emb_padding_idx_big": lambda: nn.Embedding(5, 2, padding_idx=5),
    "lstm_4d": lambda: nn.LSTM(3, 2, batch_first=True)(torch.ones(1, 2, 3, 3)),
    "conv_2d_input": lambda: nn.Conv2d(1, 1, 3)(torch.ones(5, 5)),
    "dropout2d_2d": lambda: nn.Dropout2d(0.5)(torch.ones(3, 4)),
    "dropout2d_3d": lambda: nn.Dropout2d(0.5).eval()(torch.ones(3, 4, 5)),
    "dropout_p_str": lambda: nn.Dropout("0.5"),
    "lstm_hidden_shape": lambda: nn.LSTM(3, 2)(torch.ones(4, 1, 3), (torch.zeros(1, 2, 2), torch.zeros(1, 2, 2))),
    "pack_2d_lengths": lambda: pack_padded_sequence(torch.ones(4, 2, 3), torch.tensor([[4, 2]])),
    "pack_float_lengths": lambda: pack_padded_sequence(torch.ones(4, 2, 3), torch.tensor([4.0, 2.0])),
    "pack_list_lengths": lambda: pack_padded_sequence(torch.ones(4, 2, 3), [4, 2]),
    "pad_seq_mixed": lambda: pad_sequence([torch.ones(2, 3), torch.ones(2, 4)]),
    "clip_no_grads": lambda: nn.utils.clip_grad_norm_([nn.Parameter(torch.ones(2))], 1.0),
    "adam_bad_beta": lambda: torch.optim.Adam([p], betas=(1.0, 0.9)),
    "sgd_no_params": lambda: torch.optim.SGD([], lr=0.1),
    "sgd_no_lr": lambda: torch.optim.SGD([p]),
    "nesterov_no_momentum": lambda: torch.optim.SGD([p], lr=0.1, nesterov=True),
    "optim_tensor_param": lambda: torch.optim.SGD(p, lr=0.1),
    "onecycle_steps_epochs": lambda: torch.optim.lr_scheduler.OneCycleLR(
        torch.optim.SGD([p], lr=0.1, momentum=0.9), 0.1, epochs=2
    ),
    "load_state_dict_shape": lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": torch.ones(2, 3), "bias": torch.ones(2)}
    ),
    "state_dict_nonstrict_shape": lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": torch.ones(2, 3)}, strict=False
    ),
    "maxpool_big": lambda: nn.MaxPool2d(4)(torch.ones(1, 1, 3, 3)),
    "maxpool_pad_big": lambda: nn.MaxPool2d(2, padding=2)(torch.ones(1, 1, 4, 4)),
    "flatten_1d": lambda: nn.Flatten()(torch.ones(3)),
    "linear_wrong_in": lambda: nn.Linear(3, 2)(torch.ones(2, 4)),
    "argmax_dim_out": lambda: torch.ones(2, 3).argmax(2),
    "bce_target_range": lambda: F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([2.0])),
    "softmax_no_dim": lambda: F.softmax(torch.ones(2, 3)),
    "cos_sim_shapes": lambda: F.cosine_similarity(torch.ones(2, 3), torch.ones(3, 3)),
    "item_many": lambda: torch.ones(2).item(),
    "bool_of_tensor": lambda: bool(torch.ones(2)),
    "backward_nonscalar": lambda: (p * 2).backward(),
    "backward_twice": lambda: (lambda y: (y.backward(retain_graph=False), y.backward()))((p.exp()).sum()),
    "grad_of_nonleaf_warn": lambda: (p * 2).grad,
    "zero_grad_none": lambda: (lambda o: (o.zero_grad(), o.param_groups[0]["params"][0].grad))(
        torch.optim.SGD([p], lr=0.1)
    ),
    "no_grad_requires": lambda: torch.no_grad()(lambda: (p * 2).requires_grad)(),
}
for k, f in cases.items():
    found = outcome(f)
    results[k] = found[:1] + found[2:]  # the class, or "ok" and the warnings: some values are random draws
"""

PROGRAMS = {
    "fastai_foundations_learner": FASTAI_FOUNDATIONS_LEARNER,
    "fastai_schedules_hooks_and_patches": FASTAI_SCHEDULES_HOOKS_AND_PATCHES,
    "fastai_custom_optimizer_and_truncated_bptt": FASTAI_CUSTOM_OPTIMIZER_AND_TRUNCATED_BPTT,
    "cs224n_word2vec_negative_sampling": CS224N_WORD2VEC_NEGATIVE_SAMPLING,
    "cs224n_dependency_parser": CS224N_DEPENDENCY_PARSER,
    "cs224n_char_decoder_packed": CS224N_CHAR_DECODER_PACKED,
    "cs224n_nmt_attention_and_char_cnn": CS224N_NMT_ATTENTION_AND_CHAR_CNN,
    "raschka_datasets_logreg_mlp_saving": RASCHKA_DATASETS_LOGREG_MLP_SAVING,
    "raschka_cnn_and_sentiment_lstm": RASCHKA_CNN_AND_SENTIMENT_LSTM,
    "raschka_rnn_by_hand_and_saving": RASCHKA_RNN_BY_HAND_AND_SAVING,
    "course_misuse_exception_classes": COURSE_MISUSE_EXCEPTION_CLASSES,
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_a_course_program_gives_pytorchs_numbers_classes_and_warnings(name, torch, tmp_path):
    program = tmp_path / f"{name}.py"
    program.write_text(PRELUDE + PROGRAMS[name])
    assert_pytorchs_numbers(program, same_warnings=True)


def _where_it_fails(program, *flags: str) -> tuple[str, str]:
    """The program's line where it stopped and the exception's class."""
    done = subprocess.run([sys.executable, str(HERE / "run_one.py"), *flags, str(program)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode != 0, f"{program.name} {' '.join(flags)} ran through"
    line = re.findall(rf'File "{re.escape(str(program))}", line (\d+)', done.stderr)[-1]
    return line, re.findall(r"^(\w+): ", done.stderr, re.M)[-1]


@pytest.mark.torch
@pytest.mark.parametrize("name", ["fastai_foundations_learner", "cs224n_word2vec_negative_sampling",
                                  "cs224n_dependency_parser", "raschka_cnn_and_sentiment_lstm",
                                  "cs224n_nmt_attention_and_char_cnn"])
def test_the_program_in_float32_with_float64_numpy_data_fails_where_and_as_pytorch(name, torch, tmp_path):
    """The learner's commonest mistake: the same program without ``set_default_dtype(torch.float64)``, so NumPy's
    float64 data meets float32 layers (a conv, a matmul, index_add_, an RNN): both stop at the same line with the
    same exception class."""
    program = tmp_path / f"{name}_float32.py"
    program.write_text(PRELUDE.replace("torch.set_default_dtype(torch.float64)\n", "") + PROGRAMS[name])
    assert _where_it_fails(program, "--glassgrad") == _where_it_fails(program)


DTYPE_PAIRS = [("float32", "float64"), ("float64", "float32"), ("float32", "float16"), ("float16", "float32"),
               ("float32", "float32"), ("float64", "float64")]


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), max_size=3), dtypes=st.sampled_from(DTYPE_PAIRS),
       seed=st.integers(0, 2**16), as_module=st.booleans())
def test_binary_cross_entropy_takes_its_target_only_in_the_inputs_dtype_as_pytorch(shape, dtypes, seed, as_module,
                                                                                   torch):
    """The Raschka program's loop feeds ``nn.BCELoss`` float32 probabilities and float64 labels straight from
    NumPy: PyTorch's kernel refuses the pair (RuntimeError 'Found dtype Double but expected Float'; so for any two
    floating dtypes), while glassgrad promoted both to float64 and trained on. One dtype gives PyTorch's loss and
    gradient; ``binary_cross_entropy_with_logits`` and the other losses still promote, as PyTorch's do."""
    rng = np.random.default_rng(seed)
    p, y = rng.uniform(0.05, 0.95, size=shape), rng.integers(0, 2, size=shape).astype(float)
    found = []
    for library in (gg, torch):
        probs = library.tensor(p, dtype=getattr(library, dtypes[0]), requires_grad=True)
        target = library.tensor(y, dtype=getattr(library, dtypes[1]))
        loss_fn = library.nn.BCELoss() if as_module else library.nn.functional.binary_cross_entropy
        try:
            loss = loss_fn(probs, target)
        except RuntimeError as error:
            found.append((RuntimeError, str(error)))
            continue
        loss.backward()
        found.append((loss.item(), probs.grad.numpy()))
    (ours, our_detail), (theirs, their_detail) = found
    if theirs is RuntimeError:
        assert ours is RuntimeError and "\n" not in our_detail and "convert the target with y.to(p.dtype)" in our_detail
        assert our_detail.split(": ")[1] == their_detail  # 'Found dtype Double but expected Float'
    else:
        rtol = 1e-12 if dtypes[0] == "float64" else 1e-6
        np.testing.assert_allclose(ours, theirs, rtol=rtol)
        np.testing.assert_allclose(our_detail, their_detail, rtol=rtol)


@pytest.mark.torch
def test_the_other_losses_still_promote_a_wider_target_as_pytorchs(torch):
    """What the refusal above must not reach: float32 scores with float64 targets give float64 losses in both."""
    for library in (gg, torch):
        scores, labels = library.tensor([0.5, -1.0]), library.tensor([1.0, 0.0], dtype=library.float64)
        for loss in (library.nn.functional.binary_cross_entropy_with_logits, library.nn.functional.mse_loss):
            assert loss(scores, labels).dtype == library.float64
