"""The functional (``F.*``) lookups, convolutions and pools on tensors that require grad, against PyTorch 2.13.

A drawn case builds the same float64 arrays for both libraries, calls the functional form, backprops a fixed
weighting of every float output and compares values, dtypes, shapes, every input's gradient, the inputs after the
call (``F.embedding``'s ``max_norm`` rescales the table in place), and, where PyTorch refuses, the exception class.
The regression tests pin what glassgrad got wrong: ``F.embedding_bag`` with a 2-D input and
``include_last_offset=True`` (an internal ``index_add`` shape error), an empty batch with no offsets (refused),
2-D offsets (flattened silently) and ``mode='max'`` with ``scale_grad_by_freq`` (accepted); and the 1-d pools'
refusal of a 0 kernel/stride/dilation, which named ``max_pool2d`` and a 2-d tuple. Left out on purpose:
``embedding_bag``'s ``scale_grad_by_freq`` gradient (pytorch#190063, see test_nn_layers_differential27.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch


def _run(lib, call, arrays):
    """``call(F, *tensors)`` with float arrays as leaves that require grad; returns outputs, grads, inputs after,
    or the exception class's name."""
    leaves = [lib.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    try:
        out = call(lib.nn.functional, *leaves)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error).__name__
    outs = out if isinstance(out, tuple) else (out,)
    total = None
    for o in outs:
        if o.is_floating_point() and o.requires_grad:
            weights = lib.arange(o.numel(), dtype=lib.float64).reshape(o.shape) % 7 + 1
            part = (o.double() * weights).sum()
            total = part if total is None else total + part
    if total is not None:
        total.backward()
    grads = [None if leaf.grad is None else leaf.grad.detach().numpy().copy() for leaf in leaves]
    return ([(o.detach().numpy().copy(), str(o.dtype).split(".")[-1]) for o in outs], grads,
            [leaf.detach().numpy().copy() for leaf in leaves])


def _same(torch, call, *arrays):
    want, got = _run(torch, call, arrays), _run(gg, call, arrays)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want, (want, got)
        return
    for (a, a_dtype), (b, b_dtype) in zip(want[0], got[0], strict=True):
        assert a.shape == b.shape and a_dtype == b_dtype
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-12)
    for a, b in zip(want[1], got[1], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-12)
    for a, b in zip(want[2], got[2], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-12)


RNG = np.random.default_rng(45)
W = RNG.standard_normal((10, 4)) * 3


# --- regressions: each failed before the fix ----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_input_ignores_include_last_offset(torch, mode):
    """Each row of a 2-D input is a bag, include_last_offset or not (glassgrad raised index_add's shape error)."""
    _same(torch, lambda F, i, w: F.embedding_bag(i, w, mode=mode, include_last_offset=True),
          np.array([[2, 2], [3, 2], [4, 5]]), W)


@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_empty_batch_gives_no_bags(torch, include_last_offset):
    offsets = np.zeros(int(include_last_offset), np.int64)
    _same(torch, lambda F, i, w, o: F.embedding_bag(i, w, o, mode="sum", include_last_offset=include_last_offset),
          np.zeros(0, np.int64), W, offsets)
    out = gg.nn.functional.embedding_bag(gg.zeros(0, dtype=gg.int64), gg.tensor(W), gg.tensor(offsets),
                                         include_last_offset=include_last_offset)
    assert out.shape == (0, 4)


def test_embedding_bag_2d_offsets_refused(torch):
    _same(torch, lambda F, i, w, o: F.embedding_bag(i, w, o), RNG.integers(0, 10, 8), W, np.array([[0, 2]]))
    with pytest.raises(ValueError, match="offsets must be 1-D"):
        gg.nn.functional.embedding_bag(gg.tensor([1, 2, 3]), gg.tensor(W), gg.tensor([[0, 2]]))


def test_embedding_bag_max_with_scale_grad_by_freq_refused(torch):
    _same(torch, lambda F, i, w, o: F.embedding_bag(i, w, o, mode="max", scale_grad_by_freq=True),
          np.array([2, 2, 3]), W, np.array([0, 2]))
    with pytest.raises(ValueError, match="scale_grad_by_freq"):
        gg.nn.EmbeddingBag(10, 4, mode="max", scale_grad_by_freq=True)(gg.tensor([[1, 2]]))


