# A "from the foundations to Stable Diffusion" course's training-loop style (written for this project): a Learner
# class with callbacks (before_fit/before_batch/before_step/after_batch/after_fit, CancelFitException), a callback
# that noises each batch as DDPM does, gradient clipping before the step, a MetricsCB, an ActivationStats callback
# whose forward hooks (register_forward_hook, a Hooks context manager) collect each layer's activation mean and std
# and a torch.histc histogram of |activations|, gradient statistics from register_full_backward_hook (the first
# block, fed data, warns), the "fraction of small activations" from the histograms, a hand-written running batch
# norm (sums and squares kept by lerp_ with a tensor momentum, detach_ each batch), a shifted leaky ReLU by
# torch.where, torch.lerp and mixed torch.where, and a one-cycle schedule (lr_scheduler.OneCycleLR, stepped per
# batch, its lr and Adam betas recorded).
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1)


class CancelFitException(Exception):
    pass


class Callback:
    order = 0


def run_cbs(cbs, method_nm, learn=None):
    for cb in sorted(cbs, key=lambda c: c.order):
        method = getattr(cb, method_nm, None)
        if method is not None:
            method(learn)


class Learner:
    def __init__(self, model, batches, loss_func=F.mse_loss, lr=0.1, cbs=(), opt_func=optim.Adam):
        self.model, self.batches, self.loss_func, self.lr = model, batches, loss_func, lr
        self.cbs, self.opt_func = list(cbs), opt_func

    def one_batch(self):
        inputs, target = self.batch
        self.loss = self.loss_func(self.model(inputs), target)
        if not self.training:
            return
        self.loss.backward()
        self.callback("before_step")
        self.opt.step()
        self.opt.zero_grad()

    def one_epoch(self, train):
        self.model.train(train)
        self.training = train
        for self.iter, self.batch in enumerate(self.batches):  # noqa: B020 (the course's spelling)
            self.callback("before_batch")
            self.one_batch()
            self.callback("after_batch")

    def fit(self, n_epochs=1):
        self.n_epochs = n_epochs
        self.opt = self.opt_func(self.model.parameters(), self.lr)
        try:
            self.callback("before_fit")
            for self.epoch in range(n_epochs):
                self.one_epoch(True)
                with torch.no_grad():
                    self.one_epoch(False)
        except CancelFitException:
            pass
        finally:
            self.callback("after_fit")

    def callback(self, method_nm):
        run_cbs(self.cbs, method_nm, self)


class OneCycleCB(Callback):
    def __init__(self, max_lr, total_steps):
        self.max_lr, self.total_steps = max_lr, total_steps
        self.lrs, self.moms = [], []

    def before_fit(self, learn):
        self.sched = optim.lr_scheduler.OneCycleLR(learn.opt, max_lr=self.max_lr, total_steps=self.total_steps)

    def after_batch(self, learn):
        if learn.training:
            self.lrs.append(self.sched.get_last_lr()[0])
            self.moms.append(learn.opt.param_groups[0]["betas"][0])
            self.sched.step()


class NoisifyCB(Callback):
    """The DDPM batch: images noised to a timestep from NumPy, the model asked for the noise."""
    order = -1

    def __init__(self, alphas_bar, seed=0):
        self.alphas_bar, self.numbers = alphas_bar, np.random.default_rng(seed)

    def before_batch(self, learn):
        x0 = learn.batch[0]
        t = torch.from_numpy(self.numbers.integers(0, len(self.alphas_bar), x0.shape[0]))
        noise = torch.from_numpy(self.numbers.normal(size=tuple(x0.shape)))
        ab = self.alphas_bar[t].reshape(-1, 1, 1, 1)
        learn.batch = (ab.sqrt() * x0 + (1 - ab).sqrt() * noise, noise.flatten(1)[:, :8])


class ClipCB(Callback):
    def __init__(self, max_norm):
        self.max_norm, self.norms = max_norm, []

    def before_step(self, learn):
        self.norms.append(nn.utils.clip_grad_norm_(learn.model.parameters(), self.max_norm).item())


class MetricsCB(Callback):
    order = 1

    def __init__(self):
        self.losses = {"train": [], "valid": []}

    def after_batch(self, learn):
        self.losses["train" if learn.training else "valid"].append(learn.loss.item())


class StopAfter(Callback):
    def __init__(self, n):
        self.n, self.count = n, 0

    def after_batch(self, learn):
        self.count += 1
        if self.count >= self.n:
            raise CancelFitException()


def append_stats(store, mod, inp, outp):
    means, stds, hists = store.setdefault("stats", ([], [], []))
    acts = outp.detach().cpu()
    means.append(acts.mean())
    stds.append(acts.std())
    hists.append(acts.abs().histc(40, 0, 4))


class Hooks(list):
    def __init__(self, modules, f):
        super().__init__()
        for m in modules:
            store = {}
            store["handle"] = m.register_forward_hook(lambda mod, inp, outp, store=store: f(store, mod, inp, outp))
            self.append(store)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def remove(self):
        for store in self:
            store["handle"].remove()


class ActivationStats(Callback):
    def __init__(self, modules):
        self.modules = modules

    def before_fit(self, learn):
        self.hooks = Hooks(self.modules, append_stats)

    def after_fit(self, learn):
        self.hooks.remove()

    def color_dim(self):
        return [torch.stack(h["stats"][2]).t().float().log1p() for h in self.hooks]

    def dead_chart(self):
        return [(lambda hist: hist[:, :1].sum(1) / hist.sum(1))(torch.stack(h["stats"][2])) for h in self.hooks]


