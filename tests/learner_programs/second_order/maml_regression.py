# MAML on sine-wave regression (written for this project after the usual "MAML from scratch" tutorials): one inner
# SGD step per task with grads = torch.autograd.grad(loss, params, create_graph=True) and fast weights
# p - lr * g, the query loss through torch.func.functional_call, meta-gradients through the inner step (second
# order), Adam as the outer optimizer; then the same step written with a hand-made functional forward
# (F.linear with the fast weights) and first-order MAML (create_graph=False) for comparison.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

dtype = "float64"
rng = np.random.default_rng(5)
model = nn.Sequential(nn.Linear(1, 20), nn.GELU(), nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 1)).double()
for p in model.parameters():
    p.data = torch.tensor(rng.normal(0.0, 0.5, tuple(p.shape)), dtype=torch.float64)
meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
inner_lr, tasks_per_batch = 0.05, 3


def sample_task():
    amplitude, phase = rng.uniform(0.5, 2.0), rng.uniform(0, np.pi)
    xs = rng.uniform(-3, 3, size=(10, 1))
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(amplitude * np.sin(xs + phase), dtype=torch.float64)
    return x[:5], y[:5], x[5:], y[5:]


def functional_forward(x, weights):
    h = F.gelu(F.linear(x, weights[0], weights[1]))
    h = torch.tanh(F.linear(h, weights[2], weights[3]))
    return F.linear(h, weights[4], weights[5])


history = []
for _step in range(4):
    meta_opt.zero_grad()
    meta_loss = 0.0
    for _ in range(tasks_per_batch):
        x_s, y_s, x_q, y_q = sample_task()
        params = dict(model.named_parameters())
        support_loss = F.mse_loss(functional_call(model, params, (x_s,)), y_s)
        grads = torch.autograd.grad(support_loss, params.values(), create_graph=True)
        fast = {name: p - inner_lr * g for (name, p), g in zip(params.items(), grads)}
        query_loss = F.mse_loss(functional_call(model, fast, (x_q,)), y_q)
        meta_loss = meta_loss + query_loss
    meta_loss = meta_loss / tasks_per_batch
    meta_loss.backward()
    meta_opt.step()
    history.append(meta_loss.item())

# the same step with a hand-written functional forward: second order and first order (grads detached)
x_s, y_s, x_q, y_q = sample_task()
weights = list(model.parameters())
meta_grads = {}
for order, create_graph in (("second", True), ("first", False)):
    support_loss = F.mse_loss(functional_forward(x_s, weights), y_s)
    grads = torch.autograd.grad(support_loss, weights, create_graph=create_graph)
    fast = [w - inner_lr * g for w, g in zip(weights, grads)]
    query_loss = F.mse_loss(functional_forward(x_q, fast), y_q)
    meta_grads[order] = [g.detach() for g in torch.autograd.grad(query_loss, weights)]

# a Hessian-vector product of the support loss (the term second-order MAML adds)
support_loss = F.mse_loss(functional_forward(x_s, weights), y_s)
grads = torch.autograd.grad(support_loss, weights, create_graph=True)
vector = [torch.ones_like(w) for w in weights]
hvp = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vector)), weights)

results = {"history": history, "meta_grads": meta_grads, "hvp": [h.detach() for h in hvp],
           "weights": {name: p.detach() for name, p in model.named_parameters()}}