@pytest.mark.parametrize("name", ["max_pool1d", "avg_pool1d"])
@pytest.mark.parametrize("setting", ["kernel_size", "stride"])
def test_pool1d_zero_setting_names_the_1d_function(name, setting):
    """(RuntimeError, as PyTorch's, as for every pool's bad setting.)"""
    settings = {"kernel_size": 2, setting: 0}
    with pytest.raises(RuntimeError, match=rf"^{name}: {setting} must be .* got 0$"):
        getattr(gg.nn.functional, name)(gg.randn(2, 3, 11), **settings)


def test_max_pool1d_zero_dilation_names_max_pool1d():
    with pytest.raises(RuntimeError, match=r"^max_pool1d: dilation must be .* got 0$"):
        gg.nn.functional.max_pool1d(gg.randn(2, 3, 11), 2, dilation=0)


@pytest.mark.parametrize("call", [
    lambda: gg.nn.functional.max_pool1d(gg.randn(2, 3, 11), 2, padding=2),
    lambda: gg.nn.functional.avg_pool1d(gg.randn(2, 3, 11), 2, padding=2),
    lambda: gg.nn.MaxPool1d(2, padding=2),
    lambda: gg.nn.AvgPool1d(2, padding=2),
])
def test_pool1d_padding_over_half_the_kernel_names_the_1d_pool_and_its_values(call):
    """Was: max_pool2d's message with 2-d tuples, ``max_pool2d: padding (0, 2) … kernel size (1, 2)``."""
    with pytest.raises(RuntimeError, match=r"^(max_pool1d|avg_pool1d|MaxPool1d|AvgPool1d): padding \(2,\) must be at "
                                           r"most half the kernel size \(2,\)"):
        call()


def test_adaptive_pool1d_output_size_zero_still_accepted(torch):
    """The 1-d check's least value is the 2-d pool's: an adaptive output of 0 stays allowed."""
    x = RNG.standard_normal((2, 3, 7))
    for name in ("adaptive_avg_pool1d", "adaptive_max_pool1d"):
        want = getattr(torch.nn.functional, name)(torch.tensor(x), 0)
        assert getattr(gg.nn.functional, name)(gg.tensor(x), 0).shape == tuple(want.shape)


# --- pinning: what already matched ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_index_dtypes_and_padding(torch, dtype, padding_idx):
    _same(torch, lambda F, i, w: F.embedding(i, w, padding_idx=padding_idx),
          np.array([[2, 9, 2], [1, 9, 0]], dtype), W)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
def test_embedding_max_norm_renormalises_table_in_place(torch, norm_type):
    """The rows read are scaled in place (compared after the call) and the gradient flows to the new rows."""
    _same(torch, lambda F, i, w: F.embedding(i, w, max_norm=1.0, norm_type=norm_type, padding_idx=5),
          np.array([[1, 3, 1, 5]]), W)


def test_embedding_scale_grad_by_freq(torch):
    _same(torch, lambda F, i, w: F.embedding(i, w, scale_grad_by_freq=True, padding_idx=1),
          np.array([[1, 3, 1, 5], [1, 1, 2, 2]]), W)


@pytest.mark.parametrize("index", [10, -1])
def test_embedding_out_of_range_index_is_index_error(torch, index):
    _same(torch, lambda F, i, w: F.embedding(i, w), np.array([1, index]), W)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_offsets_padding_and_empty_bags(torch, mode):
    _same(torch, lambda F, i, w, o: F.embedding_bag(i, w, o, mode=mode, padding_idx=2, include_last_offset=True),
          np.array([2, 2, 3, 2, 4, 5]), W, np.array([0, 2, 2, 4, 6]))


def test_embedding_bag_per_sample_weights(torch):
    _same(torch, lambda F, i, w, o, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p, max_norm=1.0),
          np.array([2, 2, 3, 7]), W, np.array([0, 2]), RNG.standard_normal(4))


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot(torch, num_classes):
    _same(torch, lambda F, i: F.one_hot(i, num_classes), np.array([[0, 3], [1, 4]]))


def test_one_hot_negative_refused(torch):
    _same(torch, lambda F, i: F.one_hot(i), np.array([0, -1]))


