# Batch normalization written from scratch as a layer with moving statistics, put into a LeNet built with
# nn.Sequential (written for this project); the shapes are walked layer by layer, weights set by net.apply with
# init functions, and a few training steps taken, then the same with nn.BatchNorm2d/1d.
import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(3)


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.1)
        return Y


def lenet(norm2d, norm1d):
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), norm2d(6), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), norm2d(16), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), norm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), norm1d(84), nn.Sigmoid(),
        nn.Linear(84, 10))


scratch_net = lenet(lambda c: BatchNorm(c, num_dims=4), lambda c: BatchNorm(c, num_dims=2))
concise_net = lenet(nn.BatchNorm2d, nn.BatchNorm1d)

X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
shapes = []
for layer in scratch_net:
    X = layer(X) if not isinstance(layer, BatchNorm) else X
    shapes.append([layer.__class__.__name__, list(X.shape)])
    print(layer.__class__.__name__, "output shape: \t", X.shape)


def init_constant(m):
    if type(m) is nn.Linear:
        nn.init.constant_(m.weight, 0.01)
        nn.init.zeros_(m.bias)


def init_random(m):
    if type(m) is nn.Linear or type(m) is nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)
        nn.init.normal_(m.bias, mean=0, std=0.01)


def init_from_numpy(m):
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        fan_in = m.weight[0].numel()
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(m.weight.shape)) / fan_in ** 0.5))
            m.bias.data = torch.from_numpy(rng.uniform(-0.1, 0.1, m.bias.shape))


probe = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
probe.apply(init_constant)
probe_out = probe(torch.ones(2, 4))
probe.apply(init_random)
xavier_shape = list(probe[0].weight.shape)
xavier_bound = bool(probe[0].weight.abs().max() <= (6 / (4 + 8)) ** 0.5)
probe[0].weight.data[:] += 1
probe[0].weight.data[0, 0] = 42
first_weight = probe[0].weight.data[0]
shared = nn.Linear(8, 8)
tied = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(8, 1))
tied_same = bool((tied[2].weight.data[0] == tied[4].weight.data[0]).all())
tied[2].weight.data[0, 0] = 100
tied_same_after = bool(tied[2].weight.data[0, 0] == tied[4].weight.data[0, 0])

images = torch.from_numpy(rng.normal(size=(4, 1, 28, 28)))
labels = torch.from_numpy(rng.integers(0, 10, 4))
runs = {}
for name, net in [("scratch", scratch_net), ("concise", concise_net)]:
    net = net.double()
    net.apply(init_from_numpy)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
    loss = nn.CrossEntropyLoss()
    losses = []
    net.train()
    for _step in range(3):
        optimizer.zero_grad()
        l = loss(net(images), labels)
        l.backward()
        optimizer.step()
        losses.append(l.item())
    net.eval()
    with torch.no_grad():
        eval_out = net(images[:2])
    norm = net[1]
    moving = (norm.moving_mean, norm.moving_var) if name == "scratch" else (norm.running_mean, norm.running_var)
    runs[name] = {"losses": losses, "eval_out": eval_out, "gamma": (net[1].gamma if name == "scratch" else
                                                                     net[1].weight).reshape(-1),
                  "moving_mean": moving[0].reshape(-1), "moving_var": moving[1].reshape(-1)}

dtype = "float64"
results = {"shapes": [[name, shape] for name, shape in shapes], "probe_out": probe_out, "xavier_shape": xavier_shape,
           "xavier_bound": xavier_bound, "first_weight_0": first_weight[0], "tied_same": tied_same,
           "tied_same_after": tied_same_after, "runs": runs}
