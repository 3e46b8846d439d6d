"""Norms: ``x.norm``, ``gg.norm``, ``gg.linalg`` (vector, matrix), ``F.normalize``, and ``amax``/``amin``.

Oracles: PyTorch 2.13 (values, first and second derivatives on hypothesis-drawn shapes and orders),
finite differences (``gg.gradcheck``), and hand-derived values at the kinks (slope 0 where a slice is 0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import glassgrad as gg

ORDERS = [2, 1, 3, 1.5, 0.5, math.inf, -math.inf]


def _derivatives(module, function, values, weights, inner):
    """The value, the first derivative (recorded) and a Hessian-vector product of Σ w·f(x)."""
    x = module.tensor(values, dtype=module.float64, requires_grad=True)
    y = function(module, x)
    (first,) = module.autograd.grad((y * module.tensor(np.resize(weights, tuple(y.shape)))).sum(), x,
                                    create_graph=True)
    if not first.requires_grad:  # a piecewise-constant slope (amax's mask, p = 1's sign): no graph to go on
        return [t.detach().numpy() for t in (y, first)] + [np.zeros(values.shape)]
    (second,) = module.autograd.grad((first * module.tensor(inner)).sum(), x, allow_unused=True,
                                     materialize_grads=True)
    force = {} if module is gg else {"force": True}  # PyTorch's second derivative of a linear slope: a ZeroTensor
    return [t.detach().numpy(**force) for t in (y, first, second)]


def _compare(torch, function, values, seed):
    rng = np.random.default_rng(seed)
    weights, inner = rng.normal(size=64), rng.normal(size=values.shape)
    mine = _derivatives(gg, function, values, weights, inner)
    theirs = _derivatives(torch, function, values, weights, inner)
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-11)


@pytest.mark.torch
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 2**16),
       order=st.sampled_from(ORDERS), keepdim=st.booleans(), data=st.data())
def test_norm_over_any_dims_matches_pytorch_with_two_derivatives(torch, shape, seed, order, keepdim, data):
    dims = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)))
    values = np.random.default_rng(seed).uniform(0.2, 2.0, size=shape) * np.random.default_rng(seed + 1).choice(
        [-1, 1], size=shape)  # away from the kinks at 0
    _compare(torch, lambda lib, x: x.norm(p=order, dim=dims, keepdim=keepdim), values, seed)


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda lib, x: lib.norm(x),
    lambda lib, x: lib.norm(x, p="fro", dim=(0, 1)),
    lambda lib, x: lib.linalg.vector_norm(x, ord=3, dim=1),
    lambda lib, x: lib.linalg.norm(x),
    lambda lib, x: lib.linalg.norm(x, dim=0),
    lambda lib, x: lib.linalg.norm(x, ord=math.inf),  # a 2-D input: the matrix ∞-norm, the largest row sum
    lambda lib, x: lib.linalg.matrix_norm(x, ord=1),
    lambda lib, x: lib.linalg.matrix_norm(x, ord=-1, keepdim=True),
    lambda lib, x: lib.linalg.matrix_norm(x, ord=-math.inf),
    lambda lib, x: lib.linalg.matrix_norm(x.unsqueeze(0).expand(2, 3, 4) * 1.5, dim=(2, 1)),
    lambda lib, x: lib.linalg.matrix_norm(x, ord=2),  # the largest singular value
    lambda lib, x: lib.linalg.matrix_norm(x.unsqueeze(0).expand(2, 3, 4) * lib.tensor([[[1.0]], [[2.0]]]), ord=-2,
                                          dim=(2, 0), keepdim=True),
    lambda lib, x: lib.linalg.norm(x, ord="nuc") + x.norm(p="nuc", dim=(1, 0)) + lib.linalg.norm(x, ord=2),
    lambda lib, x: lib.nn.functional.normalize(x),
    lambda lib, x: lib.nn.functional.normalize(x, p=1.0, dim=0),
    lambda lib, x: lib.amax(x, dim=1),
    lambda lib, x: x.amin(dim=(0, 1), keepdim=True),
    lambda lib, x: x.amax(),
], ids=lambda call: "")
def test_the_norm_functions_match_pytorch(torch, call):
    values = np.random.default_rng(3).normal(size=(3, 4))
    _compare(torch, call, values, 4)


@pytest.mark.torch
def test_ties_share_the_slope_evenly_as_in_pytorch(torch):
    values = np.array([[2.0, -2.0, 1.0], [0.5, 0.5, 0.5]])
    for call in (lambda lib, x: x.norm(p=math.inf, dim=1), lambda lib, x: x.norm(p=-math.inf, dim=1),
                 lambda lib, x: x.amax(dim=1), lambda lib, x: x.amin(dim=0)):
        _compare(torch, call, values, 5)


@pytest.mark.torch
def test_a_slice_of_zeros_has_slope_zero_and_a_finite_second_derivative(torch):
    """At a slice that is all 0 the slope is 0 (PyTorch's choice too); the second derivative there is 0 where
    PyTorch 2.13 gives NaN, and elsewhere it equals PyTorch's."""
    values = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]])
    rng = np.random.default_rng(6)
    weights, inner = rng.normal(size=8), rng.normal(size=values.shape)
    for order in (2, 3, 0.5):
        function = (lambda p: lambda lib, x: x.norm(p=p, dim=1))(order)
        mine = _derivatives(gg, function, values, weights, inner)
        theirs = _derivatives(torch, function, values, weights, inner)
        np.testing.assert_array_equal(mine[1][0], 0.0)
        np.testing.assert_array_equal(mine[2][0], 0.0)
        assert np.isfinite(mine[2]).all()
        for ours, reference in zip(mine, theirs):
            usable = np.isfinite(reference)
            np.testing.assert_allclose(ours[usable], reference[usable], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("order", [2, 3, 1.5])
def test_the_recorded_slope_has_the_finite_difference_derivative(order):
    x = gg.tensor(np.random.default_rng(7).normal(size=(3, 4)), dtype=gg.float64, requires_grad=True)

    def slope(t):
        with gg.enable_grad():
            return gg.autograd.grad(t.norm(p=order, dim=1).sum(), t, create_graph=True)[0]

    report = gg.gradcheck(slope, [x])
    assert report.ok, report


def test_the_trace_writes_the_norm_with_its_order_and_rule():
    x = gg.tensor([3.0, -4.0], requires_grad=True)
    with gg.trace() as tape:
        x.norm(p=3).backward()
    step = tape.describe()
    assert step["forward"][0]["formula"] == "v₁ = ‖X‖_3"
    assert step["backward"][0]["rule"].startswith("∂L/∂a = ∂L/∂out·sign(a)·|a|^(p−1)/‖a‖^(p−1)")
    expected = np.sign([3.0, -4.0]) * np.abs([3.0, -4.0]) ** 2 / np.cbrt(91.0) ** 2
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.tensor([1, 2]).norm(), "norm: needs a floating tensor, got int64; use x.float() first"),
    (lambda: gg.linalg.matrix_norm(gg.ones(2, 2), ord=3), "matrix_norm: ord=3 is not a matrix norm"),
    (lambda: gg.linalg.norm(gg.ones(2), ord="fro"), "linalg.norm: ord='fro' is a matrix norm"),
    (lambda: gg.linalg.norm(gg.ones(2, 2, 2), ord=1), "the input must be 1-D or 2-D, got shape (2, 2, 2)"),
    (lambda: gg.linalg.matrix_norm(gg.ones(3)), "needs a tensor with at least 2 dims"),
])
def test_norms_refuse_what_they_cannot_do_in_one_line(call, message):
    with pytest.raises(RuntimeError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.torch
@given(shape=array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_squeeze_takes_a_tuple_of_dims_as_in_pytorch(torch, shape, data):
    rank = max(len(shape), 1)
    dims = tuple(data.draw(st.lists(st.integers(-rank, rank - 1), max_size=3, unique_by=lambda d: d % rank)))
    mine, theirs = gg.zeros(shape), torch.zeros(shape)
    assert tuple(mine.squeeze(dims).shape) == tuple(theirs.squeeze(dims).shape)


def test_squeeze_refuses_a_dim_listed_twice_in_one_line():
    with pytest.raises(RuntimeError, match=r"squeeze: dim 0 appears more than once in dim=\(0, -2\)"):
        gg.zeros(1, 1).squeeze((0, -2))


@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=2), data=st.data(),
       order=st.sampled_from([2, 1, 0, 0.5, -0.5, -1, -2, math.inf, -math.inf]))
def test_a_norm_over_an_empty_dim_is_pytorchs_value_or_refusal(torch, shape, data, order):
    """Over no entries the 2-, 1-, 0- and 0.5-norms are 0, and PyTorch refuses ±∞ and any negative order (glassgrad
    gave the −1 norm of no entries as ∞, from 0^(1/p)); a dim kept, not reduced, may be empty."""
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    values = np.zeros(shape)
    try:
        expected = torch.linalg.vector_norm(torch.tensor(values), ord=order, dim=dim).numpy()
    except RuntimeError:
        with pytest.raises(RuntimeError, match="of no entries has no value: a dim it reduces is empty") as error:
            gg.linalg.vector_norm(gg.tensor(values), ord=order, dim=dim)
        assert "\n" not in str(error.value)
        return
    got = gg.linalg.vector_norm(gg.tensor(values), ord=order, dim=dim).numpy()
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
