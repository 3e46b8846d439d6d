"""Degenerate inputs give PyTorch's values, or PyTorch's kind of error with one clear line.

Variances with no degrees of freedom, reductions over zero-size dims, dims of 0-d tensors,
powers at 0 and NaNs in ``max``/``min``: every case is run on glassgrad and on PyTorch 2.13
(float64) and the values, gradients and exception classes must agree.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_line_errors import assert_glassgrad_refuses

import glassgrad as gg

pytestmark = pytest.mark.torch

NAN = float("nan")


def run(lib, data, f, upstream=None):
    """``f`` of a float64 leaf holding ``data``, backward with ``upstream`` (ones by default): (value, grad)."""
    x = lib.tensor(data, dtype=lib.float64)
    x.requires_grad_(True)
    out = f(x)
    seed = np.ones(out.shape) if upstream is None else np.asarray(upstream, dtype=np.float64)
    out.backward(lib.tensor(seed, dtype=lib.float64))
    grad = x.grad if x.grad is not None else lib.zeros_like(x)
    return np.asarray(out.detach().tolist(), dtype=np.float64), np.asarray(grad.tolist(), dtype=np.float64)


def assert_same(ours, theirs):
    """Same numbers, same NaNs, same infinities (signs included)."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-300, equal_nan=True)


# --- variance and standard deviation with no degrees of freedom ----------------------------

NO_DEGREES_OF_FREEDOM = {
    # name: (data, reduction, upstream)
    "var of one element": ([3.0], lambda x: x.var(), None),
    "std of one element": ([3.0], lambda x: x.std(), None),
    "var over a size-1 dim": ([[1.0], [4.0]], lambda x: x.var(1), None),
    "std over a size-1 dim": ([[1.0], [4.0]], lambda x: x.std(1, keepdim=True), None),
    "var correction = n": ([1.0, 2.0, 4.0], lambda x: x.var(correction=3), None),
    "var correction = n, negative upstream": ([1.0, 2.0, 4.0], lambda x: x.var(correction=3), -2.0),
    "var correction > n": ([1.0, 2.0, 4.0], lambda x: x.var(correction=5), None),
    "std correction = n": ([1.0, 2.0, 4.0], lambda x: x.std(correction=3), None),
    "std correction > n": ([1.0, 2.0, 4.0], lambda x: x.std(correction=5), None),
    "var correction = n over a dim": ([[1.0, 2.0, 4.0], [0.0, 0.0, 0.0]], lambda x: x.var(1, correction=3), None),
    "std correction = n over a dim": ([[1.0, 2.0, 4.0], [5.0, 5.0, 5.0]], lambda x: x.std(1, correction=3), None),
    "var of a constant, correction = n": ([2.0, 2.0], lambda x: x.var(correction=2), None),
    "var over a zero-size dim": (np.zeros((2, 0)), lambda x: x.var(1), None),
    "std of an empty tensor": (np.zeros((0,)), lambda x: x.std(), None),
}


@pytest.mark.parametrize("name", NO_DEGREES_OF_FREEDOM)
def test_variance_without_degrees_of_freedom_warns_and_matches_pytorch(name, torch):
    data, f, upstream = NO_DEGREES_OF_FREEDOM[name]
    with pytest.warns(UserWarning, match=r"no degrees of freedom .*lower the correction"):
        ours = run(gg, data, f, upstream)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = run(torch, data, f, upstream)
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])


def test_variance_over_a_dim_with_correction_above_n_divides_by_zero():
    """PyTorch divides by the negative n − c here (a finite gradient of an infinite value); glassgrad by 0."""
    data = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    with pytest.warns(UserWarning, match="no degrees of freedom"):
        value, grad = run(gg, data, lambda x: x.var(1, correction=5))
    assert np.isposinf(value[0]) and np.isnan(value[1])  # Σ(a − ā)²/0: +inf, or 0/0
    centred = data - data.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert_same(grad, 2 * centred / 0.0)


