"""PyTorch functions made of other ops (``glassgrad.composed``): values and gradients against PyTorch 2.13.

Each case builds float64 inputs from a hypothesis-drawn seed, calls the same function in both libraries,
and compares the result, the gradient of a weighted sum into every input that requires grad, and (where
the function's slope is smooth) a second derivative. The tests that return masks, counts and index lists
compare values and dtypes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from derivatives import value_and_derivatives
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

# name: (function of (lib, *tensors), the inputs' shapes, domain, has a second derivative)
DIFFERENTIABLE = {
    "outer": (lambda lib, a, b: lib.outer(a, b), [(3,), (4,)], "any", True),
    "ger": (lambda lib, a, b: a.ger(b), [(2,), (3,)], "any", True),
    "dot": (lambda lib, a, b: lib.dot(a, b), [(4,), (4,)], "any", True),
    "mv": (lambda lib, m, v: lib.mv(m, v), [(3, 4), (4,)], "any", True),
    "addmm": (lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0), [(2, 3), (2, 4), (4, 3)], "any", True),
    "addmm_no_input": (lambda lib, c, a, b: lib.addmm(c.detach() * math.nan, a, b, beta=0) + c,
                       [(3,), (2, 4), (4, 3)], "any", True),
    "addmv": (lambda lib, c, m, v: c.addmv(m, v), [(3,), (3, 2), (2,)], "any", True),
    "addcmul": (lambda lib, c, a, b: lib.addcmul(c, a, b, value=0.3), [(2, 3), (2, 3), (3,)], "any", True),
    "addcdiv": (lambda lib, c, a, b: c.addcdiv(a, b, value=-2), [(2, 3), (1, 3), (2, 3)], "positive", True),
    "cross": (lambda lib, a, b: lib.cross(a, b, dim=1), [(2, 3), (2, 3)], "any", True),
    "xlogy": (lambda lib, a, b: lib.xlogy(a * (a > 0), b), [(2, 3), (2, 3)], "positive second", True),
    "logaddexp": (lambda lib, a, b: lib.logaddexp(a * 20, b), [(2, 3), (3,)], "any", True),
    "hypot": (lambda lib, a, b: lib.hypot(a, b), [(2, 3), (2, 3)], "any", True),
    "frac": (lambda lib, a: lib.frac(a * 3), [(2, 3)], "any", False),
    "clamp_min": (lambda lib, a: lib.clamp_min(a, 0.1) * a, [(2, 3)], "any", True),
    "clamp_max": (lambda lib, a: a.clamp_max(-0.1) * a, [(2, 3)], "any", True),
    "nan_to_num": (lambda lib, a: lib.nan_to_num(a.log(), posinf=5.0) * a, [(2, 3)], "any", True),
    "nansum": (lambda lib, a: lib.nansum(a.log(), dim=1), [(2, 3)], "any", False),
    "nanmean": (lambda lib, a: (a * a).log().nanmean(), [(2, 3)], "any", True),
    "std_mean": (lambda lib, a: lib.std_mean(a, 1)[0] * lib.std_mean(a, 1)[1], [(2, 4)], "any", True),
    "var_mean": (lambda lib, a: sum(lib.var_mean(a, dim=0, correction=0, keepdim=True)), [(3, 2)], "any", True),
    "aminmax": (lambda lib, a: lib.aminmax(a, dim=1).max - a.aminmax().min, [(2, 4)], "any", False),
    "median": (lambda lib, a: lib.median(a, dim=1).values * 2 + a.median(), [(3, 4)], "any", False),
    "median_keepdim": (lambda lib, a: a.median(0, keepdim=True)[0], [(5, 2)], "any", False),
    "cummax": (lambda lib, a: lib.cummax(a, 1).values, [(2, 5)], "any", False),
    "cummin": (lambda lib, a: a.cummin(dim=0)[0], [(4, 2)], "any", False),
    "logcumsumexp": (lambda lib, a: lib.logcumsumexp(a * 10, 1), [(2, 4)], "any", True),
    "diff": (lambda lib, a: lib.diff(a, n=2, dim=0), [(4, 3)], "any", False),
    "diff_prepend": (lambda lib, a, b: a.diff(prepend=b, append=b * 2), [(2, 3), (2, 1)], "any", False),
    "movedim": (lambda lib, a: lib.movedim(a, (0, 2), (2, 0)) * lib.arange(24.0).reshape(4, 3, 2), [(2, 3, 4)],
                "any", False),
    "moveaxis": (lambda lib, a: a.moveaxis(-1, 0), [(2, 3, 4)], "any", False),
    "swapaxes": (lambda lib, a: lib.swapaxes(a, 0, 2), [(2, 3, 4)], "any", False),
    "swapdims": (lambda lib, a: a.swapdims(1, 0), [(2, 3)], "any", False),
    "narrow": (lambda lib, a: lib.narrow(a, 1, -3, 2), [(2, 4)], "any", False),
    "take": (lambda lib, a: lib.take(a, lib.tensor([[0, 5], [5, 2]])), [(2, 3)], "any", False),
    "take_along_dim": (lambda lib, a: lib.take_along_dim(a, a.argsort(dim=1), dim=1), [(2, 3)], "any", False),
    "take_along_dim_flat": (lambda lib, a: a.take_along_dim(lib.tensor([4, 0, 4])), [(2, 3)], "any", False),
    "rot90": (lambda lib, a: lib.rot90(a, 1, (0, 1)), [(2, 3)], "any", False),
    "rot90_twice": (lambda lib, a: a.rot90(2, (1, 0)), [(2, 3)], "any", False),
    "rot90_back": (lambda lib, a: a.rot90(-1, (0, 2)), [(2, 3, 2)], "any", False),
    "index_add": (lambda lib, a, s: lib.index_add(a, 0, lib.tensor([2, 0, 2]), s, alpha=3), [(4, 2), (3, 2)],
                  "any", False),
    "index_fill": (lambda lib, a: a.index_fill(1, lib.tensor([0, 2]), -1.0), [(2, 3)], "any", False),
    "meshgrid_ij": (lambda lib, a, b: sum(g * (k + 1) for k, g in enumerate(lib.meshgrid(a, b, indexing="ij"))),
                    [(2,), (3,)], "any", False),
    "meshgrid_xy": (lambda lib, a, b, c: lib.meshgrid(a, b, c, indexing="xy")[1] * 2
                    + lib.meshgrid([a, b, c], indexing="xy")[0], [(2,), (3,), (2,)], "any", False),
}


def _values(rng, shape, domain, position):
    if domain == "positive" or (domain == "positive second" and position == 1):
        return rng.uniform(0.3, 2.0, size=shape)
    return rng.normal(size=shape)


def _results(lib, name, arrays, outer, inner):
    function, _, _, smooth = DIFFERENTIABLE[name]
    return value_and_derivatives(lib, function, smooth, arrays, outer, inner)


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_values_and_derivatives_match_pytorch(torch, name, seed):
    _, shapes, domain, _ = DIFFERENTIABLE[name]
    rng = np.random.default_rng(seed)
    arrays = [_values(rng, shape, domain, position) for position, shape in enumerate(shapes)]
    outer, inner = rng.normal(size=64), [rng.normal(size=shape) for shape in shapes]
    for mine, theirs in zip(_results(gg, name, arrays, outer, inner), _results(torch, name, arrays, outer, inner)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-10)


PLAIN = {  # functions whose result is a mask, a count or positions: compared as values with their dtype
    "isnan": lambda lib, x: lib.isnan(x),
    "isinf": lambda lib, x: x.isinf(),
    "isfinite": lambda lib, x: lib.isfinite(x),
    "logical_and": lambda lib, x: lib.logical_and(x > 0, x.isnan()),
    "logical_or": lambda lib, x: (x > 0).logical_or(x < -1),
    "logical_xor": lambda lib, x: lib.logical_xor(x > 0, x > 1),
    "logical_not": lambda lib, x: lib.logical_not(x),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x.round()),
    "count_nonzero_dims": lambda lib, x: x.round().count_nonzero(dim=(0, 1)),
    "bincount": lambda lib, x: lib.bincount((x.abs() * 3).long().reshape(-1), minlength=9),
    "bincount_weights": lambda lib, x: lib.bincount((x.abs() * 3).long().reshape(-1), weights=x.reshape(-1)),
    "unique": lambda lib, x: lib.unique(x.round(), return_inverse=True, return_counts=True),
    "unique_dim": lambda lib, x: (x > 0).long().unique(dim=0, return_counts=True),
    "searchsorted": lambda lib, x: lib.searchsorted(lib.tensor([-1.0, 0.0, 0.0, 1.0]), x),
    "searchsorted_right_rows": lambda lib, x: lib.searchsorted(x.sort(dim=1).values, x, right=True),
    "bucketize": lambda lib, x: lib.bucketize(x, lib.tensor([-1.0, 0.0, 1.0]), right=True),
    "tril_indices": lambda lib, x: lib.tril_indices(3, 4, 1),
    "triu_indices": lambda lib, x: lib.triu_indices(4, 3, -1),
    "equal": lambda lib, x: lib.tensor([lib.equal(x, x * 1), x.equal(x + 1), lib.equal(x, x[:1])]),
}


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(PLAIN))
def test_masks_counts_and_positions_match_pytorch(torch, name, seed):
    values = np.random.default_rng(seed).normal(size=(3, 4)) * 2
    values[0, 1], values[2, 2], values[1, 3] = np.nan, np.inf, -np.inf
    if name in ("unique", "unique_dim", "searchsorted", "searchsorted_right_rows", "bucketize", "bincount",
                "bincount_weights", "count_nonzero", "count_nonzero_dims"):
        values = np.nan_to_num(values, posinf=3.0, neginf=-3.0)
    mine, theirs = PLAIN[name](gg, gg.tensor(values)), PLAIN[name](torch, torch.tensor(values))
    for ours, reference in zip(mine if isinstance(mine, tuple) else (mine,),
                               theirs if isinstance(theirs, tuple) else (theirs,)):
        assert str(ours.dtype).split(".")[-1] == str(reference.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), reference.numpy())


@pytest.mark.torch
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple), seed=st.integers(0, 2**16), data=st.data())
def test_count_nonzero_over_any_dims_matches_pytorch(torch, shape, seed, data):
    """``dim=()`` (or ``[]``) counts over every dim, as PyTorch (glassgrad counted entry by entry), and a 0-d
    tensor takes dim 0 or -1, its one entry (NumPy's AxisError before)."""
    values = np.random.default_rng(seed).integers(0, 2, size=shape).astype(np.float64)
    ndim = max(len(shape), 1)
    dims = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple),
                               st.just([])))
    found = [lib.count_nonzero(lib.tensor(values), dim=dims) for lib in (gg, torch)]
    assert found[0].dtype == gg.int64 and found[0].shape == found[1].shape
    assert found[0].tolist() == found[1].tolist()


