# Variational inference the way a probabilistic deep learning course codes it (written for this project): Bayesian
# linear regression with a mean-field Gaussian posterior and the reparameterization trick (eps from NumPy), the KL
# term by torch.distributions.kl_divergence(Normal, Normal) and by its closed form, the ELBO by Monte Carlo; a
# Bayes-by-backprop linear layer (rho -> softplus sigma) trained a few steps; and a categorical VAE's Gumbel-softmax
# relaxation written by hand with gumbel noise -log(-log(u)) from NumPy, against F.gumbel_softmax (random, compared
# by shape and row sums) and its straight-through hard one-hot.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(3)

# data: y = 2 x - 1 + noise
x = torch.from_numpy(rng.uniform(-2, 2, size=(20, 1)))
y = 2 * x - 1 + 0.3 * torch.from_numpy(rng.randn(20, 1))
features = torch.cat([x, torch.ones_like(x)], dim=1)

q_mu = torch.zeros(2, requires_grad=True)
q_log_sigma = torch.full((2,), -1.0, requires_grad=True)
prior = Normal(torch.zeros(2), torch.ones(2))
noise_sigma = 0.3
opt = torch.optim.Adam([q_mu, q_log_sigma], lr=0.05)
elbo_history = []
for _step in range(25):
    eps = torch.from_numpy(rng.randn(8, 2))
    w = q_mu + torch.exp(q_log_sigma) * eps  # reparameterization trick
    log_lik = Normal(features @ w.T, noise_sigma).log_prob(y).sum(0).mean()
    q = Normal(q_mu, q_log_sigma.exp())
    kl = kl_divergence(q, prior).sum()
    elbo = log_lik - kl
    opt.zero_grad()
    (-elbo).backward()
    opt.step()
    elbo_history.append([elbo.item(), kl.item()])

sigma = q_log_sigma.exp()
kl_closed = (torch.log(1 / sigma) + (sigma ** 2 + q_mu ** 2) / 2 - 0.5).sum()
kl_library = kl_divergence(Normal(q_mu, sigma), prior).sum()
entropy = Normal(q_mu, sigma).entropy()


class BayesLinear(nn.Module):
    def __init__(self, n_in, n_out, prior_sigma=1.0):
        super().__init__()
        self.w_mu = nn.Parameter(torch.from_numpy(0.2 * rng.randn(n_out, n_in)))
        self.w_rho = nn.Parameter(torch.full((n_out, n_in), -3.0))
        self.b_mu = nn.Parameter(torch.zeros(n_out))
        self.b_rho = nn.Parameter(torch.full((n_out,), -3.0))
        self.prior = Normal(0.0, prior_sigma)

    def forward(self, inputs, eps_w, eps_b):
        w_sigma = F.softplus(self.w_rho)
        b_sigma = F.softplus(self.b_rho)
        w = self.w_mu + w_sigma * eps_w
        b = self.b_mu + b_sigma * eps_b
        self.kl = (kl_divergence(Normal(self.w_mu, w_sigma), self.prior).sum()
                   + kl_divergence(Normal(self.b_mu, b_sigma), self.prior).sum())
        return F.linear(inputs, w, b)


hidden = BayesLinear(1, 10)
out = BayesLinear(10, 1)
bbb_opt = torch.optim.Adam(list(hidden.parameters()) + list(out.parameters()), lr=1e-2)
bbb_history = []
for _step in range(10):
    h = torch.relu(hidden(x, torch.from_numpy(rng.randn(10, 1)), torch.from_numpy(rng.randn(10))))
    pred = out(h, torch.from_numpy(rng.randn(1, 10)), torch.from_numpy(rng.randn(1)))
    nll = -Normal(pred, noise_sigma).log_prob(y).sum()
    loss = nll + (hidden.kl + out.kl) / 20
    bbb_opt.zero_grad()
    loss.backward()
    bbb_opt.step()
    bbb_history.append([nll.item(), (hidden.kl + out.kl).item()])


# Gumbel-softmax by hand
def sample_gumbel(shape, eps=1e-20):
    u = torch.from_numpy(rng.uniform(0, 1, size=shape))
    return -torch.log(-torch.log(u + eps) + eps)


def gumbel_softmax_sample(logits, temperature, gumbel):
    return F.softmax((logits + gumbel) / temperature, dim=-1)


def gumbel_softmax_hard(logits, temperature, gumbel):
    y_soft = gumbel_softmax_sample(logits, temperature, gumbel)
    index = y_soft.max(dim=-1, keepdim=True)[1]
    y_hard = torch.zeros_like(y_soft).scatter_(-1, index, 1.0)
    return (y_hard - y_soft).detach() + y_soft


logits = torch.from_numpy(rng.randn(4, 5)).requires_grad_(True)
gumbel = sample_gumbel((4, 5))
soft = gumbel_softmax_sample(logits, 0.5, gumbel)
hard = gumbel_softmax_hard(logits, 0.5, gumbel)
(hard * torch.arange(5.0)).sum().backward()
hard_grad = logits.grad.clone()

builtin_soft = F.gumbel_softmax(logits, tau=0.5)
builtin_hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
builtin = [list(builtin_soft.shape), torch.allclose(builtin_soft.sum(-1), torch.ones(4)),
           builtin_hard.sum().item(), bool(((builtin_hard == 0) | (builtin_hard == 1)).all())]

# a categorical KL to the uniform prior, as in a categorical VAE's loss
q_y = F.softmax(logits, dim=-1)
kl_categorical = (q_y * (torch.log(q_y + 1e-20) - math.log(1.0 / 5))).sum(-1).mean()

results = {"elbo": elbo_history, "q_mu": q_mu, "q_sigma": sigma, "kl_closed": kl_closed, "kl_library": kl_library,
           "entropy": entropy, "bbb": bbb_history, "bbb_w_mu": out.w_mu, "soft": soft, "hard": hard,
           "hard_grad": hard_grad, "builtin": builtin, "kl_categorical": kl_categorical.item(),
           "gumbel_mean": gumbel.mean().item()}
