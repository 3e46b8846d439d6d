"""The two oracles the engine's op tables are checked against, and tests that the oracles are right.

1. Central finite differences in float64. For ``L = Σ upstream ⊙ f(x)`` and every element xⱼ

       ∂L/∂xⱼ ≈ (L(x + ε·eⱼ) − L(x − ε·eⱼ)) / 2ε          (ε = 1e-6)

   whose error is about ε²·|L‴| (truncation) plus 1e-16·|L|/ε (rounding): ~1e-10 here.
2. PyTorch 2.13 CPU (the ``torch`` fixture), on the same float32 numbers.

An op is one :class:`Case`: its *forms* (``x + y``, ``x.add(y)``, ``lib.add(x, y)``) are written once,
as ``form(lib, *inputs)``, and run unchanged with ``lib = glassgrad`` and ``lib = torch`` because both
spell them alike. Inputs come from a :data:`DOMAINS` entry that keeps them away from kinks
(``|x| ≥ 0.3`` for relu/abs, no ties for max, positive numbers for log/sqrt).

:func:`table_tests` turns a list of cases into the two parametrized tests each op file uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import glassgrad as gg

EPS = 1e-6
FD_RTOL, FD_ATOL = 1e-6, 1e-7
"""Finite differences in float64: agreement to ~6 significant digits (atol per unit of |L|)."""
TORCH_RTOL, TORCH_ATOL = 1e-5, 1e-5
"""PyTorch in float32: agreement to ~100 units in the last place (atol per unit of the largest entry)."""
TABLE_EXAMPLES = max(5, settings().max_examples // 2)
"""Examples per op row (20 under the "ci" profile; the "thorough" profile gives 250)."""

DOMAINS: dict[str, Callable[[np.random.Generator, tuple], np.ndarray]] = {
    "real": lambda rng, shape: rng.uniform(-2.0, 2.0, shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "probability": lambda rng, shape: rng.uniform(0.05, 0.95, shape),
    # |x| ≥ 0.3: far from the kink at 0 of relu, abs, leaky_relu (and from a zero divisor)
    "nonzero": lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape),
    # all entries different, at least 0.3 apart: no ties for max/min
    "distinct": lambda rng, shape: rng.permutation(int(np.prod(shape))).reshape(shape) * 0.4
    - 0.2 * np.prod(shape) + rng.uniform(0.0, 0.1, shape),
    # ±0.25, ±0.75, …, ±2.25 never meet "halves" (multiples of ½), nor the bounds ±1 of clamp
    "odd_quarters": lambda rng, shape: (rng.integers(-5, 5, shape) + 0.5) / 2,
    "halves": lambda rng, shape: rng.integers(-4, 5, shape) / 2,
}

Form = Callable[..., object]


@dataclass(frozen=True)
class Case:
    """One op-table row: spellings of the same function, and where its inputs come from.

    ``forms`` are ``form(lib, *inputs)``; ``torch_forms`` replaces them, pairwise, for PyTorch
    where its spelling differs. ``shapes`` draws one shape per input; ``domains`` names one
    :data:`DOMAINS` entry per input (the last one repeats).
    """

    name: str
    forms: Sequence[Form]
    shapes: st.SearchStrategy
    domains: tuple[str, ...] = ("real",)
    torch_forms: Sequence[Form] | None = None

    def draw_inputs(self, data: st.DataObject) -> tuple[list[np.ndarray], np.random.Generator]:
        """float64 input arrays for one example, and a generator for its upstream gradient."""
        shapes = data.draw(self.shapes, label="shapes")
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
        domains = self.domains + self.domains[-1:] * len(shapes)
        return [np.asarray(DOMAINS[name](rng, shape), dtype=np.float64) for name, shape in zip(domains, shapes)], rng


# --- shape strategies --------------------------------------------------------------------------


def shapes(count: int = 1, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 3):
    """``count`` shapes that broadcast together (size-1 axes and missing leading axes included)."""
    return mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda drawn: drawn.input_shapes)


def same_shapes(count: int = 1, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 3):
    """``count`` copies of one shape."""
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).map(
        lambda shape: (shape,) * count
    )


# --- the oracles --------------------------------------------------------------------------------


def random_like(rng: np.random.Generator, shape: tuple, dtype=np.float64) -> np.ndarray:
    """An upstream gradient ∂L/∂out: uniform in [−1, 1), as an array even for shape ()."""
    return np.asarray(rng.uniform(-1.0, 1.0, shape), dtype=dtype)


def finite_difference_gradients(forward: Callable[..., np.ndarray], arrays: Sequence[np.ndarray],
                                upstream: np.ndarray) -> list[np.ndarray]:
    """∂(Σ upstream ⊙ forward(*arrays))/∂array for each array, by central differences in float64."""
    arrays = [np.array(array, dtype=np.float64) for array in arrays]  # our own copies, to perturb
    gradients = []
    for array in arrays:
        flat = array.reshape(-1)  # a view: writing flat[j] perturbs the array forward sees
        gradient = np.empty(flat.size)
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + EPS
            plus = np.sum(upstream * forward(*arrays))
            flat[j] = original - EPS
            minus = np.sum(upstream * forward(*arrays))
            flat[j] = original
            gradient[j] = (plus - minus) / (2 * EPS)
        gradients.append(gradient.reshape(array.shape))
    return gradients


def grad_of(tensor) -> np.ndarray:
    """``tensor.grad`` as a NumPy array (zeros where none flowed), for glassgrad or PyTorch."""
    if tensor.grad is None:
        return np.zeros(tuple(tensor.shape))
    grad = tensor.grad
    return grad.numpy() if isinstance(grad, gg.Tensor) else grad.detach().numpy()


def dtype_name(dtype) -> str:
    """``float32`` for both ``np.float32`` and ``torch.float32``."""
    return str(dtype).removeprefix("torch.")


def assert_close(actual, expected, rtol: float, atol: float, scale: float, message: str) -> None:
    """``|actual − expected| ≤ atol·max(1, scale) + rtol·|expected|``.

    ``scale`` is the size of the numbers that were added up to make the result: an entry that is small
    because large terms cancel carries their rounding error, not its own.
    """
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * max(1.0, scale), err_msg=message)


def largest(array: np.ndarray) -> float:
    return float(np.abs(array).max(initial=0.0))


def check_against_finite_differences(case: Case, arrays: list[np.ndarray], rng: np.random.Generator) -> None:
    """Every form's backprop gradient equals central differences of the first form, in float64."""
    def forward(*xs: np.ndarray) -> np.ndarray:
        return case.forms[0](gg, *[gg.tensor(x) for x in xs]).numpy()

    value = forward(*arrays)
    upstream = random_like(rng, value.shape)
    numerical = finite_difference_gradients(forward, arrays, upstream)
    size_of_loss = float(np.abs(upstream * value).sum())  # L's rounding error, and so the FD's, scales with it
    for form in case.forms:
        inputs = [gg.tensor(array, requires_grad=True) for array in arrays]
        out = form(gg, *inputs)
        assert out.dtype == np.float64, f"{case.name}: float64 inputs gave {out.dtype}"
        np.testing.assert_allclose(out.numpy(), value, rtol=1e-12, atol=1e-12, err_msg=f"{case.name}: forms differ")
        out.backward(upstream)
        for position, (tensor, expected) in enumerate(zip(inputs, numerical)):
            assert_close(grad_of(tensor), expected, FD_RTOL, FD_ATOL, size_of_loss,
                         f"{case.name}: gradient of input {position} vs finite differences")


