"""Shared by the tests that compare a function's value, gradients and second derivatives with PyTorch's."""

import numpy as np


def value_and_derivatives(lib, function, smooth, arrays, outer, inner):
    """``function(lib, *inputs)``, the gradients of ``Σ out²·outer`` and, if ``smooth``, of ``Σ gradients·inner``
    again (second derivatives), as NumPy arrays, in glassgrad or PyTorch (``lib``)."""
    inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = function(lib, *inputs)
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=lib.float64)
    firsts = lib.autograd.grad((out * out * weights).sum(), inputs, create_graph=smooth, allow_unused=True,
                               materialize_grads=True)
    found = [out, *firsts]
    if smooth:
        total = sum((g * lib.tensor(i, dtype=lib.float64)).sum() for g, i in zip(firsts, inner))
        found += lib.autograd.grad(total, inputs, allow_unused=True, materialize_grads=True)
    force = {} if lib.__name__ == "glassgrad" else {"force": True}
    return [t.detach().numpy(**force) for t in found]
