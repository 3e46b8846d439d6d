# fast.ai's "from the foundations" lessons (written for this project): a Learner whose fit loop calls callbacks
# in their `order` around fit, epoch and batch through a decorator, a callback that cancels the fit with an
# exception, metrics and a device callback, a hand-written SGD with weight decay, a hand-written BatchNorm with
# register_buffer and lerp_, a GeneralRelu, activation statistics from forward hooks (mean, std, histc), kaiming
# init applied with model.apply, and an LR finder that raises the learning rate by ExponentialLR until the loss
# has tripled from its best.
import math
from functools import partial
from operator import attrgetter

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import ExponentialLR
from torch.utils.data import DataLoader, default_collate

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(21)
x = torch.from_numpy(rng.normal(size=(64, 1, 8, 8)))
y = torch.from_numpy((x.view(64, -1).mean(1) > 0).numpy().astype(np.int64) + 2 * (x[:, 0, 0, 0] > 0).numpy())


class CancelFitException(Exception):
    pass


class CancelBatchException(Exception):
    pass


class CancelEpochException(Exception):
    pass


class Callback:
    order = 0


def run_cbs(cbs, method_nm, learn=None):
    for cb in sorted(cbs, key=attrgetter("order")):
        method = getattr(cb, method_nm, None)
        if method is not None:
            method(learn)


class with_cbs:
    def __init__(self, nm):
        self.nm = nm

    def __call__(self, f):
        def _f(o, *args, **kwargs):
            try:
                o.callback(f"before_{self.nm}")
                f(o, *args, **kwargs)
                o.callback(f"after_{self.nm}")
            except globals()[f"Cancel{self.nm.title()}Exception"]:
                pass
            finally:
                o.callback(f"cleanup_{self.nm}")
        return _f


class Learner:
    def __init__(self, model, dls, loss_func=F.mse_loss, lr=0.1, cbs=None, opt_func=torch.optim.SGD):
        self.model, self.dls, self.loss_func, self.lr, self.opt_func = model, dls, loss_func, lr, opt_func
        self.cbs = list(cbs or [])

    @with_cbs("batch")
    def _one_batch(self):
        self.preds = self.model(self.batch[0])
        self.loss = self.loss_func(self.preds, self.batch[1])
        if self.training:
            self.loss.backward()
            self.opt.step()
            self.opt.zero_grad()

    @with_cbs("epoch")
    def _one_epoch(self):
        for self.iter, self.batch in enumerate(self.dl):  # noqa: B020 (fast.ai keeps them on the learner)
            self._one_batch()

    def one_epoch(self, training):
        self.model.train(training)
        self.dl = self.dls[0] if training else self.dls[1]
        self._one_epoch()

    @with_cbs("fit")
    def _fit(self, train, valid):
        for self.epoch in self.epochs:  # noqa: B020
            if train:
                self.one_epoch(True)
            if valid:
                with torch.no_grad():
                    self.one_epoch(False)

    def fit(self, n_epochs=1, train=True, valid=True, lr=None):
        self.n_epochs, self.epochs = n_epochs, range(n_epochs)
        self.opt = self.opt_func(self.model.parameters(), self.lr if lr is None else lr)
        self._fit(train, valid)

    def callback(self, method_nm):
        run_cbs(self.cbs, method_nm, self)

    @property
    def training(self):
        return self.model.training


class MetricsCB(Callback):
    def before_epoch(self, learn):
        self.total, self.correct, self.count = 0.0, 0, 0

    def after_batch(self, learn):
        n = len(learn.batch[0])
        self.total += learn.loss.item() * n
        self.correct += (learn.preds.argmax(dim=1) == learn.batch[1]).sum().item()
        self.count += n

    def after_epoch(self, learn):
        learn.log.append(["train" if learn.training else "eval", self.total / self.count, self.correct / self.count])


class DeviceCB(Callback):
    def before_fit(self, learn):
        learn.model.to("cpu")

    def before_batch(self, learn):
        learn.batch = tuple(t.to("cpu") for t in learn.batch)


class LRFinderCB(Callback):
    def __init__(self, gamma=1.3, max_mult=3):
        self.gamma, self.max_mult = gamma, max_mult

    def before_fit(self, learn):
        self.sched = ExponentialLR(learn.opt, self.gamma)
        self.lrs, self.losses = [], []
        self.min = math.inf

    def after_batch(self, learn):
        if not learn.training:
            raise CancelEpochException()
        self.lrs.append(learn.opt.param_groups[0]["lr"])
        loss = learn.loss.item()
        self.losses.append(loss)
        if loss < self.min:
            self.min = loss
        if math.isnan(loss) or loss > self.min * self.max_mult:
            raise CancelFitException()
        self.sched.step()


