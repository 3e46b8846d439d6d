"""Division with a remainder: ``a % b`` (``remainder``), ``fmod``, ``a // b`` (``floor_divide``).

Oracles: PyTorch 2.13 (values on ints and floats, both signs, broadcasting shapes; first and second
derivatives), the hand-derived slopes ``∂/∂a = 1``, ``∂/∂b = −⌊a/b⌋`` (``a // b``; ``−trunc(a/b)`` for fmod), and 0 for
``//`` (a step; PyTorch refuses to differentiate it).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import glassgrad as gg

CALLS = {
    "%": lambda a, b, lib: a % b,
    "remainder": lambda a, b, lib: lib.remainder(a, b),
    "fmod": lambda a, b, lib: lib.fmod(a, b),
    "method fmod": lambda a, b, lib: a.fmod(b),
    "//": lambda a, b, lib: a // b,
    "floor_divide": lambda a, b, lib: lib.floor_divide(a, b),
}


def _away_from_whole_quotients(rng, shape):
    """Divisors in ±[0.5, 3] and dividends whose quotient is not near a whole number (where the steps jump)."""
    b = rng.uniform(0.5, 3.0, size=shape) * rng.choice([-1, 1], size=shape)
    return b


@pytest.mark.torch
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16), integers=st.booleans())
@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_match_pytorch_on_ints_and_floats_of_both_signs(torch, name, shapes, seed, integers):
    rng = np.random.default_rng(seed)
    (shape_a, shape_b) = shapes.input_shapes
    if integers:
        a, b = rng.integers(-9, 10, size=shape_a), rng.integers(1, 5, size=shape_b) * rng.choice([-1, 1], size=shape_b)
    else:
        a, b = rng.uniform(-9, 9, size=shape_a), _away_from_whole_quotients(rng, shape_b)
    mine = CALLS[name](gg.tensor(a), gg.tensor(b), gg)
    theirs = CALLS[name](torch.tensor(a), torch.tensor(b), torch)
    assert str(mine.dtype).removeprefix("glassgrad.") == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", ["%", "fmod"])
def test_first_and_second_derivatives_match_pytorch(torch, name, shapes, seed):
    rng = np.random.default_rng(seed)
    (shape_a, shape_b), result = shapes.input_shapes, shapes.result_shape
    a, b = rng.uniform(-9, 9, size=shape_a), _away_from_whole_quotients(rng, shape_b)
    outer, inner_a, inner_b = rng.normal(size=result), rng.normal(size=shape_a), rng.normal(size=shape_b)
    found = []
    for lib in (gg, torch):
        x, y = (lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in (a, b))
        out = CALLS[name](x, y, lib)
        first = lib.autograd.grad((out * out * lib.tensor(outer)).sum(), (x, y), create_graph=True)
        second = lib.autograd.grad((first[0] * lib.tensor(inner_a)).sum() + (first[1] * lib.tensor(inner_b)).sum(),
                                   (x, y))
        found.append([t.detach().numpy() for t in (out, *first, *second)])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.torch
@given(whole=st.integers(-30, 30), step=st.sampled_from([0.1, 0.3, 0.7, 1.1, -0.1, -0.3]),
       dtype=st.sampled_from(["float32", "float64"]))
def test_the_slope_of_a_remainder_in_b_is_the_quotient_its_value_was_taken_with(torch, whole, step, dtype):
    """``a % b`` at a multiple of a decimal b, where ``a/b`` rounds to a whole number the exact quotient is not:
    ``1 % 0.1 = 1 − 9·0.1``, so ``∂/∂b = −9`` (``1 // 0.1``, PyTorch's); it was −⌊1/0.1⌋ = −10. At b = ±∞ the
    quotient is −1 for a of the other sign (``1 % −∞ = −∞``), ∂/∂b = 1 (it was 0)."""
    a = np.array([whole * step, whole * step + 1e-3, 1.0, -1.0]).astype(dtype)
    b = np.array([step, step, -np.inf, np.inf]).astype(dtype)
    slopes = []
    for lib in (gg, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        slopes.append(lib.autograd.grad((x % y).sum(), y)[0].numpy())
    np.testing.assert_array_equal(*slopes)
    assert slopes[0].tolist() == (-np.floor_divide(a, b)).tolist()


def test_the_slopes_are_the_hand_derived_ones_and_floor_divide_has_none():
    a = gg.tensor([5.5, -5.5, 7.0], dtype=gg.float64, requires_grad=True)
    b = gg.tensor([2.0, 2.0, -2.5], dtype=gg.float64, requires_grad=True)
    (a % b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]
    assert b.grad.tolist() == (-np.floor(np.array([5.5, -5.5, 7.0]) / [2.0, 2.0, -2.5])).tolist()  # [−2, 3, 3]
    a.grad = b.grad = None
    a.fmod(b).sum().backward()
    assert b.grad.tolist() == [-2.0, 2.0, 2.0]  # −trunc(a/b)
    a.grad = b.grad = None
    (a // b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0] and b.grad.tolist() == [0.0, 0.0, 0.0]


def test_python_numbers_on_either_side_and_the_trace_formula():
    x = gg.tensor([7.0, -7.0], requires_grad=True)
    assert (x % 3).tolist() == [1.0, 2.0] and (10 % gg.tensor([3, -3])).tolist() == [1, -2]
    assert (7.5 // gg.tensor([2.0, -2.0])).tolist() == [3.0, -4.0]
    with gg.trace() as tape:
        (x % 3).sum().backward()
    assert tape.describe()["forward"][0]["formula"].endswith("X mod 3")


@pytest.mark.parametrize("call", [lambda: gg.tensor([1, 2]) % gg.tensor([0, 1]),
                                  lambda: gg.tensor([4]) // 0, lambda: gg.fmod(gg.tensor([3]), 0)])
def test_integer_division_by_zero_is_refused_in_one_line(call):
    with pytest.raises(RuntimeError, match="integer division by zero") as error:
        call()
    assert "\n" not in str(error.value)


def test_float_division_by_zero_gives_what_pytorch_gives():
    out = gg.tensor([1.0, -1.0, 0.0]) // gg.tensor([0.0, 0.0, 0.0])
    assert out.tolist()[:2] == [np.inf, -np.inf] and np.isnan(out.tolist()[2])
