# fast.ai's "from the foundations" lessons (written for this project): matrix multiplication three ways (loops
# over rows with broadcasting, a broadcast product summed, einsum) checked against @, a two-layer network's
# forward and backward written by hand, with each gradient stored on the tensor as `.g`, checked against
# autograd, then the same as classes with __call__/forward/backward, and kaiming init keeping the activations'
# scale through many layers (the std of a 50-layer stack with and without the sqrt(2 / fan_in) factor).
import math

import numpy as np
import torch
from torch import tensor

dtype = "float64"
rng = np.random.default_rng(0)
m1 = torch.from_numpy(rng.normal(size=(5, 784)))
m2 = torch.from_numpy(rng.normal(size=(784, 10)))


def matmul_rows(a, b):
    ar, bc = a.shape[0], b.shape[1]
    c = torch.zeros(ar, bc, dtype=a.dtype)
    for i in range(ar):
        c[i] = (a[i, :, None] * b).sum(dim=0)
    return c


def matmul_einsum(a, b):
    return torch.einsum("ik,kj->ij", a, b)


products = [matmul_rows(m1, m2), (m1[..., None] * m2[None]).sum(1), matmul_einsum(m1, m2), m1.matmul(m2)]
all_close = [torch.allclose(p, m1 @ m2, rtol=1e-9, atol=1e-9) for p in products]
c = tensor([10.0, 20, 30])
m = tensor([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])
broadcast = [m + c, c[:, None] + m, c[None, :] * c[:, None], c.expand_as(m)]
expand_stride = list(c.expand_as(m).stride())

# a two-layer network with its backward written by hand
x_train = torch.from_numpy(rng.normal(size=(50, 6)))
y_train = torch.from_numpy(rng.normal(size=50))
n, m_in = x_train.shape
nh = 8
w1 = torch.from_numpy(rng.normal(size=(m_in, nh))) * math.sqrt(2 / m_in)
b1 = torch.zeros(nh, dtype=torch.float64)
w2 = torch.from_numpy(rng.normal(size=(nh, 1))) / math.sqrt(nh)
b2 = torch.zeros(1, dtype=torch.float64)


def lin(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp_min(0.0)


def mse(output, targ):
    return (output.squeeze(-1) - targ).pow(2).mean()


def mse_grad(inp, targ):
    inp.g = 2.0 * (inp.squeeze() - targ).unsqueeze(-1) / inp.shape[0]


def relu_grad(inp, out):
    inp.g = (inp > 0).float() * out.g


def lin_grad(inp, out, w, b):
    inp.g = out.g @ w.t()
    w.g = (inp.unsqueeze(-1) * out.g.unsqueeze(1)).sum(0)
    b.g = out.g.sum(0)


def forward_and_backward(inp, targ):
    l1 = lin(inp, w1, b1)
    l2 = relu(l1)
    out = lin(l2, w2, b2)
    diff = out[:, 0] - targ
    loss = diff.pow(2).mean()
    mse_grad(out, targ)
    lin_grad(l2, out, w2, b2)
    relu_grad(l1, l2)
    lin_grad(inp, l1, w1, b1)
    return loss


hand_loss = forward_and_backward(x_train, y_train)
hand_grads = [w1.g, b1.g, w2.g, b2.g, x_train.g]
for p in (w1, b1, w2, b2, x_train):
    p.requires_grad_(True)
loss = mse(lin(relu(lin(x_train, w1, b1)), w2, b2), y_train)
loss.backward()
auto_grads = [w1.grad, b1.grad, w2.grad, b2.grad, x_train.grad]
grads_agree = [torch.allclose(h.double(), a, rtol=1e-9, atol=1e-12) for h, a in zip(hand_grads, auto_grads)]


class Module:
    def __call__(self, *args):
        self.args = args
        self.out = self.forward(*args)
        return self.out

    def backward(self):
        self.bwd(self.out, *self.args)


class Relu(Module):
    def forward(self, inp):
        return inp.clamp_min(0.0)

    def bwd(self, out, inp):
        inp.g = (inp > 0).to(inp.dtype) * out.g


class Lin(Module):
    def __init__(self, w, b):
        self.w, self.b = w, b

    def forward(self, inp):
        return inp @ self.w + self.b

    def bwd(self, out, inp):
        inp.g = self.w.g = None
        inp.g = out.g @ self.w.t()
        self.w.g = inp.t() @ out.g
        self.b.g = out.g.sum(0)


class Mse(Module):
    def forward(self, inp, targ):
        return (inp.squeeze() - targ).pow(2).mean()

    def bwd(self, out, inp, targ):
        inp.g = 2 * (inp.squeeze() - targ).unsqueeze(-1) / targ.shape[0]


class Model:
    def __init__(self, w1, b1, w2, b2):
        self.layers = [Lin(w1, b1), Relu(), Lin(w2, b2)]
        self.loss = Mse()

    def __call__(self, x, targ):
        for layer in self.layers:
            x = layer(x)
        return self.loss(x, targ)

    def backward(self):
        self.loss.backward()
        for layer in reversed(self.layers):
            layer.backward()


with torch.no_grad():
    model = Model(w1, b1, w2, b2)
    class_loss = model(x_train, y_train)
    model.backward()
class_grads_agree = [torch.allclose(p.g, p.grad) for p in (w1, b1, w2, b2)]

# initialisation: the scale of the activations after 50 layers
x = torch.from_numpy(rng.normal(size=(200, 100)))
plain, scaled = x, x
for _ in range(50):
    a = torch.from_numpy(rng.normal(size=(100, 100)))
    plain = plain @ a
    scaled = (scaled @ (a * math.sqrt(1.0 / 100)))
stats = [math.isnan(plain.std().item()) or plain.std().item() > 1e20, round(scaled.std().item(), 1) > 0]
fan_in_weights = torch.from_numpy(rng.normal(size=(512, 512))) * math.sqrt(2 / 512)
fan_in_std = round(fan_in_weights.std().item() * math.sqrt(256), 1)

results = {
    "all_close": all_close,
    "product": products[0][:2],
    "broadcast": [b.tolist() for b in broadcast],
    "expand_stride": expand_stride,
    "hand_loss": hand_loss,
    "hand_grads": [g.tolist() for g in hand_grads[:4]],
    "grads_agree": grads_agree,
    "class_loss": class_loss,
    "class_grads_agree": class_grads_agree,
    "x_g": x_train.g[:3],
    "stats": stats,
    "fan_in_std": fan_in_std,
}
