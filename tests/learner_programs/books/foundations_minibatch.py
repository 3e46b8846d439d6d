# fast.ai's "from the foundations" lessons (written for this project): log_softmax and nll written by hand
# (the rows picked with range(n) and the targets, a logsumexp made stable with the row maximum) checked against
# F.cross_entropy; a model that registers the layers of a plain list with add_module and folds them with
# reduce; a Dataset indexed by slices and lists, batches from a BatchSampler over a SequentialSampler with a
# collate of zip and stack, and DataLoader(batch_sampler=...); forward hooks kept in a Hooks list used as a
# context manager that record means, stds and histc histograms; a schedule combining a linear warm-up and a
# cosine decay (the phase found with nonzero().max() and used as an index); OneCycleLR with Adam's betas cycled.
import math
from functools import partial, reduce

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, tensor
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(8)
x_train, y_train = map(tensor, (rng.normal(size=(40, 6)), rng.integers(0, 4, size=40)))
x_valid, y_valid = map(tensor, (rng.normal(size=(12, 6)), rng.integers(0, 4, size=12)))


def log_softmax(x):
    return x - x.logsumexp(-1, keepdim=True)


def logsumexp(x):
    m = x.max(-1)[0]
    return m + (x - m[:, None]).exp().sum(-1).log()


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


class Model(nn.Module):
    def __init__(self, n_in, nh, n_out):
        super().__init__()
        self.layers = [nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out)]
        for i, layer in enumerate(self.layers):
            self.add_module(f"layer_{i}", layer)

    def forward(self, x):
        return reduce(lambda val, layer: layer(val), self.layers, x)


def set_weights(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(numbers.normal(0, 0.4, size=tuple(p.shape))))
    return model


model = set_weights(Model(6, 10, 4), 1)
pred = model(x_train)
by_hand = nll(log_softmax(pred), y_train)
checks = [torch.allclose(logsumexp(pred), pred.logsumexp(-1)), torch.allclose(by_hand, F.cross_entropy(pred, y_train))]
names = [name for name, _ in model.named_parameters()]


class Dataset:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def collate(b):
    xs, ys = zip(*b)
    return torch.stack(xs), torch.stack(ys)


train_ds, valid_ds = Dataset(x_train, y_train), Dataset(x_valid, y_valid)
picked = [t.tolist() for t in train_ds[[4, 6, 7]]] + [train_ds[0:2][1].tolist()]
train_dl = DataLoader(train_ds, batch_sampler=BatchSampler(SequentialSampler(train_ds), 8, drop_last=False),
                      collate_fn=collate)
valid_dl = DataLoader(valid_ds, batch_size=24, collate_fn=collate)


class Hook:
    def __init__(self, m, f):
        self.hook = m.register_forward_hook(partial(f, self))

    def remove(self):
        self.hook.remove()

    def __del__(self):
        self.remove()


class Hooks(list):
    def __init__(self, ms, f):
        super().__init__([Hook(m, f) for m in ms])

    def __enter__(self, *args):
        return self

    def __exit__(self, *args):
        self.remove()

    def __del__(self):
        self.remove()

    def remove(self):
        for h in self:
            h.remove()


def append_stats(hook, mod, inp, outp):
    if not hasattr(hook, "stats"):
        hook.stats = ([], [], [])
    acts = outp.detach()
    hook.stats[0].append(acts.mean())
    hook.stats[1].append(acts.std())
    hook.stats[2].append(acts.abs().histc(10, 0, 5))


def sched_lin(start, end, pos):
    return start + pos * (end - start)


def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combine_scheds(pcts, scheds):
    pcts = tensor([0] + list(pcts))
    pcts = torch.cumsum(pcts, 0)

    def _inner(pos):
        idx = (pos >= pcts).nonzero().max()
        actual_pos = (pos - pcts[idx]) / (pcts[idx + 1] - pcts[idx])
        return scheds[idx](actual_pos.item())
    return _inner


sched = combine_scheds([0.3, 0.7], [partial(sched_lin, 0.01, 0.4), partial(sched_cos, 0.4, 0.001)])
epochs = 3
n_iters = epochs * len(train_dl)
lrs, losses = [], []
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
with Hooks(model.layers, append_stats) as hooks:
    for epoch in range(epochs):
        model.train()
        for i, (xb, yb) in enumerate(train_dl):
            for group in optimizer.param_groups:
                group["lr"] = sched((epoch * len(train_dl) + i) / n_iters)
            lrs.append(optimizer.param_groups[0]["lr"])
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
        with torch.no_grad():
            total = sum(F.cross_entropy(model(xb), yb, reduction="sum").item() for xb, yb in valid_dl)
            correct = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in valid_dl)
        losses.append([total / len(valid_ds), correct / len(valid_ds)])
    stats = [[torch.stack(h.stats[0]).tolist(), torch.stack(h.stats[1]).tolist()] for h in hooks]
    hist = torch.stack(hooks[0].stats[2]).t().log1p()  # (fast.ai adds .float(): float32, 1 ulp apart at times)

one_cycle_model = set_weights(Model(6, 10, 4), 2)
adam = torch.optim.Adam(one_cycle_model.parameters(), lr=1e-3)
one_cycle = torch.optim.lr_scheduler.OneCycleLR(adam, max_lr=0.05, total_steps=epochs * len(train_dl))
cycle = []
for _ in range(epochs):
    for xb, yb in train_dl:
        loss = F.cross_entropy(one_cycle_model(xb), yb)
        loss.backward()
        adam.step()
        adam.zero_grad()
        one_cycle.step()
        cycle.append([one_cycle.get_last_lr()[0], adam.param_groups[0]["betas"][0], loss.item()])

results = {
    "by_hand": by_hand,
    "checks": checks,
    "names": names,
    "picked": picked,
    "lrs": lrs,
    "losses": losses,
    "stats": stats,
    "hist": hist,
    "cycle": cycle,
}
