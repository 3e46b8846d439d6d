"""float32 sums over an outer axis are as accurate as PyTorch's (round 122).

NumPy's ``np.add.reduce`` adds the rows of a non-innermost axis one at a time (error ~ n·ε: ``x.sum(0)`` of an
(10⁶, 2) float32 array of 0.1 was off by 1%), where PyTorch's CPU cascade sum stays near ε on every axis. Each
check measures glassgrad's error and PyTorch's against the float64 result of the same float32 inputs and asks
glassgrad's to be at most ``MARGIN·max(PyTorch's, ε)``. Inputs are drawn from fixed seeds (derandomized
hypothesis): nothing depends on chance.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

EPS = float(np.finfo(np.float32).eps)
MARGIN = 8.0
"""glassgrad's error may be this many times PyTorch's (or ε): NumPy's own pairwise blocks of 128 leave ~4ε; the
old sequential sums were 10–10⁴ times PyTorch's error over 2¹¹–2¹⁶ rows."""


def _error(value, truth) -> float:
    value, truth = np.asarray(value, np.float64), np.asarray(truth, np.float64)
    return float(np.abs(value - truth).max() / np.abs(truth).max())


def _check(gg_value, torch_value, truth) -> None:
    mine, theirs = _error(gg_value, truth), _error(torch_value, truth)
    assert mine <= MARGIN * max(theirs, EPS), f"glassgrad's relative error {mine:.2e}, PyTorch's {theirs:.2e}"


def _data(seed: int, shape: tuple, transposed: bool) -> np.ndarray:
    """Positive float32 values in [0.5, 1.5) (every rounding error of a running sum drifts the same way), of
    ``shape``; stored transposed (column-major) when asked."""
    values = np.random.default_rng(seed).uniform(0.5, 1.5, shape[::-1] if transposed else shape).astype(np.float32)
    return values.T if transposed else values


REDUCTIONS = {
    "sum": lambda t, dim: t.sum(dim),
    "mean": lambda t, dim: t.mean(dim),
    "var": lambda t, dim: t.var(dim),
    "std": lambda t, dim: t.std(dim),
    "nansum": lambda t, dim: t.nansum(dim),
    "logsumexp": lambda t, dim: t.logsumexp(dim),
    "sum_to_size": lambda t, dim: t.sum_to_size(*(1 if d in dim else n for d, n in enumerate(t.shape))),
}

