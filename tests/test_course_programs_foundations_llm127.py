"""Round 127: learner programs in two more course styles, each run unchanged under PyTorch 2.13 and under glassgrad
(``import torch`` giving glassgrad) on the same NumPy data, in float64 (rtol 1e-9) and in float32 (rtol 1e-4), with
the same shapes, dtypes, exception classes and warnings:

- "deep learning from the foundations" (fast.ai part 2): matmul by loops, broadcasting and einsum, GeneralRelu,
  kaiming init by hand, unfold, a BatchNorm with buffers and ``lerp_``, a Learner with callbacks and hooks, LR finders,
  custom collate functions, ``randperm`` batches, ``no_grad`` decorators, ``torch.save``/``torch.load`` round trips,
  label smoothing;
- "LLM from scratch": word ids, a sliding-window dataset, causal multi-head attention with a mask buffer, a GPT block
  with LayerNorm and GELU by hand, weight tying, LoRA, AdamW with weight decay, warmup + cosine schedules,
  ``clip_grad_norm_``, checkpoints, greedy/top-k/temperature generation with a Generator.

The programs are written for this project (no course code copied) and kept here as text, run by
``tests/test_learner_programs.py``'s runner after ``PRELUDE`` (``test_course_programs_foundations106``) and
``HEADER``. Random draws differ between the libraries by design, so draws are compared by statistics, membership and
reproducibility, never by value. What glassgrad did differently, found by these programs, is tested below them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_course_programs_foundations106 import PRELUDE
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

HEADER = """\
import io
import os
import tempfile

from torch.nn import init


def data(array):
    \"\"\"A NumPy array as a tensor: floats in the default dtype (float64, or float32 in the float32 run).\"\"\"
    found = torch.from_numpy(array)
    return found.to(torch.get_default_dtype()) if found.is_floating_point() else found


def refusal(call):
    \"\"\"The exception's class, or "ok" and the warnings: the value itself is not compared.\"\"\"
    found = outcome(call)
    return found[:1] + found[2:]


def described(value):
    \"\"\"``value`` with each tensor's shape and dtype besides its numbers, and each dict's items.\"\"\"
    if isinstance(value, torch.Tensor):
        return [list(value.shape), str(value.dtype).replace("torch.", ""), value.tolist()]
    if isinstance(value, dict):
        return [[key, described(item)] for key, item in value.items()]
    return [described(item) for item in value] if isinstance(value, (list, tuple)) else value


def val(call):
    \"\"\"``outcome`` of ``call`` with its tensors described.\"\"\"
    return outcome(lambda: described(call()))