class SGD:
    def __init__(self, params, lr, wd=0.0):
        self.params, self.lr, self.wd, self.i = list(params), lr, wd, 0

    def step(self):
        with torch.no_grad():
            for p in self.params:
                if self.wd != 0:
                    p *= 1 - self.lr * self.wd
                p -= p.grad * self.lr
        self.i += 1

    def zero_grad(self):
        for p in self.params:
            p.grad.data.zero_()


class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__()
        self.leak, self.sub, self.maxv = leak, sub, maxv

    def forward(self, x):
        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)
        if self.sub is not None:
            x -= self.sub
        if self.maxv is not None:
            x.clamp_max_(self.maxv)
        return x


class BatchNorm(nn.Module):
    def __init__(self, nf, mom=0.1, eps=1e-5):
        super().__init__()
        self.mom, self.eps = mom, eps
        self.mults = nn.Parameter(torch.ones(nf, 1, 1))
        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))
        self.register_buffer("vars", torch.ones(1, nf, 1, 1))
        self.register_buffer("means", torch.zeros(1, nf, 1, 1))

    def update_stats(self, x):
        m = x.mean((0, 2, 3), keepdim=True)
        v = x.var((0, 2, 3), keepdim=True)
        self.means.lerp_(m, self.mom)
        self.vars.lerp_(v, self.mom)
        return m, v

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                m, v = self.update_stats(x)
        else:
            m, v = self.means, self.vars
        x = (x - m) / (v + self.eps).sqrt()
        return x * self.mults + self.adds


def conv(ni, nf, ks=3, stride=2, act=partial(GeneralRelu, leak=0.1, sub=0.4), norm=None):
    layers = [nn.Conv2d(ni, nf, stride=stride, kernel_size=ks, padding=ks // 2, bias=norm is None)]
    if norm:
        layers.append(norm(nf))
    if act:
        layers.append(act())
    return nn.Sequential(*layers)


def get_model(norm=None):
    return nn.Sequential(conv(1, 4, norm=norm), conv(4, 8, norm=norm), conv(8, 4, act=None), nn.Flatten())


def init_weights(m, leaky=0.0):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, a=leaky)


def set_weights(model, seed):
    """Numbers with kaiming's scale in place of the random draw, and zero biases, so both libraries start alike."""
    numbers = np.random.default_rng(seed)
    gain = nn.init.calculate_gain("leaky_relu", 0.1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.from_numpy(numbers.normal(0, gain / math.sqrt(fan_in), size=m.weight.shape)))
                if m.bias is not None:
                    m.bias.zero_()


class ActivationStats:
    def __init__(self, model):
        self.stats = []
        self.hooks = [layer.register_forward_hook(partial(self.append_stats, i)) for i, layer in enumerate(model)]

    def append_stats(self, i, mod, inp, outp):
        acts = outp.detach().cpu()
        self.stats.append([i, acts.mean().item(), acts.std().item(), acts.abs().histc(8, 0, 4).tolist()])

    def remove(self):
        for h in self.hooks:
            h.remove()


def collate_dict(batch):
    return tuple(default_collate(batch))


pairs = list(zip(x, y))
dls = (DataLoader(pairs[:48], batch_size=16, collate_fn=collate_dict), DataLoader(pairs[48:], batch_size=16))

wide = nn.Sequential(conv(64, 64), conv(64, 64))
wide.apply(partial(init_weights, leaky=0.1))
expected_std = nn.init.calculate_gain("leaky_relu", 0.1) / math.sqrt(64 * 9)
kaiming_std = round(wide[1][0].weight.std().item() / expected_std, 1)

model = get_model(norm=BatchNorm)
set_weights(model, 1)
stats = ActivationStats(model)
learn = Learner(model, dls, F.cross_entropy, lr=0.2, cbs=[MetricsCB(), DeviceCB()], opt_func=partial(SGD, wd=1e-4))
learn.log = []
learn.fit(3)
stats.remove()
n_stats = len(stats.stats)
model(x[:2])
assert len(stats.stats) == n_stats  # the hooks are gone

finder_model = get_model(norm=partial(nn.BatchNorm2d))
set_weights(finder_model, 2)
finder = LRFinderCB(gamma=1.6)
finder_learn = Learner(finder_model, (DataLoader(pairs, batch_size=4),) * 2, F.cross_entropy, lr=1e-3,
                       cbs=[finder])
finder_learn.fit(5)

results = {
    "kaiming_std": kaiming_std,
    "log": learn.log,
    "stats": stats.stats[:6],
    "means": model[0][1].means.flatten(),
    "vars": model[1][1].vars.flatten(),
    "opt_steps": learn.opt.i,
    "finder_lrs": finder.lrs,
    "finder_losses": finder.losses,
    "finder_min": finder.min,
}
