# The first chapters of a "dive into" course, as a learner types them (written for this project): tensors and
# broadcasting, saving memory with in-place updates, conversions, a small table of data made into tensors,
# linear algebra (norms, reductions that keep their axes), calculus by numeric limits, autograd on non-scalars,
# detaching, control flow in a function, and probability by counting.
import math

import numpy as np
import torch

x = torch.arange(12, dtype=torch.float32)
results = {"numel": x.numel(), "shape": list(x.shape), "size": x.size(0)}
X = x.reshape(3, 4)
results["X_neg"] = x.reshape(-1, 4)
results["zeros"] = torch.zeros((2, 3, 4)).shape
results["ones"] = torch.ones((2, 3, 4)).sum()
results["randn_shape"] = list(torch.randn(3, 4).shape)
results["normal_shape"] = list(torch.normal(0, 1, (5, 2)).shape)
results["normal_size_kw"] = list(torch.normal(0, 0.01, size=(3, 1)).shape)
results["tensor"] = torch.tensor([[2, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
results["index"] = [X[-1], X[1:3], X[1, 2]]
X[1, 2] = 17
X[:2, :] = 12
results["X_assigned"] = X
y = torch.tensor([2.0, 2, 2, 2])
x4 = torch.tensor([1.0, 2, 4, 8])
results["elementwise"] = [x4 + y, x4 - y, x4 * y, x4 / y, x4**y, torch.exp(x4)]
X = torch.arange(12, dtype=torch.float32).reshape((3, 4))
Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
results["cat0"] = torch.cat((X, Y), dim=0)
results["cat1"] = torch.cat((X, Y), dim=1)
results["eq"] = X == Y
results["sum_all"] = X.sum()
a = torch.arange(3).reshape((3, 1))
b = torch.arange(2).reshape((1, 2))
results["broadcast"] = a + b
before = id(Y)
Y = Y + X
results["new_memory"] = id(Y) == before
Z = torch.zeros_like(Y)
before_z = id(Z)
Z[:] = X + Y
results["same_memory"] = id(Z) == before_z
before = id(X)
X += Y
results["inplace_same"] = id(X) == before
A = X.numpy()
B = torch.from_numpy(A)
results["types"] = [type(A).__name__, type(B).__name__ == "Tensor"]
a = torch.tensor([3.5])
results["scalars"] = [a.item(), float(a), int(a)]

# a little table of data, filled and one-hot encoded by hand
rows = [("NA", "Pave", 127500.0), (2.0, "NA", 106000.0), (4.0, "NA", 178100.0), ("NA", "NA", 140000.0)]
num_rooms = [r[0] if r[0] != "NA" else None for r in rows]
mean_rooms = sum(v for v in num_rooms if v is not None) / sum(v is not None for v in num_rooms)
inputs = [[v if v is not None else mean_rooms, float(r[1] == "Pave"), float(r[1] == "NA")]
          for v, r in zip(num_rooms, rows)]
outputs = [r[2] for r in rows]
Xd, yd = torch.tensor(inputs, dtype=torch.float64), torch.tensor(outputs, dtype=torch.float64)
results["table"] = [Xd, yd, Xd.dtype == torch.float64]

# linear algebra
x = torch.tensor(3.0)
y = torch.tensor(2.0)
results["scalar_ops"] = [x + y, x * y, x / y, x**y]
x = torch.arange(4)
results["vector"] = [x, x[3], len(x), list(x.shape)]
A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
results["transpose"] = A.T
B = torch.tensor([[1, 2, 3], [2, 0, 4], [3, 4, 5]])
results["symmetric"] = B == B.T
B = A.clone()
results["hadamard"] = A * B
results["scalar_broadcast"] = 2 + torch.arange(24).reshape(2, 3, 4)
results["sums"] = [A.sum(axis=0), A.sum(axis=1), A.sum(axis=[0, 1]), A.mean(), A.sum() / A.numel(),
                   A.mean(axis=0), A.sum(axis=0) / A.shape[0]]
sum_A = A.sum(axis=1, keepdims=True)
results["keepdims"] = [sum_A, A / sum_A, A.cumsum(axis=0)]
x = torch.arange(4, dtype=torch.float32)
y = torch.ones(4, dtype=torch.float32)
results["dot"] = [torch.dot(x, y), torch.sum(x * y)]
results["mv"] = [torch.mv(A, x), A @ x]
B = torch.ones(4, 3)
results["mm"] = [torch.mm(A, B), A @ B]
u = torch.tensor([3.0, -4.0])
results["norms"] = [torch.norm(u), torch.abs(u).sum(), torch.norm(torch.ones((4, 9)))]
results["matmul_1d"] = [torch.matmul(x, A.T), torch.matmul(A, x), torch.matmul(x, x)]
results["meshgrid"] = list(torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij"))
results["meshgrid_xy"] = list(torch.meshgrid(torch.arange(3), torch.arange(2), indexing="xy"))


# calculus by a numeric limit
def f(x):
    return 3 * x**2 - 4 * x


h, limits = 0.1, []
for _i in range(5):
    limits.append((f(1 + h) - f(1)) / h)
    h *= 0.1
results["limits"] = limits

# automatic differentiation
x = torch.arange(4.0)
x.requires_grad_(True)
results["grad_none"] = x.grad is None
y = 2 * torch.dot(x, x)
y.backward()
results["grad_dot"] = [x.grad, x.grad == 4 * x]
x.grad.zero_()
y = x.sum()
y.backward()
results["grad_sum"] = x.grad.clone()
x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))
results["grad_nonscalar"] = x.grad.clone()
x.grad.zero_()
y = x * x
y.sum().backward()
results["grad_sum_square"] = x.grad.clone()
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
results["detach"] = [x.grad == u, x.grad.clone()]
x.grad.zero_()
y.sum().backward()
results["after_detach"] = x.grad == 2 * x


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.tensor(0.3, requires_grad=True)
d = f(a)
d.backward()
results["control_flow"] = [a.grad, a.grad == d / a]
a = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
d = f(a)
d.backward(gradient=torch.tensor([1.0, 1.0, 1.0]))
results["control_flow_vector"] = a.grad

# probability by counting: draws compared only by shape and by what every draw satisfies
fair_probs = torch.ones([6]) / 6
counts = torch.distributions.multinomial.Multinomial(10, fair_probs).sample()
results["multinomial"] = [list(counts.shape), float(counts.sum())]
many = torch.distributions.multinomial.Multinomial(10, fair_probs).sample((50,))
cum_counts = many.cumsum(dim=0)
estimates = cum_counts / cum_counts.sum(dim=1, keepdims=True)
results["estimates"] = [list(estimates.shape), bool(torch.allclose(estimates.sum(1), torch.ones(50)))]
results["exp_sum"] = math.exp(torch.tensor(0.5))
rng = np.random.default_rng(0)
tosses = torch.from_numpy(rng.integers(0, 2, 100))
results["heads"] = [tosses.sum().item(), (tosses == 1).float().mean().item(), tosses.float().var().item()]
results["dir"] = [name for name in ["rand", "randn", "normal", "randint"] if name in dir(torch)]
