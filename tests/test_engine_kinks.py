"""Gradients where the function has a kink or a tie: the choices documented in ``glassgrad/ops.py``.

relu'(0) = 0, |x|'(0) = 0, leaky_relu'(0) = the slope, clamp passes the gradient at its bounds, and
tied entries of max/min/maximum/minimum share the gradient evenly. PyTorch makes the same choices,
except for ``max(dim)``/``min(dim)``, where it sends the whole gradient to one of the tied entries.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# name: (form(lib, *inputs), inputs, the gradient of out.sum() for each input, derived by hand)
KINKS = {
    "relu'(0) = 0": (lambda lib, x: x.relu(), [[-1.0, 0.0, 2.0]], [[0.0, 0.0, 1.0]]),
    "|x|'(0) = 0": (lambda lib, x: x.abs(), [[-1.0, 0.0, 2.0]], [[-1.0, 0.0, 1.0]]),
    "leaky_relu'(0) = slope": (lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2), [[-1.0, 0.0, 2.0]],
                               [[0.2, 0.2, 1.0]]),
    "clamp passes at both bounds": (lambda lib, x: x.clamp(-1.0, 1.0), [[-2.0, -1.0, 0.0, 1.0, 2.0]],
                                    [[0.0, 1.0, 1.0, 1.0, 0.0]]),
    "max of all, two tied": (lambda lib, x: x.max(), [[3.0, 1.0, 3.0]], [[0.5, 0.0, 0.5]]),
    "max of all, three tied": (lambda lib, x: lib.max(x), [[[2.0, 2.0], [2.0, 1.0]]], [[[1 / 3, 1 / 3], [1 / 3, 0.0]]]),
    "min of all, two tied": (lambda lib, x: x.min(), [[0.0, -1.0, -1.0]], [[0.0, 0.5, 0.5]]),
    "maximum of equal entries": (lambda lib, x, y: x.maximum(y), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]],
                                 [[0.5, 1.0, 0.5], [0.5, 0.0, 0.5]]),
    "minimum of equal entries": (lambda lib, x, y: lib.minimum(x, y), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]],
                                 [[0.5, 0.0, 0.5], [0.5, 1.0, 0.5]]),
    "max(dim) to the index it returns": (lambda lib, x: x.max(dim=1).values, [[[3.0, 3.0, 1.0], [0.0, 5.0, 5.0]]],
                                         [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]),
    "max(dim, keepdim) to the index it returns": (lambda lib, x: x.max(dim=0, keepdim=True).values,
                                                  [[[4.0, 1.0], [4.0, 2.0], [4.0, 0.0]]],
                                                  [[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]),
    "min(dim) to the index it returns": (lambda lib, x: lib.min(x, -1)[0], [[[1.0, 1.0, 2.0, 1.0]]],
                                         [[[1.0, 0.0, 0.0, 0.0]]]),
    "max() over all entries splits ties": (lambda lib, x: x.max(), [[[3.0, 3.0, 1.0], [0.0, 5.0, 5.0]]],
                                           [[[0.0, 0.0, 0.0], [0.0, 0.5, 0.5]]]),
    "amax(dim) splits ties": (lambda lib, x: x.amax(dim=1), [[[3.0, 3.0, 1.0], [0.0, 5.0, 5.0]]],
                              [[[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]]),
}


def gradients(lib, name: str, make) -> list[np.ndarray]:
    """Run KINKS[name] with tensors from ``make`` and return the gradient of ``out.sum()`` per input."""
    form, inputs, _ = KINKS[name]
    tensors = [make(values) for values in inputs]
    form(lib, *tensors).sum().backward()
    return [tensor.grad.numpy() for tensor in tensors]


@pytest.mark.parametrize("name", KINKS)
def test_gradient_at_kink_is_the_documented_choice(name):
    expected = KINKS[name][2]
    for got, want in zip(gradients(gg, name, lambda values: gg.tensor(values, requires_grad=True)), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name", KINKS)
def test_pytorch_makes_the_same_choice(name, torch):
    ours = gradients(gg, name, lambda values: gg.tensor(values, requires_grad=True))
    theirs = gradients(torch, name, lambda values: torch.tensor(values, requires_grad=True))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-6)


def test_max_dim_returns_the_first_index_of_a_tie_like_pytorch(torch):
    values = [[3.0, 3.0, 1.0], [0.0, 5.0, 5.0]]
    ours, theirs = gg.tensor(values).max(dim=1), torch.tensor(values).max(dim=1)
    assert ours.indices.tolist() == theirs.indices.tolist() == [0, 1]
    assert ours.values.tolist() == theirs.values.tolist()
    ours, theirs = gg.tensor(values).min(1, keepdim=True), torch.tensor(values).min(1, keepdim=True)
    assert ours.indices.tolist() == theirs.indices.tolist() and ours.indices.dtype == gg.int64
