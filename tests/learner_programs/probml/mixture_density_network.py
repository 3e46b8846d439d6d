# A mixture density network for the inverse sine problem, as a probabilistic ML course codes it (written for this
# project): a tanh MLP giving mixture logits, means and log-scales; the negative log-likelihood two ways, by
# torch.logsumexp over log pi + Normal.log_prob, and by MixtureSameFamily(Categorical(logits), Normal); a few Adam
# steps; then the mixture's mean and variance, its cdf by hand, and sampling (compared by shape only).
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, MixtureSameFamily, Normal

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(5)
K = 3

y_np = rng.uniform(-1, 1, size=(40, 1))
x_np = np.sin(3 * y_np) + 0.1 * rng.randn(40, 1) + 0.5 * y_np
x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)


class MDN(nn.Module):
    def __init__(self, hidden=12):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, hidden), nn.Tanh())
        self.pi = nn.Linear(hidden, K)
        self.mu = nn.Linear(hidden, K)
        self.log_sigma = nn.Linear(hidden, K)

    def forward(self, inputs):
        h = self.body(inputs)
        return self.pi(h), self.mu(h), self.log_sigma(h).clamp(-5, 5)


def nll_logsumexp(pi_logits, mu, log_sigma, target):
    log_pi = F.log_softmax(pi_logits, dim=-1)
    log_comp = Normal(mu, log_sigma.exp()).log_prob(target)  # target (N, 1) broadcasts over K
    return -torch.logsumexp(log_pi + log_comp, dim=-1).mean()


def nll_by_hand(pi_logits, mu, log_sigma, target):
    log_pi = pi_logits - torch.logsumexp(pi_logits, dim=1, keepdim=True)
    z = (target - mu) / log_sigma.exp()
    log_comp = -0.5 * z ** 2 - log_sigma - 0.5 * np.log(2 * np.pi)
    m = (log_pi + log_comp).max(dim=1, keepdim=True).values
    return -(m.squeeze(1) + torch.log(torch.exp(log_pi + log_comp - m).sum(1))).mean()


def mixture(pi_logits, mu, log_sigma):
    return MixtureSameFamily(Categorical(logits=pi_logits), Normal(mu, log_sigma.exp()))


model = MDN()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(0.5 * rng.randn(*p.shape)))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
history = []
for _step in range(20):
    pi_logits, mu, log_sigma = model(x)
    loss = -mixture(pi_logits, mu, log_sigma).log_prob(y.squeeze(-1)).mean()
    check = nll_logsumexp(pi_logits, mu, log_sigma, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append([loss.item(), check.item(), nll_by_hand(pi_logits, mu, log_sigma, y).item()])

x_grid = torch.linspace(-1.2, 1.2, 5).unsqueeze(-1)
with torch.no_grad():
    pi_logits, mu, log_sigma = model(x_grid)
    dist = mixture(pi_logits, mu, log_sigma)
    weights = F.softmax(pi_logits, dim=-1)
    y_grid = torch.linspace(-1, 1, 4).view(-1, 1, 1)
    cdf_by_hand = (weights * Normal(mu, log_sigma.exp()).cdf(y_grid)).sum(-1)
    cdf_library = dist.cdf(y_grid.squeeze(-1))
    samples = dist.sample((7,))
    best = weights.argmax(dim=-1)
    mode_mean = mu.gather(1, best.unsqueeze(1)).squeeze(1)

results = {"history": history, "mean": dist.mean, "variance": dist.variance, "weights": weights,
           "cdf_by_hand": cdf_by_hand, "cdf_library": cdf_library, "sample_shape": list(samples.shape),
           "mode_mean": mode_mean, "batch_shape": list(dist.batch_shape), "entropy_of_weights":
           Categorical(logits=pi_logits).entropy(), "log_prob_grid": dist.log_prob(torch.zeros(5))}
