# Regression with likelihood losses as probabilistic-regression tutorials write it (written for this project): a
# Poisson count model (PoissonNLLLoss with log_input=True on log-rates and log_input=False on rates, full=True's
# Stirling term, eps), a heteroscedastic Gaussian model predicting a mean and a variance through softplus
# (GaussianNLLLoss with a per-sample variance, a shared scalar variance, full=True, eps clamping), the
# reductions, the refusals of a negative variance and a wrong shape, a few Adam steps of each. In float64.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1408)
results = {}


def filled(module, scale=0.4):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * scale))
    return module


X = torch.from_numpy(rng.normal(size=(20, 3)))
counts = torch.from_numpy(rng.poisson(np.exp(X.numpy() @ np.array([0.5, -0.3, 0.2]) + 1.0)).astype(np.float64))
poisson_net = filled(nn.Linear(3, 1))
log_rate = poisson_net(X).squeeze(-1)
crit = nn.PoissonNLLLoss()  # log_input=True
results["poisson_log"] = crit(log_rate, counts)
results["poisson_full"] = nn.PoissonNLLLoss(full=True)(log_rate, counts)
rate = log_rate.exp()
results["poisson_rate"] = F.poisson_nll_loss(rate, counts, log_input=False)
results["poisson_rate_eps"] = F.poisson_nll_loss(torch.zeros(3), torch.tensor([0.0, 1.0, 2.0]), log_input=False,
                                                 eps=1e-3, reduction="none")
results["poisson_none_full"] = F.poisson_nll_loss(log_rate[:6], counts[:6], full=True, reduction="none")
results["poisson_sum"] = F.poisson_nll_loss(log_rate, counts, reduction="sum")
results["poisson_manual"] = torch.allclose((log_rate.exp() - counts * log_rate).mean(), results["poisson_log"])
crit(log_rate, counts).backward()
results["poisson_grad"] = poisson_net.weight.grad
opt = torch.optim.Adam(poisson_net.parameters(), lr=0.1)
history = []
for _ in range(8):
    opt.zero_grad()
    loss = crit(poisson_net(X).squeeze(-1), counts)
    loss.backward()
    opt.step()
    history.append(loss.item())
results["poisson_history"] = history


class MeanVar(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(1, 8)
        self.mean = nn.Linear(8, 1)
        self.var = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        return self.mean(h), F.softplus(self.var(h)) + 1e-6


xs = torch.linspace(-2, 2, 16).unsqueeze(1)
ys = torch.sin(xs) + torch.from_numpy(rng.normal(size=(16, 1))) * (0.1 + 0.2 * xs.abs())
model = filled(MeanVar())
mu, var = model(xs)
gnll = nn.GaussianNLLLoss()
results["gauss"] = gnll(mu, ys, var)
results["gauss_full"] = nn.GaussianNLLLoss(full=True)(mu, ys, var)
results["gauss_scalar_var"] = F.gaussian_nll_loss(mu, ys, torch.ones(16, 1) * 0.5)
results["gauss_shared_var"] = F.gaussian_nll_loss(mu.squeeze(1), ys.squeeze(1), torch.tensor(0.3).expand(16))
results["gauss_var_last_dim_1"] = F.gaussian_nll_loss(mu.expand(16, 2), ys.expand(16, 2), var)
results["gauss_var_missing_dim"] = F.gaussian_nll_loss(mu, ys, var.squeeze(1))
results["gauss_eps"] = F.gaussian_nll_loss(mu[:3], ys[:3], torch.tensor([[0.0], [1e-9], [1.0]]), eps=1e-4,
                                           reduction="none")
results["gauss_sum"] = F.gaussian_nll_loss(mu, ys, var, reduction="sum")
results["gauss_negative_var"] = outcome(lambda: F.gaussian_nll_loss(mu, ys, -var))
results["gauss_bad_shape"] = outcome(lambda: F.gaussian_nll_loss(mu, ys, var[:5]))
results["gauss_bad_reduction"] = outcome(lambda: F.gaussian_nll_loss(mu, ys, var, reduction="avg"))
results["gauss_manual"] = torch.allclose(0.5 * (torch.log(var) + (mu - ys) ** 2 / var).mean(), results["gauss"])
results["gauss_float_var"] = outcome(lambda: F.gaussian_nll_loss(mu, ys, 0.5))
gnll(mu, ys, var).backward()
results["gauss_grads"] = [model.mean.weight.grad, model.var.weight.grad]
opt = torch.optim.Adam(model.parameters(), lr=0.05)
history = []
for _ in range(8):
    opt.zero_grad()
    m, v = model(xs)
    loss = gnll(m, ys, v)
    loss.backward()
    opt.step()
    history.append(loss.item())
results["gauss_history"] = history
with torch.no_grad():
    m, v = model(xs)
results["pred_std"] = v.sqrt().squeeze(1)
