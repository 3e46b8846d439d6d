# Bayesian optimization of a 2-D test function, the way a probabilistic ML course codes it from scratch (written for
# this project): candidates spread with torch.quasirandom.SobolEngine (unscrambled, so both libraries draw the same
# points), a GP surrogate with a Matern-5/2 kernel whose hyperparameters are fitted by Adam on the log marginal
# likelihood (Cholesky, cholesky_solve), expected improvement and upper confidence bound from Normal's cdf and
# log_prob, the acquisition's maximiser refined by gradient ascent through the posterior, and a few BO iterations.
import math

import torch
from torch.distributions import Normal
from torch.quasirandom import SobolEngine

dtype = "float64"
torch.set_default_dtype(torch.float64)


def branin(x):
    x1, x2 = 15 * x[..., 0] - 5, 15 * x[..., 1]
    return ((x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * torch.cos(x1) + 10)


def matern52(a, b, lengthscale, outputscale):
    r = torch.cdist(a / lengthscale, b / lengthscale)
    s = math.sqrt(5) * r
    return outputscale * (1 + s + s ** 2 / 3) * torch.exp(-s)


class GP:
    def __init__(self, X, y):
        self.X, self.y_mean, self.y_std = X, y.mean(), y.std()
        self.y = (y - self.y_mean) / self.y_std
        self.raw = torch.tensor([-1.0, 0.0, -4.0], requires_grad=True)  # log lengthscale, outputscale, noise

    def hypers(self):
        return self.raw[0].exp(), self.raw[1].exp(), self.raw[2].exp() + 1e-6

    def fit(self, steps=30):
        optimizer = torch.optim.Adam([self.raw], lr=0.1)
        for _ in range(steps):
            ell, sf, noise = self.hypers()
            K = matern52(self.X, self.X, ell, sf) + noise * torch.eye(len(self.X))
            L = torch.linalg.cholesky(K)
            alpha = torch.cholesky_solve(self.y.unsqueeze(-1), L)
            nlml = 0.5 * (self.y.unsqueeze(-1) * alpha).sum() + L.diagonal().log().sum()
            optimizer.zero_grad()
            nlml.backward()
            optimizer.step()
        return nlml.item()

    def posterior(self, Xs):
        ell, sf, noise = (h.detach() for h in self.hypers())
        K = matern52(self.X, self.X, ell, sf) + noise * torch.eye(len(self.X))
        L = torch.linalg.cholesky(K)
        Ks = matern52(self.X, Xs, ell, sf)
        mean = Ks.T @ torch.cholesky_solve(self.y.unsqueeze(-1), L)
        v = torch.linalg.solve_triangular(L, Ks, upper=False)
        var = (sf - (v ** 2).sum(0)).clamp_min(1e-12)
        return mean.squeeze(-1) * self.y_std + self.y_mean, var.sqrt() * self.y_std


def expected_improvement(gp, Xs, best):
    mean, std = gp.posterior(Xs)
    z = (best - mean) / std
    standard = Normal(torch.zeros_like(z), torch.ones_like(z))
    return (best - mean) * standard.cdf(z) + std * standard.log_prob(z).exp()


def upper_confidence_bound(gp, Xs, beta=2.0):
    mean, std = gp.posterior(Xs)
    return -mean + math.sqrt(beta) * std


sobol = SobolEngine(dimension=2, scramble=False)
X = sobol.draw(8)
y = branin(X)
history, acquisitions, nlmls = [], [], []
for _ in range(4):
    gp = GP(X, y)
    nlmls.append(gp.fit())
    candidates = sobol.draw(64)
    ei = expected_improvement(gp, candidates, y.min())
    start = candidates[ei.argmax()].clone().unsqueeze(0).requires_grad_(True)
    ascent = torch.optim.Adam([start], lr=0.02)
    for _ in range(10):
        loss = -expected_improvement(gp, start.clamp(0, 1), y.min()).sum()
        ascent.zero_grad()
        loss.backward()
        ascent.step()
    x_next = start.detach().clamp(0, 1)
    acquisitions.append([ei.max().item(), -loss.item(), upper_confidence_bound(gp, x_next).item()])
    X = torch.cat([X, x_next])
    y = torch.cat([y, branin(x_next)])
    history.append(y.min().item())

grid = SobolEngine(dimension=2, scramble=False).draw_base2(4)
mean, std = gp.posterior(grid)
results = {"first_points": X[:8], "history": history, "acquisitions": acquisitions, "nlml": nlmls,
           "final_hypers": [h.item() for h in gp.hypers()], "X": X, "y": y, "grid_mean": mean, "grid_std": std,
           "num_generated": sobol.num_generated}