class GradientStats(Callback):
    def __init__(self, modules):
        self.modules, self.stds = modules, []

    def before_fit(self, learn):
        self.handles = [m.register_full_backward_hook(self.hook) for m in self.modules]

    def hook(self, mod, grad_input, grad_output):
        self.stds.append([grad_output[0].std().item(), None if grad_input[0] is None else grad_input[0].abs().mean()])

    def after_fit(self, learn):
        for h in self.handles:
            h.remove()


class ShiftedLeaky(nn.Module):
    def __init__(self, leak=0.1, sub=0.4, maxv=3.0):
        super().__init__()
        self.leak, self.sub, self.maxv = leak, sub, maxv

    def forward(self, x):
        return torch.where(x > 0, x, x * self.leak).sub(self.sub).clamp(max=self.maxv)


class RunningBatchNorm(nn.Module):
    """Running sums and sums of squares (lerp_ with a momentum adjusted to the batch size), so that small batches
    normalise with statistics gathered over many; the first batches' variance kept from being tiny."""

    def __init__(self, nf, mom=0.1, eps=1e-5):
        super().__init__()
        self.mom, self.eps, self.seen = mom, eps, 0
        self.mults, self.adds = nn.Parameter(torch.ones(nf, 1, 1)), nn.Parameter(torch.zeros(nf, 1, 1))
        for name in ("sums", "sqrs"):
            self.register_buffer(name, torch.zeros(1, nf, 1, 1))
        self.register_buffer("count", torch.tensor(0.0))

    def forward(self, x):
        if self.training:
            self.sums.detach_()
            self.sqrs.detach_()
            bs, nc = x.shape[:2]
            mom1 = x.new_tensor(1 - (1 - self.mom) / math.sqrt(bs - 1))
            self.sums.lerp_(x.sum((0, 2, 3), keepdim=True), mom1)
            self.sqrs.lerp_((x * x).sum((0, 2, 3), keepdim=True), mom1)
            self.count.lerp_(x.new_tensor(x.numel() / nc), mom1)
            self.seen += bs
        means = self.sums / self.count
        varns = (self.sqrs / self.count).sub_(means * means)
        if self.seen < 20:
            varns.clamp_min_(0.01)
        factor = self.mults / (varns + self.eps).sqrt()
        return x * factor + (self.adds - means * factor)


def conv(ni, nf, ks=3, stride=2, act=True):
    layers = [nn.Conv2d(ni, nf, ks, stride=stride, padding=ks // 2), RunningBatchNorm(nf)]
    if act:
        layers.append(ShiftedLeaky())
    return nn.Sequential(*layers)


def get_model():
    return nn.Sequential(conv(1, 4), conv(4, 8), nn.Conv2d(8, 2, 3, padding=1), nn.Flatten())


def init_from_numpy(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "mults" not in name and "adds" not in name:
                p.copy_(torch.from_numpy(numbers.normal(0, math.sqrt(2 / p[0].numel()), tuple(p.shape))))


batches = [(torch.from_numpy(rng.normal(size=(4, 1, 8, 8))), torch.from_numpy(rng.normal(size=(4, 8))))
           for _ in range(3)]
model = get_model()
init_from_numpy(model, 7)
shaped = get_model()
for m in shaped.modules():
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, a=0.1)
        m.bias.data.zero_()

total = 2 * len(batches)
one_cycle, metrics = OneCycleCB(max_lr=3e-2, total_steps=total), MetricsCB()
stats = ActivationStats([m for m in model if isinstance(m, nn.Sequential)])
grads = GradientStats([m for m in model if isinstance(m, nn.Sequential)])
alphas_bar = torch.cumprod(1 - torch.linspace(1e-3, 0.2, 20), 0)
clip = ClipCB(1.0)
learn = Learner(model, batches, lr=1e-2, cbs=[one_cycle, metrics, stats, grads, NoisifyCB(alphas_bar), clip])
learn.fit(2)

stopped = Learner(get_model(), batches, lr=0.1, cbs=[StopAfter(2), MetricsCB()], opt_func=optim.SGD)
init_from_numpy(stopped.model, 8)
stopped.fit(3)

a = torch.from_numpy(rng.normal(size=(3, 4)))
b = torch.from_numpy(rng.normal(size=(3, 4)))
w = torch.from_numpy(rng.random((3, 4)))
mixed = [torch.lerp(a, b, 0.25), torch.lerp(a, b, w), a.lerp(b, w[0]),
         torch.where(a > 0, a, 0.0), torch.where(a > b, 1, b), torch.where(a < 0, a * 0.1, a),
         torch.where(a > 0, 2.0, -1.0)]

results = {
    "losses": metrics.losses, "grad_norms": clip.norms, "lrs": one_cycle.lrs, "moms": one_cycle.moms,
    "final_lr": learn.opt.param_groups[0]["lr"],
    "means": [[float(x) for x in h["stats"][0]] for h in stats.hooks],
    "stds": [[float(x) for x in h["stats"][1]] for h in stats.hooks],
    "hist": [h["stats"][2][0] for h in stats.hooks], "color_dim": stats.color_dim()[0][:5],
    "dead": stats.dead_chart(), "hooks_removed": [len(m._forward_hooks) for m in model],
    "running_sums": model[0][1].sums.flatten(), "running_count": model[0][1].count,
    "sums_requires_grad": model[0][1].sums.requires_grad, "stopped": stopped.cbs[1].losses,
    "kaiming_shape": list(shaped[0][0].weight.shape), "mixed": mixed, "grad_stats": grads.stds,
}