SHAPES = st.one_of(
    st.tuples(st.integers(2048, 40000), st.integers(1, 5)).map(lambda s: (s, (0,))),
    st.tuples(st.integers(1, 4), st.integers(2048, 20000), st.integers(1, 3)).map(lambda s: (s, (1,))),
    st.tuples(st.integers(64, 300), st.integers(64, 300), st.integers(1, 3)).map(lambda s: (s, (0, 1))),
)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@settings(max_examples=6, deadline=None, derandomize=True)
@given(case=SHAPES, transposed=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_reductions_over_outer_axes_match_pytorchs_accuracy(torch, name, case, transposed, seed):
    shape, dims = case
    if transposed:  # the same values reduced over the same dims, in column-major memory: other axes are outer
        shape, dims = shape[::-1], tuple(len(shape) - 1 - d for d in dims)
    x = _data(seed, shape, transposed)
    reduce = REDUCTIONS[name]
    _check(reduce(gg.tensor(x), dims).numpy(), reduce(torch.tensor(x), dims).numpy(),
           reduce(torch.tensor(x.astype(np.float64)), dims).numpy())


@settings(max_examples=6, deadline=None, derandomize=True)
@given(batch=st.integers(2048, 30000), features=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_bias_gradients_summed_over_a_large_batch(torch, batch, features, seed):
    """A Linear layer's bias gradient, a broadcast ``x + b``'s (unbroadcast in the engine) and a conv's bias."""
    x, up = _data(seed, (batch, features), False), _data(seed + 1, (batch, features), False)
    truth = up.astype(np.float64).sum(0)
    for lib in (gg, torch):
        weight = lib.tensor(np.eye(features, dtype=np.float32))
        bias, shift, conv_bias = (lib.zeros(features, requires_grad=True) for _ in range(3))
        lib.nn.functional.linear(lib.tensor(x), weight, bias).backward(lib.tensor(up))
        (lib.tensor(x) + shift).backward(lib.tensor(up))
        image = lib.tensor(x.reshape(batch, features, 1, 1))
        lib.nn.functional.conv2d(image, weight.reshape(features, features, 1, 1), conv_bias).backward(
            lib.tensor(up.reshape(batch, features, 1, 1)))
        if lib is gg:
            mine = [bias.grad.numpy(), shift.grad.numpy(), conv_bias.grad.numpy()]
        else:
            theirs = [bias.grad.numpy(), shift.grad.numpy(), conv_bias.grad.numpy()]
    for gg_grad, torch_grad in zip(mine, theirs):
        _check(gg_grad, torch_grad, truth)


def test_the_reported_case_and_batch_norm_statistics(torch):
    x = np.full((10**6, 2), 0.1, np.float32)
    truth = x.astype(np.float64).sum(0)
    _check(gg.tensor(x).sum(0).numpy(), torch.tensor(x).sum(0).numpy(), truth)
    data = _data(7, (50000, 3), False)
    means = []
    for lib in (gg, torch):
        norm = lib.nn.BatchNorm1d(3, momentum=1.0)
        norm(lib.tensor(data))
        means.append(norm.running_mean.numpy())
    _check(*means, data.astype(np.float64).mean(0))


IN_TURN = 128
""":data:`glassgrad.summation.IN_TURN` (imported in the test that uses it, so that the others measure BASE's sums)."""


@settings(max_examples=40, deadline=None, derandomize=True)
@given(rows=st.integers(1, IN_TURN), cols=st.integers(1, 40), dtype=st.sampled_from([np.float32, np.float64]),
       transposed=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_small_float32_and_all_float64_sums_are_numpys_own(rows, cols, dtype, transposed, seed):
    """No change where NumPy adds at most IN_TURN values in turn (a bias gradient at batch ≤ 128), nor for float64
    at any size: bit for bit ``np.add.reduce``."""
    from glassgrad import summation  # here, not at the top: the module is new, the other tests also run without it

    add_reduce = summation.add_reduce
    assert summation.IN_TURN == IN_TURN
    x = _data(seed, (rows, cols), transposed).astype(dtype)
    for axis in (0, 1, None, (0, 1)):
        assert np.array_equal(add_reduce(x, axis), np.add.reduce(x, axis))
    big = np.random.default_rng(seed).random((5000, 3))
    assert np.array_equal(add_reduce(big, 0), np.add.reduce(big, 0))


def test_a_compiled_step_replays_the_halved_sums_bit_for_bit():
    def step(x):
        loss = (model(x) * x[:, :1]).mean(0).sum()
        loss.backward()
        return loss

    results = []
    for compiled in (False, True):
        gg.manual_seed(0)
        model = gg.nn.Linear(4, 3)
        run = gg.compile(step, fullgraph=True) if compiled else step
        for seed in range(3):
            loss = run(gg.tensor(_data(seed, (5000, 4), False)))
        results.append((loss.numpy().copy(), model.weight.grad.numpy().copy(), model.bias.grad.numpy().copy()))
    for eager, replayed in zip(*results):
        assert eager.dtype == replayed.dtype and np.array_equal(eager, replayed)


def test_an_axis_given_as_a_numpy_integer_is_summed_as_an_int():
    """np.add.reduce takes NumPy's integers as an axis, and so must the one sum (it asked len() of one)."""
    from glassgrad import summation  # as above: the module is new

    x = np.full((300, 2), 0.1, np.float32)
    for axis in (np.int64(0), np.int32(-2), (np.int64(0),)):
        np.testing.assert_array_equal(summation.add_reduce(x, axis), summation.add_reduce(x, 0))
