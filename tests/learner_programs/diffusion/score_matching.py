# A score-based generative modelling tutorial's style (written for this project): 2-D toy data (two moons and a
# swiss roll made with NumPy), an MLP score network trained by denoising score matching at one noise level and by
# the noise-conditional (NCSN) loss over a geometric ladder of sigmas, exact score matching with the Jacobian's
# trace from torch.autograd.grad per dimension, sliced score matching with random projections and
# torch.autograd.grad(create_graph=True), then Langevin dynamics and annealed Langevin sampling with NumPy noise.
import math

import numpy as np
import torch
import torch.nn as nn

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(42)


def make_moons(n, noise=0.05):
    n_out = n // 2
    n_in = n - n_out
    outer = np.stack([np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))], 1)
    inner = np.stack([1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5], 1)
    return np.concatenate([outer, inner]) + rng.normal(0, noise, (n, 2))


def make_swiss_roll(n, noise=0.1):
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    return np.stack([t * np.cos(t), t * np.sin(t)], 1) / 5 + rng.normal(0, noise, (n, 2))


class ScoreNet(nn.Module):
    def __init__(self, hidden=16, conditional=False):
        super().__init__()
        self.conditional = conditional
        self.net = nn.Sequential(nn.Linear(3 if conditional else 2, hidden), nn.Softplus(),
                                 nn.Linear(hidden, hidden), nn.Softplus(), nn.Linear(hidden, 2))

    def forward(self, x, sigma=None):
        if self.conditional:
            x = torch.cat([x, torch.log(sigma)], dim=-1)
        out = self.net(x)
        return out / sigma if self.conditional else out


def load(model, seed):
    numbers = np.random.default_rng(seed)
    for layer in model.net:
        if isinstance(layer, nn.Linear):
            layer.weight.data = torch.from_numpy(numbers.normal(0, 0.5, (layer.out_features, layer.in_features)))
            layer.bias.data = torch.from_numpy(numbers.normal(0, 0.5, layer.out_features))
    return model


def dsm_loss(model, x, noise, sigma=0.1):
    x_tilde = x + sigma * noise
    target = -(x_tilde - x) / sigma ** 2
    return 0.5 * ((model(x_tilde) - target) ** 2).sum(dim=-1).mean()


def ncsn_loss(model, x, noise, sigma_idx, sigmas):
    used = sigmas[sigma_idx].view(x.shape[0], *([1] * len(x.shape[1:])))
    perturbed = x + noise * used
    target = -1 / (used ** 2) * (perturbed - x)
    scores = model(perturbed, used)
    return (0.5 * ((scores - target) ** 2).sum(dim=-1) * used.squeeze(-1) ** 2).mean()


def exact_score_matching(model, x):
    x = x.requires_grad_(True)
    score = model(x)
    trace = torch.zeros(x.shape[0])
    for i in range(x.shape[1]):
        trace = trace + torch.autograd.grad(score[:, i].sum(), x, create_graph=True)[0][:, i]
    return (trace + 0.5 * score.pow(2).sum(-1)).mean()


def sliced_score_matching(model, x, v):
    x = x.detach().clone().requires_grad_(True)
    score = model(x)
    sv = torch.sum(score * v)
    grad_sv = torch.autograd.grad(sv, x, create_graph=True)[0]
    loss1 = 0.5 * torch.sum(score * score, dim=-1)
    loss2 = torch.sum(v * grad_sv, dim=-1)
    return (loss1 + loss2).mean()


moons = torch.from_numpy(make_moons(32))
roll = torch.tensor(make_swiss_roll(32))
histories = {}
for name, data in {"moons": moons, "roll": roll}.items():
    model = load(ScoreNet(), 3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        noise = torch.from_numpy(rng.normal(size=data.shape))
        loss = dsm_loss(model, data, noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    histories[name] = losses

esm_model, ssm_model = load(ScoreNet(), 4), load(ScoreNet(), 4)
esm_opt = torch.optim.SGD(esm_model.parameters(), lr=0.05, momentum=0.9)
ssm_opt = torch.optim.SGD(ssm_model.parameters(), lr=0.05, momentum=0.9)
esm_losses, ssm_losses = [], []
for _ in range(3):
    esm = exact_score_matching(esm_model, moons.clone())
    esm_opt.zero_grad()
    esm.backward()
    esm_opt.step()
    v = torch.from_numpy(rng.normal(size=moons.shape))
    v = v / torch.norm(v, dim=-1, keepdim=True)
    ssm = sliced_score_matching(ssm_model, moons, v)
    ssm_opt.zero_grad()
    ssm.backward()
    ssm_opt.step()
    esm_losses.append(esm.item())
    ssm_losses.append(ssm.item())

sigma_begin, sigma_end, n_sigmas = 1.0, 0.01, 6
sigmas = torch.exp(torch.linspace(math.log(sigma_begin), math.log(sigma_end), n_sigmas))
geometric = torch.tensor(np.exp(np.linspace(np.log(sigma_begin), np.log(sigma_end), n_sigmas)))
ncsn = load(ScoreNet(conditional=True), 5)
ncsn_opt = torch.optim.Adam(ncsn.parameters(), lr=5e-3)
ncsn_losses = []
for _ in range(4):
    idx = torch.from_numpy(rng.integers(0, n_sigmas, roll.shape[0]))
    noise = torch.randn_like(roll) * 0 + torch.from_numpy(rng.normal(size=roll.shape))
    loss = ncsn_loss(ncsn, roll, noise, idx, sigmas)
    ncsn_opt.zero_grad()
    loss.backward()
    ncsn_opt.step()
    ncsn_losses.append(loss.item())


@torch.no_grad()
def langevin_dynamics(score_fn, x, eps=0.01, n_steps=10):
    for _ in range(n_steps):
        z = torch.from_numpy(rng.normal(size=x.shape))
        x = x + eps / 2 * score_fn(x) + np.sqrt(eps) * z
    return x


@torch.no_grad()
def anneal_langevin(model, x, sigmas, n_steps_each=3, step_lr=2e-3):
    trajectory = []
    for sigma in sigmas:
        labels = torch.ones(x.shape[0], 1) * sigma
        step_size = step_lr * (sigma / sigmas[-1]) ** 2
        for _ in range(n_steps_each):
            noise = torch.from_numpy(rng.normal(size=x.shape)) * torch.sqrt(step_size * 2)
            grad = model(x, labels)
            x = x + step_size * grad + noise
        trajectory.append(x.norm(dim=-1).mean().item())
    return x, trajectory


start = torch.from_numpy(rng.uniform(-2, 2, (16, 2)))
langevin = langevin_dynamics(load(ScoreNet(), 3), start.clone())
annealed, trajectory = anneal_langevin(ncsn, start.clone(), sigmas)

results = {"dsm": histories, "esm": esm_losses, "ssm": ssm_losses, "sigmas": sigmas,
           "same_ladder": torch.allclose(sigmas, geometric), "ncsn": ncsn_losses, "langevin": langevin,
           "annealed": annealed, "trajectory": trajectory}
