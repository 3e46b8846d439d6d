# Batch norm written by hand in an MLP, as makemore part 3 builds it (written for this project): Linear and
# BatchNorm1d classes of one's own with running mean/var buffers updated under torch.no_grad(), kaiming-style
# init with the tanh gain, .retain_grad() on every layer's output and the usual "saturation" and grad statistics
# printed per layer, then the same net from torch.nn (nn.init.kaiming_normal_ checked by shape, momentum buffers).
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(5)


class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = torch.tensor(rng.standard_normal((fan_in, fan_out)), dtype=torch.float32) / fan_in ** 0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum, self.training = eps, momentum, True
        self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)
        self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)

    def __call__(self, x):
        if self.training:
            xmean, xvar = x.mean(0, keepdim=True), x.var(0, keepdim=True)
        else:
            xmean, xvar = self.running_mean, self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


x = torch.tensor(rng.standard_normal((32, 10)), dtype=torch.float32)
y = torch.tensor(rng.integers(0, 5, 32))
layers = [Linear(10, 20, bias=False), BatchNorm1d(20), Tanh(), Linear(20, 20, bias=False), BatchNorm1d(20), Tanh(),
          Linear(20, 5)]
with torch.no_grad():
    layers[-1].weight *= 0.1
    for layer in layers[:-1]:
        if isinstance(layer, Linear):
            layer.weight *= 5 / 3
parameters = [p for layer in layers for p in layer.parameters()]
for p in parameters:
    p.requires_grad = True
stats = []
for _step in range(3):
    h = x
    for layer in layers:
        h = layer(h)
    loss = F.cross_entropy(h, y)
    for layer in layers:
        layer.out.retain_grad()
    for p in parameters:
        p.grad = None
    loss.backward()
    for p in parameters:
        p.data += -0.1 * p.grad
for i, layer in enumerate(layers[:-1]):
    if isinstance(layer, Tanh):
        t = layer.out
        saturated = (t.abs() > 0.97).float().mean() * 100
        print(f"layer {i} mean {t.mean():+.2f}, std {t.std():.2f}, saturated: {saturated:.2f}%")
        print(f"layer {i} grad std {t.grad.std():e}")
        stats.append([t.mean().item(), t.std().item(), t.grad.mean().item(), t.grad.std().item(), t.is_leaf,
                      t.requires_grad])
ud = [((0.1 * p.grad).std() / p.data.std()).log10().item() for p in parameters if p.ndim == 2]
for layer in layers:
    if isinstance(layer, BatchNorm1d):
        layer.training = False
h = x
for layer in layers:
    h = layer(h)
eval_loss = F.cross_entropy(h, y)

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(10, 20, bias=False), nn.BatchNorm1d(20), nn.Tanh(), nn.Linear(20, 5))
nn.init.kaiming_normal_(net[0].weight, nonlinearity="tanh")
gain = nn.init.calculate_gain("tanh")
with torch.no_grad():
    net[0].weight.copy_(layers[0].weight.T)
    net[3].weight.copy_(layers[3].weight[:, :5].T)
    net[3].bias.zero_()
out = net(x)
print(net[1])
print(net[1].running_mean.shape, net[1].num_batches_tracked)
net.eval()
results = {"stats": stats, "ud": ud, "loss": loss, "eval_loss": eval_loss, "rm": layers[1].running_mean,
           "rv": layers[4].running_var, "gain": gain, "out": out, "nn_rm": net[1].running_mean,
           "nn_rv": net[1].running_var, "batches": net[1].num_batches_tracked, "eval_out": net(x)[:3],
           "buffers": [name for name, _ in net.named_buffers()], "grad_none": layers[0].weight.grad is None}
