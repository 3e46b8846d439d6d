# Knowledge distillation the way tutorials teach it (written for this project): a frozen teacher and a small student
# from NumPy weights, soft targets at temperature T, KLDivLoss(reduction='batchmean') on log-probabilities against
# probabilities and against log-probabilities (log_target=True), scaled by T**2 and mixed with the hard-label
# cross entropy; the functional and module spellings, the other reductions (with 'mean' warning as in PyTorch),
# a few SGD steps. In float64.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(140)


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    net = nn.Sequential(*layers[:-1])
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.4))
    return net


teacher = mlp([6, 32, 32, 5]).eval()
student = mlp([6, 8, 5])
for p in teacher.parameters():
    p.requires_grad_(False)
x = torch.from_numpy(rng.normal(size=(16, 6)))
y = torch.from_numpy(rng.integers(0, 5, size=16))
T, alpha = 4.0, 0.7

kl = nn.KLDivLoss(reduction="batchmean")
kl_log = nn.KLDivLoss(reduction="batchmean", log_target=True)
with torch.no_grad():
    t_logits = teacher(x)
s_logits = student(x)
soft_t = F.softmax(t_logits / T, dim=-1)
log_soft_t = F.log_softmax(t_logits / T, dim=-1)
log_soft_s = F.log_softmax(s_logits / T, dim=-1)
results = {}
results["kl_prob"] = kl(log_soft_s, soft_t) * T * T
results["kl_logtarget"] = kl_log(log_soft_s, log_soft_t) * T ** 2
results["kl_functional"] = F.kl_div(log_soft_s, soft_t, reduction="batchmean")
results["kl_sum"] = F.kl_div(log_soft_s, soft_t, reduction="sum")
results["kl_none"] = F.kl_div(log_soft_s, log_soft_t, reduction="none", log_target=True)
results["kl_mean_warns"] = outcome(lambda: F.kl_div(log_soft_s, soft_t, reduction="mean"))
results["kl_default_warns"] = outcome(lambda: nn.KLDivLoss()(log_soft_s, soft_t))
results["kl_zero_target"] = F.kl_div(log_soft_s, torch.zeros_like(soft_t), reduction="batchmean")
# the manual formula a tutorial checks against
manual = (soft_t * (soft_t.log() - log_soft_s)).sum() / x.shape[0]
results["manual_close"] = torch.allclose(manual, results["kl_prob"] / T ** 2)
results["kl_bad_reduction"] = outcome(lambda: F.kl_div(log_soft_s, soft_t, reduction="avg"))

opt = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
history = []
for _ in range(5):
    opt.zero_grad()
    s_logits = student(x)
    distill = kl(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1)) * (T * T)
    hard = F.cross_entropy(s_logits, y)
    loss = alpha * distill + (1 - alpha) * hard
    loss.backward()
    opt.step()
    history.append([distill.item(), hard.item(), loss.item()])
results["history"] = history
results["student_grad"] = student[0].weight.grad
results["teacher_has_grad"] = [p.grad is None for p in teacher.parameters()]
with torch.no_grad():
    agree = (student(x).argmax(1) == teacher(x).argmax(1)).float().mean()
results["agreement"] = agree
# gradient of the batchmean KL with log_target=True, on both arguments
a = log_soft_s.detach().clone().requires_grad_()
b = log_soft_t.detach().clone().requires_grad_()
F.kl_div(a, b, reduction="batchmean", log_target=True).backward()
results["grad_input"] = a.grad
results["grad_target"] = b.grad
