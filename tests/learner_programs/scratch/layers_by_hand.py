# Layers written by hand as plain Python classes, the way the "activations and gradients" and "WaveNet" lessons
# of a from-scratch course write them (written for this project): Linear, BatchNorm1d with running buffers,
# Tanh, Embedding, FlattenConsecutive and Sequential; every layer's output keeps its gradient, and the learner
# reads activation and gradient statistics, saturation, histograms and update-to-data ratios.
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(17)
g = torch.Generator().manual_seed(2147483647)


def init(shape, scale=1.0):
    return torch.from_numpy(rng.normal(size=shape).astype(np.float32)) * scale


class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = init((fan_in, fan_out)) / fan_in**0.5
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
        self.eps = eps
        self.momentum = momentum
        self.training = True
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            if x.ndim == 2:
                dim = 0
            elif x.ndim == 3:
                dim = (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)
        else:
            xmean = self.running_mean
            xvar = self.running_var
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


class Embedding:
    def __init__(self, num_embeddings, embedding_dim):
        self.weight = init((num_embeddings, embedding_dim))

    def __call__(self, IX):
        self.out = self.weight[IX]
        return self.out

    def parameters(self):
        return [self.weight]


class FlattenConsecutive:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self):
        return []


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return self.out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


vocab_size, block_size, n_embd, n_hidden = 12, 8, 4, 16
Xtr = torch.from_numpy(rng.integers(0, vocab_size, (64, block_size)))
Ytr = torch.from_numpy(rng.integers(0, vocab_size, 64))

model = Sequential([
    Embedding(vocab_size, n_embd),
    FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    Linear(n_hidden, vocab_size),
])
with torch.no_grad():
    model.layers[-1].weight *= 0.1
parameters = model.parameters()
n_params = sum(p.nelement() for p in parameters)
for p in parameters:
    p.requires_grad = True

lossi, ud, batches = [], [], []
for i in range(6):
    ix = torch.randint(0, Xtr.shape[0], (16,), generator=g)
    batches.append(list(ix.shape))
    ix = torch.arange(i * 8, i * 8 + 16) % Xtr.shape[0]
    Xb, Yb = Xtr[ix], Ytr[ix]
    logits = model(Xb)
    loss = F.cross_entropy(logits, Yb)
    for layer in model.layers:
        layer.out.retain_grad()
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 4 else 0.01
    for p in parameters:
        p.data += -lr * p.grad
    lossi.append(loss.log10().item())
    with torch.no_grad():
        ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

activations, gradients = [], []
for layer in model.layers[:-1]:
    if isinstance(layer, Tanh):
        t = layer.out
        hy, hx = torch.histogram(t.detach(), bins=10, range=(-1.0, 1.0), density=True)
        activations.append([t.mean().item(), t.std().item(), ((t.abs() > 0.97).float().mean() * 100).item(),
                            hy, hx])
        g_out = layer.out.grad
        gradients.append([g_out.mean().item(), g_out.std().item()])
weight_grads = []
for p in parameters:
    if p.ndim == 2:
        weight_grads.append([list(p.shape), p.grad.mean().item(), p.grad.std().item(),
                             (p.grad.std() / p.std()).item()])


@torch.no_grad()
def split_loss(X, Y):
    for layer in model.layers:
        layer.training = False
    logits = model(X)
    for layer in model.layers:
        layer.training = True
    return F.cross_entropy(logits, Y).item()


smoothed = torch.tensor(lossi).view(-1, 3).mean(1)
bn = model.layers[3]
results = {"n_params": n_params, "lossi": lossi, "ud": ud, "batches": batches, "activations": activations,
           "gradients": gradients, "weight_grads": weight_grads, "val_loss": split_loss(Xtr[:32], Ytr[:32]),
           "smoothed": smoothed, "running_mean": bn.running_mean, "running_var": bn.running_var,
           "running_shape": list(bn.running_mean.shape), "flat_shape": list(model.layers[1].out.shape)}
