"""Infinities and NaNs come out of glassgrad's ops without NumPy's RuntimeWarnings, as PyTorch gives them silently
(``log(0) = −∞``, ``√−1 = NaN``, ``1/0 = ∞``, the gradient of ``√a`` at 0 is ∞), with PyTorch's numbers.
The oracle is PyTorch 2.13 in float64."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, math.inf, -math.inf]  # (1000: e^1000 overflows)
values = st.lists(st.sampled_from([*SPECIAL, 1000.0]), min_size=1, max_size=5)

ONE_INPUT = {  # name → the op on a tensor x (each lib), its gradient checked too
    "log": lambda lib, x: x.log(), "log2": lambda lib, x: x.log2(), "log10": lambda lib, x: x.log10(),
    "log1p": lambda lib, x: x.log1p(), "sqrt": lambda lib, x: x.sqrt(), "rsqrt": lambda lib, x: x.rsqrt(),
    "reciprocal": lambda lib, x: x.reciprocal(), "asin": lambda lib, x: x.asin(), "acos": lambda lib, x: x.acos(),
    "atanh": lambda lib, x: x.atanh(), "acosh": lambda lib, x: x.acosh(),
    "1 / x": lambda lib, x: 1 / x, "x / 0": lambda lib, x: x / 0, "x ** -1": lambda lib, x: x ** -1,
    "x ** 0.5": lambda lib, x: x ** 0.5, "x ** -0.5": lambda lib, x: x ** -0.5, "x ** -2": lambda lib, x: x ** -2,
    "x ** 2": lambda lib, x: x ** 2, "x.clone().div_(0) (in the graph)": lambda lib, x: x.clone().div_(0),
    "exp": lambda lib, x: x.exp(), "exp2": lambda lib, x: x.exp2(),
    "expm1": lambda lib, x: x.expm1(), "softmax": lambda lib, x: x.softmax(0),
    "log_softmax": lambda lib, x: x.log_softmax(0), "sin": lambda lib, x: x.sin(), "cos": lambda lib, x: x.cos(),
    "tan": lambda lib, x: x.tan(),
}
TWO_INPUTS = {  # the op on tensors a and b of the same shape
    "a / b": lambda lib, a, b: a / b, "a ** b": lambda lib, a, b: a ** b,
}
NO_GRADIENT = {  # (remainder's and fmod's gradients at a = ±∞ are another matter: −∞ here, NaN in PyTorch)
    "remainder": lambda lib, a, b: lib.remainder(a, b), "fmod": lambda lib, a, b: lib.fmod(a, b),
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "index_add": lambda lib, a, b: lib.zeros(1, dtype=lib.float64).index_add(0, lib.zeros(len(a), dtype=lib.int64), a),
    "scatter_add": lambda lib, a, b: lib.zeros(1, dtype=lib.float64).scatter_add(
        0, lib.zeros(len(a), dtype=lib.int64), a),
}


def run(lib, op, arrays, gradient):
    """The op's value and, if ``gradient``, each input's gradient (upstream: ones)."""
    tensors = [lib.tensor(array, dtype=lib.float64, requires_grad=gradient) for array in arrays]
    out = op(lib, *tensors)
    if not gradient:
        return [out.detach().numpy()]
    out.backward(lib.ones_like(out))
    return [out.detach().numpy(), *(tensor.grad.numpy() for tensor in tensors)]


def check(torch, op, arrays, gradient=True):
    expected = run(torch, op, arrays, gradient)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # NumPy's "divide by zero encountered …" fails the test
        found = run(gg, op, arrays, gradient)
    for mine, theirs in zip(found, expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)  # (softmax: Σ of ~0)


@pytest.mark.parametrize("name", ONE_INPUT)
@given(x=values)
def test_one_input_ops_give_pytorchs_infinities_and_nans_silently(torch, name, x):
    check(torch, ONE_INPUT[name], [np.array(x)])


@pytest.mark.parametrize("name", TWO_INPUTS)
@given(pairs=st.lists(st.tuples(st.sampled_from(SPECIAL), st.sampled_from(SPECIAL)), min_size=1, max_size=5))
def test_two_input_ops_give_pytorchs_infinities_and_nans_silently(torch, name, pairs):
    check(torch, TWO_INPUTS[name], [np.array(column) for column in zip(*pairs)])


@pytest.mark.parametrize("name", NO_GRADIENT)
@given(pairs=st.lists(st.tuples(st.sampled_from(SPECIAL), st.sampled_from(SPECIAL)), min_size=1, max_size=5))
def test_ops_without_a_gradient_give_pytorchs_infinities_and_nans_silently(torch, name, pairs):
    check(torch, NO_GRADIENT[name], [np.array(column) for column in zip(*pairs)], gradient=False)


@given(x=values)
def test_dividing_in_place_outside_the_graph_gives_pytorchs_infinities_and_nans_silently(torch, x):
    check(torch, lambda lib, x: x.__itruediv__(lib.zeros_like(x)), [np.array(x)], gradient=False)
