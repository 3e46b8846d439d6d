# Derivatives as values: torch.autograd.grad for first and second derivatives (a learner checking
# calculus by hand, then the curvature of a small tanh network's output along its input).
import math

import torch
import torch.nn as nn

dtype = "float64"

# d/dx x³ = 3x², d²/dx² x³ = 6x, d³/dx³ = 6
x = torch.tensor([-1.5, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
y = (x ** 3).sum()
(dy,) = torch.autograd.grad(y, x, create_graph=True)
(d2y,) = torch.autograd.grad(dy.sum(), x, create_graph=True)
(d3y,) = torch.autograd.grad(d2y.sum(), x)

# the same first derivative through backward(create_graph=True), then its derivative
t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
f = torch.sin(t) * torch.exp(t)
f.backward(create_graph=True)
first = t.grad.clone()
slope = t.grad
t.grad = None
slope.backward()
second = t.grad

# a small tanh MLP u(x): its slope and curvature in x (as a physics-informed loss would use them)
net = nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 1)).double()
with torch.no_grad():
    for number, p in enumerate(net.parameters()):
        p.copy_(torch.tensor([math.cos(1.7 * number + 0.61 * k) for k in range(p.numel())],
                             dtype=torch.float64).reshape(p.shape))
points = (torch.arange(-3, 4, dtype=torch.float64).reshape(-1, 1) / 3).requires_grad_(True)  # points[3] is 0
u = net(points)
(du,) = torch.autograd.grad(u, points, grad_outputs=torch.ones_like(u), create_graph=True)
(d2u,) = torch.autograd.grad(du.sum(), points, create_graph=True)

# a loss made of derivatives, trained for a few steps: u'' + u = 0 on the points, u(0) = 0, u'(0) = 1
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
losses = []
for _ in range(15):
    optimizer.zero_grad()
    u = net(points)
    (du,) = torch.autograd.grad(u.sum(), points, create_graph=True)
    (d2u,) = torch.autograd.grad(du.sum(), points, create_graph=True)
    loss = ((d2u + u) ** 2).mean() + (u[3] ** 2).sum() + ((du[3] - 1) ** 2).sum()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

unused = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
with_unused = torch.autograd.grad((x * 2).sum(), (x, unused), allow_unused=True)

results = {
    "dy": dy, "d2y": d2y, "d3y": d3y,
    "sin_exp": [first.item(), second.item()],
    "du": du, "d2u": d2u, "losses": losses,
    "unused_is_none": with_unused[1] is None,
    "x_grad_untouched": x.grad is None,
}
