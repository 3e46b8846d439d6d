# Approximate Bayesian deep learning the way a Bayesian deep learning course's notebooks code it (written for this
# project): Stein variational gradient descent with an RBF kernel and the median heuristic (torch.median, the
# kernel's gradient by torch.autograd.grad), Hamiltonian Monte Carlo over a small network's weights flattened with
# parameters_to_vector / vector_to_parameters and a Gaussian prior, a last-layer Laplace approximation with the
# generalized Gauss-Newton matrix from torch.func.jacrev of functional_call, SWAG's diagonal moments over an SGD
# trajectory, and a deep ensemble evaluated with torch.func.stack_module_state and vmap. Noise and data from NumPy.
import copy
import math

import numpy as np
import torch
import torch.nn as nn
from torch.func import functional_call, jacrev, stack_module_state, vmap
from torch.nn.utils import parameters_to_vector, vector_to_parameters

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(41)

x = torch.from_numpy(rng.uniform(-2, 2, size=(24, 1)))
y = torch.sin(2 * x) + 0.1 * torch.from_numpy(rng.randn(24, 1))


def make_net(scale=0.5):
    net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(scale * rng.randn(*p.shape)))
    return net


# --- SVGD on a 2-D banana-shaped target ---
def log_target(z):
    return -0.5 * (z[:, 0] ** 2 / 4 + (z[:, 1] - 0.5 * z[:, 0] ** 2) ** 2)


def svgd_step(particles, step_size):
    particles = particles.detach().requires_grad_(True)
    score = torch.autograd.grad(log_target(particles).sum(), particles)[0]
    sq_dist = torch.cdist(particles, particles) ** 2
    bandwidth = torch.median(sq_dist) / math.log(particles.shape[0] + 1)
    kernel = torch.exp(-sq_dist / bandwidth)
    repulsion = torch.autograd.grad(kernel.sum(), particles)[0]
    phi = (kernel.detach() @ score + repulsion) / particles.shape[0]
    return (particles + step_size * phi).detach(), bandwidth.item()


particles = torch.from_numpy(rng.randn(10, 2))
bandwidths = []
for _ in range(15):
    particles, h = svgd_step(particles, 0.2)
    bandwidths.append(h)

# --- HMC over the weights of a small net ---
net = make_net()
prior = torch.distributions.Normal(0.0, 1.0)


def log_posterior(theta):
    vector_to_parameters(theta, net.parameters())
    log_lik = torch.distributions.Normal(net(x), 0.1).log_prob(y).sum()
    return log_lik + prior.log_prob(theta).sum()


def grad_log_posterior(theta):
    theta = theta.detach().requires_grad_(True)
    value = log_posterior(theta)
    return value.detach(), torch.autograd.grad(value, theta)[0]


theta = parameters_to_vector(net.parameters()).detach().clone()
step_size, n_leapfrog = 2e-3, 8
samples, acceptances = [], []
for _ in range(6):
    momentum = torch.from_numpy(rng.randn(theta.numel()))
    current_value, current_grad = grad_log_posterior(theta)
    proposal, p = theta.clone(), momentum + 0.5 * step_size * current_grad
    for i in range(n_leapfrog):
        proposal = proposal + step_size * p
        value, grad = grad_log_posterior(proposal)
        if i != n_leapfrog - 1:
            p = p + step_size * grad
    p = p + 0.5 * step_size * grad
    log_accept = (value - 0.5 * (p ** 2).sum()) - (current_value - 0.5 * (momentum ** 2).sum())
    accepted = bool(np.log(rng.uniform()) < log_accept.item())
    if accepted:
        theta = proposal.detach()
    samples.append(theta.clone())
    acceptances.append(accepted)
vector_to_parameters(theta, net.parameters())

# --- last-layer Laplace with the GGN ---
map_net = make_net()
opt = torch.optim.Adam(map_net.parameters(), lr=0.02)
for _ in range(40):
    loss = ((map_net(x) - y) ** 2).sum() / (2 * 0.1 ** 2) + 0.5 * sum((p ** 2).sum() for p in map_net.parameters())
    opt.zero_grad()
    loss.backward()
    opt.step()
last = {name: p.detach() for name, p in map_net.named_parameters() if name.startswith("2.")}
rest = {name: p.detach() for name, p in map_net.named_parameters() if not name.startswith("2.")}


def predict_last(last_params, inputs):
    return functional_call(map_net, {**rest, **last_params}, (inputs,)).squeeze(-1)


J = jacrev(predict_last)(last, x)
J = torch.cat([J["2.weight"].reshape(x.shape[0], -1), J["2.bias"].reshape(x.shape[0], -1)], dim=1)
ggn = J.T @ J / 0.1 ** 2 + torch.eye(J.shape[1])
posterior_cov = torch.linalg.inv(ggn)
x_test = torch.linspace(-3, 3, 5).unsqueeze(-1)
J_test = jacrev(predict_last)(last, x_test)
J_test = torch.cat([J_test["2.weight"].reshape(5, -1), J_test["2.bias"].reshape(5, -1)], dim=1)
laplace_var = torch.einsum("np,pq,nq->n", J_test, posterior_cov, J_test) + 0.1 ** 2

# --- SWAG diagonal ---
swag_net = copy.deepcopy(map_net)
sgd = torch.optim.SGD(swag_net.parameters(), lr=1e-4, momentum=0.9)
first_moment = torch.zeros_like(parameters_to_vector(swag_net.parameters()))
second_moment = torch.zeros_like(first_moment)
for n in range(1, 9):
    batch = torch.from_numpy(rng.choice(24, 8, replace=False))
    loss = ((swag_net(x[batch]) - y[batch]) ** 2).mean()
    sgd.zero_grad()
    loss.backward()
    sgd.step()
    w = parameters_to_vector(swag_net.parameters()).detach()
    first_moment = first_moment * (n - 1) / n + w / n
    second_moment = second_moment * (n - 1) / n + w ** 2 / n
swag_var = torch.clamp(second_moment - first_moment ** 2, min=1e-30)

# --- a deep ensemble with stack_module_state + vmap ---
members = [make_net() for _ in range(4)]
params, buffers = stack_module_state(members)
base = copy.deepcopy(members[0])


def member_forward(p, b, inputs):
    return functional_call(base, (p, b), (inputs,))


ensemble_out = vmap(member_forward, in_dims=(0, 0, None))(params, buffers, x_test)
loop_out = torch.stack([m(x_test) for m in members])

results = {"svgd_particles": particles, "svgd_bandwidths": bandwidths, "hmc_samples": torch.stack(samples),
           "hmc_accept": acceptances, "log_post": log_posterior(theta).item(), "ggn_diag": ggn.diagonal(),
           "laplace_var": laplace_var, "map_pred": map_net(x_test).detach(), "swag_mean": first_moment,
           "swag_var": swag_var, "ensemble_mean": ensemble_out.mean(0).detach(),
           "ensemble_std": ensemble_out.std(0).detach(), "ensemble_gap": (ensemble_out - loop_out).abs().max().item()}