def test_std_of_constant_values_has_gradient_zero_as_in_pytorch(torch):
    """√v at v = 0 has an infinite slope; PyTorch (and glassgrad) send 0 back there, never NaN."""
    data = [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]
    for lib_f in (lambda x: x.std(1), lambda x: x.std(1, correction=0), lambda x: x[0].std()):
        ours, theirs = run(gg, data, lib_f), run(torch, data, lib_f)
        assert not np.isnan(ours[1]).any()
        assert_same(ours[0], theirs[0])
        assert_same(ours[1], theirs[1])


@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
    dim_choice=st.integers(-1, 2),
    extra_correction=st.integers(-3, 2),
    which=st.sampled_from(["var", "std"]),
    seed=st.integers(0, 2**16),
)
def test_variance_matches_pytorch_for_any_correction(torch, shape, dim_choice, extra_correction, which, seed):
    """Every correction from n − 3 to n + 2 (clipped at 0), over all elements or one dim."""
    dim = None if dim_choice >= len(shape) else dim_choice % len(shape)
    n = int(np.prod(shape)) if dim is None else shape[dim]
    correction = max(n + extra_correction, 0)
    if dim is not None and correction > n:
        return  # PyTorch's finite gradient of an infinite value: see the test above
    data = np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float64)  # repeats make ties and zeros
    upstream = np.random.default_rng(seed + 1).normal(size=shape if dim is None else shape[:dim] + shape[dim + 1:])
    upstream = upstream if dim is not None else upstream.sum()

    def f(x):
        reduce = getattr(x, which)
        return reduce(correction=correction) if dim is None else reduce(dim, correction=correction)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = run(gg, data, f, upstream), run(torch, data, f, upstream)
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])


# --- reductions over zero-size dims ---------------------------------------------------------

EMPTY = {
    "softmax over the empty dim": ((2, 0), lambda x: x.softmax(1)),
    "softmax over the other dim": ((2, 0), lambda x: x.softmax(0)),
    "log_softmax over the empty dim": ((2, 0), lambda x: x.log_softmax(1)),
    "log_softmax of a (0,) tensor": ((0,), lambda x: x.log_softmax(0)),
    "logsumexp over the empty dim": ((2, 0), lambda x: x.logsumexp(1)),
    "logsumexp over the empty dim, keepdim": ((3, 0, 2), lambda x: x.logsumexp(1, keepdim=True)),
    "logsumexp over the other dim": ((2, 0), lambda x: x.logsumexp(0)),
    "max over the other dim": ((2, 0), lambda x: x.max(0)[0]),
    "min over the other dim": ((0, 3, 2), lambda x: x.min(2)[0]),
    "mean over the empty dim": ((2, 0), lambda x: x.mean(1)),
    "mean of an empty tensor": ((0, 3), lambda x: x.mean()),
    "mean over the other dim": ((2, 0), lambda x: x.mean(0)),
    "sum over the empty dim": ((2, 0), lambda x: x.sum(1)),
    "sum of an empty tensor": ((0,), lambda x: x.sum()),
    "var over the other dim": ((2, 0), lambda x: x.var(0)),
    "prod over the empty dim": ((2, 0), lambda x: x.prod(1)),
    "prod over the empty dim, keepdim": ((3, 0, 2), lambda x: x.prod(1, keepdim=True)),
    "prod of an empty tensor": ((0, 3), lambda x: x.prod()),
    "prod of a (0,) tensor": ((0,), lambda x: x.prod(0)),
}


@pytest.mark.parametrize("name", EMPTY)
def test_reduction_over_zero_size_dims_matches_pytorch(name, torch):
    shape, f = EMPTY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warning leaks out
        ours = run(gg, np.zeros(shape), f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns about var(0) of a (2, 0) tensor: its 0/0 count
        theirs = run(torch, np.zeros(shape), f)
    assert ours[0].shape == theirs[0].shape and ours[1].shape == theirs[1].shape
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])


@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple), dim_choice=st.integers(-1, 2),
       keepdim=st.booleans(), seed=st.integers(0, 2**16))
