# Tensor puzzles (each a one-liner from arange, broadcasting and indexing, no loops), then the vectorised losses of
# CS231n (pairwise distances, the multiclass SVM, softmax) with their gradients, and fast.ai's matmul from scratch.
import numpy as np
import torch

dtype = "float64"


def arange(i):
    return torch.arange(i)


def where(q, a, b):
    return q * a + ~q * b


def ones(i):
    return where(arange(i) >= 0, 1, 0)


def total(a):
    return ones(a.shape[0]) @ a[:, None]


def outer(a, b):
    return a[:, None] * b[None, :]


def diag(a):
    return a[arange(a.shape[0]), arange(a.shape[0])]


def eye(j):
    return (arange(j)[:, None] == arange(j)) * 1


def triu(j):
    return (arange(j)[:, None] <= arange(j)) * 1


def cumsum(a):
    return a @ triu(a.shape[0])


def diff(a, i):
    return a[arange(i)] - torch.where(arange(i) > 0, a[arange(i) - 1], 0)


def vstack(a, b):
    return where(arange(2)[:, None] == 0, a, b)


def roll(a, i):
    return a[(arange(i) + 1) % i]


def flip(a, i):
    return a[i - arange(i) - 1]


def compress(g, v, i):
    return v * g @ ((cumsum(g * 1) - 1 == arange(i)[:, None]) * 1).T


def pad_to(a, i, j):
    return a @ ((arange(i)[:, None] == arange(j)) * 1)


def sequence_mask(values, length):
    return where(length[:, None] > arange(values.shape[1]), values, 0)


def bincount(a, j):
    return ones(a.shape[0]) @ ((a[:, None] == arange(j)) * 1)


def scatter_add(values, link, j):
    return values @ ((link[:, None] == arange(j)) * 1)


def repeat(a, d):
    return ones(d)[:, None] @ a[None]


def bucketize(v, boundaries):
    return ((v[:, None] >= boundaries) * 1) @ ones(boundaries.shape[0])


v = torch.tensor([2, 5, -1, 3, 0])
puzzles = {
    "ones": ones(4), "sum": total(v), "outer": outer(v, v[:3]), "diag": diag(outer(v, v)), "eye": eye(3),
    "triu": triu(3), "cumsum": cumsum(v), "diff": diff(v, 5), "vstack": vstack(v, v * 2), "roll": roll(v, 5),
    "flip": flip(v, 5), "compress": compress(v > 0, v, 5), "pad_to": pad_to(v, 5, 7),
    "sequence_mask": sequence_mask(outer(v, v), torch.tensor([1, 0, 5, 3, 2])),
    "bincount": bincount(torch.tensor([0, 2, 2, 1, 2]), 4),
    "scatter_add": scatter_add(v, torch.tensor([0, 2, 2, 1, 2]), 3),
    "repeat": repeat(v, 2), "bucketize": bucketize(v, torch.tensor([0, 2, 4])),
}
with_names = {
    "repeat_interleave": torch.repeat_interleave(torch.tensor([2, 0, 1])),
    "div": torch.div(v, -2, rounding_mode="trunc"),
    "floor": torch.div(v, -2, rounding_mode="floor"), "unfold": torch.arange(7.0).unfold(0, 3, 2),
    "searchsorted": torch.searchsorted(torch.tensor([5, 1, 7, 3]), torch.tensor([3, 6]),
                                       sorter=torch.tensor([1, 3, 0, 2])),
    "mixed_index": torch.arange(24.0).reshape(2, 3, 4)[1, :, torch.tensor([3, 0])],
    "einsum_sublist": torch.einsum(torch.ones(2, 3), [0, 1], torch.arange(3.0), [1], [0]),
}

rng = np.random.default_rng(0)
x = torch.tensor(rng.normal(size=(6, 4)))
y = torch.tensor(rng.integers(0, 3, size=6))
centers = torch.tensor(rng.normal(size=(3, 4)))
w = torch.tensor(rng.normal(size=(4, 3)) * 0.1, requires_grad=True)

distances = ((x[:, None, :] - centers[None]) ** 2).sum(-1).sqrt()  # (6, 3) without loops
distances_expanded = ((x ** 2).sum(1, keepdim=True) + (centers ** 2).sum(1) - 2 * x @ centers.T).sqrt()

scores = x @ w
correct = scores[torch.arange(6), y][:, None]
margins = (scores - correct + 1).clamp(min=0)
margins[torch.arange(6), y] = 0  # the correct class adds no margin
svm = margins.sum() / 6
svm.backward()
svm_grad = w.grad.clone()
w.grad = None

scores = x @ w  # a new forward: the SVM's backward freed the first
shifted = scores - scores.max(dim=1, keepdim=True).values
log_probs = shifted - shifted.exp().sum(1, keepdim=True).log()
softmax_loss = -log_probs.gather(1, y[:, None]).mean()
softmax_loss.backward()


def matmul(a, b):
    c = torch.zeros(a.shape[0], b.shape[1], dtype=a.dtype)
    for i in range(a.shape[0]):
        c[i] = (a[i, :, None] * b).sum(dim=0)  # one row at a time, broadcast over b's columns
    return c


m = torch.tensor(rng.normal(size=(5, 4)), requires_grad=True)
product = matmul(m, x.T)
product.pow(2).sum().backward()

windows = torch.arange(12.0).reshape(3, 4).t().contiguous().view(2, 6)
strided = torch.arange(10.0).as_strided((3, 4), (2, 1))

results = {"puzzles": puzzles, "with_names": with_names, "distances": distances,
           "distances_expanded": distances_expanded, "svm": svm, "svm_grad": svm_grad,
           "softmax_loss": softmax_loss, "softmax_grad": w.grad, "product": product,
           "einsum": torch.einsum("ik,jk->ij", m, x), "matmul_grad": m.grad, "windows": windows, "strided": strided}
