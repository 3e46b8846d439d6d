"""Round 63: pooling against PyTorch 2.13 (max, average, adaptive, LP, fractional pools and unpooling).

Each oracle test runs the same numbers through ``torch.nn.functional`` and ``gg.nn.functional`` and compares the
outputs, the indices and the gradient w.r.t. the input; misuse compares the exception class.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional


def _run(lib, fn: str, array: np.ndarray, weights: np.ndarray | None = None, **kwargs):
    """``fn`` of ``array`` in ``lib`` (torch or gg): its outputs as arrays and the gradient of Σ w·out[0]."""
    x = lib.tensor(array.copy(), requires_grad=True)
    args = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = getattr(lib.nn.functional, fn)(x, **args)
    outs = out if isinstance(out, tuple) else (out,)
    values = [o.detach().numpy().copy() for o in outs]
    w = np.ones(values[0].shape) if weights is None else weights
    (outs[0] * lib.tensor(w, dtype=outs[0].dtype)).sum().backward()
    return values, x.grad.numpy().copy()


def _assert_same(torch, fn: str, array: np.ndarray, weights: np.ndarray | None = None, **kwargs) -> None:
    theirs, their_grad = _run(torch, fn, array, weights, **kwargs)
    ours, our_grad = _run(gg, fn, array, weights, **kwargs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-12, atol=1e-12, equal_nan=True)


# ---------------------------------------------------------------- defects fixed in this round

def test_fractional_max_pool_window_with_two_nans_picks_the_last_nan(torch):
    """PyTorch's scan makes a NaN the maximum and keeps the last one: its index, and the gradient there."""
    row = np.array([1.0, np.nan, 2.0, np.nan, 0.0]).reshape(1, 1, 1, 5)
    _assert_same(torch, "fractional_max_pool2d", row, kernel_size=(1, 5), output_size=(1, 1), return_indices=True,
                 _random_samples=np.zeros((1, 1, 2)))
    volume = np.ones((1, 1, 2, 3, 3))  # PyTorch's 3-d pool needs o + k − 1 < n: the one window is the last 1×2×2
    volume[0, 0, 1, 1, 1] = volume[0, 0, 1, 2, 1] = np.nan
    _assert_same(torch, "fractional_max_pool3d", volume, kernel_size=(1, 2, 2), output_size=(1, 1, 1),
                 return_indices=True, _random_samples=np.zeros((1, 1, 3)))


@pytest.mark.parametrize("kwargs", [dict(output_ratio=(0.5, 0.5)), dict(output_size=(0, 1))])
def test_fractional_max_pool_output_of_size_zero_is_empty(torch, kwargs):
    """⌊1·0.5⌋ = 0 rows: PyTorch returns an empty output (and empty indices), it does not refuse."""
    x = np.random.default_rng(0).standard_normal((2, 3, 1, 4))
    samples = np.random.default_rng(1).random((2, 3, 2))
    ours = F.fractional_max_pool2d(gg.tensor(x), (1, 2), return_indices=True, _random_samples=gg.tensor(samples),
                                   **kwargs)
    theirs = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), (1, 2), return_indices=True,
                                                       _random_samples=torch.tensor(samples), **kwargs)
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
    assert ours[1].dtype == gg.int64


def _exception_class(lib, call):
    try:
        call(lib)
    except Exception as error:  # noqa: BLE001 - the class is the verdict
        assert "\n" not in str(error) or lib.__name__ == "torch"
        return type(error)
    return None


