# Differentiable physics the way scientific-ML tutorials code it (written for this project): a hand-written RK4
# integrator with backpropagation through the solver to fit a neural ODE to a damped oscillator's trajectory; a
# Hamiltonian neural network whose dynamics (dq/dt, dp/dt) = (dH/dp, -dH/dq) come from torch.autograd.grad with
# create_graph=True; a Hamiltonian Monte Carlo step with a leapfrog integrator, the potential's gradient by
# autograd.grad and the accept test with uniforms from NumPy; and the same gradients and per-sample Jacobians through
# torch.func.grad, vmap and jacrev.
import numpy as np
import torch
import torch.nn as nn
from torch.func import grad, jacrev, vmap

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(17)


def rk4_step(f, t, y, dt):
    k1 = f(t, y)
    k2 = f(t + dt / 2, y + dt / 2 * k1)
    k3 = f(t + dt / 2, y + dt / 2 * k2)
    k4 = f(t + dt, y + dt * k3)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def odeint(f, y0, t):
    ys = [y0]
    for i in range(len(t) - 1):
        ys.append(rk4_step(f, t[i], ys[-1], t[i + 1] - t[i]))
    return torch.stack(ys)


def damped_oscillator(t, y):
    A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])
    return y @ A.T


class ODEFunc(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(torch.from_numpy(0.3 * rng.randn(*p.shape)))

    def forward(self, t, y):
        return self.net(y)


t = torch.linspace(0, 2, 11)
y0 = torch.tensor([[2.0, 0.0]])
with torch.no_grad():
    true_y = odeint(damped_oscillator, y0, t)
func = ODEFunc()
optimizer = torch.optim.RMSprop(func.parameters(), lr=1e-2)
ode_losses = []
for _it in range(8):
    optimizer.zero_grad()
    pred_y = odeint(func, y0, t)
    loss = torch.mean(torch.abs(pred_y - true_y))
    loss.backward()
    optimizer.step()
    ode_losses.append(loss.item())


class HNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.H = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
        with torch.no_grad():
            for p in self.H.parameters():
                p.copy_(torch.from_numpy(0.4 * rng.randn(*p.shape)))

    def time_derivative(self, x):
        H = self.H(x).sum()
        dH = torch.autograd.grad(H, x, create_graph=True)[0]
        dHdq, dHdp = dH[:, 0:1], dH[:, 1:2]
        return torch.cat([dHdp, -dHdq], dim=1)


# a pendulum's states and true derivatives, H = 3 (1 - cos q) + p^2 / 2
q = torch.from_numpy(rng.uniform(-1, 1, size=(24, 1)))
p = torch.from_numpy(rng.uniform(-1, 1, size=(24, 1)))
states = torch.cat([q, p], 1)
true_dx = torch.cat([p, -3 * torch.sin(q)], 1)
hnn = HNN()
hnn_opt = torch.optim.Adam(hnn.parameters(), lr=1e-2)
hnn_losses = []
for _it in range(10):
    x = states.clone().requires_grad_(True)
    loss = ((hnn.time_derivative(x) - true_dx) ** 2).mean()
    hnn_opt.zero_grad()
    loss.backward()
    hnn_opt.step()
    hnn_losses.append(loss.item())


# Hamiltonian Monte Carlo on a correlated Gaussian
precision = torch.linalg.inv(torch.tensor([[1.0, 0.8], [0.8, 1.0]]))


def potential(theta):
    return 0.5 * theta @ precision @ theta


def grad_potential(theta):
    theta = theta.detach().requires_grad_(True)
    return torch.autograd.grad(potential(theta), theta)[0]


def leapfrog(theta, momentum, step_size, n_steps):
    momentum = momentum - 0.5 * step_size * grad_potential(theta)
    for i in range(n_steps):
        theta = theta + step_size * momentum
        if i != n_steps - 1:
            momentum = momentum - step_size * grad_potential(theta)
    momentum = momentum - 0.5 * step_size * grad_potential(theta)
    return theta, -momentum


theta = torch.tensor([1.5, -1.0])
chain, accepts = [], []
for _it in range(12):
    momentum = torch.from_numpy(rng.randn(2))
    proposal, new_momentum = leapfrog(theta, momentum, 0.25, 6)
    current_H = potential(theta) + 0.5 * (momentum ** 2).sum()
    proposed_H = potential(proposal) + 0.5 * (new_momentum ** 2).sum()
    accept = bool(np.log(rng.uniform()) < (current_H - proposed_H).item())
    if accept:
        theta = proposal
    chain.append(theta.clone())
    accepts.append(accept)

# torch.func: per-sample gradients of the HNN's energy and the Jacobian of the ODE right-hand side
params = {name: value.detach() for name, value in hnn.H.named_parameters()}


def energy(params, x):
    return torch.func.functional_call(hnn.H, params, (x,)).squeeze()


per_sample_dH = vmap(grad(energy, argnums=1), in_dims=(None, 0))(params, states[:5])
per_sample_param_grads = vmap(grad(energy), in_dims=(None, 0))(params, states[:5])
ode_jacobians = vmap(jacrev(lambda y: func.net(y)))(states[:3])
grad_of_potential = grad(potential)(torch.tensor([0.3, -0.2]))

results = {"true_y": true_y.squeeze(1), "ode_losses": ode_losses, "pred_end": pred_y[-1].detach(),
           "hnn_losses": hnn_losses, "hnn_dx": hnn.time_derivative(states[:4].clone().requires_grad_(True)).detach(),
           "chain": torch.stack(chain), "accepts": accepts, "per_sample_dH": per_sample_dH,
           "per_sample_param_grads": {k: v for k, v in per_sample_param_grads.items()},
           "ode_jacobians": ode_jacobians.detach(), "grad_of_potential": grad_of_potential}