@pytest.mark.parametrize("kernel,dilation", [(2, 1), (4, 1), (2, 2), (3, 3)])
def test_conv_same_padding_even_kernels(torch, kernel, dilation):
    _same(torch, lambda F, x, w, b: F.conv2d(x, w, b, padding="same", dilation=(dilation, 1)),
          RNG.standard_normal((1, 3, 8, 7)), RNG.standard_normal((4, 3, kernel, kernel + 1)), RNG.standard_normal(4))


def test_conv_transpose_groups_dilation_output_padding(torch):
    _same(torch, lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=2, groups=2, dilation=2, output_padding=1),
          RNG.standard_normal((2, 4, 5)), RNG.standard_normal((4, 3, 3)), RNG.standard_normal(6))


def test_max_unpool_with_output_size(torch):
    _same(torch, lambda F, x: F.max_unpool2d(*F.max_pool2d(x, 2, 2, return_indices=True), 2, 2,
                                             output_size=(10, 11)), RNG.standard_normal((2, 3, 9, 10)))


@pytest.mark.parametrize("size", [(3, None), (None, 4)])
def test_adaptive_pools_with_none(torch, size):
    _same(torch, lambda F, x: F.adaptive_max_pool2d(x, size, return_indices=True), RNG.standard_normal((2, 3, 9, 10)))
    _same(torch, lambda F, x: F.adaptive_avg_pool2d(x, size), RNG.standard_normal((2, 3, 9, 10)))


def test_fractional_max_pool_with_random_samples(torch):
    samples = RNG.random((2, 3, 2))
    _same(torch, lambda F, x: F.fractional_max_pool2d(x, (2, 3), (4, 5), return_indices=True,
                                                      _random_samples=x.new_tensor(samples)),
          RNG.standard_normal((2, 3, 9, 10)))


def test_fold_of_unfold_and_shuffles(torch):
    x = RNG.standard_normal((2, 8, 6, 6))
    _same(torch, lambda F, x: F.fold(F.unfold(x, (2, 3), (1, 2), (1, 0), (2, 1)), (6, 6), (2, 3), (1, 2), (1, 0),
                                     (2, 1)), x)
    _same(torch, lambda F, x: F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2) * F.channel_shuffle(x, 4), x)
    _same(torch, lambda F, x: F.pixel_shuffle(x, 3), x)


# --- the fuzzer's core ----------------------------------------------------------------------------------------

@given(dims=st.integers(1, 3), seed=st.integers(0, 2**31), ceil_mode=st.booleans(), mode=st.sampled_from(
    ["sum", "mean", "max"]))
def test_drawn_pools_convs_and_bags_match_pytorch(torch, dims, seed, ceil_mode, mode):
    r = np.random.default_rng(seed)
    size = [int(r.integers(3, 8)) for _ in range(dims)]
    kernel = [int(r.integers(1, 4)) for _ in range(dims)]
    stride = [int(r.integers(1, 3)) for _ in range(dims)]
    padding = [int(r.integers(0, k // 2 + 1)) for k in kernel]
    dilation = [int(r.integers(1, 3)) for _ in range(dims)]
    output_padding = [int(r.integers(0, max(s, d))) for s, d in zip(stride, dilation)]
    groups = int(r.choice([1, 2]))
    x = r.standard_normal((2, 2 * groups, *size))
    _same(torch, lambda F, x: getattr(F, f"avg_pool{dims}d")(x, kernel, stride, padding, ceil_mode), x)
    if not any(p and d > 1 for p, d in zip(padding, dilation)):  # windows of padding alone: a documented refusal
        _same(torch, lambda F, x: getattr(F, f"max_pool{dims}d")(x, kernel, stride, padding, dilation, ceil_mode,
                                                                   True), x)
    w, b = r.standard_normal((2 * groups, 2, *kernel)), r.standard_normal(2 * groups)
    _same(torch, lambda F, x, w, b: getattr(F, f"conv{dims}d")(x, w, b, stride, padding, dilation, groups), x, w, b)
    _same(torch, lambda F, x, w, b: getattr(F, f"conv_transpose{dims}d")(x, w, b, stride, padding, output_padding,
                                                                          groups, dilation), x, w, b)
    indices = r.integers(0, 10, 7)
    offsets = np.sort(r.integers(0, 8, 3))
    offsets[0] = 0
    padding_idx = int(r.integers(-10, 10))
    _same(torch, lambda F, i, w, o: F.embedding_bag(i, w, o, mode=mode, padding_idx=padding_idx), indices, W, offsets)
