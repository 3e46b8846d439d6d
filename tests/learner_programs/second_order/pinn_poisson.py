# A physics-informed network for u''(x) = f(x) on [0, 1], u(0) = u(1) = 0, with f = -pi^2 sin(pi x) (so
# u = sin(pi x)); written for this project the way PINN tutorials code it: u_x and u_xx by torch.autograd.grad
# with create_graph=True twice, a tanh MLP, boundary and residual losses, Adam, then the error against the exact
# solution. A second small net with sin and softplus activations checks those second derivatives too, and a
# third step writes u_xx the torch.func way: vmap(hessian(u)) of a function closing over the net's weights.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
rng = np.random.default_rng(3)


class Sine(nn.Module):
    def forward(self, x):
        return torch.sin(x)


def mlp(activation_a, activation_b):
    net = nn.Sequential(nn.Linear(1, 12), activation_a, nn.Linear(12, 12), activation_b, nn.Linear(12, 1)).double()
    for p in net.parameters():
        p.data = torch.tensor(rng.normal(0.0, 0.7, tuple(p.shape)), dtype=torch.float64)
    return net


def derivatives(u_net, x):
    u = u_net(x)
    u_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), create_graph=True)[0]
    return u, u_x, u_xx


def train(u_net, steps):
    optimizer = torch.optim.Adam(u_net.parameters(), lr=5e-3)
    x_inner = torch.tensor(rng.uniform(0, 1, size=(16, 1)), dtype=torch.float64, requires_grad=True)
    x_edge = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    f = -(math.pi ** 2) * torch.sin(math.pi * x_inner.detach())
    losses = []
    for _ in range(steps):
        _, _, u_xx = derivatives(u_net, x_inner)
        residual = F.mse_loss(u_xx, f)
        boundary = (u_net(x_edge) ** 2).mean()
        loss = residual + 10.0 * boundary
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append([residual.item(), boundary.item()])
    return losses


tanh_net = mlp(nn.Tanh(), nn.Tanh())
tanh_losses = train(tanh_net, 25)
other_net = mlp(Sine(), nn.Softplus(beta=2.0))
other_losses = train(other_net, 10)

# u_xx with torch.func: the network's weights are closed over, the loss's gradient reaches them through vmap(hessian)
x_func = torch.tensor(rng.uniform(0, 1, size=(6, 1)), dtype=torch.float64)
u_xx_func = torch.func.vmap(torch.func.hessian(lambda x: tanh_net(x).squeeze()))(x_func).reshape(-1, 1)
func_loss = F.mse_loss(u_xx_func, -(math.pi ** 2) * torch.sin(math.pi * x_func)) + (tanh_net(x_func[:1]) ** 2).sum()
tanh_net.zero_grad()
func_loss.backward()
func_grads = [p.grad.clone() for p in tanh_net.parameters()]

x_test = torch.linspace(0, 1, 7, dtype=torch.float64).unsqueeze(1).requires_grad_(True)
u, u_x, u_xx = derivatives(tanh_net, x_test)
error = (u.detach() - torch.sin(math.pi * x_test.detach())).abs().max()
results = {"tanh_losses": tanh_losses, "other_losses": other_losses, "u": u.detach(), "u_x": u_x.detach(),
           "u_xx": u_xx.detach(), "max_error": error.item(), "func_u_xx": u_xx_func.detach(),
           "func_loss": func_loss.item(), "func_grads": func_grads,
           "weights": {name: p.detach() for name, p in tanh_net.named_parameters()}}
