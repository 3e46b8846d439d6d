# Gradient accumulation as "train with a bigger batch on a small machine" tutorials write it (written for this
# project): the loss divided by accumulation_steps, optimizer.step() every k micro-batches, clip_grad_norm_ before
# the step (its returned norm, error_if_nonfinite, foreach), OneCycleLR stepped per optimizer step (lr and momentum
# cycling, anneal_strategy 'cos' and 'linear', three_phase, get_last_lr), a check that accumulated gradients equal
# the full batch's, and stepping the scheduler too often refused. In float64.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1410)
results = {}


def make_model():
    m = nn.Sequential(nn.Linear(5, 12), nn.Tanh(), nn.Linear(12, 3))
    r = np.random.default_rng(7)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.from_numpy(r.normal(size=tuple(p.shape)) * 0.5))
    return m


X = torch.from_numpy(rng.normal(size=(32, 5)))
Y = torch.from_numpy(rng.integers(0, 3, size=32))

# accumulated micro-batch gradients equal the full batch's
m1, m2 = make_model(), make_model()
F.cross_entropy(m1(X), Y).backward()
for xb, yb in zip(X.split(8), Y.split(8)):
    (F.cross_entropy(m2(xb), yb) / 4).backward()
results["accumulated_equals_full"] = all(torch.allclose(a.grad, b.grad) for a, b in zip(m1.parameters(),
                                                                                       m2.parameters()))
results["accumulated_grad"] = m2[0].weight.grad

model = make_model()
accumulation_steps, epochs, micro = 4, 3, 4
steps_per_epoch = (len(X) // micro) // accumulation_steps
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, epochs=epochs, steps_per_epoch=steps_per_epoch)
results["initial_lr"] = [opt.param_groups[0]["lr"], opt.param_groups[0]["initial_lr"], opt.param_groups[0]["max_lr"],
                         opt.param_groups[0]["min_lr"], opt.param_groups[0]["momentum"]]
history = []
for _epoch in range(epochs):
    opt.zero_grad()
    for i, (xb, yb) in enumerate(zip(X.split(micro), Y.split(micro))):
        loss = F.cross_entropy(model(xb), yb) / accumulation_steps
        loss.backward()
        if (i + 1) % accumulation_steps == 0:
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            opt.step()
            sched.step()
            opt.zero_grad()
            history.append([loss.item() * accumulation_steps, norm.item(), sched.get_last_lr()[0],
                            opt.param_groups[0]["momentum"]])
results["history"] = history
results["weights"] = model[2].weight
results["too_many_steps"] = outcome(lambda: sched.step())

lrs = {}
for name, options in {"cos": {}, "linear": {"anneal_strategy": "linear"}, "three": {"three_phase": True},
                      "adam": {"pct_start": 0.4, "div_factor": 10.0, "final_div_factor": 100.0}}.items():
    p = nn.Parameter(torch.zeros(2))
    o = torch.optim.Adam([p], lr=1e-3) if name == "adam" else torch.optim.SGD([p], lr=1e-3, momentum=0.9)
    s = torch.optim.lr_scheduler.OneCycleLR(o, max_lr=[0.2], total_steps=10, **options)
    seen = []
    for _ in range(10):
        o.step()
        s.step()
        seen.append([s.get_last_lr()[0], o.param_groups[0]["betas"][0] if name == "adam"
                     else o.param_groups[0]["momentum"]])
    lrs[name] = seen
results["schedules"] = lrs


def sgd_one():
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)


results["no_total"] = outcome(lambda: torch.optim.lr_scheduler.OneCycleLR(sgd_one(), max_lr=0.1))
results["bad_pct"] = outcome(lambda: torch.optim.lr_scheduler.OneCycleLR(sgd_one(), max_lr=0.1, total_steps=5,
                                                                         pct_start=1.5))
results["no_momentum"] = outcome(lambda: torch.optim.lr_scheduler.OneCycleLR(
    torch.optim.Adagrad([nn.Parameter(torch.zeros(1))], lr=0.1), max_lr=0.1, total_steps=5))
results["no_cycle_momentum"] = outcome(lambda: torch.optim.lr_scheduler.OneCycleLR(
    torch.optim.Adagrad([nn.Parameter(torch.zeros(1))], lr=0.1), max_lr=0.1, total_steps=5, cycle_momentum=False)
    .get_last_lr())

w = nn.Parameter(torch.tensor([1.0, 2.0]))
w.grad = torch.tensor([float("nan"), 1.0])
results["clip_nonfinite"] = outcome(lambda: nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True))
w.grad = torch.tensor([3.0, 4.0])
results["clip_inf_norm"] = [nn.utils.clip_grad_norm_([w], 1.0, norm_type="inf"), w.grad]
w.grad = torch.tensor([3.0, 4.0])
results["clip_foreach"] = [nn.utils.clip_grad_norm_([w], 2.0, foreach=True), w.grad]
w.grad = torch.tensor([3.0, 4.0])
results["clip_value"] = [nn.utils.clip_grad_value_([w], 3.5), w.grad]
results["clip_empty"] = nn.utils.clip_grad_norm_([nn.Parameter(torch.zeros(2))], 1.0)
results["get_total_norm"] = nn.utils.get_total_norm([torch.tensor([3.0, 4.0]), torch.tensor([12.0])], norm_type=2)
