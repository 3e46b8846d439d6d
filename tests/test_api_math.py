"""Elementwise math functions (issue 11, item 1): trig, hyperbolic and inverses, logs, rsqrt, rounding, lerp, atan2.

Three oracles: PyTorch 2.13 (values and gradients in float64, and float32 kept float32), finite
differences (``gg.gradcheck`` on hypothesis-drawn shapes), and the row's own trace numbers.
Kinks: the rounding functions and ``sign`` have derivative 0 everywhere, jumps included.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg

# name → the interval its inputs are drawn from (inside the domain, away from its edges)
SMOOTH = {
    "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3),
    "sinh": (-3, 3), "cosh": (-3, 3), "tanh": (-3, 3), "asinh": (-3, 3), "acosh": (1.1, 4), "atanh": (-0.9, 0.9),
    "log10": (0.1, 5), "log2": (0.1, 5), "log1p": (-0.9, 5), "expm1": (-3, 3), "rsqrt": (0.1, 5),
    "square": (-3, 3), "reciprocal": (0.2, 3),
}
STEPS = ["floor", "ceil", "trunc", "round", "sign"]
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
           "arctanh": "atanh", "fix": "trunc"}
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _draw(name, shape, seed):
    low, high = SMOOTH.get(name, (-4, 4))
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@pytest.mark.torch
@pytest.mark.parametrize("name", [*SMOOTH, *STEPS])
def test_values_and_gradients_match_pytorch(name, torch):
    data = _draw(name, (3, 4), 1)
    upstream = np.random.default_rng(2).normal(size=(3, 4))
    ours = gg.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    out, expected = getattr(ours, name)(), getattr(theirs, name)()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13, atol=1e-15)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)
    # the gg. function form and float32 (kept float32)
    np.testing.assert_array_equal(getattr(gg, name)(ours.detach()).numpy(), out.numpy())
    single = getattr(gg.tensor(data, dtype=gg.float32), name)()
    assert single.dtype == np.float32
    np.testing.assert_allclose(single.numpy(), getattr(torch.tensor(data, dtype=torch.float32), name)().numpy(),
                               rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(SMOOTH))
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_gradients_match_finite_differences(name, shape, seed):
    x = gg.tensor(_draw(name, shape, seed), requires_grad=True)
    assert gg.gradcheck(lambda a: getattr(a, name)(), (x,), raise_exception=True).ok


@pytest.mark.parametrize("name", STEPS)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_step_functions_have_zero_gradient_everywhere_even_at_their_jumps(name, shape, seed):
    values = _draw(name, shape, seed)
    values.flat[0] = 0.5 if name == "round" else 0.0 if name == "sign" else 2.0  # a jump
    x = gg.tensor(values, requires_grad=True)
    out = getattr(x, name)()
    out.sum().backward()
    assert x.grad.numpy().tolist() == np.zeros(np.shape(values)).tolist()
    assert out.requires_grad and out.grad_fn.name == name  # in the graph: a trace shows the zero


@pytest.mark.torch
def test_round_halves_to_even_and_with_decimals_as_pytorch(torch):
    data = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1.2345, -2.675])
    np.testing.assert_array_equal(gg.tensor(data).round().numpy(), torch.tensor(data).round().numpy())
    np.testing.assert_allclose(gg.tensor(data).round(decimals=2).numpy(),
                               torch.tensor(data).round(decimals=2).numpy(), rtol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1])
def test_float16_rounds_with_decimals_as_pytorch(torch, decimals):
    """float16 rounds by way of float32, as PyTorch: round(−3.5254, 2) gave −3.52 (−3.5254·100 rounded to −352.5)."""
    data = np.random.default_rng(decimals + 5).uniform(-60, 60, 2000).astype(np.float16)
    data[:3] = [-3.525390625, 2.675, 0.125]
    ours = gg.tensor(data).round(decimals=decimals).numpy()
    theirs = torch.tensor(data).round(decimals=decimals).numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.torch
def test_integer_tensors_keep_their_dtype_in_steps_and_become_float_in_smooth_functions(torch):
    data = [[-3, 0, 2]]
    for name in STEPS:
        ours, theirs = getattr(gg.tensor(data), name)(), getattr(torch.tensor(data), name)()
        assert ours.dtype == np.int64 and str(theirs.dtype) == "torch.int64"
        assert ours.tolist() == theirs.tolist()
    for name in ("tan", "atan", "log1p", "expm1", "sinh"):
        ours, theirs = getattr(gg.tensor([[3, 0, 2]]), name)(), getattr(torch.tensor([[3, 0, 2]]), name)()
        assert ours.dtype == np.float32 and str(theirs.dtype) == "torch.float32"
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.torch
def test_outside_the_domain_gives_nan_or_inf_as_pytorch(torch):
    data = np.array([-2.0, -1.0, 1.0, 2.0, 0.0])
    for name in ("asin", "acos", "atanh", "acosh", "log10", "log2", "log1p", "rsqrt"):
        with np.errstate(all="ignore"):
            ours = getattr(gg.tensor(data), name)().numpy()
        np.testing.assert_allclose(ours, getattr(torch.tensor(data), name)().numpy(), rtol=1e-15)


def test_aliases_are_the_same_functions():
    for alias, name in ALIASES.items():
        x = gg.tensor([1.25, 1.5] if name == "acosh" else [0.25, -0.5], dtype=gg.float64)
        assert getattr(x, alias)().tolist() == getattr(x, name)().tolist()
        assert getattr(gg, alias)(x).tolist() == getattr(gg, name)(x).tolist()


@pytest.mark.torch
@pytest.mark.parametrize("weight_kind", ["number", "tensor"])
def test_lerp_values_and_gradients_match_pytorch(weight_kind, torch):
    rng = np.random.default_rng(5)
    a, b, w = rng.normal(size=(3, 4)), rng.normal(size=(4,)), rng.uniform(size=(3, 1))
    upstream = rng.normal(size=(3, 4))
    ours = [gg.tensor(v, requires_grad=True) for v in (a, b, w)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (a, b, w)]
    weight_ours, weight_theirs = (0.3, 0.3) if weight_kind == "number" else (ours[2], theirs[2])
    out, expected = ours[0].lerp(ours[1], weight_ours), theirs[0].lerp(theirs[1], weight_theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs):
        if reference.grad is None:
            assert mine.grad is None
        else:
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@given(shape=shapes, seed=st.integers(0, 2**16), dtype=st.sampled_from(["float32", "float64"]),
       end_weight=st.sampled_from([0.0, 1.0]))
def test_lerp_with_weight_0_or_1_is_that_end_exactly_as_pytorch(torch, shape, seed, dtype, end_weight):
    """``lerp(a, b, 1)`` is ``b`` to the last bit, as PyTorch's ``b − (b − a)·(1 − w)`` for w ≥ 0.5 gives it:
    ``a + 1·(b − a)`` rounded ``b − a`` first and missed ``b`` by a last bit in about 2% of entries."""
    rng = np.random.default_rng(seed)
    a, b = (rng.normal(size=shape) * 10.0 ** rng.integers(-3, 4, size=shape) for _ in range(2))
    a, b, w = a.astype(dtype), b.astype(dtype), np.full(shape, end_weight, dtype)
    ours = gg.tensor(a).lerp(gg.tensor(b), gg.tensor(w)).numpy()
    theirs = torch.tensor(a).lerp(torch.tensor(b), torch.tensor(w)).numpy()
    assert ours.dtype == np.dtype(dtype)
    assert ours.tolist() == theirs.tolist() == (b if end_weight else a).tolist()


INF, NAN = float("inf"), float("nan")
# (a, b, w, lerp): with an infinite end, (1 − w)·a + w·b, the end alone where the other end's weight is 0
INFINITE_ENDS = [
    (-INF, 2.0, 0.75, -INF),  # PyTorch -inf; glassgrad gave NaN (−∞ + 0.75·∞)
    (-INF, 2.0, 0.25, -INF),  # PyTorch NaN
    (2.0, INF, 0.75, INF),  # PyTorch NaN (∞ − ∞·0.25)
    (2.0, INF, 0.25, INF),
    (INF, -1.0, 0.5, INF),
    (-INF, 2.0, 1.0, 2.0),  # PyTorch NaN (2 − ∞·0)
    (2.0, INF, 0.0, 2.0),  # PyTorch NaN
    (INF, INF, 0.5, INF),  # PyTorch NaN
    (-INF, -INF, 0.0, -INF),  # PyTorch NaN
    (-INF, INF, 0.0, -INF),
    (-INF, INF, 0.5, NAN),  # −∞ and ∞ halfway: no value
    (NAN, INF, 0.0, NAN),  # a NaN stays NaN
    (2.0, NAN, 0.0, NAN),
]


@pytest.mark.parametrize(("a", "b", "w", "expected"), INFINITE_ENDS)
def test_lerp_with_an_infinite_end_is_the_limit_of_its_formula(a, b, w, expected):
    for dtype in (gg.float32, gg.float64):
        found = gg.tensor(a, dtype=dtype).lerp(gg.tensor(b, dtype=dtype), w).item()
        assert found == expected or (np.isnan(found) and np.isnan(expected))


@pytest.mark.torch
def test_lerp_gives_pytorchs_number_wherever_pytorch_gives_one(torch):
    """Over every pair of special ends: glassgrad departs from PyTorch only where PyTorch gives NaN."""
    ends = [-INF, -1.5, 0.0, 2.0, INF, NAN]
    weights = [-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
    a, b, w = (np.array(grid).ravel() for grid in np.meshgrid(ends, ends, weights, indexing="ij"))
    ours = gg.tensor(a).lerp(gg.tensor(b), gg.tensor(w)).numpy()
    theirs = torch.tensor(a).lerp(torch.tensor(b), torch.tensor(w)).numpy()
    numbers = ~np.isnan(theirs)
    np.testing.assert_array_equal(ours[numbers], theirs[numbers])


@pytest.mark.torch
def test_atan2_values_and_gradients_match_pytorch(torch):
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    ours = [gg.tensor(v, requires_grad=True) for v in (a, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (a, b)]
    out, expected = gg.atan2(*ours), torch.atan2(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13)
    out.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-12)


@given(shape=shapes, seed=st.integers(0, 2**16))
def test_lerp_and_atan2_gradients_match_finite_differences(shape, seed):
    rng = np.random.default_rng(seed)
    a, b, w = (gg.tensor(rng.normal(size=shape), requires_grad=True) for _ in range(3))
    assert gg.gradcheck(lambda x, y, z: x.lerp(y, z), (a, b, w), raise_exception=True).ok
    assert gg.gradcheck(lambda x, y: gg.atan2(x, y + 3.0), (a, b), raise_exception=True).ok


def test_the_trace_shows_each_rows_local_derivative():
    x = gg.tensor([[0.3, -0.6]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        x.asin().floor().sum().backward()
    steps = {step["op"]: step for step in tape.describe()["backward"]}
    np.testing.assert_allclose(steps["asin"]["local"]["values"], 1 / np.sqrt(1 - np.array([[0.09, 0.36]])))
    assert np.all(np.asarray(steps["floor"]["local"]["values"]) == 0)


def test_lerp_with_shapes_that_do_not_broadcast_is_one_line():
    with pytest.raises(RuntimeError, match=r"lerp: shapes \(2,\), \(3,\), \(\) cannot be broadcast"):
        gg.ones(2).lerp(gg.ones(3), 0.5)