"""
"""What the programs below add to ``PRELUDE``: ``data`` (NumPy data in the run's dtype), ``refusal`` and ``val``."""

FOUNDATIONS_MATMUL_UNFOLD_AND_INIT = """\
# fast.ai "from the foundations" style, part 1: matmul three ways by hand (loops, a row at a time, broadcasting)
# and by einsum, a GeneralRelu (leak, sub, maxv) and its gradient, tensor.unfold windows and an im2col, kaiming
# init by hand (statistics only: draws differ), calculate_gain, std/var spellings, model.apply(init_fn).

rng = np.random.default_rng(127)
a = data(rng.normal(size=(5, 4)))
b = data(rng.normal(size=(4, 3)))

def matmul_loops(a, b):
    ar, ac = a.shape
    br, bc = b.shape
    c = torch.zeros(ar, bc)
    for i in range(ar):
        for j in range(bc):
            for k in range(ac):
                c[i, j] += a[i, k] * b[k, j]
    return c
def matmul_row(a, b):
    c = torch.zeros(a.shape[0], b.shape[1])
    for i in range(a.shape[0]):
        c[i, :] = (a[i, :, None] * b).sum(dim=0)
    return c
def matmul_bcast(a, b):
    return (a[..., None] * b[None]).sum(1)
results["loops"] = matmul_loops(a, b)
results["row"] = matmul_row(a, b)
results["bcast"] = matmul_bcast(a, b)
results["einsum"] = torch.einsum('ik,kj->ij', a, b)
results["einsum_batch"] = torch.einsum('bik,bkj->bij', a[None].expand(2, 5, 4), b[None].repeat(2, 1, 1))
results["einsum_trace"] = torch.einsum('ii', a[:4])
results["einsum_outer"] = torch.einsum('i,j->ij', a[0], b[:, 0])
results["einsum_sum"] = torch.einsum('ij->', a)
results["einsum_ell"] = torch.einsum('...k,kj->...j', a, b)
results["allclose"] = torch.allclose(matmul_loops(a, b), a @ b)
results["close"] = torch.isclose(a, a + 1e-12).all().item()
results["at"] = a @ b
results["mm"] = torch.mm(a, b)
results["matmul"] = a.matmul(b)
results["mv"] = torch.mv(a, b[:, 0])
results["dot"] = torch.dot(a[0], b[:, 0])

# a ReLU shifted down by `sub`, leaky below 0 and capped at `maxv`
class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__()
        self.leak, self.sub, self.maxv = leak, sub, maxv
    def forward(self, x):
        out = F.relu(x) if self.leak is None else F.leaky_relu(x, self.leak)
        out = out if self.sub is None else out - self.sub
        return out if self.maxv is None else out.clamp_max_(self.maxv)
x = data(rng.normal(size=(3, 7)) * 3).requires_grad_()
y = GeneralRelu(0.1, 0.4, 2.0)(x)
y.sum().backward()
results["grelu"] = y
results["grelu_grad"] = x.grad

# unfold
t = torch.arange(10.)
results["unfold1"] = t.unfold(0, 3, 2)
img = data(rng.normal(size=(2, 5, 6)))
results["unfold2"] = img.unfold(1, 2, 1).unfold(2, 3, 3)
results["unfold_shape"] = list(img.unfold(2, 6, 1).shape)
results["unfold_stride"] = list(img.unfold(1, 2, 1).stride()) if hasattr(img, "stride") else None
# im2col by hand
patches = img.unfold(1, 3, 1).unfold(2, 3, 1)  # 2, 3, 4, 3, 3
results["im2col"] = patches.contiguous().view(2, 3 * 4, 9) @ torch.ones(9)
results["F_unfold"] = F.unfold(img[None], kernel_size=3)
g = data(rng.normal(size=(10,))).requires_grad_()
g.unfold(0, 4, 3).pow(2).sum().backward()
results["unfold_grad"] = g.grad
results["unfold_bad"] = refusal(lambda: t.unfold(0, 11, 1))
results["unfold_step0"] = refusal(lambda: t.unfold(0, 2, 0))

# kaiming by hand
torch.manual_seed(0)
w = torch.empty(4000, 200)
init.kaiming_normal_(w)
results["kaiming_std_ok"] = abs(w.std().item() - math.sqrt(2 / 200)) < 0.002
init.kaiming_normal_(w, a=0.1, mode='fan_out', nonlinearity='leaky_relu')
results["kaiming_fanout_ok"] = abs(w.std().item() - math.sqrt(2 / (1 + 0.01) / 4000)) < 0.0005
results["gain"] = [init.calculate_gain('relu'), init.calculate_gain('leaky_relu', 0.1), init.calculate_gain('tanh'),
                   init.calculate_gain('linear'), init.calculate_gain('selu')]
w2 = torch.empty(8, 3, 3, 3)
init.kaiming_uniform_(w2, a=math.sqrt(5))
results["ku_bound_ok"] = w2.abs().max().item() <= math.sqrt(6 / ((1 + 5) * 27)) + 1e-12
results["std_unbiased"] = [a.std(), a.std(0), a.std(1, keepdim=True), a.std(unbiased=False), a.std(correction=0, dim=1),
                           a.var(dim=(0, 1))]
conv = nn.Conv2d(3, 8, 3)
def init_fn(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        init.kaiming_normal_(m.weight)
        m.bias.data.zero_()
model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 2))
returned = model.apply(init_fn)
results["apply_returns_self"] = returned is model
results["bias_zero"] = [m.bias.abs().sum().item() for m in model if hasattr(m, "bias")]
results["fan"] = init._calculate_fan_in_and_fan_out(torch.empty(8, 3, 3, 3))
"""

FOUNDATIONS_LEARNER_COLLATE_AND_SAVING = """\
# Part 2: a Dataset with a custom collate_fn (tuples and dicts) and default_collate, randperm batches, a BatchNorm
# by hand (register_buffer, lerp_), a Learner with ordered callbacks, forward hooks collecting activation
# means/stds then removed, an LR finder that raises param_groups[0]['lr'] until the loss blows up, a
# @torch.no_grad() accuracy, torch.save/load of a state_dict and a checkpoint dict through a temporary file,
# cross_entropy with label_smoothing (weights, ignore_index, probabilities, per row, its gradient).

from torch.utils.data import DataLoader, Dataset, TensorDataset, default_collate
rng = np.random.default_rng(1271)
X = data(rng.normal(size=(40, 6)))
Y = data(rng.integers(0, 4, size=40))
W = [rng.normal(size=(16, 6)) * 0.3, rng.normal(size=16) * 0.1, rng.normal(size=(4, 16)) * 0.3,
     rng.normal(size=4) * 0.1]

class DS:
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.y[i]
def collate(b):
    xs, ys = zip(*b)
    return torch.stack(xs), torch.stack(ys)
def collate_dict(b):
    return {"x": torch.stack([p[0] for p in b]), "y": torch.tensor([int(p[1]) for p in b])}
ds = DS(X, Y)
dl = DataLoader(ds, batch_size=7, collate_fn=collate)
bs = list(dl)
results["collate_n"] = len(bs)
results["collate_last"] = [list(bs[-1][0].shape), bs[-1][1].dtype == torch.int64]
dd = next(iter(DataLoader(ds, batch_size=5, collate_fn=collate_dict)))
results["collate_dict"] = [dd["x"], dd["y"], dd["y"].dtype == torch.int64]
dflt = next(iter(DataLoader(ds, batch_size=5)))
results["default_collate"] = [type(dflt).__name__, dflt[0], dflt[1]]
dc = default_collate([(1, 2.0, np.float64(3.0)), (4, 5.0, np.float64(6.0))])
results["default_collate_scalars"] = [[t.dtype == torch.int64 for t in dc], [t.dtype == torch.float64 for t in dc], dc]
dcd = default_collate([{"a": torch.ones(2), "b": 3}, {"a": torch.zeros(2), "b": 4}])
results["default_collate_dict"] = [dcd["a"], dcd["b"], dcd["b"].dtype == torch.int64]
results["dl_len"] = [len(DataLoader(ds, batch_size=7)), len(DataLoader(ds, batch_size=7, drop_last=True))]

torch.manual_seed(3)
perm = torch.randperm(40)
results["perm_sorted"] = perm.sort().values
results["perm_dtype"] = perm.dtype == torch.long
batches = [(X[perm[i:i + 8]], Y[perm[i:i + 8]]) for i in range(0, 40, 8)]
results["perm_cover"] = sorted(torch.cat([b[1] for b in batches]).tolist()) == sorted(Y.tolist())

class BatchNorm(nn.Module):
    def __init__(self, nf, mom=0.1, eps=1e-5):
        super().__init__()
        self.mom, self.eps = mom, eps
        self.mults = nn.Parameter(torch.ones(nf))
        self.adds = nn.Parameter(torch.zeros(nf))
        self.register_buffer('vars', torch.ones(1, nf))
        self.register_buffer('means', torch.zeros(1, nf))
    def update_stats(self, x):
        m = x.mean(0, keepdim=True)
        v = x.var(0, keepdim=True)
        self.means.lerp_(m, self.mom)
        self.vars.lerp_(v, self.mom)
        return m, v
    def forward(self, x):
        if self.training:
            with torch.no_grad(): m, v = self.update_stats(x)
        else: m, v = self.means, self.vars
        x = (x - m) / (v + self.eps).sqrt()
        return x * self.mults + self.adds

def make_model():
    m = nn.Sequential(nn.Linear(6, 16), BatchNorm(16), nn.ReLU(), nn.Linear(16, 4))
    with torch.no_grad():
        m[0].weight.copy_(data(W[0])); m[0].bias.copy_(data(W[1]))
        m[3].weight.copy_(data(W[2])); m[3].bias.copy_(data(W[3]))
    return m

class Callback: order = 0
class CancelFit(Exception): pass
class Learner:
    def __init__(self, model, dl, loss_func, lr, cbs, opt_func=torch.optim.SGD):
        self.model, self.dl, self.loss_func, self.lr, self.cbs, self.opt_func = model, dl, loss_func, lr, cbs, opt_func
    def callback(self, name):
        for cb in sorted(self.cbs, key=lambda c: c.order):
            f = getattr(cb, name, None)
            if f is not None: f(self)
    def fit(self, n_epochs):
        self.opt = self.opt_func(self.model.parameters(), self.lr)
        try:
            self.callback('before_fit')
            for self.epoch in range(n_epochs):
                self.model.train()
                for self.iter, (self.xb, self.yb) in enumerate(self.dl):
                    self.preds = self.model(self.xb)
                    self.loss = self.loss_func(self.preds, self.yb)
                    self.callback('after_loss')
                    self.loss.backward()
                    self.opt.step(); self.opt.zero_grad()
                    self.callback('after_batch')
        except CancelFit: pass
        finally: self.callback('after_fit')

class Hook:
    def __init__(self, m, f): self.hook = m.register_forward_hook(partial(f, self))
    def remove(self): self.hook.remove()
    def __del__(self): self.remove()
def append_stats(hook, mod, inp, outp):
    if not hasattr(hook, 'stats'): hook.stats = ([], [])
    acts = outp.detach()
    hook.stats[0].append(acts.mean().item())
    hook.stats[1].append(acts.std().item())
class HooksCB(Callback):
    def before_fit(self, learn):
        self.hooks = [Hook(m, append_stats) for m in learn.model if isinstance(m, (nn.Linear, nn.ReLU))]
    def after_fit(self, learn):
        for h in self.hooks: h.remove()
class Recorder(Callback):
    order = 1
    def before_fit(self, learn): self.lrs, self.losses = [], []
    def after_batch(self, learn):
        self.lrs.append(learn.opt.param_groups[0]['lr']); self.losses.append(learn.loss.item())
class LRFinder(Callback):
    def __init__(self, mult=1.3): self.mult = mult
    def before_fit(self, learn): self.best = math.inf
    def after_batch(self, learn):
        if learn.loss.item() < self.best: self.best = learn.loss.item()
        if learn.loss.item() > 3 * self.best: raise CancelFit()
        for g in learn.opt.param_groups: g['lr'] *= self.mult

loss_ls = partial(F.cross_entropy, label_smoothing=0.1)
dl = DataLoader(TensorDataset(X, Y), batch_size=8, shuffle=False)
model = make_model()
hcb, rec = HooksCB(), Recorder()
learn = Learner(model, dl, loss_ls, 0.05, [rec, hcb])
learn.fit(2)
results["losses"] = rec.losses
results["hook_stats"] = [h.stats for h in hcb.hooks]
results["hooks_removed"] = len(model[0]._forward_hooks)
results["bn_buffers"] = [model[1].means, model[1].vars]
results["bn_state_keys"] = sorted(model.state_dict().keys())
results["buffers"] = [n for n, _ in model.named_buffers()]
results["nparams"] = sum(p.numel() for p in model.parameters())
model.eval()
with torch.no_grad(): results["eval_out"] = model(X[:5])

model2 = make_model()
rec2, finder = Recorder(), LRFinder(1.6)
Learner(model2, dl, nn.CrossEntropyLoss(label_smoothing=0.2), 1e-3, [finder, rec2],
        opt_func=partial(torch.optim.SGD, momentum=0.9)).fit(10)
results["finder_lrs"] = rec2.lrs
results["finder_losses"] = rec2.losses

@torch.no_grad()
def accuracy(model, x, y):
    return (model(x).argmax(dim=1) == y).float().mean()
acc = accuracy(model2.eval(), X, Y)
results["acc"] = [acc, acc.requires_grad]

# save/load
path = os.path.join(tempfile.mkdtemp(), "m.pt")
torch.save(model2.state_dict(), path)
sd = torch.load(path)
model3 = make_model()
res = model3.load_state_dict(sd)
results["load_res"] = [list(res.missing_keys), list(res.unexpected_keys)]
model3.eval()
with torch.no_grad(): results["reload_same"] = (model3(X) == model2(X)).all().item()
results["reload_buf"] = model3[1].means
torch.save({"epoch": 3, "model": model2.state_dict(), "opt": None, "lrs": rec2.lrs[:3]}, path)
ck = torch.load(path)
results["ck"] = [ck["epoch"], ck["lrs"], sorted(ck["model"])]
results["ls_values"] = [F.cross_entropy(X[:, :4], Y, label_smoothing=ls) for ls in (0.0, 0.1, 0.5, 1.0)]
results["ls_weight"] = F.cross_entropy(X[:, :4], Y, label_smoothing=0.3, weight=torch.tensor([1., 2., 0.5, 1.]))
results["ls_ignore"] = F.cross_entropy(X[:, :4], torch.where(Y == 2, -100, Y), label_smoothing=0.3)
results["ls_sum"] = F.cross_entropy(X[:, :4], Y, label_smoothing=0.3, reduction='none')
results["ls_probs"] = F.cross_entropy(X[:, :4], F.softmax(X[:, 2:], 1), label_smoothing=0.3)
results["ls_bad"] = refusal(lambda: F.cross_entropy(X[:, :4], Y, label_smoothing=1.5))
Xg = X[:, :4].clone().requires_grad_()
F.cross_entropy(Xg, torch.where(Y == 2, -100, Y), label_smoothing=0.3,
                weight=torch.tensor([1., 2., 0.5, 1.])).backward()
results["ls_grad"] = Xg.grad
"""

FOUNDATIONS_CONV_HOOKS_AND_FINDER = """\
# Part 3: conv blocks with a 2-d BatchNorm by hand (a non-persistent buffer too), init through
# model.apply(partial(...)), a Hooks context manager and a forward pre-hook, a BatchSampler loader, SGD with
# momentum and weight decay, an Adam LR finder that restores the weights, randperm/RandomSampler with a
# Generator (permutations and reproducibility only), a conv written with unfold + einsum, no_grad decorators.

from torch.utils.data import DataLoader, TensorDataset, BatchSampler, RandomSampler, SequentialSampler
rng = np.random.default_rng(1275)
X = data(rng.normal(size=(30, 1, 8, 8)))
Y = data(rng.integers(0, 3, size=30))

class BatchNorm2d(nn.Module):
    def __init__(self, nf, mom=0.1, eps=1e-5):
        super().__init__()
        self.mom, self.eps = mom, eps
        self.mults = nn.Parameter(torch.ones(nf, 1, 1)); self.adds = nn.Parameter(torch.zeros(nf, 1, 1))
        self.register_buffer('vars', torch.ones(1, nf, 1, 1)); self.register_buffer('means', torch.zeros(1, nf, 1, 1))
        self.register_buffer('seen', torch.tensor(0), persistent=False)
    def update_stats(self, x):
        m = x.mean((0, 2, 3), keepdim=True)
        v = x.var((0, 2, 3), keepdim=True, unbiased=False)
        self.means.lerp_(m, self.mom); self.vars.lerp_(v, self.mom)
        self.seen += 1
        return m, v
    def forward(self, x):
        if self.training:
            with torch.no_grad(): m, v = self.update_stats(x)
        else: m, v = self.means, self.vars
        return (x - m) / (v + self.eps).sqrt() * self.mults + self.adds
class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__(); self.leak, self.sub, self.maxv = leak, sub, maxv
    def forward(self, x):
        x = F.leaky_relu(x, self.leak) if self.leak else F.relu(x)
        if self.sub: x -= self.sub
        if self.maxv: x.clamp_max_(self.maxv)
        return x
def conv(ni, nf, ks=3, stride=2, act=True):
    layers = [nn.Conv2d(ni, nf, ks, stride=stride, padding=ks // 2, bias=False), BatchNorm2d(nf)]
    if act: layers.append(GeneralRelu(0.1, 0.4, 6.))
    return nn.Sequential(*layers)
def get_model():
    return nn.Sequential(conv(1, 4), conv(4, 8), conv(8, 3, act=False), nn.AdaptiveAvgPool2d(1), nn.Flatten())
def init_cnn(m, leaky=0.):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        w = np.random.default_rng(m.weight.numel()).normal(size=tuple(m.weight.shape))
        with torch.no_grad():
            m.weight.copy_(data(w) * math.sqrt(2 / (1 + leaky ** 2) / m.weight[0].numel()))
model = get_model()
model.apply(partial(init_cnn, leaky=0.1))
results["init_stds"] = [m.weight.std() for m in model.modules() if isinstance(m, nn.Conv2d)]
results["buffers"] = [n for n, _ in model.named_buffers()]
results["sd_keys"] = list(model.state_dict())

class Hooks(list):
    def __init__(self, ms, f): super().__init__([m.register_forward_hook(partial(f, i)) for i, m in enumerate(ms)])
    def __enter__(self, *a): return self
    def __exit__(self, *a):
        for h in self: h.remove()
stats = {}
def get_stats(i, mod, inp, outp):
    stats.setdefault(i,
                     []).append((outp.mean().item(), outp.std().item(), (outp.abs() < 1e-2).float().mean().item(),
                                 inp[0].shape[1]))
pre_seen = []
ph = model[0].register_forward_pre_hook(lambda mod, inp: pre_seen.append(list(inp[0].shape)))
opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, weight_decay=1e-3)
sampler = BatchSampler(SequentialSampler(range(30)), batch_size=8, drop_last=False)
dl = DataLoader(TensorDataset(X, Y), batch_sampler=sampler)
results["n_batches"] = len(dl)
losses = []
with Hooks([m for m in model if isinstance(m, nn.Sequential)], get_stats) as hooks:
    for ep in range(2):
        model.train()
        for xb, yb in dl:
            loss = F.cross_entropy(model(xb), yb, label_smoothing=0.1)
            loss.backward(); opt.step(); opt.zero_grad()
            losses.append(loss.item())
ph.remove()
results["losses"] = losses
results["stats"] = [stats[i] for i in sorted(stats)]
results["hooks_gone"] = [len(m._forward_hooks) for m in model]
results["pre_seen"] = pre_seen
results["bn_means"] = [m.means for m in model.modules() if isinstance(m, BatchNorm2d)]
results["bn_seen"] = [m.seen for m in model.modules() if isinstance(m, BatchNorm2d)]
results["momentum_buf"] = opt.state[model[0][0].weight]["momentum_buffer"]
model.eval()
with torch.no_grad():
    results["eval_out"] = model(X[:4])
results["train_flags"] = [m.training for m in model.modules()][:4]

# LR finder with exponential growth and restoring state
init_state = {k: v.clone() for k, v in model.state_dict().items()}
model.train()
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
lrs, lf_losses, best = [], [], float('inf')
for i, (xb, yb) in enumerate(DataLoader(TensorDataset(X, Y), batch_size=6)):
    loss = F.cross_entropy(model(xb), yb)
    lrs.append(opt.param_groups[0]['lr']); lf_losses.append(loss.item())
    best = min(best, loss.item())
    if math.isnan(loss.item()) or loss.item() > best * 4: break
    loss.backward(); opt.step(); opt.zero_grad()
    opt.param_groups[0]['lr'] *= 10
results["lf"] = [lrs, lf_losses]
model.load_state_dict(init_state)
results["restored"] = all(torch.equal(v, init_state[k]) for k, v in model.state_dict().items())
results["adam_state_keys"] = sorted(opt.state_dict()["state"][0].keys())
results["adam_step"] = opt.state_dict()["state"][0]["step"]
# randperm batching with a generator
g = torch.Generator().manual_seed(42)
perm = torch.randperm(30, generator=g)
results["perm_ok"] = [sorted(perm.tolist()) == list(range(30)), perm.dtype == torch.int64]
g2 = torch.Generator().manual_seed(42)
results["perm_repro"] = torch.equal(perm, torch.randperm(30, generator=g2))
rs = list(RandomSampler(range(10), generator=torch.Generator().manual_seed(1)))
results["rs"] = sorted(rs)
results["randperm_dtype"] = torch.randperm(4, dtype=torch.float64).dtype == torch.float64
results["randperm_bad"] = [refusal(lambda: torch.randperm(-1)), refusal(lambda: torch.randperm(3.0))]
# unfold-based conv check (im2col)
w = model[0][0].weight.detach()
xp = F.pad(X[:2], (1, 1, 1, 1))
cols = xp.unfold(2, 3, 2).unfold(3, 3, 2)  # N, C, oh, ow, 3, 3
manual = torch.einsum('ncijkl,ockl->noij', cols, w)
results["im2col_conv"] = [manual, F.conv2d(X[:2], w, stride=2, padding=1)]
@torch.no_grad()
def evaluate(model, x):
    return model(x).softmax(-1), torch.is_grad_enabled()
results["eval_dec"] = evaluate(model, X[:3])
class M2(nn.Module):
    @torch.no_grad()
    def predict(self, x): return x * 2
    @torch.inference_mode()
    def predict2(self, x): return x * 2
xx = torch.ones(2, requires_grad=True)
results["nograd_method"] = [M2().predict(xx).requires_grad, M2().predict2(xx).requires_grad, torch.is_grad_enabled()]
with torch.set_grad_enabled(False):
    results["sge"] = (xx * 2).requires_grad
"""

LLM_GPT_TRAINING_AND_LORA = """\
# "LLM from scratch" style, part 1: word ids from a dict, a sliding-window Dataset, causal multi-head attention
# with a triu mask buffer and masked_fill_(-torch.inf), a GPT block with LayerNorm and tanh-GELU by hand, weight
# tying, parameter counts by numel, AdamW with and without weight decay per group, a LambdaLR warmup + cosine,
# clip_grad_norm_, then LoRA (x @ A @ B * alpha) swapped into every Linear of the frozen model and trained.

from torch.utils.data import DataLoader, Dataset
text = "the cat sat on the mat and the dog sat on the log while the cat ran to the dog"
words = text.split()
vocab = {w: i for i, w in enumerate(sorted(set(words)))}
inv = {i: w for w, i in vocab.items()}
ids = [vocab[w] for w in words]
results["vocab_size"] = len(vocab)
class WindowDS(Dataset):
    def __init__(self, ids, ctx, stride):
        self.inputs, self.targets = [], []
        for i in range(0, len(ids) - ctx, stride):
            self.inputs.append(torch.tensor(ids[i:i + ctx]))
            self.targets.append(torch.tensor(ids[i + 1:i + ctx + 1]))
    def __len__(self): return len(self.inputs)
    def __getitem__(self, i): return self.inputs[i], self.targets[i]
ds = WindowDS(ids, 6, 2)
results["ds_len"] = len(ds)
results["ds_item"] = ds[3]
dl = DataLoader(ds, batch_size=4, shuffle=False, drop_last=True)
xb, yb = next(iter(dl))
results["batch"] = [xb, yb, xb.dtype == torch.long]

rng = np.random.default_rng(1272)
V, C, E, H = len(vocab), 8, 12, 3
def fill(module):
    with torch.no_grad():
        for n, p in sorted(module.named_parameters()):
            p.copy_(data(rng.normal(scale=0.2, size=tuple(p.shape))))

class LayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.eps = 1e-5
        self.scale = nn.Parameter(torch.ones(d)); self.shift = nn.Parameter(torch.zeros(d))
    def forward(self, x):
        mu = x.mean(dim=-1, keepdim=True)
        sigma2 = x.var(dim=-1, keepdim=True, unbiased=False)
        normed = (x - mu) / torch.sqrt(sigma2 + self.eps)
        return normed * self.scale + self.shift
class GELU(nn.Module):
    def forward(self, x):
        c = torch.sqrt(torch.tensor(2.0 / torch.pi))
        return 0.5 * x * (1.0 + torch.tanh(c * (x + 0.044715 * torch.pow(x, 3))))
class CausalAttention(nn.Module):
    def __init__(self, d, ctx, heads, bias=False):
        super().__init__()
        self.h, self.hd = heads, d // heads
        self.W_query = nn.Linear(d, d,
                                 bias=bias); self.W_key = nn.Linear(d, d,
                                                                    bias=bias); self.W_value = nn.Linear(d, d,
                                                                                                         bias=bias)
        self.out_proj = nn.Linear(d, d)
        self.dropout = nn.Dropout(0.0)
        self.register_buffer('mask', torch.triu(torch.ones(ctx, ctx), diagonal=1))
    def forward(self, x):
        b, n, d = x.shape
        q = self.W_query(x).view(b, n, self.h, self.hd).transpose(1, 2)
        k = self.W_key(x).view(b, n, self.h, self.hd).transpose(1, 2)
        v = self.W_value(x).view(b, n, self.h, self.hd).transpose(1, 2)
        att = q @ k.transpose(2, 3)
        att.masked_fill_(self.mask.bool()[:n, :n], -torch.inf)
        w = torch.softmax(att / k.shape[-1] ** 0.5, dim=-1)
        w = self.dropout(w)
        ctxv = (w @ v).transpose(1, 2).contiguous().view(b, n, d)
        return self.out_proj(ctxv)
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.att = CausalAttention(E, C, H)
        self.ff = nn.Sequential(nn.Linear(E, 4 * E), GELU(), nn.Linear(4 * E, E))
        self.norm1, self.norm2 = LayerNorm(E), LayerNorm(E)
    def forward(self, x):
        x = x + self.att(self.norm1(x))
        return x + self.ff(self.norm2(x))
class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(V, E); self.pos_emb = nn.Embedding(C, E)
        self.blocks = nn.Sequential(*[Block() for _ in range(2)])
        self.final_norm = LayerNorm(E)
        self.out_head = nn.Linear(E, V, bias=False)
        self.out_head.weight = self.tok_emb.weight
    def forward(self, idx):
        b, n = idx.shape
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(n, device=idx.device))
        return self.out_head(self.final_norm(self.blocks(x)))
model = GPT()
fill(model)
results["n_params"] = sum(p.numel() for p in model.parameters())
results["n_params_dedup"] = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
results["n_named"] = len(list(model.named_parameters()))
results["n_named_dup"] = len(list(model.named_parameters(remove_duplicate=False)))
results["n_trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
results["tied"] = model.out_head.weight is model.tok_emb.weight
results["sd_keys"] = list(model.state_dict().keys())
results["buffers"] = [n for n, _ in model.named_buffers()]
results["mask_dtype_float"] = model.blocks[0].att.mask.dtype == torch.float64
logits = model(xb)
results["logits"] = logits
loss = F.cross_entropy(logits.flatten(0, 1), yb.flatten())
results["loss0"] = loss
gelu_x = torch.linspace(-3, 3, 13)
results["gelu_vs_F"] = [GELU()(gelu_x), F.gelu(gelu_x, approximate='tanh'), nn.GELU(approximate='tanh')(gelu_x)]
emb = model.tok_emb(xb)
results["ln_vs_F"] = [LayerNorm(E)(emb), F.layer_norm(emb, (E,)), nn.LayerNorm(E)(emb)]

decay, no_decay = [], []
for n, p in model.named_parameters():
    (decay if p.dim() >= 2 else no_decay).append(p)
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}], lr=3e-3,
                        betas=(0.9, 0.95))
warmup, total = 3, 12
def lr_lambda(step):
    if step < warmup: return (step + 1) / warmup
    prog = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * prog))
sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
results["lr_initial"] = [g['lr'] for g in opt.param_groups] + [g['initial_lr'] for g in opt.param_groups]
losses, lrs, norms = [], [], []
step = 0
for epoch in range(3):
    model.train()
    for xb, yb in dl:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb).view(-1, V), yb.view(-1))
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0))
        opt.step(); sched.step()
        losses.append(loss.item()); lrs.append(sched.get_last_lr()[0])
        step += 1
results["losses"] = losses
results["lrs"] = lrs
results["norms"] = norms
results["sched_state"] = {k: v for k, v in sched.state_dict().items() if not k.startswith("_get") and k != "lr_lambdas"}
results["opt_state_step"] = [opt.state[p]['step'] for p in decay[:2]]
results["w_after"] = model.out_head.weight

class LoRALayer(nn.Module):
    def __init__(self, din, dout, rank, alpha):
        super().__init__()
        self.A = nn.Parameter(torch.empty(din, rank))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = nn.Parameter(torch.zeros(rank, dout))
        self.alpha = alpha
    def forward(self, x):
        return self.alpha * (x @ self.A @ self.B)
class LinearWithLoRA(nn.Module):
    def __init__(self, linear, rank, alpha):
        super().__init__()
        self.linear = linear
        self.lora = LoRALayer(linear.in_features, linear.out_features, rank, alpha)
    def forward(self, x): return self.linear(x) + self.lora(x)
def replace_linear(model, rank, alpha):
    for name, module in model.named_children():
        if isinstance(module, nn.Linear):
            setattr(model, name, LinearWithLoRA(module, rank, alpha))
        else:
            replace_linear(module, rank, alpha)
for p in model.parameters(): p.requires_grad = False
results["frozen"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
replace_linear(model, 2, 4)
with torch.no_grad():
    for n, p in model.named_parameters():
        if n.endswith('.A'): p.copy_(data(rng.normal(size=tuple(p.shape))))
results["lora_trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
results["lora_names"] = [n for n, p in model.named_parameters() if p.requires_grad]
results["lora_out_same"] = torch.allclose(model(xb), model(xb))
opt2 = torch.optim.AdamW((p for p in model.parameters() if p.requires_grad), lr=1e-2, weight_decay=0.01)
for _ in range(3):
    opt2.zero_grad()
    l2 = F.cross_entropy(model(xb).transpose(1, 2), yb)
    l2.backward(); opt2.step()
results["lora_loss"] = l2
results["lora_B"] = model.blocks[0].att.out_proj.lora.B
results["frozen_grad_none"] = model.tok_emb.weight.grad is None
"""

LLM_GENERATION_AND_SAMPLING = """\
# Part 2: greedy generation under eval() and no_grad with argmax(keepdim=True) and torch.cat, top-k and
# temperature sampling with a Generator (checked by membership in the top k, reproducibility and counts within
# 7 sigma), topk/where/masked_fill with -inf, multinomial's refusals, mask building with triu/tril.

rng = np.random.default_rng(1273)
V, E, C = 9, 6, 5
emb = nn.Embedding(V, E)
head = nn.Linear(E, V)
with torch.no_grad():
    emb.weight.copy_(data(rng.normal(size=(V, E))))
    head.weight.copy_(data(rng.normal(size=(V, E))))
    head.bias.copy_(data(rng.normal(size=V)))
class Tiny(nn.Module):
    def __init__(self):
        super().__init__(); self.emb, self.head = emb, head
    def forward(self, idx):
        h = self.emb(idx).cumsum(dim=1) / torch.arange(1, idx.shape[1] + 1).unsqueeze(-1)
        return self.head(torch.tanh(h))
model = Tiny()
def generate_greedy(model, idx, max_new, ctx):
    for _ in range(max_new):
        cond = idx[:, -ctx:]
        with torch.no_grad():
            logits = model(cond)
        logits = logits[:, -1, :]
        probas = torch.softmax(logits, dim=-1)
        nxt = torch.argmax(probas, dim=-1, keepdim=True)
        idx = torch.cat((idx, nxt), dim=1)
    return idx
model.eval()
start = torch.tensor([[1, 4], [0, 7]])
out = generate_greedy(model, start, 8, C)
results["greedy"] = out
results["greedy_dtype"] = out.dtype == torch.int64
results["argmax_kd_shape"] = [list(torch.argmax(torch.ones(2, 3), dim=-1, keepdim=True).shape),
                              list(torch.ones(2, 3).argmax(dim=0, keepdim=True).shape)]
results["argmax_flat"] = torch.argmax(torch.tensor([[1., 5.], [7., 2.]]))
results["argmax_kd_none"] = torch.argmax(torch.tensor([[1., 5.], [7., 2.]]), keepdim=True)

def generate(model, idx, max_new, ctx, temperature=0.0, top_k=None, eos_id=None, gen=None):
    for _ in range(max_new):
        with torch.no_grad():
            logits = model(idx[:, -ctx:])[:, -1, :]
        if top_k is not None:
            top_logits, _ = torch.topk(logits, top_k)
            min_val = top_logits[:, -1]
            logits = torch.where(logits < min_val[:, None], torch.tensor(float('-inf')).to(logits.device), logits)
        if temperature > 0.0:
            logits = logits / temperature
            probs = torch.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs, num_samples=1, generator=gen)
        else:
            nxt = torch.argmax(logits, dim=-1, keepdim=True)
        if eos_id is not None and (nxt == eos_id).all():
            break
        idx = torch.cat((idx, nxt), dim=1)
    return idx
results["gen_greedy_same"] = torch.equal(generate(model, start, 8, C), out)
g = torch.Generator().manual_seed(123)
samp = generate(model, start, 6, C, temperature=1.4, top_k=3, gen=g)
results["samp_shape"] = list(samp.shape)
# top_k sampling only picks from the top 3 each step
ok = True
idx = start
for t in range(6):
    with torch.no_grad():
        lg = model(idx[:, -C:])[:, -1, :]
    top = torch.topk(lg, 3).indices
    ok = ok and bool((top == samp[:, 2 + t:3 + t]).any(dim=1).all())
    idx = samp[:, :3 + t]
results["samp_in_topk"] = ok
g1 = torch.Generator().manual_seed(5); g2 = torch.Generator().manual_seed(5)
results["gen_repro"] = torch.equal(generate(model, start, 5, C, 1.0, None, None, g1),
                                   generate(model, start, 5, C, 1.0, None, None, g2))
results["eos_stop"] = list(generate(model, start[:1], 8, C, eos_id=int(out[0, 2])).shape)
lg = data(rng.normal(size=(2, V)))
tv = torch.topk(lg, 4)
results["topk"] = [tv.values, tv.indices, torch.topk(lg, 2, dim=0).values, torch.topk(lg, 3, largest=False).indices,
                   torch.topk(lg, 3, sorted=True).values]
values, indices = tv
results["topk_unpacked"] = [len(tv), torch.equal(values, tv[0]), torch.equal(indices, tv.indices)]
results["topk_bad"] = refusal(lambda: torch.topk(lg, V + 1))
results["where_inf"] = torch.where(lg < 0, torch.tensor(float('-inf')), lg)
results["masked_inf"] = lg.masked_fill(lg < 0, -torch.inf)
results["softmax_inf"] = torch.softmax(lg.masked_fill(lg < 0, -torch.inf) / 0.7, dim=-1)
# multinomial statistics: 200000 draws, each count within 6 sigma of expectation
probs = torch.softmax(lg[0] / 0.5, dim=-1)
gen = torch.Generator().manual_seed(0)
draws = torch.multinomial(probs, 200000, replacement=True, generator=gen)
counts = torch.bincount(draws, minlength=V).double()
expect = probs * 200000
results["multinomial_stats_ok"] = bool(((counts - expect).abs() <= 7 * (expect * (1 - probs)).sqrt() + 1).all())
results["multinomial_dtype"] = draws.dtype == torch.int64
results["multinomial_norep"] = torch.multinomial(torch.ones(2, 5), 5, generator=gen).sort(dim=1).values
results["multinomial_zero"] = bool((torch.multinomial(torch.tensor([0., 1., 0., 2.]), 100,
                                                      replacement=True) % 2 == 1).all())
results["multinomial_bad"] = [refusal(lambda: torch.multinomial(torch.ones(3), 4)),
                              refusal(lambda: torch.multinomial(torch.tensor([-1., 2.]), 1)),
                              refusal(lambda: torch.multinomial(torch.zeros(3), 1)),
                              refusal(lambda: torch.multinomial(torch.tensor([1., float('nan')]), 1)),
                              refusal(lambda: torch.multinomial(torch.tensor([1., float('inf')]), 1)),
                              refusal(lambda: torch.multinomial(torch.ones(2, 2, 2), 1)),
                              refusal(lambda: torch.multinomial(torch.ones(3), 0))]
results["multinomial_1d_shape"] = list(torch.multinomial(torch.ones(4), 2).shape)
results["gen_api"] = [g.initial_seed(), torch.Generator().manual_seed(7).initial_seed(),
                      type(torch.Generator().manual_seed(1)).__name__]
results["mask_build"] = [torch.triu(torch.ones(4, 4), diagonal=1), torch.tril(torch.ones(3, 3)).bool(),
                         torch.triu(torch.ones(2, 3, 3), 1), torch.ones(4, 4).triu(-1)]
att = data(rng.normal(size=(1, 2, 4, 4)))
m = torch.triu(torch.ones(6, 6), diagonal=1)
att2 = att.clone()
r = att2.masked_fill_(m.bool()[:4, :4], -torch.inf)
results["masked_fill_inplace"] = [r is att2, att2, torch.softmax(att2, -1)]
results["masked_fill_bad"] = [refusal(lambda: att.clone().masked_fill_(m[:4, :4], 0.0)),
                              refusal(lambda: att.clone().masked_fill_(m.bool(), 0.0)),
                              refusal(lambda: att.clone().masked_fill_(m.bool()[:4, :4], torch.tensor([1., 2.])))]
results["inf_consts"] = [torch.inf, -torch.inf, torch.pi, torch.e, math.isnan(torch.nan)]
results["argmax_ties"] = torch.argmax(torch.tensor([[1., 3., 3.], [2., 2., 0.]]), dim=-1, keepdim=True)
results["cat_bad"] = [refusal(lambda: torch.cat((start, torch.ones(2, 1)), dim=1)),
                      refusal(lambda: torch.cat((start, torch.ones(3, 1, dtype=torch.long)), dim=1)),
                      refusal(lambda: torch.cat([]))]
results["cat_promote"] = torch.cat((start, torch.ones(2, 1)), dim=1)
results["cat_int32"] = torch.cat((start, torch.ones(2, 1, dtype=torch.int32)), dim=1).dtype == torch.int64
"""

LLM_CHECKPOINT_AND_SCHEDULES = """\
# Part 3: a nanoGPT-like split qkv attention (tril buffer, persistent=False) checked against
# scaled_dot_product_attention(is_causal=True), padded batches with ignore_index, AdamW groups, LinearLR warmup
# then CosineAnnealingLR in SequentialLR, clip_grad_norm_ (2 and inf) and clip_grad_value_, a checkpoint
# of model, optimizer and scheduler saved, loaded and resumed to the same bits, LambdaLR with one lambda a group.

from torch.optim.lr_scheduler import LambdaLR, LinearLR, CosineAnnealingLR, SequentialLR
from torch.nn.utils.rnn import pad_sequence
rng = np.random.default_rng(1274)
V, E, T, H = 7, 8, 5, 2
class MHA(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(E, 3 * E)
        self.proj = nn.Linear(E, E)
        self.register_buffer("causal", torch.tril(torch.ones(T, T)).view(1, 1, T, T), persistent=False)
    def forward(self, x, use_sdpa=False):
        B, n, _ = x.size()
        q, k, v = self.qkv(x).split(E, dim=2)
        q, k, v = [t.view(B, n, H, E // H).transpose(1, 2) for t in (q, k, v)]
        if use_sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.causal[:, :, :n, :n] == 0, float('-inf'))
            y = F.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(B, n, E))
class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, E, padding_idx=0)
        self.att = MHA()
        self.ln = nn.LayerNorm(E)
        self.lm_head = nn.Linear(E, V, bias=False)
        self.wte.weight = self.lm_head.weight
    def forward(self, idx, targets=None, use_sdpa=False):
        x = self.wte(idx)
        x = x + self.att(self.ln(x), use_sdpa)
        logits = self.lm_head(x)
        loss = None if targets is None else F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-1)
        return logits, loss
def build():
    m = LM()
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.copy_(data(np.random.default_rng(len(n)).normal(scale=0.3, size=tuple(p.shape))))
    return m
model = build()
seqs = [torch.tensor([1, 2, 3, 4, 5]), torch.tensor([3, 1, 2]), torch.tensor([6, 5, 4, 2])]
padded = pad_sequence(seqs, batch_first=True, padding_value=0)
targets = pad_sequence([torch.cat([s[1:], torch.tensor([-1])]) for s in seqs], batch_first=True, padding_value=-1)
results["padded"] = [padded, targets]
logits, loss = model(padded, targets)
_, loss_sdpa = model(padded, targets, use_sdpa=True)
results["loss"] = [loss, loss_sdpa]
results["sd_keys"] = list(model.state_dict())
results["padding_row"] = model.wte.weight[0]
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
results["groups_numel"] = [sum(p.numel() for p in decay), sum(p.numel() for p in nodecay)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}], lr=1e-2,
                        betas=(0.9, 0.95), eps=1e-8)
warm = LinearLR(opt, start_factor=0.1, total_iters=3)
cos = CosineAnnealingLR(opt, T_max=6, eta_min=1e-4)
sched = SequentialLR(opt, [warm, cos], milestones=[3])
lrs, losses, norms, gnorm_inf = [], [], [], []
for it in range(9):
    _, loss = model(padded, targets)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if it == 4:
        gnorm_inf.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.05, norm_type=float('inf')))
    elif it == 5:
        torch.nn.utils.clip_grad_value_(model.parameters(), 0.01)
    else:
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5))
    opt.step(); sched.step()
    lrs.append([g["lr"] for g in opt.param_groups]); losses.append(loss.item())
results["lrs"] = lrs
results["losses"] = losses
results["norms"] = norms + gnorm_inf
results["padding_row_after"] = model.wte.weight[0]
# checkpoint and resume
path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "iter": 9},
           path)
ck = torch.load(path, weights_only=False)
model2 = build()
model2.load_state_dict(ck["model"])
results["tied_after_load"] = model2.wte.weight is model2.lm_head.weight
opt2 = torch.optim.AdamW([{"params": [p for p in model2.parameters() if p.dim() >= 2], "weight_decay": 0.1},
                          {"params": [p for p in model2.parameters() if p.dim() < 2], "weight_decay": 0.0}],
                         lr=1e-2, betas=(0.9, 0.95))
opt2.load_state_dict(ck["optimizer"])
results["opt_state"] = [ck["optimizer"]["param_groups"][0]["weight_decay"], sorted(ck["optimizer"]["state"][0].keys())]
for m, o in ((model, opt), (model2, opt2)):
    _, l = m(padded, targets); o.zero_grad(); l.backward(); o.step()
results["resumed_same"] = [torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters())]
results["resumed_w"] = model2.lm_head.weight
# lambdalr with two lambdas
o3 = torch.optim.AdamW([{"params": [nn.Parameter(torch.ones(2))]}, {"params": [nn.Parameter(torch.ones(3))]}], lr=0.1,
                       weight_decay=0.5)
s3 = LambdaLR(o3, [lambda s: 0.5 ** s, lambda s: min(1.0, (s + 1) / 4)])
got = []
for _ in range(5):
    o3.param_groups[0]["params"][0].grad = torch.ones(2); o3.param_groups[1]["params"][0].grad = -torch.ones(3)
    o3.step(); s3.step(); got.append(s3.get_last_lr())
results["lambda2"] = got
results["adamw_params"] = [o3.param_groups[0]["params"][0], o3.param_groups[1]["params"][0]]
shown_keys = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
results["adamw_defaults"] = {k: v for k, v in o3.defaults.items() if k in shown_keys}
results["clip_bad"] = refusal(lambda: torch.nn.utils.clip_grad_norm_([nn.Parameter(torch.ones(2))], 1.0,
                                                                     error_if_nonfinite=True))
pn = nn.Parameter(torch.ones(2)); pn.grad = torch.tensor([float('nan'), 1.0])
results["clip_nan"] = refusal(lambda: torch.nn.utils.clip_grad_norm_([pn], 1.0, error_if_nonfinite=True))
pi_ = nn.Parameter(torch.ones(2)); pi_.grad = torch.tensor([3.0, 4.0])
results["clip_single"] = [torch.nn.utils.clip_grad_norm_(pi_, 1.0), pi_.grad,
                          torch.nn.utils.get_total_norm([pi_.grad]) if hasattr(torch.nn.utils,
                                                                               "get_total_norm") else None]
qq = data(rng.normal(size=(1, 2, 4, 3)))
causal_mask = torch.tril(torch.ones(4, 4)).bool()
results["sdpa_mask_vs_causal"] = [F.scaled_dot_product_attention(qq, qq, qq, attn_mask=causal_mask),
                                  F.scaled_dot_product_attention(qq, qq, qq, is_causal=True)]
"""

COURSE_EDGES_AND_MISUSE = """\
# The calls both styles lean on, at their edges: unfold, triu/tril, masked_fill, var/std, lerp_, argmax/topk,
# multinomial, cat, torch.tensor of ids, GELU, label smoothing, collate, DataLoader, save/load, register_buffer,
# clip_grad_norm_, AdamW and LambdaLR arguments: each call's shape, dtype and value, or the exception's class.

import io, collections
from torch.utils.data import DataLoader, default_collate
rng = np.random.default_rng(1276)
a = data(rng.normal(size=(3, 4)))
t = torch.arange(6.)
def sgd():
    return torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=1.)
def clipped(generator=False, **options):
    p = nn.Parameter(torch.ones(2))
    p.grad = torch.tensor([3., -4.])
    return torch.nn.utils.clip_grad_norm_((q for q in [p]) if generator else p, **options), p.grad
def scheduler_before_optimizer():
    optimizer = sgd()
    torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 ** s).step()
    optimizer.step()
cases = {
 "unfold_neg_dim": lambda: a.unfold(-1, 2, 2),
 "unfold_0d": lambda: torch.tensor(3.).unfold(0, 1, 1),
 "unfold_size0": lambda: t.unfold(0, 0, 1),
 "unfold_full": lambda: t.unfold(0, 6, 6),
 "unfold_dim_out": lambda: t.unfold(1, 2, 1),
 "unfold_neg_step": lambda: t.unfold(0, 2, -1),
 "unfold_int": lambda: torch.arange(5).unfold(0, 2, 1),
 "triu_rect": lambda: torch.triu(torch.ones(3, 5), diagonal=2),
 "triu_neg": lambda: torch.triu(torch.ones(4, 3), -2),
 "triu_int": lambda: torch.triu(torch.ones(3, 3, dtype=torch.int64), 1),
 "triu_bool": lambda: torch.triu(torch.ones(3, 3, dtype=torch.bool), 1),
 "triu_1d": lambda: torch.triu(torch.ones(3)),
 "tril_big": lambda: torch.tril(torch.ones(2, 3), 10),
 "triu_": lambda: torch.ones(3, 3).triu_(1),
 "mf_uint8": lambda: a.masked_fill(torch.ones(3, 4, dtype=torch.uint8), 0.),
 "mf_float": lambda: a.masked_fill(torch.ones(3, 4), 0.),
 "mf_bcast_big": lambda: a.clone().masked_fill_(torch.ones(2, 3, 4, dtype=torch.bool), 0.),
 "mf_bcast_big_oop": lambda: a.masked_fill(torch.ones(2, 3, 4, dtype=torch.bool), 0.),
 "mf_value_tensor": lambda: a.masked_fill(a > 0, torch.tensor(-1.)),
 "mf_value_int_tensor_long": lambda: torch.arange(4).masked_fill(torch.tensor([True, False, True, False]), 2.5),
 "mf_inf_long": lambda: torch.arange(4).masked_fill(torch.tensor([True, False, True, False]), -torch.inf),
 "mf_value_1elem": lambda: a.masked_fill(a > 0, torch.tensor([7.])),
 "var_single": lambda: torch.ones(1, 3).var(0),
 "var_single_biased": lambda: torch.ones(1, 3).var(0, unbiased=False),
 "std_single": lambda: torch.ones(1).std(),
 "var_int": lambda: torch.arange(4).var(),
 "var_kd": lambda: a.var(dim=-1, keepdim=True, unbiased=False),
 "var_correction2": lambda: a.var(1, correction=2),
 "mean_kd_neg": lambda: a.mean(dim=-1, keepdim=True),
 "mean_tuple": lambda: a.mean(dim=(-1, 0)),
 "lerp_w2": lambda: a.clone().lerp_(torch.zeros(3, 4), 2.0),
 "lerp_bcast": lambda: torch.zeros(1, 4).lerp_(a, 0.5),
 "lerp_int_w": lambda: a.clone().lerp_(torch.zeros(3, 4), 1),
 "lerp_tensor_w": lambda: a.clone().lerp(torch.zeros(3, 4), torch.tensor(0.25)),
 "lerp_dtype": lambda: a.clone().lerp_(torch.zeros(3, 4, dtype=torch.float32), 0.5),
 "lerp_self_small": lambda: torch.zeros(4).lerp_(a, 0.5),
 "argmax_kd": lambda: torch.argmax(a, dim=-1, keepdim=True),
 "argmax_int": lambda: torch.argmax(torch.tensor([[1, 5], [7, 2]]), 1, True),
 "topk_0": lambda: torch.topk(a, 0),
 "topk_ties": lambda: torch.topk(torch.tensor([1., 2., 2., 1.]), 2).indices,
 "topk_int": lambda: torch.topk(torch.tensor([3, 1, 2]), 2).values,
 "topk_neg": lambda: torch.topk(a, -1),
 "topk_dim": lambda: a.topk(2, dim=0, largest=False)[1],
 "multi_norep2d": lambda: torch.multinomial(torch.tensor([[0., 1.], [1., 0.]]), 1),
 "multi_f16": lambda: torch.multinomial(torch.tensor([0., 1.], dtype=torch.float16), 1),
 "multi_gen_type": lambda: torch.multinomial(torch.ones(3), 1, generator=5),
 "multi_num_float": lambda: torch.multinomial(torch.ones(3), 1.0),
 "cat_empty_1d": lambda: torch.cat([torch.tensor([]), torch.ones(2, 2)]),
 "cat_neg_dim": lambda: torch.cat([a, a], dim=-1).shape,
 "cat_tuple_one": lambda: torch.cat((a,)),
 "cat_dim_out": lambda: torch.cat([a, a], dim=2),
 "cat_0d": lambda: torch.cat([torch.tensor(1.), torch.tensor(2.)]),
 "tensor_ids_list": lambda: torch.tensor([[1, 2], [3, 4]]),
 "tensor_ragged": lambda: torch.tensor([[1, 2], [3]]),
 "tensor_dtype_long": lambda: torch.tensor([1, 2], dtype=torch.long),
 "tensor_mixed": lambda: torch.tensor([1, 2.5]),
 "tensor_bool_int": lambda: torch.tensor([True, 2]),
 "tensor_np_int32": lambda: torch.tensor(np.array([1, 2], dtype=np.int32)),
 "tensor_empty_list": lambda: torch.tensor([]),
 "tensor_str": lambda: torch.tensor(["a"]),
 "tensor_None": lambda: torch.tensor([None]),
 "tensor_big_int": lambda: torch.tensor([2**63]),
 "numel": lambda: [torch.numel(a), a.numel(), nn.Linear(3, 4).weight.numel(), torch.tensor(5.).numel(), a.nelement()],
 "gelu_tanh_bad": lambda: F.gelu(a, approximate='tan'),
 "gelu_tanh_int": lambda: F.gelu(torch.arange(3), approximate='tanh'),
 "gelu_kw_pos": lambda: nn.GELU('tanh')(a),
 "tanh_const": lambda: torch.tanh(torch.sqrt(torch.tensor(2.0 / torch.pi))),
 "pow_3": lambda: torch.pow(a, 3),
 "pow_scalar_base": lambda: torch.pow(2, a),
 "ls_3d": lambda: F.cross_entropy(a.view(1, 3, 4), torch.tensor([[0, 2, 1, -100]]), label_smoothing=0.2,
                                  reduction='none'),
 "ls_3d_sum": lambda: F.cross_entropy(a.view(1, 3, 4), torch.tensor([[0, 2, 1, -100]]), label_smoothing=0.2,
                                      reduction='sum', weight=torch.tensor([1., 2., 3.])),
 "ls_1d": lambda: F.cross_entropy(a[0], torch.tensor(2), label_smoothing=0.2),
 "ls_int": lambda: F.cross_entropy(a, torch.tensor([0, 1, 2]), label_smoothing=1),
 "ls_one": lambda: F.cross_entropy(a, torch.tensor([0, 1, 2]), label_smoothing=1.0),
 "ls_tensor": lambda: F.cross_entropy(a, torch.tensor([0, 1, 2]), label_smoothing=torch.tensor(0.1)),
 "collate_nt": lambda: default_collate([collections.namedtuple("P", "x y")(torch.ones(2), 1)] * 2),
 "collate_str": lambda: default_collate(["a", "b"]),
 "collate_np": lambda: default_collate([np.ones(2), np.zeros(2)]),
 "collate_np_scalar_int": lambda: default_collate([np.int32(1), np.int32(2)]),
 "collate_bool": lambda: default_collate([True, False]),
 "collate_ragged": lambda: default_collate([torch.ones(2), torch.ones(3)]),
 "collate_lists": lambda: default_collate([[1, 2], [3, 4]]),
 "collate_ragged_lists": lambda: default_collate([[1, 2], [3]]),
 "collate_none": lambda: default_collate([None, None]),
 "dl_collate_none": lambda: next(iter(DataLoader([1, 2, 3], batch_size=None))),
 "dl_pin": lambda: next(iter(DataLoader([torch.ones(2)], batch_size=1, pin_memory=True))),
 "dl_bs0": lambda: DataLoader([1, 2], batch_size=0),
 "dl_shuffle_sampler": lambda: DataLoader([1, 2], shuffle=True, sampler=[0, 1]),
 "dl_ints": lambda: next(iter(DataLoader([1, 2, 3], batch_size=2))),
 "dl_floats": lambda: next(iter(DataLoader([1.0, 2.0, 3.0], batch_size=2))),
 "dl_dicts": lambda: next(iter(DataLoader([{"ids": [1, 2]}, {"ids": [3, 4]}], batch_size=2))),
 "save_bytes": lambda: (lambda b: (torch.save({"w": a, "n": 3}, b), b.seek(0), torch.load(b))[2])(io.BytesIO()),
 "load_missing": lambda: torch.load("/nonexistent/x.pt"),
 "reg_buf_bad": lambda: nn.Module().register_buffer("x", 3),
 "reg_buf_dot": lambda: nn.Module().register_buffer("a.b", torch.ones(1)),
 "reg_buf_empty": lambda: nn.Module().register_buffer("", torch.ones(1)),
 "reg_buf_none": lambda: (lambda m: (m.register_buffer("x", None), list(m.state_dict()), m.x))(nn.Module()),
 "reg_buf_exists": lambda: (lambda m: m.register_buffer("weight", torch.ones(1)))(nn.Linear(1, 1)),
 "reg_buf_param_after": lambda: (lambda m: (m.register_buffer("x", torch.ones(1)),
                                            setattr(m, "x", nn.Parameter(torch.ones(1)))))(nn.Module()),
 "buf_assign_tensor": lambda: (lambda m: (m.register_buffer("x", torch.ones(1)), setattr(m, "x", torch.zeros(2)),
                                          list(m.state_dict().items())))(nn.Module()),
 "buf_assign_int": lambda: (lambda m: (m.register_buffer("x", torch.ones(1)), setattr(m, "x", 3)))(nn.Module()),
 "clip_empty": lambda: torch.nn.utils.clip_grad_norm_([], 1.0),
 "clip_norm0": lambda: clipped(max_norm=0.0),
 "clip_norm_type_str": lambda: clipped(max_norm=1.0, norm_type='inf'),
 "clip_norm1": lambda: clipped(max_norm=1.0, norm_type=1),
 "clip_gen": lambda: clipped(max_norm=1.0, generator=True),
 "adamw_neg_wd": lambda: torch.optim.AdamW([nn.Parameter(torch.ones(1))], weight_decay=-0.1),
 "adamw_neg_lr": lambda: torch.optim.AdamW([nn.Parameter(torch.ones(1))], lr=-0.1),
 "adamw_default_wd": lambda: torch.optim.AdamW([nn.Parameter(torch.ones(1))]).defaults["weight_decay"],
 "lambdalr_wrong_n": lambda: torch.optim.lr_scheduler.LambdaLR(sgd(), [lambda s: 1, lambda s: 2]),
 "lambdalr_last_epoch": lambda: torch.optim.lr_scheduler.LambdaLR(sgd(), lambda s: 1, last_epoch=3),
 "sched_before_opt": scheduler_before_optimizer,
 "get_last_lr_type": lambda: type(torch.optim.lr_scheduler.LambdaLR(sgd(), lambda s: 1).get_last_lr()).__name__,
}
for k, f in cases.items():
    results[k] = val(f)
"""

HOOKS_STATE_DICTS_EINSUM_AND_INIT = """\
# Both styles' plumbing: forward hooks (prepend, with_kwargs, one that replaces the output, as a context manager),
# pre-hooks, full backward hooks and tensor hooks, state_dict with non-persistent buffers, strict=False and
# keep_vars, torch.load(weights_only=True) of plain containers, nn.init's fillers (statistics and bounds only),
# einsum spellings and gradients, unfold views, param groups, and the gradients of triu/masked_fill/lerp/var/GELU.
rng = np.random.default_rng(1277)
a = data(rng.normal(size=(3, 3)))
b = data(rng.normal(size=(3, 4)))
calls = []
def hk(m, i, o): calls.append(("plain", o.shape[-1]))
def hk_kw(m, args, kwargs, o): calls.append(("kw", sorted(kwargs)))
def run_hooks():
    calls.clear()
    lin = nn.Linear(3, 2)
    h1 = lin.register_forward_hook(hk)
    h2 = lin.register_forward_hook(lambda m, i, o: calls.append("first"), prepend=True)
    h3 = lin.register_forward_hook(hk_kw, with_kwargs=True)
    h4 = lin.register_forward_hook(lambda m, i, o: o * 0)
    out = lin(a)
    h1.remove(); h1.remove(); h4.remove()
    out2 = lin(a)
    return [list(calls), out.abs().sum().item() == 0, out2.abs().sum().item() > 0, len(lin._forward_hooks)]
def ctx_hook():
    lin = nn.Linear(3, 2)
    with lin.register_forward_hook(lambda m, i, o: o + 1):
        x = lin(a)
    return [len(lin._forward_hooks), (x - lin(a)).mean().item()]
def pre_hook_replace():
    lin = nn.Linear(3, 2)
    lin.register_forward_pre_hook(lambda m, i: (i[0] * 0,))
    return lin(a) - lin.bias
def bwd_hook():
    got = []
    lin = nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi,
                                    go: got.append([g.shape if g is not None else None for g in gi] + [go[0].shape]))
    x = a.clone().requires_grad_()
    lin(x).sum().backward()
    return [[list(s) if s is not None else None for s in got[0]]]
def grad_hook():
    x = a.clone().requires_grad_()
    h = x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    return x.grad
def sd_stuff():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m[1].register_buffer("extra", torch.ones(1), persistent=False)
    sd = m.state_dict()
    r = m.load_state_dict({k: v for k, v in sd.items() if "running_var" not in k}, strict=False)
    kv = m.state_dict(keep_vars=True)
    return [list(sd), r.missing_keys, r.unexpected_keys, type(kv["0.weight"]).__name__, kv["0.weight"].requires_grad,
            sd["0.weight"].requires_grad]
def load_weights_only():
    buf = io.BytesIO()
    torch.save({"a": [1, 2.5, "x"], "t": torch.arange(3), "nested": {"k": (1, 2)}}, buf)
    buf.seek(0)
    got = torch.load(buf, weights_only=True, map_location="cpu")
    return [got["a"], got["t"], got["nested"]["k"]]
def load_strict_missing():
    return nn.Linear(2, 2).load_state_dict({"weight": torch.ones(2, 2)})
def init_fns():
    torch.manual_seed(0)
    w = torch.empty(3, 5)
    out = []
    out += [nn.init.zeros_(w).sum().item(), nn.init.ones_(w).sum().item(), nn.init.constant_(w, 0.3).sum().item()]
    e = nn.init.eye_(torch.empty(3, 5)); out.append(e.tolist())
    q = nn.init.orthogonal_(torch.empty(3, 5)); out.append(torch.allclose(q @ q.T, torch.eye(3), atol=1e-5))
    t = nn.init.trunc_normal_(torch.empty(1000), std=0.02, a=-0.04, b=0.04); out.append(bool((t.abs() <= 0.04).all()))
    x = nn.init.xavier_uniform_(torch.empty(20, 30)); out.append(bool((x.abs() <= math.sqrt(6 / 50)).all()))
    d = nn.init.dirac_(torch.empty(2, 2, 3)); out.append(d.tolist())
    return out
def sgd_of(p):
    return torch.optim.SGD([p], lr=0.1)
def lr_as_tensor():
    p = nn.Parameter(torch.ones(2))
    optimizer = sgd_of(p)
    optimizer.param_groups[0]['lr'] = torch.tensor(0.5)
    p.grad = torch.ones(2)
    optimizer.step()
    return p
def added_group():
    optimizer = torch.optim.AdamW([nn.Parameter(torch.ones(2))], lr=0.1)
    optimizer.add_param_group({"params": [nn.Parameter(torch.ones(1))], "lr": 0.5})
    return [sorted(g.keys()) for g in optimizer.param_groups]
def gradient(f, x):
    x = x.clone().requires_grad_()
    f(x).backward()
    return x.grad
causal3 = torch.triu(torch.ones(3, 3), 1).bool()
cases = {
 "hooks": run_hooks, "ctx_hook": ctx_hook, "pre_hook_replace": pre_hook_replace, "bwd_hook": bwd_hook,
 "grad_hook": grad_hook,
 "sd": sd_stuff, "weights_only": load_weights_only, "strict_missing": load_strict_missing, "init_fns": init_fns,
 "einsum_spaces": lambda: torch.einsum('i j , j k -> i k', a, b),
 "einsum_upper": lambda: torch.einsum('IJ,JK->IK', a, b),
 "einsum_diag": lambda: torch.einsum('ii->i', a),
 "einsum_list": lambda: torch.einsum('ij,jk', [a, b]),
 "einsum_implicit": lambda: torch.einsum('ij,jk', a, b),
 "einsum_implicit_order": lambda: torch.einsum('ba', a),
 "einsum_bad": lambda: torch.einsum('ij,jk->ik', a, a[:2]),
 "einsum_bad_count": lambda: torch.einsum('ij,jk->ik', a),
 "einsum_outer_ell": lambda: torch.einsum('...i,...j->...ij', b, b),
 "einsum_grad": lambda: (lambda x: (torch.einsum('ij,jk->', x, b).backward(), x.grad)[1])(a.clone().requires_grad_()),
 "unfold_leaf_inplace": lambda: (lambda x: x.unfold(0, 2, 1).mul_(2))(torch.arange(4.).requires_grad_()),
 "unfold_is_view": lambda: (lambda x: (x.unfold(0, 2, 2).zero_(), x)[1])(torch.arange(4.)),
 "unfold_contig": lambda: torch.arange(5.).unfold(0, 3, 1).is_contiguous(),
 "unfold_view_err": lambda: torch.arange(5.).unfold(0, 3, 1).view(-1),
 "unfold_reshape": lambda: torch.arange(5.).unfold(0, 3, 1).reshape(-1),
 "param_group_lr_tensor": lr_as_tensor,
 "add_param_group": added_group,
 "add_param_group_dup": lambda: (lambda p: sgd_of(p).add_param_group({"params": [p]}))(nn.Parameter(torch.ones(1))),
 "triu_grad": lambda: (lambda x: (torch.triu(x, 1).sum().backward(), x.grad)[1])(a.clone().requires_grad_()),
 "masked_fill_grad": lambda: gradient(lambda x: x.masked_fill(causal3, -torch.inf).softmax(-1).sum(0)[0], a),
 "masked_fill_inplace_leaf": lambda: a.clone().requires_grad_().masked_fill_(a > 0, 0.),
 "lerp_grad": lambda: gradient(lambda x: x.lerp(b[:, :3], 0.3).pow(2).sum(), a),
 "var_grad": lambda: (lambda x: (x.var(-1, unbiased=False).sum().backward(), x.grad)[1])(a.clone().requires_grad_()),
 "gelu_grad": lambda: (lambda x: (F.gelu(x, approximate='tanh').sum().backward(),
                                  x.grad)[1])(a.clone().requires_grad_()),
 "ls_grad_prob": lambda: (lambda x: (F.cross_entropy(x, a.softmax(0), label_smoothing=0.25).backward(),
                                     x.grad)[1])(a.clone().requires_grad_()),
}
for k, f in cases.items():
    results[k] = val(f)
"""

TOKEN_IDS_AND_LOSSES = """\
# The LLM programs' token-id habits: Embedding and cross_entropy with int32/uint8/float ids and ids out of range,
# 3-d logits in the wrong layout, pad/stack/gather/one_hot of ids, top-k scatter and top-p masks, a tensor used
# as a dict key, a range bound or a list index.
rng = np.random.default_rng(1278)
emb = nn.Embedding(10, 4)
with torch.no_grad(): emb.weight.copy_(data(rng.normal(size=(10, 4))))
ids = [3, 1, 4, 1, 5, 9, 2, 6]
z = data(rng.normal(size=(8, 10)))
def top_p_mask():
    sorted_probs, order = torch.softmax(z[:2], -1).sort(descending=True)
    beyond = (torch.cumsum(sorted_probs, -1) - sorted_probs > 0.5).to(z.dtype)
    return torch.zeros_like(z[:2]).scatter(1, order, beyond)
cases = {
 "emb_int32": lambda: emb(torch.tensor(ids, dtype=torch.int32)),
 "emb_float": lambda: emb(torch.tensor(ids, dtype=torch.float64)),
 "emb_oob": lambda: emb(torch.tensor([10])),
 "emb_neg": lambda: emb(torch.tensor([-1])),
 "ce_int32": lambda: F.cross_entropy(z, torch.tensor(ids, dtype=torch.int32)),
 "ce_uint8": lambda: F.cross_entropy(z, torch.tensor(ids, dtype=torch.uint8)),
 "ce_float_ids": lambda: F.cross_entropy(z, torch.tensor(ids, dtype=torch.float64)),
 "ce_oob": lambda: F.cross_entropy(z, torch.tensor([10] * 8)),
 "ce_3d_wrong": lambda: F.cross_entropy(z.view(2, 4, 10), torch.tensor(ids).view(2, 4)),
 "ce_3d_right": lambda: F.cross_entropy(z.view(2, 4, 10).transpose(1, 2), torch.tensor(ids).view(2, 4)),
 "unsq": lambda: torch.tensor(ids).unsqueeze(0),
 "pad_ids": lambda: F.pad(torch.tensor(ids), (0, 3), value=0),
 "pad_ids_neg": lambda: F.pad(torch.tensor(ids), (-2, 1), value=7),
 "stack_windows": lambda: torch.stack([torch.tensor(ids[i:i + 3]) for i in range(0, 6, 2)]),
 "stack_ragged": lambda: torch.stack([torch.tensor(ids[i:i + 3]) for i in range(0, 8, 2)]),
 "gather_logprobs": lambda: z.log_softmax(-1).gather(1, torch.tensor(ids).unsqueeze(1)).squeeze(1),
 "gather_int32": lambda: z.gather(1, torch.tensor(ids, dtype=torch.int32).unsqueeze(1)),
 "index_int32": lambda: z[torch.arange(8, dtype=torch.int32), torch.tensor(ids, dtype=torch.int32)],
 "one_hot_ids": lambda: F.one_hot(torch.tensor(ids), num_classes=10).sum(0),
 "arange_pos": lambda: torch.arange(8, device="cpu").unsqueeze(0).expand(2, -1),
 "softmax_temp0": lambda: torch.softmax(z[0] / 1e-12, -1),
 "topk_then_scatter": lambda: torch.full_like(z[:2],
                                              float('-inf')).scatter(1, torch.topk(z[:2], 3).indices,
                                                                     torch.topk(z[:2], 3).values),
 "cumsum_probs": lambda: torch.cumsum(torch.softmax(z[:2], -1).sort(descending=True).values, -1),
 "top_p_mask": top_p_mask,
 "flip": lambda: torch.tensor(ids).flip(0),
 "repeat_interleave": lambda: torch.tensor(ids).repeat_interleave(2),
 "ids_tolist": lambda: torch.tensor(ids).tolist(),
 "item_int": lambda: type(torch.tensor(ids)[0].item()).__name__,
 "int_of_tensor": lambda: int(torch.tensor(ids)[2]),
 "dict_lookup_tensor": lambda: {3: "a"}.get(int(torch.tensor(3))),
 "hash_tensor_key": lambda: {3: "a"}.get(torch.tensor(3)),
 "in_list": lambda: torch.tensor(3) in [1, 2, 3],
 "decode": lambda: " ".join(str(i) for i in torch.tensor(ids).tolist()),
 "range_tensor": lambda: list(range(torch.tensor(3))),
 "index_list_tensor": lambda: ids[torch.tensor(2)],
 "slice_tensor": lambda: ids[torch.tensor(1):torch.tensor(3)],
}
for k, f in cases.items():
    results[k] = val(f)
"""

PROGRAMS = {
    "foundations_matmul_unfold_and_init": FOUNDATIONS_MATMUL_UNFOLD_AND_INIT,
    "foundations_learner_collate_and_saving": FOUNDATIONS_LEARNER_COLLATE_AND_SAVING,
    "foundations_conv_hooks_and_finder": FOUNDATIONS_CONV_HOOKS_AND_FINDER,
    "llm_gpt_training_and_lora": LLM_GPT_TRAINING_AND_LORA,
    "llm_generation_and_sampling": LLM_GENERATION_AND_SAMPLING,
    "llm_checkpoint_and_schedules": LLM_CHECKPOINT_AND_SCHEDULES,
    "course_edges_and_misuse": COURSE_EDGES_AND_MISUSE,
    "hooks_state_dicts_einsum_and_init": HOOKS_STATE_DICTS_EINSUM_AND_INIT,
    "token_ids_and_losses": TOKEN_IDS_AND_LOSSES,
}

FLOAT64 = 'dtype = "float64"\ntorch.set_default_dtype(torch.float64)\n'


@pytest.mark.torch
@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_a_course_program_gives_pytorchs_numbers_classes_and_warnings(name, precision, torch, tmp_path):
    assert FLOAT64 in PRELUDE
    prelude = PRELUDE if precision == "float64" else PRELUDE.replace(FLOAT64, 'dtype = "float32"\n')
    program = tmp_path / f"{name}_{precision}.py"
    program.write_text(prelude + HEADER + PROGRAMS[name])
    assert_pytorchs_numbers(program, same_warnings=True)


def _both(torch, call):
    """``call(library)`` under glassgrad and PyTorch: each one's value, or its exception's class and message."""
    found = []
    for library in (gg, torch):
        try:
            found.append(call(library))
        except Exception as error:  # the class is compared: any one PyTorch raises
            found.append((type(error), str(error)))
    return found


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(smoothing=st.one_of(st.floats(-3, 1), st.sampled_from([float("nan"), -float("inf"), 0.0, 1.0])),
       rows=st.integers(1, 4), classes=st.integers(1, 5), probabilities=st.booleans(), as_tensor=st.booleans(),
       as_module=st.booleans(), seed=st.integers(0, 2**16))
def test_label_smoothing_at_most_one_is_read_as_pytorch_reads_it(smoothing, rows, classes, probabilities, as_tensor,
                                                                  as_module, seed, torch):
    """The foundations program's ``F.cross_entropy(..., label_smoothing=-0.1)``: PyTorch checks only ε ≤ 1 and smooths
    only for ε > 0, so a negative ε (or NaN) is the plain loss, and a 0-d tensor ε is its number; glassgrad refused
    them (RuntimeError for ε < 0, TypeError for NaN or a tensor). Same loss and gradient now, float64 to 1e-12."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(rows, classes))
    target = rng.dirichlet(np.ones(classes), size=rows) if probabilities else rng.integers(0, classes, size=rows)

    def loss_and_gradient(library):
        z = library.tensor(scores, requires_grad=True)
        epsilon = library.tensor(smoothing, dtype=library.float64) if as_tensor else smoothing
        loss_fn = (library.nn.CrossEntropyLoss(label_smoothing=epsilon) if as_module
                   else lambda z, y: library.nn.functional.cross_entropy(z, y, label_smoothing=epsilon))
        loss = loss_fn(z, library.tensor(target))
        loss.backward()
        return loss.item(), z.grad.numpy()

    ours, theirs = _both(torch, loss_and_gradient)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("smoothing", [1.5, float("inf"), 1 + 1e-9])
def test_label_smoothing_above_one_is_refused_as_in_pytorch(smoothing, torch):
    ours, theirs = _both(torch, lambda library: library.nn.functional.cross_entropy(
        library.ones(2, 3), library.tensor([0, 2]), label_smoothing=smoothing))
    assert ours[0] is theirs[0] is RuntimeError and "\n" not in ours[1] and "label_smoothing" in ours[1]


@pytest.mark.parametrize("smoothing", [-0.1, float("nan"), -float("inf")])
@pytest.mark.parametrize("as_module", [False, True])
def test_label_smoothing_below_zero_warns_that_it_smooths_nothing(smoothing, as_module):
    """PyTorch computes the plain loss for ε < 0 or NaN and says nothing, so a learner's ``label_smoothing=-0.1`` typo
    never smooths: glassgrad computes the same loss and says so, in one line naming the range and an example."""
    import glassgrad as gg

    scores, target = gg.tensor([[0.5, -1.0, 2.0], [0.0, 1.0, -0.5]]), gg.tensor([0, 2])
    loss_fn = (gg.nn.CrossEntropyLoss(label_smoothing=smoothing) if as_module
               else lambda z, y: gg.nn.functional.cross_entropy(z, y, label_smoothing=smoothing))
    with pytest.warns(UserWarning, match=r"label_smoothing .* is not in \[0, 1\], so it smooths nothing") as caught:
        loss = loss_fn(scores, target)
    assert all("\n" not in str(w.message) for w in caught)
    plain = gg.nn.functional.cross_entropy(scores, target)
    assert loss.item() == plain.item()


@pytest.mark.torch
def test_overlapping_unfold_windows_changed_in_place_change_each_entry_once(torch):
    """The README's difference, as it is written there: glassgrad changes each entry once, PyTorch once per window."""
    import glassgrad as gg

    ours = gg.arange(4.0)
    ours.unfold(0, 2, 1).mul_(2)
    theirs = torch.arange(4.0)
    theirs.unfold(0, 2, 1).mul_(2)
    assert ours.tolist() == [0.0, 2.0, 4.0, 6.0] and theirs.tolist() == [0.0, 4.0, 8.0, 6.0]