@pytest.mark.torch
def test_logaddexp_and_logcumsumexp_do_not_overflow(torch):
    values = np.array([[800.0, -800.0, 0.0], [-np.inf, 1e3, -np.inf]])
    for call in (lambda lib, x: lib.logaddexp(x, x.flip(1)), lambda lib, x: lib.logcumsumexp(x, 1)):
        mine, theirs = call(gg, gg.tensor(values)), call(torch, torch.tensor(values))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.torch
@given(larger=st.floats(-50, 50), gaps=st.lists(st.floats(0, 100), min_size=1, max_size=8),
       dtype=st.sampled_from(["float32", "float64"]))
def test_logaddexp_keeps_the_small_term_as_pytorch(torch, larger, gaps, dtype):
    """``ln(eᵃ + eᵇ)`` for b far below a is ``a + ln(1 + e^(b−a))``: summing first, ``1 + e⁻³⁰`` is 1 in float32, and
    logaddexp(0, −30) was 0 there (PyTorch: 9.4e-14) and lost 3 digits in float64; the gradient is σ(a − b)."""
    a = np.full(len(gaps), larger)
    b = a - np.array(gaps)
    results = []
    for lib in (gg, torch):
        x, y = (lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in (a, b))
        out = lib.logaddexp(y, x)  # the smaller first too
        results.append([out.detach().numpy(), *(g.numpy() for g in lib.autograd.grad(out.sum(), (x, y)))])
    for ours, reference in zip(*results):
        np.testing.assert_allclose(ours, reference, rtol=4 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny)


