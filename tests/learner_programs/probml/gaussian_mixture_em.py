# Expectation-maximisation for a Gaussian mixture and k-means, written with torch ops the way a machine learning
# course's clustering notebook writes them (written for this project): responsibilities as a softmax of log-probs
# computed by hand with torch.linalg.slogdet and torch.linalg.inv (and checked against MultivariateNormal.log_prob
# and torch.linalg.det), weighted means and covariances by einsum, the log-likelihood by logsumexp; k-means with
# torch.cdist and argmin, centers by index_add_ and bincount, initial centers picked with NumPy.
import math

import numpy as np
import torch
from torch.distributions import MultivariateNormal

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(11)

centers_true = np.array([[0.0, 0.0], [3.0, 3.0], [-3.0, 2.0]])
X_np = np.concatenate([c + rng.randn(25, 2) @ np.array([[0.8, 0.2], [0.0, 0.5]]) for c in centers_true])
X = torch.from_numpy(X_np)
N, D = X.shape
K = 3


def log_gaussian(X, mean, cov):
    sign, logdet = torch.linalg.slogdet(cov)
    precision = torch.linalg.inv(cov)
    diff = X - mean
    maha = torch.einsum("nd,de,ne->n", diff, precision, diff)
    return -0.5 * (D * math.log(2 * math.pi) + logdet + maha)


means = X[torch.from_numpy(rng.choice(N, K, replace=False))].clone()
covs = torch.eye(D).repeat(K, 1, 1)
weights = torch.full((K,), 1.0 / K)
log_likelihoods = []
for _it in range(12):
    # E step
    log_p = torch.stack([log_gaussian(X, means[k], covs[k]) for k in range(K)], dim=1) + weights.log()
    log_likelihoods.append(torch.logsumexp(log_p, dim=1).sum().item())
    resp = torch.softmax(log_p, dim=1)
    # M step
    Nk = resp.sum(0)
    weights = Nk / N
    means = (resp.T @ X) / Nk.unsqueeze(1)
    diff = X.unsqueeze(0) - means.unsqueeze(1)  # K, N, D
    covs = torch.einsum("kn,knd,kne->kde", resp.T, diff, diff) / Nk.view(K, 1, 1) + 1e-6 * torch.eye(D)

library_log_p = MultivariateNormal(means, covariance_matrix=covs).log_prob(X.unsqueeze(1))
by_hand_log_p = torch.stack([log_gaussian(X, means[k], covs[k]) for k in range(K)], dim=1)
dets = torch.linalg.det(covs)
sign, logdets = torch.linalg.slogdet(covs)
labels = resp.argmax(dim=1)

# k-means
centroids = X[torch.from_numpy(rng.choice(N, K, replace=False))].clone()
inertia = []
for _it in range(8):
    distances = torch.cdist(X, centroids)
    assignment = distances.argmin(dim=1)
    inertia.append((distances.min(dim=1).values ** 2).sum().item())
    sums = torch.zeros(K, D).index_add_(0, assignment, X)
    counts = torch.bincount(assignment, minlength=K)
    centroids = sums / counts.unsqueeze(1).clamp(min=1)

order = centroids[:, 0].argsort()
results = {"log_likelihood": log_likelihoods, "weights": weights, "means": means, "covs": covs,
           "log_p_gap": (library_log_p - by_hand_log_p).abs().max().item() < 1e-10, "library_log_p": library_log_p[:5],
           "dets": dets, "logdets": logdets, "signs": sign, "label_counts": torch.bincount(labels, minlength=K),
           "inertia": inertia, "centroids": centroids[order], "cluster_sizes": counts[order],
           "cholesky_det": torch.linalg.cholesky(covs).diagonal(dim1=-2, dim2=-1).prod(-1) ** 2}
