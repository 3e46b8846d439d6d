"""A 0-d result is held as a 0-d NumPy array, never as a NumPy scalar (``np.float32``).

NumPy hands back reductions and 1-D indexing as scalars; a tensor holding one could not be
changed in place (an optimizer's step), nor share memory with ``detach()``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

ZERO_D = {
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(),
    "max": lambda x: x.max(),
    "var": lambda x: x.var(),
    "logsumexp": lambda x: x.logsumexp(0),
    "index": lambda x: x[1],
    "dot": lambda x: x @ x,
    "scalar times": lambda x: x.sum() * 2,
    "argmax": lambda x: x.argmax(),
    "detach": lambda x: x.sum().detach(),
    "comparison": lambda x: x.sum() > 0,
}


@pytest.mark.parametrize("name", ZERO_D)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_a_zero_d_result_holds_an_array(name, requires_grad):
    x = gg.tensor([1.0, 2.0, 4.0], requires_grad=requires_grad)
    result = ZERO_D[name](x)
    assert result.shape == ()
    assert type(result.array) is np.ndarray


def test_the_gradient_of_a_zero_d_leaf_is_an_array():
    w = gg.tensor(3.0, requires_grad=True)
    (w * w).backward()
    (w * w).backward()  # the second adds to the first
    assert type(w.grad.array) is np.ndarray and w.grad.item() == 12.0


@pytest.mark.torch
def test_momentum_on_a_parameter_made_from_an_ops_zero_d_result_matches_pytorch(torch):
    def run(lib):
        w = (lib.tensor(2.0) * 1).detach().requires_grad_()
        optimizer = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        values = []
        for _ in range(3):
            optimizer.zero_grad()
            (w * w).backward()
            optimizer.step()
            values.append(float(w.detach()))
        return values

    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-6)
