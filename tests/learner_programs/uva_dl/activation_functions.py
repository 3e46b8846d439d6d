# UvA Deep Learning tutorial 3 style (written for this project): activation functions as nn.Module subclasses
# holding a config dict, their gradients over a grid through torch.autograd.grad and through x.grad, and the
# mean absolute gradient each layer of a deep tanh/ReLU/... network receives, weights from seeded NumPy.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(3)


class ActivationFunction(nn.Module):
    def __init__(self):
        super().__init__()
        self.name = self.__class__.__name__
        self.config = {"name": self.name}


class Sigmoid(ActivationFunction):
    def forward(self, x):
        return 1 / (1 + torch.exp(-x))


class Tanh(ActivationFunction):
    def forward(self, x):
        x_exp, neg_x_exp = torch.exp(x), torch.exp(-x)
        return (x_exp - neg_x_exp) / (x_exp + neg_x_exp)


class ReLU(ActivationFunction):
    def forward(self, x):
        return x * (x > 0).float()


class LeakyReLU(ActivationFunction):
    def __init__(self, alpha=0.1):
        super().__init__()
        self.config["alpha"] = alpha

    def forward(self, x):
        return torch.where(x > 0, x, self.config["alpha"] * x)


class ELU(ActivationFunction):
    def forward(self, x):
        return torch.where(x > 0, x, torch.exp(x) - 1)


class Swish(ActivationFunction):
    def forward(self, x):
        return x * torch.sigmoid(x)


act_fn_by_name = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leakyrelu": LeakyReLU, "elu": ELU,
                  "swish": Swish}


def get_grads(act_fn, x):
    x = x.clone().requires_grad_()
    out = act_fn(x)
    out.sum().backward()
    return x.grad


x = torch.linspace(-5, 5, 101)
results = {}
for name, cls in act_fn_by_name.items():
    act_fn = cls()
    y = act_fn(x)
    grads = get_grads(act_fn, x)
    xg = x.clone().requires_grad_(True)
    (grads_fn,) = torch.autograd.grad(act_fn(xg).sum(), xg)
    results[name] = {"values": y, "grads": grads, "same_grads": torch.allclose(grads, grads_fn),
                     "config": str(act_fn.config)}

# the built-in ones agree
builtin = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
           "leakyrelu": lambda t: F.leaky_relu(t, 0.1), "elu": F.elu, "swish": F.silu}
results["same_as_builtin"] = {name: torch.allclose(act_fn_by_name[name]()(x), fn(x), atol=1e-6)
                              for name, fn in builtin.items()}


class BaseNetwork(nn.Module):
    def __init__(self, act_fn, input_size=64, num_classes=10, hidden_sizes=(32, 32, 24, 24, 16)):
        super().__init__()
        layers = []
        layer_sizes = [input_size] + list(hidden_sizes)
        for layer_index in range(1, len(layer_sizes)):
            layers += [nn.Linear(layer_sizes[layer_index - 1], layer_sizes[layer_index]), act_fn]
        layers += [nn.Linear(layer_sizes[-1], num_classes)]
        self.layers = nn.Sequential(*layers)
        self.config = {"act_fn": act_fn.config, "input_size": input_size, "num_classes": num_classes,
                       "hidden_sizes": hidden_sizes}

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.layers(x)


inputs = torch.from_numpy(rng.standard_normal((16, 1, 8, 8)).astype(np.float32))
labels = torch.from_numpy(rng.integers(0, 10, 16))
weights = [rng.uniform(-1, 1, shape).astype(np.float32) for shape in
           [(32, 64), (32,), (32, 32), (32,), (24, 32), (24,), (24, 24), (24,), (16, 24), (16,), (10, 16), (10,)]]

layer_grads = {}
for name, cls in act_fn_by_name.items():
    net = BaseNetwork(act_fn=cls())
    with torch.no_grad():
        for p, w in zip(net.parameters(), weights):
            p.copy_(torch.from_numpy(w) / np.sqrt(w.shape[-1]))
    net.zero_grad()
    preds = net(inputs)
    loss = F.cross_entropy(preds, labels)
    loss.backward()
    grads = {n: p.grad.data.view(-1).abs().mean().item() for n, p in net.named_parameters() if "weight" in n}
    net.zero_grad()
    layer_grads[name] = {"loss": loss.item(), "grads": grads,
                         "std": [p.grad.std().item() if p.grad is not None else 0.0 for p in net.parameters()]}
results["layer_grads"] = layer_grads
