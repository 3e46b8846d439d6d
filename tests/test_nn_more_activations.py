"""The activations made of other ops (``F.relu6`` … ``F.prelu``, and their layers) against PyTorch 2.13:
values, gradients and (where smooth) second derivatives over hypothesis-drawn inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

CALLS = {  # name: (call(lib, x), smooth enough for a second derivative)
    "hardtanh": (lambda lib, x: lib.nn.functional.hardtanh(x, -0.7, 1.2), False),
    "relu6": (lambda lib, x: lib.nn.functional.relu6(x * 4), False),
    "hardsigmoid": (lambda lib, x: lib.nn.functional.hardsigmoid(x * 4), False),
    "hardswish": (lambda lib, x: lib.nn.functional.hardswish(x * 4), True),
    "mish": (lambda lib, x: lib.nn.functional.mish(x), True),
    "selu": (lambda lib, x: lib.nn.functional.selu(x), True),
    "celu": (lambda lib, x: lib.nn.functional.celu(x, 0.7), True),
    "softsign": (lambda lib, x: lib.nn.functional.softsign(x), True),
    "logsigmoid": (lambda lib, x: lib.nn.functional.logsigmoid(x * 5), True),
    "tanhshrink": (lambda lib, x: lib.nn.functional.tanhshrink(x), True),
    "softshrink": (lambda lib, x: lib.nn.functional.softshrink(x, 0.3), False),
    "hardshrink": (lambda lib, x: lib.nn.functional.hardshrink(x, 0.3), False),
    "threshold": (lambda lib, x: lib.nn.functional.threshold(x, 0.1, -2.0), False),
    "glu": (lambda lib, x: lib.nn.functional.glu(x, dim=1), True),
    "softmin": (lambda lib, x: lib.nn.functional.softmin(x, dim=0), True),
    "rrelu_eval": (lambda lib, x: lib.nn.functional.rrelu(x, 0.1, 0.3), False),
    "ReLU6": (lambda lib, x: lib.nn.ReLU6()(x * 4), False),
    "Hardtanh": (lambda lib, x: lib.nn.Hardtanh(-0.5, 0.5)(x), False),
    "Mish": (lambda lib, x: lib.nn.Mish()(x), True),
    "SELU": (lambda lib, x: lib.nn.SELU()(x), True),
    "CELU": (lambda lib, x: lib.nn.CELU(alpha=2.0)(x), True),
    "GLU": (lambda lib, x: lib.nn.GLU(0)(x), True),
    "Softmin": (lambda lib, x: lib.nn.Softmin(dim=1)(x), True),
    "Threshold": (lambda lib, x: lib.nn.Threshold(0.2, 5.0)(x), False),
    "Softshrink": (lambda lib, x: lib.nn.Softshrink()(x), False),
    "LogSigmoid": (lambda lib, x: lib.nn.LogSigmoid()(x), True),
    "RReLU_eval": (lambda lib, x: lib.nn.RReLU(0.2, 0.4).eval()(x), False),
}


def _away_from_kinks(rng, shape):
    """|x| in [0.05, 2] away from the kinks these functions have at 0, ±0.3, ±0.5, ±0.7, 0.1, 0.2, ±1.2, ±1.5."""
    values = rng.uniform(-2, 2, size=shape)
    kinks = np.array([0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.2, 1.5])
    near = np.abs(np.abs(values)[..., None] - kinks).min(axis=-1) < 0.03
    return np.where(near, values + 0.06, values)


def _results(lib, name, values, outer, inner):
    call, smooth = CALLS[name]
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    out = call(lib, x)
    (first,) = lib.autograd.grad((out * out * lib.tensor(np.resize(outer, tuple(out.shape)))).sum(), x,
                                 create_graph=smooth)
    found = [out, first]
    if smooth:
        found += lib.autograd.grad((first * lib.tensor(inner)).sum(), x)
    return [t.detach().numpy() for t in found]


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 3))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_derivatives_match_pytorch(torch, name, seed, rows):
    rng = np.random.default_rng(seed)
    values = _away_from_kinks(rng, (rows * 2, 4))
    outer, inner = rng.normal(size=32), rng.normal(size=values.shape)
    # PyTorch's CELU, hardsigmoid and hardswish slopes use float32 constants (1/α, 1/6) even in float64
    tolerance = 1e-6 if name.lower() in ("celu", "hardsigmoid", "hardswish") else 1e-10
    for mine, theirs in zip(_results(gg, name, values, outer, inner), _results(torch, name, values, outer, inner)):
        np.testing.assert_allclose(mine, theirs, rtol=tolerance, atol=1e-12)


def test_celu_slope_is_the_exact_exponential():
    x = gg.tensor([-1.3, -0.4, 0.5], dtype=gg.float64, requires_grad=True)
    gg.nn.functional.celu(x, 0.7).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.exp(-1.3 / 0.7), np.exp(-0.4 / 0.7), 1.0], rtol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("parameters, shape", [(1, (2, 3)), (3, (2, 3, 4)), (2, (1, 2, 2, 2))])
def test_prelu_learns_its_slopes_as_pytorch(torch, parameters, shape):
    values = _away_from_kinks(np.random.default_rng(3), shape)
    found = []
    for lib in (gg, torch):
        layer = lib.nn.PReLU(parameters, init=0.1, dtype=lib.float64)
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = layer(x)
        (out * out).sum().backward()
        found.append([out.detach().numpy(), x.grad.numpy(), layer.weight.grad.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name, call", [("softshrink", lambda F, x: F.softshrink(x, 0.5)),
                                        ("hardshrink", lambda F, x: F.hardshrink(x, 0.5)),
                                        ("threshold", lambda F, x: F.threshold(x, 0.5, -1.0))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_shrinks_and_threshold_rows_give_pytorchs_numbers_at_their_edges(torch, name, call, dtype):
    """At ±λ, ±0, inside the flat piece, NaN and ±∞, values and gradients, as PyTorch's kernels (the sign of a zero
    is left out: PyTorch's softshrink gives −0 for a negative x on its scalar path, +0 on its vector one)."""
    values = [-0.5, 0.5, -0.2, 0.2, -0.0, 0.0, -0.7, 0.7, float("nan"), float("inf"), -float("inf")]
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        out = call(lib.nn.functional, x)
        out.backward(lib.tensor(np.linspace(-2, 2, len(values)), dtype=x.dtype))
        found.append([out.detach().numpy(), x.grad.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_array_equal(mine, theirs, err_msg=name)


def test_rrelu_in_training_draws_a_slope_per_entry_within_its_bounds():
    gg.manual_seed(0)
    x = gg.full((1000,), -1.0, requires_grad=True)
    out = gg.nn.RReLU(0.2, 0.4)(x)
    slopes = -out.detach().numpy()
    assert slopes.min() >= 0.2 and slopes.max() <= 0.4 and slopes.std() > 0.03  # spread over the interval
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)  # each entry's gradient is its own slope


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.functional.glu(gg.ones(2, 3)), "glu: dim -1 must have an even size to halve, got 3"),
    (lambda: gg.nn.functional.prelu(gg.ones(2, 3), gg.ones(2)), "prelu: the weight has 2 slopes"),
    (lambda: gg.nn.functional.celu(gg.ones(2), 0.0), "celu: alpha must be nonzero"),
    (lambda: gg.nn.Hardtanh(1, 2, True, 4), "Hardtanh: takes min_val, max_val, inplace"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, TypeError, ValueError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