@pytest.mark.torch
def test_logaddexp_of_an_infinity_has_the_gradient_of_the_larger(torch):
    """With a = ∞ and b finite (or −∞), ``∂/∂a = σ(∞) = 1`` and ``∂/∂b = 0`` as in PyTorch (it was NaN: ∞/∞); a = b
    = ±∞ gives ½ each, the limit along a = b (PyTorch: NaN)."""
    a, b = np.array([np.inf, np.inf, -np.inf, 3.0]), np.array([0.0, -np.inf, 1.0, np.inf])
    results = []
    for lib in (gg, torch):
        x, y = (lib.tensor(v, requires_grad=True) for v in (a, b))
        out = lib.logaddexp(x, y)
        results.append([out.detach().numpy(), *(g.numpy() for g in lib.autograd.grad(out.sum(), (x, y)))])
    for ours, reference in zip(*results):
        np.testing.assert_array_equal(ours, reference)
    x = gg.tensor([np.inf, -np.inf], requires_grad=True)
    gg.logaddexp(x, x.detach()).backward(gg.ones(2))
    assert x.grad.tolist() == [0.5, 0.5]


def test_nan_to_num_defaults_and_where_its_gradient_flows():
    x = gg.tensor([1.0, math.nan, math.inf, -math.inf], requires_grad=True)
    out = gg.nan_to_num(x)
    assert out.tolist() == [1.0, 0.0, float(np.finfo(np.float32).max), float(np.finfo(np.float32).min)]
    out.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("call, message", [
    (lambda: gg.outer(gg.ones(2, 2), gg.ones(2)), "outer: input must be 1-D, got shape (2, 2)"),
    (lambda: gg.dot(gg.ones(2), gg.ones(3)), "dot: the vectors have lengths 2 and 3"),
    (lambda: gg.mv(gg.ones(2), gg.ones(2)), "mv: input must be 2-D"),
    (lambda: gg.cross(gg.ones(2, 2), gg.ones(2, 2)), "cross: no dim of size 3 in input of shape (2, 2)"),
    (lambda: gg.movedim(gg.ones(2, 3), (0, 1), 0), "movedim: source (0, 1) and destination 0"),
    (lambda: gg.narrow(gg.ones(2, 3), 1, 2, 2), "narrow: start 2 and length 2 do not fit dim 1 of size 3"),
    (lambda: gg.rot90(gg.ones(2, 3), 1, (1, 1)), "rot90: dims must be two different dims"),
    (lambda: gg.bincount(gg.tensor([1.5])), "bincount: needs a 1-D tensor of non-negative integers"),
    (lambda: gg.bincount(gg.tensor([1, 3]), minlength=-1), "bincount: minlength must be 0 or more, got -1"),
    (lambda: gg.meshgrid(gg.ones(2, 2)), "meshgrid: expects 0-D or 1-D tensors"),
    (lambda: gg.meshgrid(gg.ones(2), indexing="yx"), "meshgrid: indexing must be 'ij' or 'xy'"),
    (lambda: gg.searchsorted(gg.ones(2, 3), gg.ones(3, 1)), "searchsorted: the sequence's leading dims (2,)"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, IndexError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_every_composed_function_is_a_gg_name_and_traced_as_its_ops():
    import glassgrad.composed as composed

    public = [name for name, value in vars(composed).items() if callable(value) and not name.startswith("_")
              and getattr(value, "__module__", "") == "glassgrad.composed" and name != "MinMax"]
    assert all(name in gg.__all__ for name in public), set(public) - set(gg.__all__)
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    with gg.trace() as tape:
        gg.dot(a, a * 3).backward()
    assert [step["op"] for step in tape.describe()["forward"]] == ["mul", "matmul"]


def test_xlogy_at_zero_x_and_infinite_y_is_0_with_slopes_0():
    """0·ln ∞ is 0 (as PyTorch's) and, as the docstring says, both slopes are 0 there (∂/∂x was NaN: 0·∞ formed in
    the backward; PyTorch's is ln ∞ = ∞)."""
    x = gg.tensor([0.0, 0.0], dtype=gg.float64, requires_grad=True)
    y = gg.tensor([np.inf, 2.0], dtype=gg.float64, requires_grad=True)
    value = gg.xlogy(x, y)
    value.sum().backward()
    assert value.tolist() == [0.0, 0.0] and x.grad.tolist() == [0.0, math.log(2.0)] and y.grad.tolist() == [0.0, 0.0]


@pytest.mark.torch
def test_xlogy_at_zero_x_matches_pytorch(torch):
    """x = 0 against each kind of y: the value is 0 except for a NaN y (NaN, as PyTorch; it gave 0), and ∂/∂x is
    ln y there (x·ln y is smooth in x; it gave 0); where ln y is no number (y ≤ 0) both slopes are 0."""
    xs = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, -2.0, 0.0]
    ys = [float("nan"), -1.0, 0.0, 2.0, 0.5, 2.0, float("inf"), 0.5, 3.0]
    results = {}
    for lib in (gg, torch):
        x = lib.tensor(xs, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(ys, dtype=lib.float64, requires_grad=True)
        value = lib.xlogy(x, y)
        value.sum().backward()
        results[lib] = [t.detach().numpy() for t in (value, x.grad, y.grad)]
    (mine, mine_dx, mine_dy), (theirs, theirs_dx, theirs_dy) = results[gg], results[torch]
    np.testing.assert_allclose(mine, theirs, rtol=1e-15)
    np.testing.assert_allclose(mine_dx, theirs_dx, rtol=1e-15)
    defined = np.array(ys) != 0  # PyTorch's ∂/∂y at x = 0, y = 0 is 0/0 = NaN; glassgrad's is 0
    np.testing.assert_allclose(mine_dy[defined], theirs_dy[defined], rtol=1e-15)
    assert mine_dy[2] == 0