MISUSE = [
    ("kernel_size 0", lambda T: T.nn.functional.max_pool2d(T.zeros(1, 1, 3, 3), 0)),
    ("stride 0", lambda T: T.nn.functional.max_pool2d(T.zeros(1, 1, 3, 3), 2, stride=0)),
    ("dilation 0", lambda T: T.nn.functional.max_pool2d(T.zeros(1, 1, 3, 3), 2, dilation=0)),
    ("padding -1", lambda T: T.nn.functional.max_pool2d(T.zeros(1, 1, 3, 3), 2, padding=-1)),
    ("three kernel sizes for 2-d", lambda T: T.nn.functional.max_pool2d(T.zeros(1, 1, 3, 3), (2, 2, 2))),
    ("avg stride 0", lambda T: T.nn.functional.avg_pool3d(T.zeros(1, 1, 3, 3, 3), 2, stride=0)),
    ("divisor_override 0", lambda T: T.nn.functional.avg_pool2d(T.zeros(1, 1, 3, 3), 2, divisor_override=0)),
    ("adaptive triple for 2-d", lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(1, 1, 3, 3), (2, 2, 2))),
    ("adaptive pair for 3-d", lambda T: T.nn.functional.adaptive_max_pool3d(T.zeros(1, 1, 3, 3, 3), (2, 2))),
    ("adaptive negative", lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(1, 1, 3, 3), -1)),
    ("adaptive 1-d pair", lambda T: T.nn.functional.adaptive_max_pool1d(T.zeros(1, 1, 3), (2, 2))),
    ("lp kernel 0", lambda T: T.nn.functional.lp_pool2d(T.zeros(1, 1, 3, 3), 2, 0)),
    ("fractional kernel too large", lambda T: T.nn.functional.fractional_max_pool2d(
        T.zeros(1, 1, 3, 3), 3, output_size=2, _random_samples=T.zeros(1, 1, 2))),
    ("fractional samples of the wrong shape", lambda T: T.nn.functional.fractional_max_pool2d(
        T.zeros(1, 1, 3, 3), 2, output_size=2, _random_samples=T.zeros(1, 1, 3))),
]


@pytest.mark.parametrize("call", [call for _, call in MISUSE], ids=[name for name, _ in MISUSE])
def test_misuse_raises_pytorchs_exception_class_in_one_line(torch, call):
    theirs = _exception_class(torch, call)
    assert theirs is not None
    assert _exception_class(gg, call) is theirs


# ---------------------------------------------------------------- the fuzzer's core

