# Two classic Bayesian computations in torch, as a probabilistic ML course's notebooks write them (written for this
# project): a Kalman filter and Rauch-Tung-Striebel smoother for a constant-velocity tracker, with the filter's log
# likelihood by MultivariateNormal and a learned log process-noise fitted by Adam through the whole filter; and
# Bayesian logistic regression with a Laplace approximation: the MAP weights by LBFGS, the Hessian of the negative log
# posterior by torch.autograd.functional.hessian (checked against X^T diag(p(1-p)) X + I/prior_var), the posterior
# covariance by torch.linalg.inv, and the probit-approximated predictive probabilities.
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd.functional import hessian, jacobian
from torch.distributions import MultivariateNormal

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(29)

dt = 0.5
A = torch.tensor([[1.0, dt], [0.0, 1.0]])
H = torch.tensor([[1.0, 0.0]])
R = torch.tensor([[0.25]])
positions = np.cumsum(np.full(15, dt * 1.2)) + 0.3 * rng.randn(15)
observations = torch.from_numpy(positions).unsqueeze(-1)


def kalman_filter(observations, Q):
    m = torch.zeros(2)
    P = torch.eye(2) * 10
    means, covs, predicted = [], [], []
    log_likelihood = 0.0
    for y in observations:
        m_pred = A @ m
        P_pred = A @ P @ A.T + Q
        predicted.append((m_pred, P_pred))
        S = H @ P_pred @ H.T + R
        log_likelihood = log_likelihood + MultivariateNormal(H @ m_pred, S).log_prob(y)
        K = P_pred @ H.T @ torch.linalg.inv(S)
        m = m_pred + K @ (y - H @ m_pred)
        P = (torch.eye(2) - K @ H) @ P_pred
        means.append(m)
        covs.append(P)
    return torch.stack(means), torch.stack(covs), predicted, log_likelihood


def rts_smoother(means, covs, predicted):
    smoothed_m, smoothed_P = [means[-1]], [covs[-1]]
    for k in range(len(means) - 2, -1, -1):
        m_pred, P_pred = predicted[k + 1]
        G = covs[k] @ A.T @ torch.linalg.inv(P_pred)
        smoothed_m.insert(0, means[k] + G @ (smoothed_m[0] - m_pred))
        smoothed_P.insert(0, covs[k] + G @ (smoothed_P[0] - P_pred) @ G.T)
    return torch.stack(smoothed_m), torch.stack(smoothed_P)


log_q = torch.tensor(-2.0, requires_grad=True)
optimizer = torch.optim.Adam([log_q], lr=0.1)
kalman_history = []
for _step in range(10):
    Q = log_q.exp() * torch.tensor([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]])
    means, covs, predicted, log_likelihood = kalman_filter(observations, Q)
    optimizer.zero_grad()
    (-log_likelihood).backward()
    optimizer.step()
    kalman_history.append(log_likelihood.item())
with torch.no_grad():
    means, covs, predicted, log_likelihood = kalman_filter(observations, Q)
    smoothed_m, smoothed_P = rts_smoother(means, covs, predicted)

# Bayesian logistic regression
N, D = 40, 3
X = torch.from_numpy(np.concatenate([rng.randn(N, D - 1), np.ones((N, 1))], axis=1))
w_true = torch.tensor([1.5, -2.0, 0.3])
y = torch.from_numpy((rng.rand(N) < torch.sigmoid(X @ w_true).numpy()).astype(np.float64))
prior_var = 2.0


def neg_log_posterior(w):
    logits = X @ w
    return F.binary_cross_entropy_with_logits(logits, y, reduction="sum") + 0.5 * (w ** 2).sum() / prior_var


w = torch.zeros(D, requires_grad=True)
lbfgs = torch.optim.LBFGS([w], lr=1, max_iter=50, tolerance_grad=1e-10, tolerance_change=1e-12,
                          line_search_fn="strong_wolfe")


def closure():
    lbfgs.zero_grad()
    loss = neg_log_posterior(w)
    loss.backward()
    return loss


lbfgs.step(closure)
w_map = w.detach()
H_autograd = hessian(neg_log_posterior, w_map)
p = torch.sigmoid(X @ w_map)
H_by_hand = X.T @ torch.diag(p * (1 - p)) @ X + torch.eye(D) / prior_var
posterior_cov = torch.linalg.inv(H_autograd)
grad_at_map = jacobian(neg_log_posterior, w_map)

X_new = torch.tensor([[0.5, 0.5, 1.0], [-1.0, 2.0, 1.0], [2.0, -1.0, 1.0]])
mu_a = X_new @ w_map
var_a = torch.einsum("nd,de,ne->n", X_new, posterior_cov, X_new)
kappa = 1 / torch.sqrt(1 + math.pi * var_a / 8)
predictive = torch.sigmoid(kappa * mu_a)
log_evidence = (-neg_log_posterior(w_map) + 0.5 * D * math.log(2 * math.pi) - 0.5 * torch.logdet(H_autograd)
                - 0.5 * D * math.log(2 * math.pi * prior_var))

results = {"kalman_ll": kalman_history, "q": log_q.exp().item(), "filtered": means, "filtered_var": covs[:, 0, 0],
           "smoothed": smoothed_m, "smoothed_var": smoothed_P[:, 0, 0], "w_map": w_map, "hessian": H_autograd,
           "hessian_gap": (H_autograd - H_by_hand).abs().max().item() < 1e-9, "posterior_cov": posterior_cov,
           "grad_at_map": grad_at_map.abs().max().item() < 1e-6, "predictive": predictive, "map_predictive":
           torch.sigmoid(mu_a), "log_evidence": log_evidence.item()}