def check_against_torch(case: Case, arrays: list[np.ndarray], rng: np.random.Generator, torch) -> None:
    """Each form gives PyTorch's values, dtype and gradients on the same float32 numbers."""
    arrays = [array.astype(np.float32) for array in arrays]
    for ours, theirs in zip(case.forms, case.torch_forms or case.forms):
        gg_inputs = [gg.tensor(array, requires_grad=True) for array in arrays]
        torch_inputs = [torch.tensor(array, requires_grad=True) for array in arrays]
        gg_out, torch_out = ours(gg, *gg_inputs), theirs(torch, *torch_inputs)
        assert gg_out.shape == tuple(torch_out.shape), f"{case.name}: shape"
        assert dtype_name(gg_out.dtype) == dtype_name(torch_out.dtype), f"{case.name}: dtype"
        expected = torch_out.detach().numpy()
        assert_close(gg_out.numpy(), expected, TORCH_RTOL, TORCH_ATOL, largest(expected), f"{case.name}: values")
        upstream = random_like(rng, gg_out.shape, np.float32)
        gg_out.backward(upstream)
        torch_out.backward(torch.from_numpy(upstream))
        for position, (mine, reference) in enumerate(zip(gg_inputs, torch_inputs)):
            expected = grad_of(reference)
            assert_close(grad_of(mine), expected, TORCH_RTOL, TORCH_ATOL, largest(expected),
                         f"{case.name}: gradient of input {position} vs PyTorch")


