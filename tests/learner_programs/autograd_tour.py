# A tour of the autograd API as the tutorials walk it: hooks that read and change gradients, retain_grad,
# gradients that pile up in .grad, backward with a gradient, autograd.grad and autograd.backward, a gradient
# penalty, torch.autograd.functional and torch.func, a custom Function in PyTorch 2's setup_context form,
# the grad-mode switches as decorators, and checkpointed segments.
import math

import torch
import torch.autograd.functional as AF
import torch.func
import torch.nn as nn
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

dtype = "float64"
torch.set_default_dtype(torch.float64)

# hooks: one doubles the gradient flowing into x, one only looks; retain_grad keeps an intermediate's
x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
seen = []
doubling = x.register_hook(lambda g: g * 2)
hidden = torch.tanh(x) * x
hidden.retain_grad()
hidden.register_hook(lambda g: seen.append(g.clone()))
(hidden ** 2).sum().backward()
hooked_grad = x.grad.clone()
doubling.remove()

# gradients pile up in .grad (the same tensor, added to in place) until zeroed
first = x.grad
(x ** 3).sum().backward()
piled = first.clone()
x.grad.zero_()
(x * 4).sum().backward(retain_graph=False)
after_zero = x.grad.clone()

# backward of a non-scalar with a gradient, twice through one graph
y = torch.stack([x[0] * x[1], torch.sin(x[2]), x.sum()])
x.grad = None
y.backward(torch.tensor([1.0, -0.5, 2.0]), retain_graph=True)
y.backward(torch.tensor([0.0, 1.0, 0.0]))
nonscalar = x.grad.clone()

# autograd.grad with grad_outputs, allow_unused, materialize_grads; autograd.backward of two losses
unused = torch.tensor(1.0, requires_grad=True)
square = x ** 2
vjp_values = torch.autograd.grad(square, (x, unused), grad_outputs=torch.tensor([1.0, 2.0, 3.0]),
                                 materialize_grads=True)
x.grad = None
shared = torch.exp(0.3 * x)
torch.autograd.backward([shared.sum(), (shared ** 2).mean()])
two_losses = x.grad.clone()

# a gradient penalty: ‖∂f/∂x‖ pushed towards 1 (create_graph=True, then backward through it)
net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
with torch.no_grad():
    for number, p in enumerate(net.parameters()):
        p.copy_(torch.tensor([math.sin(1.3 * number + 0.7 * k) for k in range(p.numel())]).reshape(p.shape))
points = torch.tensor([[0.1, 0.2, -0.3], [1.0, -0.5, 0.25]], requires_grad=True)
(slopes,) = torch.autograd.grad(net(points).sum(), points, create_graph=True)
penalty = ((slopes.norm(2, dim=1) - 1) ** 2).mean()
penalty.backward()
penalty_grads = {name: p.grad.clone() for name, p in net.named_parameters() if p.grad is not None}
no_penalty_grad = [name for name, p in net.named_parameters() if p.grad is None]  # the last bias: slopes ignore it


# torch.autograd.functional and torch.func on one function
def f(v):
    return (v ** 3).sum() + v.prod()


def g(v):
    return torch.stack([v[0] * v[1], torch.sin(v).sum(), v[2] ** 2])


at = torch.tensor([0.5, -1.0, 2.0])
direction = torch.tensor([1.0, 0.5, -0.3])
functional = {
    "jacobian": AF.jacobian(g, at), "hessian": AF.hessian(f, at), "vjp": AF.vjp(g, at, direction)[1],
    "jvp": AF.jvp(g, at, direction)[1], "hvp": AF.hvp(f, at, direction)[1], "vhp": AF.vhp(f, at, direction)[1],
}
value_and_grad = torch.func.grad_and_value(f)(at)
transforms = {
    "grad": torch.func.grad(f)(at), "value": value_and_grad[1], "jacrev": torch.func.jacrev(g)(at),
    "jacfwd": torch.func.jacfwd(g)(at), "hessian": torch.func.hessian(f)(at),
    "per_row": torch.func.vmap(torch.func.grad(f))(torch.stack([at, direction, at * direction])),
    "linearized": torch.func.linearize(g, at)[1](direction),
}
params = {name: p.detach() for name, p in net.named_parameters()}
per_sample = torch.func.vmap(torch.func.grad(lambda ps, row: torch.func.functional_call(net, ps, (row,)).sum()),
                             in_dims=(None, 0))(params, points.detach())


# a custom Function in PyTorch 2's form (forward without ctx, setup_context), differentiated twice
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(v):
        return v ** 3

    @staticmethod
    def setup_context(ctx, inputs, output):
        (v,) = inputs
        ctx.save_for_backward(v)

    @staticmethod
    def backward(ctx, grad_output):
        (v,) = ctx.saved_tensors
        return grad_output * 3 * v ** 2


c = torch.tensor([1.5, -0.5], requires_grad=True)
(d_cube,) = torch.autograd.grad(Cube.apply(c).sum(), c, create_graph=True)
(d2_cube,) = torch.autograd.grad(d_cube.sum(), c)


# the grad-mode switches, as blocks, decorators and a plain call
@torch.no_grad
def evaluate(v):
    return v * 2


@torch.inference_mode()
def infer(v):
    return v * 2


torch.set_grad_enabled(False)
switched_off = (x * 2).requires_grad
torch.set_grad_enabled(True)
modes = [evaluate(x).requires_grad, infer(x).requires_grad, switched_off, (x * 2).requires_grad]

# checkpointed segments give the same numbers and gradients as the plain model
for p in net.parameters():
    p.grad = None
out = checkpoint(lambda h: net(h).exp(), points, use_reentrant=False).sum() + \
    checkpoint_sequential(net, 2, points * 2, use_reentrant=False).sum()
out.backward()
checkpoint_grads = {name: p.grad for name, p in net.named_parameters()}

results = {
    "hooked_grad": hooked_grad, "seen": seen[0], "hidden_grad": hidden.grad, "piled": piled,
    "after_zero": after_zero, "same_grad_tensor": first is x.grad, "nonscalar": nonscalar,
    "vjp_x": vjp_values[0], "vjp_unused": vjp_values[1], "two_losses": two_losses, "penalty": penalty.item(),
    "penalty_grads": penalty_grads, "no_penalty_grad": len(no_penalty_grad), "functional": functional,
    "transforms": transforms,
    "per_sample": per_sample, "cube": [d_cube, d2_cube], "modes": modes, "checkpoint": out.item(),
    "points_grad": points.grad, "checkpoint_grads": checkpoint_grads,
}
