# A hidden Markov model in log space, as a probabilistic ML course's sequence-models notebook writes it (written for
# this project): a left-to-right transition matrix whose impossible moves are log 0 = -inf, the forward algorithm
# with torch.logsumexp (rows of -inf where a state cannot be reached yet), the backward algorithm, posterior state
# marginals, Viterbi decoding with max/argmax and back-pointers, a check against brute-force enumeration of every
# path, and gradient training of the emission means by Adam (through log(A + 1e-12): a logsumexp over a row of -inf
# has a NaN gradient, in PyTorch as here).
import itertools

import numpy as np
import torch
from torch.distributions import Categorical, Normal

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(8)

K, T = 3, 7
transition = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.6, 0.4], [0.0, 0.0, 1.0]])
log_A = torch.log(transition)  # -inf where a move is impossible
log_pi = torch.log(torch.tensor([1.0, 0.0, 0.0]))
obs = torch.from_numpy(np.concatenate([rng.randn(2) - 2, rng.randn(3), rng.randn(2) + 2]))
means = torch.tensor([-1.5, 0.3, 1.0], requires_grad=True)


def emission_log_probs(means):
    return Normal(means, 1.0).log_prob(obs.unsqueeze(-1))  # (T, K)


def forward(log_B, log_A=log_A, log_pi=log_pi):
    alphas = [log_pi + log_B[0]]
    for t in range(1, T):
        alphas.append(torch.logsumexp(alphas[-1].unsqueeze(-1) + log_A, dim=0) + log_B[t])
    return torch.stack(alphas)


def backward(log_B):
    betas = [torch.zeros(K)]
    for t in range(T - 2, -1, -1):
        betas.insert(0, torch.logsumexp(log_A + (log_B[t + 1] + betas[0]).unsqueeze(0), dim=1))
    return torch.stack(betas)


def viterbi(log_B):
    delta = log_pi + log_B[0]
    pointers = []
    for t in range(1, T):
        scores = delta.unsqueeze(-1) + log_A
        delta, best = scores.max(dim=0)
        delta = delta + log_B[t]
        pointers.append(best)
    path = [int(delta.argmax())]
    for best in reversed(pointers):
        path.insert(0, int(best[path[0]]))
    return path, delta.max().item()


log_B = emission_log_probs(means).detach()
alpha = forward(log_B)
beta = backward(log_B)
log_likelihood = torch.logsumexp(alpha[-1], dim=0)
posterior = torch.softmax(alpha + beta, dim=-1)
path, best_score = viterbi(log_B)

brute = []
for states in itertools.product(range(K), repeat=T):
    score = log_pi[states[0]] + log_B[0, states[0]]
    for t in range(1, T):
        score = score + log_A[states[t - 1], states[t]] + log_B[t, states[t]]
    brute.append(score)
brute_force = torch.logsumexp(torch.stack(brute), dim=0)

smooth_A, smooth_pi = torch.log(transition + 1e-12), torch.log(torch.tensor([1.0, 0.0, 0.0]) + 1e-12)
smoothed = torch.logsumexp(forward(emission_log_probs(means), smooth_A, smooth_pi)[-1], dim=0)
smoothed.backward()
means_grad = means.grad.clone()

optimizer = torch.optim.Adam([means], lr=0.1)
history = []
for _ in range(12):
    optimizer.zero_grad()
    loss = -torch.logsumexp(forward(emission_log_probs(means), smooth_A, smooth_pi)[-1], dim=0)
    loss.backward()
    optimizer.step()
    history.append(loss.item())

first_state = Categorical(probs=posterior[0])
results = {"alpha": alpha, "beta": beta, "log_likelihood": log_likelihood.item(), "smoothed": smoothed.item(),
           "brute_force": brute_force.item(), "posterior": posterior, "viterbi": path,
           "viterbi_score": best_score, "means_grad": means_grad, "history": history, "means": means.detach(),
           "first_state_entropy": first_state.entropy().item(), "first_state_logits": first_state.logits}
