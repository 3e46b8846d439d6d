# Principal component analysis the ways a probabilistic ML course shows it (written for this project): by
# torch.linalg.svd(full_matrices=False) of the centered data, by torch.linalg.eigh of the covariance, by
# torch.pca_lowrank and torch.svd_lowrank (randomized; compared by their reconstructions, explained variance and
# singular values, never by the sign-ambiguous vectors), then probabilistic PCA fitted by gradient descent on its
# marginal likelihood, checked against the closed-form noise variance.
import math

import numpy as np
import torch
from torch.distributions import MultivariateNormal

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(21)

N, D, q = 60, 5, 2
W_true = rng.randn(D, q)
X = torch.from_numpy(rng.randn(N, q) @ W_true.T + 0.2 * rng.randn(N, D) + np.arange(D))
mean = X.mean(dim=0)
Xc = X - mean

U, S, Vh = torch.linalg.svd(Xc, full_matrices=False)
explained_variance = S ** 2 / (N - 1)
ratio = explained_variance / explained_variance.sum()
projected = Xc @ Vh[:q].T
reconstruction = projected @ Vh[:q] + mean
svd_error = ((X - reconstruction) ** 2).mean().item()
sign_free = (U * S)[:, :q].abs()  # |scores| do not depend on the signs the SVD picks

cov = Xc.T @ Xc / (N - 1)
cov_check = (cov - torch.cov(X.T)).abs().max().item()
evals, evecs = torch.linalg.eigh(cov)
evals_desc = evals.flip(0)
top = evecs[:, -q:]
eig_reconstruction = Xc @ top @ top.T + mean
eigvalsh = torch.linalg.eigvalsh(cov)
svdvals = torch.linalg.svdvals(Xc)

torch.manual_seed(0)
U_low, S_low, V_low = torch.pca_lowrank(X, q=q, center=True)  # two power iterations: close to S, not equal
low_close = [torch.allclose(S_low, S[:q], rtol=1e-4),
             (Xc @ V_low @ V_low.T - Xc @ Vh[:q].T @ Vh[:q]).abs().max() < 1e-2]
U_all, S_all, V_all = torch.pca_lowrank(X, q=D)  # every direction: exact whichever random start
pca_low_reconstruction = (Xc @ V_all[:, :q]) @ V_all[:, :q].T + mean
U_r, S_r, V_r = torch.svd_lowrank(Xc, q=D, niter=4)
svd_low_reconstruction = U_r @ torch.diag(S_r) @ V_r.T
old_U, old_S, old_V = torch.svd(Xc)

# probabilistic PCA: x ~ N(mu, W W^T + sigma^2 I), fitted by Adam
W = torch.from_numpy(0.1 * rng.randn(D, q)).requires_grad_(True)
log_sigma2 = torch.tensor(0.0, requires_grad=True)
optimizer = torch.optim.Adam([W, log_sigma2], lr=0.05)
ppca_history = []
for _step in range(60):
    C = W @ W.T + log_sigma2.exp() * torch.eye(D)
    nll = -MultivariateNormal(mean, covariance_matrix=C).log_prob(X).mean()
    optimizer.zero_grad()
    nll.backward()
    optimizer.step()
    ppca_history.append(nll.item())
C = W.detach() @ W.detach().T + log_sigma2.detach().exp() * torch.eye(D)
trace_term = torch.trace(torch.linalg.solve(C, cov)) * (N - 1) / N
nll_by_hand = 0.5 * (D * math.log(2 * math.pi) + torch.logdet(C) + trace_term)
sigma2_closed_form = evals_desc[q:].mean() * (N - 1) / N

results = {"S": S, "explained_variance": explained_variance, "ratio": ratio, "svd_error": svd_error,
           "sign_free_scores": sign_free[:6], "cov_check": cov_check < 1e-12, "evals": evals_desc,
           "eig_reconstruction": eig_reconstruction[:4], "svd_reconstruction": reconstruction[:4],
           "eigvalsh": eigvalsh, "svdvals": svdvals, "low_close": low_close, "S_all": S_all,
           "pca_low_reconstruction": pca_low_reconstruction[:4],
           "S_r": S_r, "svd_low_reconstruction": svd_low_reconstruction[:3], "old_S": old_S,
           "old_reconstruction": (old_U @ torch.diag(old_S) @ old_V.T)[:3], "shapes": [list(U_low.shape),
           list(V_low.shape), list(old_V.shape)], "ppca": ppca_history, "sigma2": log_sigma2.exp().item(),
           "sigma2_closed_form": sigma2_closed_form.item(), "nll_by_hand": nll_by_hand.item(),
           "WWt": W.detach() @ W.detach().T}
