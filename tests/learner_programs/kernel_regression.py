# Kernel ridge regression with a learned length scale, then a tiny RNN written by hand with unbind/stack:
# pairwise distances (cdist), block-diagonal and Kronecker structure, tensordot, and the picking helpers.
import math

import torch

dtype = "float64"
x = torch.linspace(-2.0, 2.0, 24, dtype=torch.float64).reshape(12, 2)
y = torch.sin(x[:, 0] * 1.5) + 0.3 * torch.cos(x[:, 1] * 2.0)

log_scale = torch.zeros((), dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.Adam([log_scale], lr=0.05)
for _ in range(40):
    optimizer.zero_grad()
    train, held = torch.tensor_split(torch.arange(12), [9])
    distances = torch.cdist(x[train], x[train])  # zero on the diagonal: its gradient is 0 there
    kernel = torch.exp(-distances.pow(2) / (2 * torch.exp(log_scale) ** 2))
    weights = torch.linalg.solve(kernel + 0.1 * torch.eye(len(train), dtype=torch.float64), y[train])
    predicted = torch.exp(-torch.cdist(x[held], x[train]).pow(2) / (2 * torch.exp(log_scale) ** 2)) @ weights
    loss = (predicted - y[held]).pow(2).mean()
    loss.backward()
    optimizer.step()

# structure: a block-diagonal covariance, a Kronecker product, and contractions
blocks = torch.block_diag(torch.ones(2, 2, dtype=torch.float64), torch.tensor([[3.0]], dtype=torch.float64))
grid = torch.kron(blocks, torch.tensor([[1.0, -1.0]], dtype=torch.float64))
contracted = torch.tensordot(grid, torch.arange(6.0, dtype=torch.float64).reshape(6, 1), dims=1)
diagonals = torch.diag_embed(torch.stack([y[:3], y[3:6]]), offset=1)
tiled = x[:2].tile(2, 1)
stacked = torch.column_stack([torch.hstack([y[:2], y[2:4]]), torch.vstack([y[:2], y[2:4]]).reshape(4, 1)])

# picking: the median-ish error, writes by index and by mask
errors = (predicted - y[held]).abs()
third = torch.kthvalue(errors, 2)
table = torch.zeros(3, 4, dtype=torch.float64)
table.index_put_((torch.tensor([0, 2, 0]), torch.tensor([1, 3, 1])), torch.tensor([1.0, 2.0, 3.0],
                                                                                   dtype=torch.float64),
                 accumulate=True)
table = table.index_copy(0, torch.tensor([1]), torch.full((1, 4), 5.0, dtype=torch.float64))
table = table.masked_scatter(table == 0, torch.arange(12.0, dtype=torch.float64))
batched = torch.baddbmm(torch.ones(2, 2, 2, dtype=torch.float64), x[:4].reshape(2, 2, 2), x[4:8].reshape(2, 2, 2),
                        beta=0.5, alpha=2.0)

# a hand-written RNN over a sequence read with unbind, its outputs joined with stack
w_in = (torch.arange(6, dtype=torch.float64).reshape(2, 3) / 10).requires_grad_()
w_h = (torch.eye(3, dtype=torch.float64) * 0.5).requires_grad_()
sequence = torch.sin(torch.arange(40, dtype=torch.float64) / 3).reshape(20, 1, 2)
hidden = torch.zeros(1, 3, dtype=torch.float64)
outputs = []
for step in sequence.unbind(0):
    hidden = torch.tanh(step @ w_in + hidden @ w_h)
    outputs.append(hidden)
rnn_loss = torch.stack(outputs).pow(2).sum() / math.sqrt(20)
rnn_loss.backward()

results = {
    "loss": loss.item(), "scale": log_scale.exp().item(), "contracted": contracted.tolist(),
    "diagonals": diagonals.tolist(), "tiled": tiled.tolist(), "stacked": stacked.tolist(),
    "third": [third.values.item(), float(third.indices.item())], "table": table.tolist(),
    "batched": batched.tolist(), "rnn_loss": rnn_loss.item(), "w_in_grad": w_in.grad.tolist(),
    "w_h_grad": w_h.grad.tolist(), "strides": [*grid.t().stride(), grid.t().is_contiguous(), grid.nbytes],
}