def test_prod_gradients_match_pytorch_with_zero_size_dims(torch, shape, dim_choice, keepdim, seed):
    """The first and second derivatives of ``prod``, ``∂out/∂aᵢ = Π_(k≠i) aₖ``, over all entries or one dim of a
    shape that may have 0-size dims: an empty dim has no entries, so the gradient is empty (IndexError before)."""
    dim = None if dim_choice >= len(shape) else dim_choice % len(shape)
    data = np.random.default_rng(seed).integers(-2, 3, size=shape).astype(np.float64)  # zeros and repeats
    results = []
    for lib in (torch, gg):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        out = x.prod() if dim is None else x.prod(dim, keepdim=keepdim)
        first, = lib.autograd.grad(out.sum(), x, create_graph=True)
        weighted = (first * lib.tensor(data + 0.5)).sum()
        # one entry per product: its gradient is a constant 1, which PyTorch leaves out of the graph
        second = lib.autograd.grad(weighted, x)[0] if weighted.requires_grad else lib.zeros_like(x)
        results.append([np.asarray(t.detach().tolist(), dtype=np.float64) for t in (out, first, second)])
    for ours, theirs in zip(results[1], results[0]):
        assert ours.shape == theirs.shape
        assert_same(ours, theirs)


def test_logsumexp_of_nothing_is_minus_infinity(torch):
    assert gg.zeros(2, 0).logsumexp(1).tolist() == [-float("inf")] * 2 == torch.zeros(2, 0).logsumexp(1).tolist()


# --- the same kind of error as PyTorch, said in one line by glassgrad ------------------------

def cat_of_numbers(lib):
    return lib.cat([lib.tensor(1.0), lib.tensor(2.0)])


