"""Quantiles, nanmedian, mode (glassgrad.composed_ranks), scatter_reduce (composed_picks), bernoulli and poisson.

Oracles: PyTorch 2.13 (values, indices and gradients in float64 and float32 on hypothesis-drawn shapes), finite
differences (``gg.gradcheck``), hand-derived values, and the sample mean and variance of many draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _compare(found, tolerance=1e-12):
    for mine, theirs in zip(*found):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=tolerance, atol=tolerance, equal_nan=True)


def _backward(module, out, seed):
    weights = np.random.default_rng(seed).normal(size=tuple(out.shape))
    (module.nan_to_num(out) * module.tensor(weights, dtype=out.dtype)).sum().backward()


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data(),
       interpolation=st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]),
       skip_nan=st.booleans(), keepdim=st.booleans(), dtype=st.sampled_from(["float64", "float32"]))
def test_quantiles_match_pytorch(torch, shape, seed, data, interpolation, skip_nan, keepdim, dtype):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    x[rng.random(shape) < 0.15] = np.nan
    dim = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    levels = data.draw(st.one_of(st.floats(0, 1), st.lists(st.floats(0, 1), min_size=1, max_size=4)))
    name = "nanquantile" if skip_nan else "quantile"
    found = []
    for module in (gg, torch):
        t = module.tensor(x, dtype=getattr(module, dtype), requires_grad=True)
        q = module.tensor(levels, dtype=t.dtype) if isinstance(levels, list) else levels
        out = getattr(module, name)(t, q, dim=dim, keepdim=keepdim, interpolation=interpolation)
        _backward(module, out, seed)
        found.append((out.detach().numpy(), t.grad.numpy()))
    _compare(found, 1e-12 if dtype == "float64" else 1e-5)


@pytest.mark.torch
@given(values=st.lists(st.sampled_from([-np.inf, np.inf, -2.0, 0.5, 3.0]), min_size=1, max_size=7),
       levels=st.lists(st.floats(0, 1), min_size=1, max_size=4), skip_nan=st.booleans())
def test_quantiles_with_infinite_entries_read_the_sorted_entries(torch, values, levels, skip_nan):
    """q = 0 is the smallest entry and q = 1 the largest, ±inf included; a rank landing on an entry, or between two
    equal entries, reads it; between an infinite entry and a finite one the quantile is the infinite one. PyTorch
    gives NaN for all of these (its lerp's ∞ − ∞: quantile([-inf, 1], 0) and quantile([inf, inf], 0.5) are NaN),
    and so did glassgrad; where PyTorch gives a number, glassgrad gives the same."""
    x = np.array(values)
    function = gg.nanquantile if skip_nan else gg.quantile
    ours = function(gg.tensor(x), gg.tensor(levels, dtype=gg.float64)).numpy()
    ordered = np.sort(x)
    ranks = np.array(levels) * (len(x) - 1)
    low, high = ordered[np.floor(ranks).astype(int)], ordered[np.ceil(ranks).astype(int)]
    on_an_entry = (ranks == np.floor(ranks)) | (low == high)
    np.testing.assert_array_equal(ours[on_an_entry], low[on_an_entry])
    one_infinite = np.isinf(low) != np.isinf(high)
    np.testing.assert_array_equal(ours[one_infinite & ~on_an_entry], np.where(np.isinf(low), low, high)[
        one_infinite & ~on_an_entry])
    assert function(gg.tensor(x), 0.0).item() == x.min() and function(gg.tensor(x), 1.0).item() == x.max()
    theirs = getattr(torch, function.__name__)(torch.tensor(x), torch.tensor(levels, dtype=torch.float64)).numpy()
    numbers = ~np.isnan(theirs)
    np.testing.assert_array_equal(ours[numbers], theirs[numbers])


def test_quantile_hand_derived_and_finite_differences():
    x = gg.tensor([4.0, 1.0, 3.0, 2.0], dtype=gg.float64, requires_grad=True)
    assert gg.quantile(x, 0.5).item() == 2.5  # rank 1.5: halfway between 2 and 3
    assert gg.quantile(x, 0.5, interpolation="lower").item() == 2.0
    gg.quantile(x, 0.25).backward()  # rank 0.75: ¼ of 1 and ¾ of 2
    assert x.grad.tolist() == [0.0, 0.25, 0.0, 0.75]
    y = gg.tensor(np.random.default_rng(0).normal(size=(3, 5)), dtype=gg.float64, requires_grad=True)
    assert gg.gradcheck(lambda t: gg.quantile(t, gg.tensor([0.1, 0.7], dtype=gg.float64), dim=1), [y]).ok


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data(), keepdim=st.booleans())
def test_nanmedian_and_mode_match_pytorch(torch, shape, seed, data, keepdim):
    rng = np.random.default_rng(seed)
    distinct = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5 - 3.0  # no ties: PyTorch's index is defined
    distinct[rng.random(shape) < 0.2] = np.nan
    repeated = rng.integers(0, 3, size=shape).astype(np.float64)  # ties of counts: the smallest value wins
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    found = []
    for module in (gg, torch):
        t = module.tensor(distinct, requires_grad=True, dtype=module.float64)
        values, indices = module.nanmedian(t, dim, keepdim=keepdim)
        whole = module.nanmedian(t)
        _backward(module, values, seed)
        r = module.tensor(repeated, requires_grad=True, dtype=module.float64)
        mode_values, mode_indices = module.mode(r, dim, keepdim=keepdim)
        _backward(module, mode_values, seed)
        # a slice of NaNs alone: NaN, and an index PyTorch's selection leaves to chance (2 of 4 NaNs, 5 of 7)
        undefined = np.isnan(distinct).all(axis=dim, keepdims=keepdim)
        found.append([v.detach().numpy() for v in (values, whole, t.grad, mode_values, mode_indices, r.grad)]
                     + [np.where(undefined, -1, indices.numpy())])
    _compare(found)


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16), dim=st.integers(-2, 1),
       reduce=st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), include_self=st.booleans(),
       ties=st.booleans())
def test_scatter_reduce_matches_pytorch(torch, shape, seed, dim, reduce, include_self, ties):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape).astype(np.float64) if ties else rng.normal(size=shape)
    index_shape = list(shape)
    index_shape[dim] = int(rng.integers(1, 6))
    index = rng.integers(0, shape[dim], size=index_shape)
    src = rng.integers(-2, 3, size=index_shape).astype(np.float64) if ties else rng.normal(size=index_shape)
    found = []
    for module in (gg, torch):
        a = module.tensor(x, requires_grad=True, dtype=module.float64)
        b = module.tensor(src, requires_grad=True, dtype=module.float64)
        out = a.scatter_reduce(dim, module.tensor(index), b, reduce, include_self=include_self)
        _backward(module, out, seed)
        found.append((out.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
    _compare(found)


@pytest.mark.torch
def test_scatter_reduce_of_integers_and_a_larger_src_matches_pytorch(torch):
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        found = []
        for module in (gg, torch):
            x = module.tensor([[1, 5, 7], [2, -4, 9]])
            src = module.tensor([[2, 2, 3, 8], [6, 1, 1, 0]])
            index = module.tensor([[0, 0], [2, 1]])
            found.append((gg.scatter_reduce(x, 1, index, src, reduce) if module is gg else
                          torch.scatter_reduce(x, 1, index, src, reduce)).numpy())
        np.testing.assert_array_equal(*found)


def test_scatter_reduce_has_the_finite_difference_gradient():
    rng = np.random.default_rng(1)
    x = gg.tensor(rng.normal(size=(3, 4)), dtype=gg.float64, requires_grad=True)
    src = gg.tensor(rng.normal(size=(3, 5)), dtype=gg.float64, requires_grad=True)
    index = gg.tensor(rng.integers(0, 4, size=(3, 5)))
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        assert gg.gradcheck(lambda a, b, how=reduce: a.scatter_reduce(1, index, b, how, include_self=False),
                            [x, src]).ok


def test_bernoulli_and_poisson_draw_with_the_right_mean_and_spread():
    generator = gg.Generator().manual_seed(0)
    chances = gg.tensor([0.1, 0.5, 0.9], dtype=gg.float64).expand(20000, 3)
    draws = gg.bernoulli(chances, generator=generator)
    assert draws.dtype == gg.float64 and set(np.unique(draws.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.numpy().mean(axis=0), [0.1, 0.5, 0.9], atol=0.015)
    assert gg.ones(20000).bernoulli(0.25).numpy().mean() == pytest.approx(0.25, abs=0.015)
    rates = gg.tensor([0.5, 4.0, 30.0]).expand(20000, 3)
    counts = gg.poisson(rates, generator=generator).numpy()
    assert counts.dtype == np.float32 and np.all(counts == np.round(counts))
    np.testing.assert_allclose(counts.mean(axis=0), [0.5, 4.0, 30.0], rtol=0.03)
    np.testing.assert_allclose(counts.var(axis=0), [0.5, 4.0, 30.0], rtol=0.06)  # a Poisson's variance is its rate
    again = gg.Generator().manual_seed(0)
    assert gg.bernoulli(chances, generator=again).tolist() == draws.tolist()
    # in the graph of probabilities that require grad, with a gradient of 0, as PyTorch's (BernoulliBackward0):
    # tests/test_draw_gradients_against_pytorch.py
    assert gg.bernoulli(gg.full((2,), 0.5, requires_grad=True)).requires_grad


@pytest.mark.parametrize("call, message", [
    (lambda: gg.quantile(gg.ones(3), 1.5), "quantile: q must be in the range [0, 1], got 1.5"),
    (lambda: gg.nanquantile(gg.ones(3), gg.tensor([0.5, -0.1])), "nanquantile: q must be in the range [0, 1]"),
    (lambda: gg.quantile(gg.ones(3), gg.ones(2, 2) / 2), "quantile: q must be a number or a 1-D tensor"),
    (lambda: gg.quantile(gg.ones(3), 0.5, interpolation="cubic"), "quantile: interpolation must be one of"),
    (lambda: gg.quantile(gg.tensor([1, 2]), 0.5), "quantile: the input must be float or double"),
    (lambda: gg.quantile(gg.ones(0), 0.5), "quantile: the input tensor must be non-empty"),
    (lambda: gg.quantile(gg.ones(3), gg.tensor([0.5], dtype=gg.float64)), "quantile: q (float64) must have"),
    (lambda: gg.quantile(gg.ones(3), 0.5, dim=2), "quantile"),
    (lambda: gg.mode(gg.ones(2, 0), 1), "mode: dim 1 has size 0"),
    (lambda: gg.nanmedian(gg.ones(2, 0), 1), "nanmedian: dim 1 of the tensor of shape (2, 0) has size 0"),
    (lambda: gg.ones(3).scatter_reduce(0, gg.tensor([0]), gg.ones(1), "max"), "scatter_reduce: reduce must be"),
    (lambda: gg.ones(3).scatter_reduce(0, gg.tensor([[0]]), gg.ones(1, 1), "sum"), "scatter_reduce: the index must"),
    (lambda: gg.ones(3).scatter_reduce(0, gg.tensor([5]), gg.ones(1), "sum"), "scatter_reduce"),
    (lambda: gg.ones(3).scatter_reduce(0, gg.tensor([0]), gg.ones(1, dtype=gg.float64), "sum"),
     "scatter_reduce: the values written (float64) must have the tensor's dtype"),
    (lambda: gg.bernoulli(gg.tensor([1.5])), "bernoulli: probabilities must be in [0, 1]"),
    (lambda: gg.bernoulli(gg.tensor([1])), "bernoulli: input must hold floats"),
    (lambda: gg.poisson(gg.tensor([-1.0])), "poisson: rates must be finite and >= 0"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, TypeError, IndexError, NotImplementedError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_every_function_is_a_gg_name_and_a_tensor_method_where_pytorch_has_one():
    import glassgrad.composed_ranks as ranks

    public = [name for name, value in vars(ranks).items() if callable(value) and not name.startswith("_")
              and getattr(value, "__module__", "") == ranks.__name__]
    assert public and all(name in gg.__all__ for name in public), set(public) - set(gg.__all__)
    for name in ("quantile", "nanquantile", "nanmedian", "mode", "scatter_reduce", "bernoulli"):
        assert hasattr(gg.Tensor, name) and name in gg.__all__
    assert "poisson" in gg.__all__ and not hasattr(gg.Tensor, "poisson")  # as torch.Tensor: no poisson method


def test_second_derivatives_of_the_composed_functions_against_finite_differences():
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.normal(size=(3, 4)), dtype=gg.float64, requires_grad=True)
    y = gg.tensor(rng.normal(size=(3, 4)), dtype=gg.float64, requires_grad=True)
    index = gg.tensor(rng.integers(0, 4, size=(3, 4)))
    functions = [
        lambda a, b: gg.quantile(a * b, 0.3, dim=1),
        lambda a, b: gg.nanquantile(a * b, gg.tensor([0.2, 0.9], dtype=gg.float64), interpolation="midpoint"),
        lambda a, b: a.scatter_reduce(1, index, b, "prod"),
        lambda a, b: a.scatter_reduce(1, index, b * b, "mean", include_self=False),
        lambda a, b: gg.renorm(a * b, 2, 0, 0.5),
        gg.logaddexp2, gg.ldexp,
        lambda a, b: gg.copysign(a * a, b),
        lambda a, b: gg.special.multigammaln(a.abs() + 2 + b, 3),
        lambda a, b: gg.special.xlog1py(a, b.abs()),
        lambda a, b: gg.special.ndtri((a * b).sigmoid()),
    ]
    for function in functions:
        assert gg.autograd.gradgradcheck(function, [x, y])
