"""max_pool2d, avg_pool2d, adaptive_avg_pool2d, BatchNorm2d, Dropout2d: against PyTorch and finite differences.

The kink of max pooling: where a window holds its maximum twice, the gradient goes to the first
of them in row-major order (as PyTorch's CPU kernel), not split; a test pins that down.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F


def _leaf(array):
    return gg.tensor(array, dtype=gg.float64, requires_grad=True)


def _compare(torch, ours, theirs, x, upstream_seed=0):
    gx = _leaf(x)
    tx = torch.tensor(x, requires_grad=True)
    out, expected = ours(gx), theirs(tx)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = np.random.default_rng(upstream_seed).normal(size=expected.shape)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


MAX_CASES = [  # kernel, stride, padding, dilation
    (2, None, 0, 1), (3, 1, 1, 1), ((3, 2), (2, 1), (1, 0), 1), (2, 1, 0, 2), (3, 2, 1, (1, 2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("kernel, stride, padding, dilation", MAX_CASES)
def test_max_pool2d_matches_pytorch(torch, kernel, stride, padding, dilation):
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 8))
    _compare(torch, lambda t: F.max_pool2d(t, kernel, stride, padding, dilation),
             lambda t: torch.nn.functional.max_pool2d(t, kernel, stride, padding, dilation), x)


@pytest.mark.torch
def test_max_pool2d_tie_sends_the_gradient_to_the_first_maximum_like_pytorch(torch):
    x = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 0.0, 0.0], [5.0, 5.0, 1.0, 1.0], [5.0, 5.0, 1.0, 1.0]]]])
    gx = _leaf(x)
    F.max_pool2d(gx, 2).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())
    assert gx.grad.numpy()[0, 0].tolist() == [[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]


@pytest.mark.torch
def test_max_pool2d_overlapping_windows_add_their_gradients(torch):
    x = np.array([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]])
    gx = _leaf(x)
    F.max_pool2d(gx, 2, stride=1).sum().backward()
    assert gx.grad.numpy()[0, 0, 1, 1] == 4  # the centre is the maximum of all four windows


@pytest.mark.torch
@pytest.mark.parametrize("kernel, stride, padding, count_include_pad, divisor", [
    (2, None, 0, True, None), (3, 1, 1, True, None), (3, 1, 1, False, None), ((3, 2), (2, 1), (1, 1), False, None),
    (2, 2, 1, True, 3),
])
def test_avg_pool2d_matches_pytorch(torch, kernel, stride, padding, count_include_pad, divisor):
    x = np.random.default_rng(1).normal(size=(2, 2, 6, 7))
    _compare(torch, lambda t: F.avg_pool2d(t, kernel, stride, padding, count_include_pad=count_include_pad,
                                           divisor_override=divisor),
             lambda t: torch.nn.functional.avg_pool2d(t, kernel, stride, padding, count_include_pad=count_include_pad,
                                                      divisor_override=divisor), x)


@pytest.mark.torch
@pytest.mark.parametrize("size, output", [((6, 6), 1), ((7, 5), (3, 2)), ((5, 9), (5, None)), ((4, 4), 6)])
def test_adaptive_avg_pool2d_matches_pytorch(torch, size, output):
    x = np.random.default_rng(2).normal(size=(2, 3, *size))
    _compare(torch, lambda t: F.adaptive_avg_pool2d(t, output),
             lambda t: torch.nn.functional.adaptive_avg_pool2d(t, output), x)


@given(kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1), dilation=st.integers(1, 2),
       extra=st.integers(0, 3), seed=st.integers(0, 2**16), which=st.sampled_from(["max", "avg", "adaptive"]))
def test_pool_gradients_match_finite_differences(kernel, stride, padding, dilation, extra, seed, which):
    assume(padding <= kernel // 2)
    size = dilation * (kernel - 1) + 1 + extra
    rng = np.random.default_rng(seed)
    x = _leaf(rng.permutation(2 * 2 * size * size).reshape(2, 2, size, size) / 7.0)  # distinct: no ties, no kinks
    if which == "max":
        assert gg.gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation), (x,))
    elif which == "avg":
        assert gg.gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, padding, count_include_pad=bool(seed % 2)),
                            (x,))
    else:
        assert gg.gradcheck(lambda t: F.adaptive_avg_pool2d(t, (kernel, stride)), (x,))


@pytest.mark.torch
def test_max_pool2d_nan_is_the_maximum_like_pytorch(torch):
    x = np.array([[[[1.0, np.nan], [np.nan, 0.0]]]])
    gx = _leaf(x)
    F.max_pool2d(gx, 2).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


@pytest.mark.torch
def test_batchnorm2d_matches_pytorch_in_training_and_eval(torch):
    rng = np.random.default_rng(3)
    ours, theirs = gg.nn.BatchNorm2d(3, dtype=gg.float64), torch.nn.BatchNorm2d(3, dtype=torch.float64)
    for step in range(3):
        x = rng.normal(size=(4, 3, 5, 5)) * (step + 1)
        _compare(torch, ours, theirs, x, upstream_seed=step)
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    _compare(torch, ours, theirs, rng.normal(size=(2, 3, 4, 4)))


def test_batchnorm2d_wants_images():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expected input of shape \(N, 3, H, W\)"):
        gg.nn.BatchNorm2d(3)(gg.zeros(4, 3))


def test_dropout2d_zeroes_whole_channels_and_keeps_the_mean():
    layer = gg.nn.Dropout2d(0.5, seed=0)
    out = layer(gg.ones(200, 4, 3, 3)).numpy()
    per_channel = out.reshape(200, 4, 9)
    assert set(np.unique(per_channel)) == {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # a channel is all kept or all dropped
    assert abs(out.mean() - 1) < 0.1
    assert layer.eval()(gg.ones(1, 2, 2, 2)).numpy().tolist() == np.ones((1, 2, 2, 2)).tolist()


@pytest.mark.filterwarnings("ignore:.*a 3-D input is read as")  # PyTorch's warning too
def test_dropout2d_reads_a_3d_input_as_n_c_l_as_pytorch_does():
    rows = gg.nn.functional.dropout2d(gg.ones(50, 4, 6), 0.5, generator=np.random.default_rng(0)).numpy()
    assert (rows.min(axis=2) == rows.max(axis=2)).all()  # one draw per (sample, channel): a whole row of L
    assert 0 < (rows[:, :, 0] == 0).mean() < 1
    assert (rows[:, :, 0].min(axis=1) != rows[:, :, 0].max(axis=1)).any()  # the channels of a sample differ


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(gg.zeros(1, 1, 4, 4), 2, padding=2), "at most half the kernel size"),
    (lambda: F.max_pool2d(gg.zeros(1, 1, 2, 2), 3), "larger than the padded input"),
    (lambda: F.max_unpool2d(gg.zeros(1, 1, 2, 2), gg.zeros(1, 1, 2, 1, dtype=gg.int64), 2),
     "indices must be integers of the input's shape"),
    (lambda: F.max_unpool2d(gg.zeros(1, 1, 2, 2), gg.full((1, 1, 2, 2), 16, dtype=gg.int64), 2),
     "an index is outside the output plane 4×4"),
    (lambda: F.max_pool2d(gg.zeros(4, 4), 2), r"expected input of shape \(N, C, H, W\)"),
    (lambda: F.avg_pool2d(gg.zeros(1, 1, 4, 4, dtype=gg.int64), 2), "convert it with .float()"),
    (lambda: F.adaptive_avg_pool2d(gg.zeros(1, 1, 4, 4), (1, 2, 3)), "output_size must be an int or a pair"),
    (lambda: gg.nn.MaxPool2d(0), "kernel_size must be an integer ≥ 1"),
    (lambda: F.dropout2d(gg.zeros(4)), "dropout2d: channel dropout draws once per sample and channel"),
])
@pytest.mark.filterwarnings("ignore:.*a 1-D input is deprecated")
def test_bad_arguments_raise_one_line_naming_the_fix(call, message):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=message) as error:
        call()
    assert "\n" not in str(error.value)


def test_pooling_layers_rebuild_from_their_config():
    model = gg.nn.Sequential(gg.nn.MaxPool2d(3, 1, 1), gg.nn.AvgPool2d(2, count_include_pad=False),
                             gg.nn.AdaptiveAvgPool2d((2, 1)))
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model))
    x = gg.randn(1, 2, 8, 8)
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())


@pytest.mark.torch
@given(size=st.tuples(st.integers(3, 8), st.integers(3, 8)), kernel=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 1), dilation=st.integers(1, 2), one_d=st.booleans(), seed=st.integers(0, 2**16))
@example(size=(3, 3), kernel=3, stride=3, padding=0, dilation=2, one_d=False, seed=0)  # the window overhangs
def test_ceil_mode_and_return_indices_of_max_pooling_match_pytorch(torch, size, kernel, stride, padding, dilation,
                                                                  one_d, seed):
    """``ceil_mode=True`` rounds the output size up (the overhang pooled as −∞), and ``return_indices=True`` gives
    each maximum's flat position in its plane: values, indices and the input's gradient equal PyTorch's;
    ``max_unpool`` of them puts the maxima back (and its gradient reads them), as PyTorch's."""
    assume(padding <= kernel // 2)
    shape = (2, 3, size[1]) if one_d else (2, 3, *size)
    x = np.random.default_rng(seed).normal(size=shape)
    name = "1d" if one_d else "2d"
    try:
        their_out, their_indices = getattr(torch.nn.functional, f"max_pool{name}")(
            torch.tensor(x), kernel, stride, padding, dilation, ceil_mode=True, return_indices=True)
    except RuntimeError:  # the kernel reaches past the padded input: glassgrad refuses it too
        with pytest.raises(RuntimeError, match="larger than the padded input"):
            getattr(F, f"max_pool{name}")(gg.tensor(x), kernel, stride, padding, dilation, ceil_mode=True)
        return
    pool = getattr(gg.nn, f"MaxPool{name}")(kernel, stride, padding, dilation, return_indices=True, ceil_mode=True)
    mine_x, their_x = _leaf(x), torch.tensor(x, requires_grad=True)
    mine_out, mine_indices = pool(mine_x)
    their_out, their_indices = getattr(torch.nn, f"MaxPool{name}")(kernel, stride, padding, dilation,
                                                                   return_indices=True, ceil_mode=True)(their_x)
    np.testing.assert_array_equal(mine_out.numpy(), their_out.detach().numpy())
    np.testing.assert_array_equal(mine_indices.numpy(), their_indices.numpy())
    assert mine_indices.dtype == gg.int64
    upstream = np.random.default_rng(seed + 1).normal(size=their_out.shape)
    mine_out.backward(gg.tensor(upstream))
    their_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(mine_x.grad.numpy(), their_x.grad.numpy(), rtol=1e-12, atol=1e-12)
    if dilation == 1:  # unpooling: PyTorch's has no dilation
        values = np.random.default_rng(seed + 2).normal(size=their_out.shape)
        mine_values, their_values = _leaf(values), torch.tensor(values, requires_grad=True)
        unpool = getattr(gg.nn, f"MaxUnpool{name}")(kernel, stride, padding)
        mine_back = unpool(mine_values, mine_indices, output_size=shape)
        their_back = getattr(torch.nn, f"MaxUnpool{name}")(kernel, stride, padding)(their_values, their_indices,
                                                                                  output_size=shape)
        if len(set(their_indices.flatten().tolist())) == their_indices.numel():  # a repeat: either write may win
            np.testing.assert_array_equal(mine_back.numpy(), their_back.detach().numpy())
        weights = np.random.default_rng(seed + 3).normal(size=shape)
        (mine_back * gg.tensor(weights)).sum().backward()
        (their_back * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(mine_values.grad.numpy(), their_values.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
@given(size=st.tuples(st.integers(3, 8), st.integers(3, 8)), kernel=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 1), count_include_pad=st.booleans(), divisor=st.sampled_from([None, 3]),
       one_d=st.booleans(), seed=st.integers(0, 2**16))
def test_ceil_mode_of_average_pooling_divides_as_pytorch(torch, size, kernel, stride, padding, count_include_pad,
                                                         divisor, one_d, seed):
    """A last window that runs past the padded input divides by the entries of the input and its padding
    (``count_include_pad``) or of the input alone, or by ``divisor_override``: values and gradient equal PyTorch's."""
    assume(padding <= kernel // 2)
    x = np.random.default_rng(seed).normal(size=(2, 3, size[1]) if one_d else (2, 3, *size))
    settings = {"ceil_mode": True, "count_include_pad": count_include_pad}
    if not one_d:
        settings["divisor_override"] = divisor
    name = "1d" if one_d else "2d"
    try:
        getattr(torch.nn.functional, f"avg_pool{name}")(torch.tensor(x), kernel, stride, padding, **settings)
    except RuntimeError:
        return
    _compare(torch, lambda t: getattr(gg.nn, f"AvgPool{name}")(kernel, stride, padding, **settings)(t),
             lambda t: getattr(torch.nn, f"AvgPool{name}")(kernel, stride, padding, **settings)(t), x, seed)


def test_return_indices_inside_a_compiled_step_replays_with_eagers_numbers():
    """The positions are one kernel of the step: a replay finds each call's."""
    def train(compiled):
        pool, unpool = gg.nn.MaxPool2d(2, return_indices=True), gg.nn.MaxUnpool2d(2)
        w = gg.tensor(np.linspace(0.5, 1.5, 16).reshape(1, 1, 4, 4), requires_grad=True)

        def step(x):
            w.grad = None
            out, where = pool(x * w)
            loss = unpool(out, where).square().sum()
            loss.backward()
            return loss, where

        run = gg.compile(step) if compiled else step
        results = [run(gg.tensor(np.random.default_rng(k).normal(size=(1, 1, 4, 4)))) for k in range(4)]
        return [(loss.item(), where.numpy()) for loss, where in results], w.grad.numpy()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no refusal
        compiled = train(True)
    eager = train(False)
    assert [loss for loss, _ in compiled[0]] == [loss for loss, _ in eager[0]]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(compiled[0], eager[0]))
    np.testing.assert_array_equal(compiled[1], eager[1])


def _windows_by_hand(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> list:
    """Each window's input indices ``i·s + u·d − p`` (those in the padding too), as PyTorch counts the windows:
    ``⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1``, rounded up with ``ceil_mode`` unless the last would start past the input
    and its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return [[i * stride + u * dilation - padding for u in range(kernel)] for i in range(count)]


@given(size=st.integers(1, 6), kernel=st.integers(1, 4), stride=st.integers(1, 3), dilation=st.integers(1, 3),
       ceil_mode=st.booleans(), data=st.data())
@example(size=1, kernel=2, stride=2, dilation=2, ceil_mode=False, data=None)
def test_a_window_of_padding_alone_is_refused_in_one_line(size, kernel, stride, dilation, ceil_mode, data):
    """A dilated window can step over the whole input (length 1, kernel 2, dilation 2, padding 1 reads −1 and 1):
    its maximum over no entries was −∞ with the index −3, whose gradient went nowhere. Every other window's maximum
    is the largest entry it reads."""
    padding = 1 if data is None else data.draw(st.integers(0, kernel // 2))
    assume(size + 2 * padding >= dilation * (kernel - 1) + 1)
    values = np.random.default_rng(size * 31 + kernel).normal(size=size)
    windows = _windows_by_hand(size, kernel, stride, padding, dilation, ceil_mode)
    inside = [[index for index in window if 0 <= index < size] for window in windows]

    def call():
        return F.max_pool1d(gg.tensor(values[None]), kernel, stride, padding, dilation, ceil_mode)

    if all(inside):
        np.testing.assert_array_equal(call().numpy()[0], [values[window].max() for window in inside])
    else:
        with pytest.raises(RuntimeError, match="reads only padding, so it has no maximum") as error:
            call()
        assert "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("size, kernel, stride, padding, dilation, ceil_mode", [
    ((1, 3), (2, 3), 2, (1, 0), (2, 1), False), ((3, 1), 2, 3, 1, (1, 2), True), ((1, 2), 2, (2, 3), 1, 2, True)])
def test_where_pytorch_pools_padding_alone_to_minus_infinity_glassgrad_refuses(torch, size, kernel, stride, padding,
                                                                               dilation, ceil_mode):
    theirs = torch.nn.functional.max_pool2d(torch.ones(1, 1, *size), kernel, stride, padding, dilation, ceil_mode)
    assert torch.isneginf(theirs).any()  # (its backward would write outside the input: not run here)
    with pytest.raises(RuntimeError, match="reads only padding"):
        F.max_pool2d(gg.ones(1, 1, *size), kernel, stride, padding, dilation, ceil_mode)


INTEGER_TYPES = ("uint8", "int8", "int16", "int32", "int64")


@given(dtype=st.sampled_from(INTEGER_TYPES), dims=st.sampled_from([2, 3]), kernel=st.integers(1, 3),
       stride=st.integers(1, 2), ceil_mode=st.booleans(), seed=st.integers(0, 2**16), data=st.data())
def test_integer_max_pooling_picks_what_the_float_pooling_of_the_same_numbers_picks(dtype, dims, kernel, stride,
                                                                                    ceil_mode, seed, data):
    """Integers (a mask, a label image) pool in their own dtype, as in PyTorch (it refused them: 'needs a floating
    tensor'); the padding is the dtype's minimum, never picked, even where the window holds only that minimum."""
    padding = data.draw(st.integers(0, kernel // 2))
    size = (3,) * dims
    info = np.iinfo(dtype)
    choices = np.array([info.min, max(info.min, -5), 0, 1, min(info.max, 100)], dtype=dtype)  # exact as floats
    values = np.random.default_rng(seed).choice(choices, size=(2, 2) + size)
    pool = F.max_pool2d if dims == 2 else F.max_pool3d
    out, where = pool(gg.tensor(values), kernel, stride, padding, 1, ceil_mode, True)
    expected, expected_where = pool(gg.tensor(values.astype(np.float64)), kernel, stride, padding, 1, ceil_mode, True)
    assert out.dtype == getattr(gg, dtype)
    np.testing.assert_array_equal(out.numpy(), expected.numpy().astype(dtype))
    np.testing.assert_array_equal(where.numpy(), expected_where.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("dtype", INTEGER_TYPES)
def test_integer_max_pooling_matches_pytorch(torch, dtype):
    values = np.array([[[[0, 0, 3], [0, 0, 0], [1, 0, 0]]]]).astype(dtype) + np.iinfo(dtype).min * (dtype != "uint8")
    found = []
    for lib in (gg, torch):
        out, where = lib.nn.functional.max_pool2d(lib.tensor(values), 2, 1, 1, return_indices=True)
        found.append((str(out.dtype).removeprefix("torch."), out.numpy(), where.numpy()))
    assert found[0][0] == found[1][0]
    for mine, theirs in zip(found[0][1:], found[1][1:]):
        np.testing.assert_array_equal(mine, theirs)


@given(dims=st.integers(1, 3), batched=st.booleans(), length=st.integers(0, 6))
def test_max_unpool_takes_the_spatial_sizes_or_the_whole_shape_as_output_size(dims, batched, length):
    """Any length of output_size was read from its end ((1, 4, 4) for a 2-d unpool, even (9, 1, 1, 4, 4)); PyTorch
    takes the dims spatial sizes or the dims + 2 numbers of the output's shape, and refuses the rest."""
    shape = ((1,) if batched else ()) + (1,) + (4,) * dims
    unpool = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[dims - 1]
    pooled, where = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[dims - 1](gg.ones(*shape), 2, return_indices=True)
    output_size = [1] * (length - dims) + [4] * min(length, dims)
    if length in (dims, dims + 2):
        assert unpool(pooled, where, 2, output_size=output_size).shape == shape
    else:
        with pytest.raises(ValueError, match=f"must hold the {dims} spatial size") as error:
            unpool(pooled, where, 2, output_size=output_size)
        assert "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("output_size", [4, [1, 4, 4], [9, 1, 1, 4, 4], [4]])
def test_max_unpool_refuses_an_output_size_as_pytorch_refuses_it(torch, output_size):
    from one_line_errors import assert_raises_as_pytorch

    def unpool(lib):
        pooled, where = lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), 2, return_indices=True)
        return lib.nn.functional.max_unpool2d(pooled, where, 2, output_size=output_size)

    assert_raises_as_pytorch(unpool, torch)