@st.composite
def _pooling_cases(draw):
    """A pool, its input (rounded: ties in windows; sometimes NaN) and settings within PyTorch's rules."""
    family = draw(st.sampled_from(["max", "avg", "adaptive_avg", "adaptive_max", "lp", "fractional"]))
    dims = draw(st.integers(2, 3) if family == "fractional" else st.integers(1, 3))
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    spatial = tuple(draw(st.lists(st.integers(2, 6), min_size=dims, max_size=dims)))
    shape = (*batch, draw(st.integers(1, 2)), *spatial)
    seed = draw(st.integers(0, 2**32 - 1))
    array = np.random.default_rng(seed).standard_normal(shape)
    if draw(st.booleans()):
        array = np.round(array)  # ties: the gradient goes to the first maximum
    if family != "lp" and draw(st.integers(0, 3)) == 0:
        array.flat[draw(st.integers(0, array.size - 1))] = np.nan
    kernel = tuple(draw(st.integers(1, min(3, n))) for n in spatial)
    kwargs: dict = {}
    if family in ("max", "avg"):
        kwargs = dict(kernel_size=kernel, stride=tuple(draw(st.integers(1, 3)) for _ in spatial),
                      padding=tuple(draw(st.integers(0, k // 2)) for k in kernel), ceil_mode=draw(st.booleans()))
        if family == "max":
            kwargs.update(return_indices=draw(st.booleans()))
        else:
            kwargs.update(count_include_pad=draw(st.booleans()),
                          **({} if dims == 1 else dict(divisor_override=draw(st.sampled_from([None, 3])))))
    elif family.startswith("adaptive"):
        sizes = tuple(draw(st.sampled_from([None, 1, 2, 3, 7])) for _ in spatial)
        kwargs = dict(output_size=sizes if dims > 1 else sizes[0] or 4)  # PyTorch's 1-d pools take one int only
        if family == "adaptive_max":
            kwargs.update(return_indices=draw(st.booleans()))
    elif family == "lp":
        array = np.abs(array)
        kwargs = dict(norm_type=draw(st.sampled_from([1, 2, 3])), kernel_size=kernel if dims > 1 else kernel[0],
                      ceil_mode=draw(st.booleans()))  # PyTorch's lp_pool1d takes an int kernel only
    else:
        planes = (shape[0] if batch else 1, shape[-dims - 1])
        kwargs = dict(kernel_size=kernel, output_size=tuple(max(n - k, 1) for n, k in zip(spatial, kernel)),
                      return_indices=draw(st.booleans()),
                      _random_samples=np.random.default_rng(seed + 1).random((*planes, dims)))
    name = {"max": "max_pool", "avg": "avg_pool", "adaptive_avg": "adaptive_avg_pool",
            "adaptive_max": "adaptive_max_pool", "lp": "lp_pool", "fractional": "fractional_max_pool"}[family]
    return f"{name}{dims}d", array, kwargs


@given(case=_pooling_cases())
def test_pools_match_pytorch_forward_indices_and_gradient(torch, case):
    """Wherever PyTorch pools (no error, no window of padding alone), glassgrad gives its numbers, indices and
    gradient w.r.t. the input."""
    fn, array, kwargs = case
    try:
        theirs, _ = _run(torch, fn, array, **kwargs)
    except RuntimeError:
        return  # a setting PyTorch refuses (a kernel past the input): misuse is tested above
    if np.isneginf(theirs[0]).any():
        return  # a dilated window of padding alone: glassgrad refuses it (documented in pooling)
    weights = np.random.default_rng(array.size).standard_normal(theirs[0].shape)
    _assert_same(torch, fn, array, weights, **kwargs)


# ---------------------------------------------------------------- pins of cases that already behaved

def test_max_pools_send_a_tie_to_the_first_maximum_and_nan_to_the_last_nan(torch):
    tie = np.array([[[2.0, 1.0, 2.0, 2.0]]])
    _assert_same(torch, "max_pool1d", tie, kernel_size=4, return_indices=True)
    _assert_same(torch, "adaptive_max_pool1d", tie, output_size=1, return_indices=True)
    nans = np.array([[[1.0, np.nan, 2.0, np.nan, 0.0]]])
    _assert_same(torch, "max_pool1d", nans, kernel_size=5, return_indices=True)
    _assert_same(torch, "adaptive_max_pool2d", nans[None], output_size=1, return_indices=True)


def test_max_pool_of_minus_infinity_with_padding_keeps_an_index_inside(torch):
    _assert_same(torch, "max_pool2d", np.full((1, 1, 3, 3), -np.inf), kernel_size=3, padding=1, return_indices=True)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=3, ceil_mode=True, divisor_override=5),
])
def test_avg_pool_ceil_mode_edge_windows(torch, kwargs):
    _assert_same(torch, "avg_pool2d", np.arange(30.0).reshape(1, 1, 5, 6), **kwargs)


def test_adaptive_pools_larger_than_the_input_and_none(torch):
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    _assert_same(torch, "adaptive_avg_pool2d", x, output_size=(7, None))
    _assert_same(torch, "adaptive_max_pool2d", x, output_size=(None, 9), return_indices=True)
    _assert_same(torch, "adaptive_avg_pool3d", x, output_size=(None, 2, 6))


def test_unpool_modules_undo_pooling_with_output_size(torch):
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 7))
    outs = []
    for lib in (torch, gg):
        pooled, where = lib.nn.MaxPool2d(2, return_indices=True)(lib.tensor(x))
        outs.append(lib.nn.MaxUnpool2d(2)(pooled, where, output_size=[5, 7]).numpy())
        outs.append(lib.nn.MaxUnpool1d(2)(*lib.nn.MaxPool1d(2, return_indices=True)(lib.tensor(x[0, 0])),
                                          output_size=[7]).numpy())
    np.testing.assert_array_equal(outs[0], outs[2])
    np.testing.assert_array_equal(outs[1], outs[3])


def test_unbatched_modules_and_float32(torch):
    x = np.random.default_rng(5).standard_normal((3, 6, 6)).astype(np.float32)
    for make in (lambda T: T.nn.LPPool2d(2, 3, stride=2, ceil_mode=True),
                 lambda T: T.nn.FractionalMaxPool2d(2, output_size=3, _random_samples=T.full((1, 3, 2), 0.3)),
                 lambda T: T.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)):
        ours, theirs = make(gg)(gg.tensor(np.abs(x))), make(torch)(torch.tensor(np.abs(x)))
        assert ours.dtype == gg.float32
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