ERRORS = {
    # name: (make(lib), exception class (PyTorch's too), what glassgrad's message must say)
    "max over an empty dim": (lambda lib: lib.zeros(2, 0).max(1), IndexError,
                              r"max: dim 1 of the tensor of shape \(2, 0\) has size 0.*non-zero size"),
    "min over an empty dim": (lambda lib: lib.zeros(0, 3).min(dim=0), IndexError, r"min: dim 0 .*\(0, 3\) has size 0"),
    "argmax over an empty dim": (lambda lib: lib.zeros(2, 0).argmax(1), IndexError, r"argmax: dim 1 .* has size 0"),
    "argmin over an empty dim": (lambda lib: lib.zeros(0, 2).argmin(0), IndexError, r"argmin: dim 0 .* has size 0"),
    "max of an empty tensor": (lambda lib: lib.zeros(2, 0).max(), RuntimeError,
                               r"max: the tensor of shape \(2, 0\) is empty.*dim="),
    "argmax of an empty tensor": (lambda lib: lib.zeros(0).argmax(), IndexError, r"argmax: the tensor .* is empty"),
    "argmax dim out of range": (lambda lib: lib.ones(2, 3).argmax(2), IndexError,
                                r"argmax: dim 2 is out of range for a tensor of shape \(2, 3\).*\[-2, 1\]"),
    "argmin dim out of range": (lambda lib: lib.ones(2, 3).argmin(-3), IndexError,
                                r"argmin: dim -3 is out of range .*\[-2, 1\]"),
    "argmax dim of a 0-d tensor": (lambda lib: lib.tensor(2.0).argmax(1), IndexError, r"argmax: dim 1 .*\[-1, 0\]"),
    "size dim out of range": (lambda lib: lib.ones(2, 3).size(2), IndexError,
                              r"size: dim 2 is out of range for a tensor of shape \(2, 3\).*\[-2, 1\]"),
    "size negative dim out of range": (lambda lib: lib.ones(2, 3).size(-3), IndexError, r"size: dim -3 .*\[-2, 1\]"),
    "size of a 0-d tensor's dim": (lambda lib: lib.tensor(2.0).size(0), IndexError,
                                   r"size: dim 0 .*0-d tensor has no dims"),
    "squeeze dim 1 of a 0-d tensor": (lambda lib: lib.tensor(2.0).squeeze(1), IndexError,
                                      r"squeeze: dim 1 .*\[-1, 0\]"),
    "transpose dim 1 of a 0-d tensor": (lambda lib: lib.tensor(2.0).transpose(0, 1), IndexError,
                                        r"transpose: dim 1 .*\[-1, 0\]"),
    "cat of 0-d tensors": (cat_of_numbers, RuntimeError, r"cat: the tensor at position 0 is 0-d.*gg.stack"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_glassgrad_raises_one_clear_line_itself(name):
    assert_glassgrad_refuses(*ERRORS[name])


@pytest.mark.parametrize("name", ERRORS)
def test_pytorch_raises_the_same_kind_of_error(name, torch):
    make, kind, _ = ERRORS[name]
    with pytest.raises(kind):
        make(torch)


ACCEPTED = {
    "squeeze(0) of a 0-d tensor": lambda lib: lib.tensor(2.0).squeeze(0),
    "squeeze(-1) of a 0-d tensor": lambda lib: lib.tensor(2.0).squeeze(-1),
    "transpose(0, 0) of a 0-d tensor": lambda lib: lib.tensor(2.0).transpose(0, 0),
    "transpose(0, -1) of a 0-d tensor": lambda lib: lib.tensor(2.0).transpose(0, -1),
    "transpose(0, 0) of a matrix": lambda lib: lib.tensor([[1.0, 2.0]]).transpose(0, 0),
    "argmax(0) of a 0-d tensor": lambda lib: lib.tensor(2.0).argmax(0),
    "argmin(-1) of a 0-d tensor": lambda lib: lib.tensor(2.0).argmin(-1),
    "argmax over the non-empty dim": lambda lib: lib.zeros(2, 0).argmax(0),
    "stack of 0-d tensors": lambda lib: lib.stack([lib.tensor(1.0), lib.tensor(2.0)]),
    "size(-1)": lambda lib: lib.tensor(lib.ones(2, 3).size(-1)),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_what_pytorch_accepts_gives_pytorch_result(name, torch):
    ours, theirs = ACCEPTED[name](gg), ACCEPTED[name](torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


def test_squeeze_and_transpose_of_a_0d_tensor_keep_the_gradient(torch):
    for f in (lambda x: x.squeeze(0) * 3, lambda x: x.transpose(-1, 0) * 3):
        assert_same(run(gg, 2.0, f)[1], run(torch, 2.0, f)[1])


# --- powers at 0 and at negative bases ---------------------------------------------------------

BASES = [0.0, -2.0, -0.5, 2.0]  # not −0.0: PyTorch's x**±0.5 there takes the sign of the zero (1/√−0 = −∞)
EXPONENTS = [0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -2.0, -0.5]


def power_of_tensors(lib, base, exponent):
    a = lib.tensor([base], dtype=lib.float64).requires_grad_(True)
    b = lib.tensor([exponent], dtype=lib.float64).requires_grad_(True)
    out = a**b
    out.sum().backward()
    return [out.tolist(), a.grad.tolist(), b.grad.tolist()]


@pytest.mark.parametrize("exponent", EXPONENTS)
@pytest.mark.parametrize("base", BASES)
def test_pow_family_matches_pytorch_at_zero_and_negative_bases(base, exponent, torch):
    """tensor ** tensor, tensor ** number (float and int) and number ** tensor."""
    with np.errstate(all="ignore"):
        assert_same(power_of_tensors(gg, base, exponent), power_of_tensors(torch, base, exponent))
        powers = [lambda x: x**exponent, lambda x: exponent**x]
        if exponent == int(exponent):
            powers.append(lambda x: x ** int(exponent))
        for f in powers:
            for ours, theirs in zip(run(gg, [base], f), run(torch, [base], f)):
                assert_same(ours, theirs)


def test_zero_power_of_zero_has_slope_zero(torch):
    """The issue's case: ∂(aᵇ)/∂a at a = 0, b = 0 is 0, not 0·0⁻¹ = nan."""
    a = gg.tensor([0.0], requires_grad=True)
    (a ** gg.tensor([0.0])).sum().backward()
    assert a.grad.tolist() == [0.0]


# --- NaN in max, min, maximum and minimum --------------------------------------------------------

NAN_CASES = {
    "max of all with one nan": ([1.0, NAN, 3.0], lambda x: x.max()),
    "max of all with two nans": ([1.0, NAN, 3.0, NAN], lambda x: x.max()),
    "min of all with one nan": ([[1.0, NAN], [-3.0, 0.0]], lambda x: x.min()),
    "max over a dim, one nan per row": ([[1.0, NAN, 3.0], [NAN, 5.0, 0.0]], lambda x: x.max(1)[0]),
    "max over a dim, keepdim": ([[1.0, NAN, 3.0], [1.0, 5.0, 0.0]], lambda x: x.max(1, keepdim=True)[0]),
    "min over a dim, one nan per column": ([[1.0, NAN], [NAN, 5.0], [0.0, 2.0]], lambda x: x.min(0)[0]),
}


@pytest.mark.parametrize("name", NAN_CASES)
def test_a_nan_takes_the_gradient_of_max_and_min(name, torch):
    data, f = NAN_CASES[name]
    ours, theirs = run(gg, data, f), run(torch, data, f)
    assert not np.isnan(ours[1]).any()
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_and_minimum_with_nans_match_pytorch(op, torch):
    def both(lib):
        a = lib.tensor([NAN, 1.0, NAN, 2.0, 3.0], dtype=lib.float64).requires_grad_(True)
        b = lib.tensor([1.0, NAN, NAN, 2.0, 0.0], dtype=lib.float64).requires_grad_(True)
        out = getattr(a, op)(b)
        out.backward(lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=lib.float64))
        return [out.tolist(), a.grad.tolist(), b.grad.tolist()]

    assert_same(both(gg), both(torch))


def test_max_over_a_dim_sends_the_gradient_to_the_index_it_returns():
    """As PyTorch: all of it to the first NaN there, as to the first of tied values (the index max returns); glassgrad
    split it between ties, and so disagreed with its own indices. max() over all entries still splits, as PyTorch's."""
    _, grad = run(gg, [[NAN, NAN, 3.0], [5.0, 5.0, 1.0]], lambda x: x.max(1)[0])
    assert grad.tolist() == [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    _, grad = run(gg, [[2.0, 7.0, 7.0], [7.0, 1.0, 0.0]], lambda x: x.min(0, keepdim=True)[0])
    assert grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    _, grad = run(gg, [[5.0, 5.0], [1.0, 5.0]], lambda x: x.max())
    assert grad.tolist() == [[1 / 3, 1 / 3], [0.0, 1 / 3]]


@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple), scale=st.integers(-30, 30),
       seed=st.integers(0, 2**16), dim=st.sampled_from([None, 0, -1]))
def test_a_float32_std_is_accumulated_in_float64_as_pytorch(shape, scale, seed, dim, torch):
    """std of float32 numbers near 1e19 or more: their squares overflow float32, so glassgrad gave inf (with a
    NumPy warning) where PyTorch, which accumulates in float64, gives the finite spread; now glassgrad does too."""
    values = (np.random.default_rng(seed).standard_normal(shape) * 10.0**scale).astype(np.float32)
    results = []
    for library in (torch, gg):
        x = library.tensor(values, requires_grad=True)
        out = x.std() if dim is None else x.std(dim)
        out.backward(library.ones_like(out))
        results.append((out.detach().numpy(), x.grad.numpy()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing from NumPy either
        gg.tensor(values).std()
    assert results[1][0].dtype == np.float32 and results[1][1].dtype == np.float32
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=2e-6, equal_nan=True)
    # the gradient (x − x̄)/((n − 1)·std), worked out in float64 from the same float32 numbers: glassgrad's is it
    # rounded once; PyTorch's float32 backward loses more where x − x̄ cancels (3.5e-5 relative at seed 1364)
    wide = values.astype(np.float64)
    count = wide.size if dim is None else wide.shape[dim]
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = (wide - wide.mean(axis=dim, keepdims=True)) / (
            (count - 1) * wide.std(axis=dim, ddof=1, keepdims=True))
    scale_of_grads = np.nanmax(np.abs(exact), initial=0.0)  # an entry near 0 by cancellation: the rest's rounding
    np.testing.assert_allclose(results[1][1], exact, rtol=2e-6, atol=1e-6 * scale_of_grads, equal_nan=True)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-4, atol=4e-6 * scale_of_grads, equal_nan=True)