def table_tests(cases: Sequence[Case]) -> tuple[Callable, Callable]:
    """The two tests of an op table, parametrized by row: finite differences and PyTorch."""
    by_row = pytest.mark.parametrize("case", cases, ids=[case.name for case in cases])

    @by_row
    @settings(max_examples=TABLE_EXAMPLES)
    @given(data=st.data())
    def test_gradients_match_finite_differences(case: Case, data: st.DataObject) -> None:
        check_against_finite_differences(case, *case.draw_inputs(data))

    @by_row
    @settings(max_examples=TABLE_EXAMPLES)
    @given(data=st.data())
    def test_values_and_gradients_match_pytorch(case: Case, data: st.DataObject, torch) -> None:
        check_against_torch(case, *case.draw_inputs(data), torch)

    return test_gradients_match_finite_differences, test_values_and_gradients_match_pytorch


# --- the oracles' own tests ------------------------------------------------------------------------


def test_finite_differences_recover_known_derivatives():
    """d/dx Σ u·sin x = u·cos x, and for a product of two inputs each gets the other (×u)."""
    rng = np.random.default_rng(1)
    x, y, upstream = rng.uniform(-2, 2, (3, 2)), rng.uniform(-2, 2, (3, 2)), rng.uniform(-1, 1, (3, 2))
    (sin_grad,) = finite_difference_gradients(np.sin, [x], upstream)
    np.testing.assert_allclose(sin_grad, upstream * np.cos(x), rtol=FD_RTOL, atol=FD_ATOL)
    x_grad, y_grad = finite_difference_gradients(np.multiply, [x, y], upstream)
    np.testing.assert_allclose(x_grad, upstream * y, rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(y_grad, upstream * x, rtol=FD_RTOL, atol=FD_ATOL)


def test_finite_differences_sum_over_broadcast_copies():
    """A (3, 1) input broadcast against (3, 4) gets the row sums of the upstream gradient."""
    rng = np.random.default_rng(2)
    column, upstream = rng.normal(size=(3, 1)), rng.normal(size=(3, 4))
    (grad,) = finite_difference_gradients(lambda c: c + np.zeros((3, 4)), [column], upstream)
    np.testing.assert_allclose(grad, upstream.sum(axis=1, keepdims=True), rtol=FD_RTOL, atol=FD_ATOL)


def test_finite_differences_leave_the_inputs_unchanged():
    x = np.array([1.0, 2.0])
    finite_difference_gradients(np.exp, [x], np.ones(2))
    assert x.tolist() == [1.0, 2.0]


@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=st.integers(0, 2**32 - 1))
def test_domains_keep_away_from_kinks_and_ties(shape, seed):
    rng = np.random.default_rng(seed)
    assert (DOMAINS["positive"](rng, shape) >= 0.5).all()
    assert (np.abs(DOMAINS["nonzero"](rng, shape)) >= 0.3).all()
    probabilities = DOMAINS["probability"](rng, shape)
    assert ((probabilities > 0) & (probabilities < 1)).all()
    distinct = np.ravel(DOMAINS["distinct"](rng, shape))
    assert np.all(np.diff(np.sort(distinct)) >= 0.3)
    quarters, halves = DOMAINS["odd_quarters"](rng, shape), DOMAINS["halves"](rng, shape)
    assert np.all(np.abs(quarters[..., None] - np.ravel(halves)) >= 0.25)
    assert not np.isin(np.abs(quarters), [1.0]).any()
