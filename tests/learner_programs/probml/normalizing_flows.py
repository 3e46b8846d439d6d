# Normalizing flows on 2-D data, the way a deep generative models course codes them (written for this project):
# RealNVP affine coupling layers with alternating half masks and a checkerboard mask on a 4-D input, a planar flow
# with the u-hat constraint, log|det J| summed layer by layer, the base density through torch.distributions
# (Normal wrapped in Independent, and MultivariateNormal), a few Adam steps of maximum likelihood on two moons-like
# data from NumPy, then sampling by the inverse pass with base noise from NumPy.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Independent, MultivariateNormal, Normal

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(7)


def moons(n):
    t = rng.uniform(0, np.pi, size=n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    pick = rng.rand(n) < 0.5
    return np.where(pick[:, None], upper, lower) + 0.05 * rng.randn(n, 2)


def load_from_numpy(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(scale * rng.randn(*p.shape)))


class CouplingLayer(nn.Module):
    def __init__(self, mask, hidden=16):
        super().__init__()
        self.register_buffer("mask", mask)
        dim = mask.numel()
        self.s = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(), nn.Linear(hidden, dim), nn.Tanh())
        self.t = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(), nn.Linear(hidden, dim))

    def forward(self, x):  # data -> latent
        x_masked = x * self.mask
        s = self.s(x_masked) * (1 - self.mask)
        t = self.t(x_masked) * (1 - self.mask)
        z = x_masked + (1 - self.mask) * (x * torch.exp(s) + t)
        return z, s.sum(dim=1)

    def inverse(self, z):
        z_masked = z * self.mask
        s = self.s(z_masked) * (1 - self.mask)
        t = self.t(z_masked) * (1 - self.mask)
        x = z_masked + (1 - self.mask) * (z - t) * torch.exp(-s)
        return x, -s.sum(dim=1)


class RealNVP(nn.Module):
    def __init__(self, masks):
        super().__init__()
        self.layers = nn.ModuleList([CouplingLayer(m) for m in masks])
        dim = masks[0].numel()
        self.base = Independent(Normal(torch.zeros(dim), torch.ones(dim)), 1)

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def log_prob(self, x):
        z, log_det = self(x)
        return self.base.log_prob(z) + log_det

    def sample_from(self, z):
        for layer in reversed(self.layers):
            z, _ = layer.inverse(z)
        return z


class PlanarFlow(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.u = nn.Parameter(torch.zeros(dim))
        self.w = nn.Parameter(torch.zeros(dim))
        self.b = nn.Parameter(torch.zeros(1))

    def u_hat(self):
        wu = self.w @ self.u
        m = -1 + F.softplus(wu)
        return self.u + (m - wu) * self.w / (self.w.norm() ** 2)

    def forward(self, z):
        u = self.u_hat()
        lin = z @ self.w + self.b
        f = z + u * torch.tanh(lin).unsqueeze(-1)
        psi = (1 - torch.tanh(lin) ** 2).unsqueeze(-1) * self.w
        log_det = torch.log(torch.abs(1 + psi @ u) + 1e-8)
        return f, log_det


data = torch.from_numpy(moons(64))
half_masks = [torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])] * 2
flow = RealNVP(half_masks)
load_from_numpy(flow)
optimizer = torch.optim.Adam(flow.parameters(), lr=1e-2)
nll_history = []
for _step in range(15):
    loss = -flow.log_prob(data).mean()
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(flow.parameters(), max_norm=5.0)
    optimizer.step()
    nll_history.append(loss.item())

z, log_det = flow(data[:5])
round_trip = (flow.sample_from(z) - data[:5]).abs().max().item()
with torch.no_grad():
    samples = flow.sample_from(torch.from_numpy(rng.randn(6, 2)))

# a checkerboard mask on 4 dims (a flattened 2x2 image)
checkerboard = ((torch.arange(2).view(-1, 1) + torch.arange(2).view(1, -1)) % 2).double().flatten()
image_flow = RealNVP([checkerboard, 1 - checkerboard])
load_from_numpy(image_flow)
images = torch.from_numpy(rng.rand(5, 4))
image_log_prob = image_flow.log_prob(images)
image_flow.zero_grad()
(-image_log_prob.mean()).backward()
image_grad = image_flow.layers[0].s[0].weight.grad

# a stack of planar flows fitted to the data by reverse KL-free maximum likelihood on base samples
planar = nn.ModuleList([PlanarFlow(2) for _ in range(3)])
load_from_numpy(planar, scale=0.5)
base = MultivariateNormal(torch.zeros(2), covariance_matrix=torch.eye(2))
target = MultivariateNormal(torch.tensor([1.0, -0.5]), scale_tril=torch.tensor([[0.8, 0.0], [0.3, 0.5]]))
eps = torch.from_numpy(rng.randn(32, 2))
planar_opt = torch.optim.Adam(planar.parameters(), lr=5e-2)
kl_history = []
for _step in range(10):
    z = eps
    log_q = base.log_prob(z)
    for f in planar:
        z, ld = f(z)
        log_q = log_q - ld
    kl = (log_q - target.log_prob(z)).mean()
    planar_opt.zero_grad()
    kl.backward()
    planar_opt.step()
    kl_history.append(kl.item())

results = {"nll": nll_history, "latent": z.detach()[:3], "log_det": log_det.detach(), "round_trip": round_trip < 1e-9,
           "samples": samples, "image_log_prob": image_log_prob.detach(), "image_grad": image_grad,
           "checkerboard": checkerboard, "kl": kl_history, "u_hat": [f.u_hat().detach() for f in planar],
           "base_entropy": base.entropy().item(), "flow_base_mean": flow.base.mean,
           "event_shape": [list(flow.base.event_shape), list(flow.base.batch_shape)]}
