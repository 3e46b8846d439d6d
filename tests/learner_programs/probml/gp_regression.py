# Gaussian-process regression from scratch, the way probabilistic-ML course notebooks write it (written for this
# project): an RBF kernel by broadcasting and by torch.cdist, the Cholesky factor of K + noise * I, alpha by
# torch.cholesky_solve and by two torch.linalg.solve_triangular calls, the log marginal likelihood with
# 2 * L.diagonal().log().sum(), hyperparameters kept as log-parameters (softplus / exp) and fitted with Adam and with
# LBFGS(closure), then the predictive mean and variance. float64 throughout, as GP code is.
import math

import numpy as np
import torch
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(0)

X = torch.tensor(np.sort(rng.uniform(-3, 3, size=(14, 1)), axis=0))
y = torch.sin(X).squeeze(-1) + 0.1 * torch.tensor(rng.randn(14))
X_test = torch.linspace(-3.5, 3.5, 9).unsqueeze(-1)


def rbf_broadcast(A, B, lengthscale, variance):
    diff = A[:, None, :] - B[None, :, :]
    sqdist = (diff ** 2).sum(-1)
    return variance * torch.exp(-0.5 * sqdist / lengthscale ** 2)


def rbf_cdist(A, B, lengthscale, variance):
    return variance * torch.exp(-0.5 * torch.cdist(A / lengthscale, B / lengthscale) ** 2)


def log_marginal_likelihood(X, y, lengthscale, variance, noise):
    n = X.shape[0]
    K = rbf_cdist(X, X, lengthscale, variance) + noise * torch.eye(n)
    L = torch.linalg.cholesky(K)
    alpha = torch.cholesky_solve(y.unsqueeze(-1), L)
    data_fit = -0.5 * (y.unsqueeze(-1) * alpha).sum()
    complexity = -0.5 * 2 * L.diagonal().log().sum()
    return data_fit + complexity - 0.5 * n * math.log(2 * math.pi)


def predict(X, y, X_star, lengthscale, variance, noise):
    K = rbf_broadcast(X, X, lengthscale, variance) + noise * torch.eye(X.shape[0])
    L = torch.linalg.cholesky(K)
    K_s = rbf_broadcast(X, X_star, lengthscale, variance)
    # alpha = K^-1 y by two triangular solves
    z = torch.linalg.solve_triangular(L, y.unsqueeze(-1), upper=False)
    alpha = torch.linalg.solve_triangular(L.T, z, upper=True)
    mean = (K_s.T @ alpha).squeeze(-1)
    v = torch.linalg.solve_triangular(L, K_s, upper=False)
    var = variance - (v ** 2).sum(0)
    return mean, var


kernel_check = (rbf_broadcast(X, X_test, 0.7, 1.3) - rbf_cdist(X, X_test, 0.7, 1.3)).abs().max().item()

# Adam on softplus-parametrised hyperparameters
raw_lengthscale = torch.tensor(0.0, requires_grad=True)
raw_variance = torch.tensor(0.5, requires_grad=True)
raw_noise = torch.tensor(-2.0, requires_grad=True)
optimizer = torch.optim.Adam([raw_lengthscale, raw_variance, raw_noise], lr=0.05)
adam_history = []
for _step in range(30):
    optimizer.zero_grad()
    loss = -log_marginal_likelihood(X, y, F.softplus(raw_lengthscale), F.softplus(raw_variance),
                                    F.softplus(raw_noise) + 1e-6)
    loss.backward()
    optimizer.step()
    adam_history.append(loss.item())

# LBFGS on log-parameters
log_params = torch.tensor([0.0, 0.0, -2.0], requires_grad=True)
lbfgs = torch.optim.LBFGS([log_params], lr=0.5, max_iter=20, line_search_fn="strong_wolfe")


def closure():
    lbfgs.zero_grad()
    ell, var, noise = log_params.exp()
    loss = -log_marginal_likelihood(X, y, ell, var, noise)
    loss.backward()
    return loss


first_loss = lbfgs.step(closure)
ell, var, noise = log_params.detach().exp()
mean, variance = predict(X, y, X_test, ell, var, noise)
lower, upper = mean - 2 * variance.clamp_min(0).sqrt(), mean + 2 * variance.clamp_min(0).sqrt()

# the same posterior mean through torch.linalg.solve and cholesky_inverse
K = rbf_cdist(X, X, ell, var) + noise * torch.eye(X.shape[0])
mean_solve = rbf_cdist(X_test, X, ell, var) @ torch.linalg.solve(K, y)
K_inv = torch.cholesky_inverse(torch.linalg.cholesky(K))
mean_inverse = rbf_cdist(X_test, X, ell, var) @ K_inv @ y

# a posterior sample path with noise from NumPy
K_ss = rbf_cdist(X_test, X_test, ell, var)
K_s = rbf_cdist(X, X_test, ell, var)
cov = K_ss - K_s.T @ torch.cholesky_solve(K_s, torch.linalg.cholesky(K))
L_post = torch.linalg.cholesky(cov + 1e-6 * torch.eye(X_test.shape[0]))
sample = mean.unsqueeze(-1) + L_post @ torch.tensor(rng.randn(9, 2))

results = {"kernel_check": kernel_check < 1e-12, "adam": adam_history,
           "adam_hypers": [F.softplus(p).item() for p in (raw_lengthscale, raw_variance, raw_noise)],
           "lbfgs_first_loss": first_loss.item(), "lbfgs_hypers": log_params.detach().exp(),
           "lml": log_marginal_likelihood(X, y, ell, var, noise).item(), "mean": mean, "variance": variance,
           "band": torch.stack([lower, upper]), "mean_solve": mean_solve, "mean_inverse": mean_inverse,
           "sample": sample, "cov_diag": cov.diagonal()}
