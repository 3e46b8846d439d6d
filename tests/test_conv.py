"""conv1d / conv2d: values and gradients against PyTorch and finite differences, layers, bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.nn.conv import resolve_padding


def _leaf(array, dtype=gg.float64):
    return gg.tensor(array, dtype=dtype, requires_grad=True)


def _torch_conv(torch, dims, x, w, b, **settings):
    conv = torch.nn.functional.conv1d if dims == 1 else torch.nn.functional.conv2d
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    out = conv(tx, tw, tb, **settings)
    return out, (tx, tw, tb)


CASES = [  # dims, batch, in channels, out channels, size, kernel, stride, padding, dilation, groups
    (2, 2, 3, 4, (7, 6), (3, 3), 1, 0, 1, 1),
    (2, 2, 3, 4, (7, 6), (3, 2), (2, 1), 1, 1, 1),
    (2, 1, 4, 6, (8, 9), (3, 3), 1, (2, 1), 2, 2),
    (2, 3, 4, 4, (5, 5), (2, 2), 2, 0, 1, 4),
    (2, 2, 2, 3, (6, 7), (4, 3), 1, "same", (1, 2), 1),
    (2, 2, 2, 3, (6, 5), (3, 3), 2, "valid", 1, 1),
    (1, 2, 3, 4, (11,), (3,), 2, 1, 2, 1),
    (1, 2, 4, 2, (9,), (4,), 1, "same", 1, 2),
]


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv_values_and_gradients_match_pytorch_float64(torch, case, with_bias):
    dims, n, cin, cout, size, kernel, stride, padding, dilation, groups = case
    rng = np.random.default_rng(sum(map(hash, map(str, case))) % 2**32)
    x = rng.normal(size=(n, cin, *size))
    w = rng.normal(size=(cout, cin // groups, *kernel))
    b = rng.normal(size=cout) if with_bias else None
    settings = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected, (tx, tw, tb) = _torch_conv(torch, dims, x, w, b, **settings)
    gx, gw = _leaf(x), _leaf(w)
    gb = None if b is None else _leaf(b)
    conv = F.conv1d if dims == 1 else F.conv2d
    out = conv(gx, gw, gb, **settings)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = rng.normal(size=expected.shape)
    expected.backward(torch.tensor(upstream))
    out.backward(gg.tensor(upstream))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    if b is not None:
        np.testing.assert_allclose(gb.grad.numpy(), tb.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_conv2d_float32_stays_float32_and_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 10, 10)).astype(np.float32)
    w = rng.normal(size=(8, 3, 3, 3)).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)
    out = F.conv2d(gg.tensor(x), gg.tensor(w), gg.tensor(b), padding=1)
    assert out.dtype == gg.float32
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.torch
def test_unbatched_input_like_pytorch(torch):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 5, 5)), rng.normal(size=(3, 2, 2, 2))
    out = F.conv2d(gg.tensor(x), gg.tensor(w))
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w)).numpy(),
                               rtol=1e-12)
    assert out.shape == (3, 4, 4)


@given(
    dims=st.sampled_from([1, 2]), n=st.integers(1, 2), groups=st.integers(1, 2),
    per_group_in=st.integers(1, 2), per_group_out=st.integers(1, 2),
    kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 2),
    extra=st.integers(0, 3), with_bias=st.booleans(), seed=st.integers(0, 2**16),
)
def test_conv_gradients_match_finite_differences(dims, n, groups, per_group_in, per_group_out, kernel, stride,
                                                  padding, dilation, extra, with_bias, seed):
    rng = np.random.default_rng(seed)
    size = max(dilation * (kernel - 1) + 1 - 2 * padding, 1) + extra
    x = _leaf(rng.normal(size=(n, groups * per_group_in) + (size,) * dims))
    w = _leaf(rng.normal(size=(groups * per_group_out, per_group_in) + (kernel,) * dims))
    b = _leaf(rng.normal(size=groups * per_group_out)) if with_bias else None
    conv = F.conv1d if dims == 1 else F.conv2d

    def f(*tensors):
        return conv(*tensors, stride=stride, padding=padding, dilation=dilation, groups=groups)

    assert gg.gradcheck(f, (x, w) + ((b,) if b is not None else ()))


@given(size=st.integers(1, 12), kernel=st.integers(1, 5), stride=st.integers(1, 3), padding=st.integers(0, 3),
       dilation=st.integers(1, 3))
def test_output_size_follows_the_formula(size, kernel, stride, padding, dilation):
    reach = dilation * (kernel - 1) + 1
    if reach > size + 2 * padding:
        with pytest.raises(RuntimeError, match="larger than the padded input"):
            F.conv1d(gg.zeros(1, 1, size), gg.zeros(1, 1, kernel), stride=stride, padding=padding, dilation=dilation)
        return
    out = F.conv1d(gg.zeros(1, 1, size), gg.zeros(1, 1, kernel), stride=stride, padding=padding, dilation=dilation)
    assert out.shape[-1] == (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@given(kernel=st.integers(1, 6), dilation=st.integers(1, 3), size=st.integers(6, 10))
def test_same_padding_keeps_the_size_and_puts_the_odd_zero_after(kernel, dilation, size):
    ((before, after),) = resolve_padding("same", (kernel,), (1,), (dilation,), "conv1d")
    assert before + after == dilation * (kernel - 1) and after - before in (0, 1)
    out = F.conv1d(gg.zeros(1, 1, size), gg.zeros(2, 1, kernel), padding="same", dilation=dilation)
    assert out.shape == (1, 2, size)


@pytest.mark.torch
def test_conv2d_layer_init_matches_pytorchs_bounds_and_config_rebuilds(torch):
    layer = gg.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, seed=0)
    fan_in = 2 * 3 * 2
    assert layer.weight.shape == (6, 2, 3, 2) and layer.bias.shape == (6,)
    assert np.abs(layer.weight.numpy()).max() <= 1 / math.sqrt(fan_in)
    assert np.abs(layer.bias.numpy()).max() <= 1 / math.sqrt(fan_in)
    reference = torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)
    assert tuple(reference.weight.shape) == layer.weight.shape
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(gg.nn.Sequential(layer)),
                                      gg.nn.Sequential(layer).state_dict())
    x = gg.randn(1, 4, 6, 6)
    np.testing.assert_array_equal(rebuilt(x).numpy(), layer(x).numpy())


@pytest.mark.torch
def test_conv1d_layer_with_the_same_weights_gives_pytorchs_output(torch):
    layer = gg.nn.Conv1d(3, 5, 3, padding="same", bias=False, seed=1)
    assert layer.bias is None
    reference = torch.nn.Conv1d(3, 5, 3, padding="same", bias=False)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weight.numpy()))
    x = np.random.default_rng(2).normal(size=(2, 3, 7)).astype(np.float32)
    np.testing.assert_allclose(layer(gg.tensor(x)).numpy(), reference(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(gg.zeros(1, 3, 5, 5), gg.zeros(4, 2, 3, 3)), "input has 3 channels"),
    (lambda: F.conv2d(gg.zeros(1, 1, 2, 2), gg.zeros(4, 1, 3, 3)), "larger than the padded input"),
    (lambda: F.conv2d(gg.zeros(1, 4, 5, 5), gg.zeros(3, 2, 3, 3), groups=2), "groups=2 must divide"),
    (lambda: F.conv2d(gg.zeros(5, 5), gg.zeros(1, 1, 3, 3)), r"expected input of shape \(N, C, H, W\)"),
    (lambda: F.conv2d(gg.zeros(1, 1, 5, 5), gg.zeros(1, 1, 3, 3), stride=0), "stride must be an integer ≥ 1"),
    (lambda: F.conv2d(gg.zeros(1, 1, 5, 5), gg.zeros(1, 1, 3, 3), padding=-1), "padding must be an integer ≥ 0"),
    (lambda: F.conv2d(gg.zeros(1, 1, 5, 5), gg.zeros(1, 1, 3, 3), stride=2, padding="same"), "strided"),
    (lambda: F.conv2d(gg.zeros(1, 1, 5, 5), gg.zeros(1, 1, 3, 3), padding="full"), "'same', 'valid'"),
    (lambda: F.conv2d(gg.zeros(1, 1, 5, 5), gg.zeros(1, 1, 3, 3), gg.zeros(2)), "bias must have shape"),
    (lambda: F.conv2d(gg.zeros(1, 1, 5, 5, dtype=gg.float64), gg.zeros(1, 1, 3, 3)), "convert the input"),
    (lambda: gg.nn.Conv2d(3, 4, 3, groups=2), "groups=2 must divide"),
    (lambda: gg.nn.Conv2d(3, 4, 0), "kernel_size must be an integer ≥ 1"),
    (lambda: gg.nn.Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode must be one of 'zeros', 'reflect'"),
    (lambda: gg.nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), r"padding_mode must be one of 'zeros', got"),
    (lambda: gg.nn.Conv2d(3, 4, 3)(gg.zeros(1, 2, 6, 6)), "fix the layer's in_channels"),
])
def test_bad_arguments_raise_one_line_naming_the_fix(call, message):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=message) as error:
        call()
    assert "\n" not in str(error.value)


@pytest.mark.torch
@given(mode=st.sampled_from(["reflect", "replicate", "circular"]), dims=st.sampled_from([1, 2]),
       kernel=st.integers(1, 4), dilation=st.integers(1, 2), stride=st.integers(1, 2),
       padding=st.one_of(st.integers(0, 2), st.just("same")), seed=st.integers(0, 2**16))
def test_padding_modes_pad_the_input_first_as_pytorch(torch, mode, dims, kernel, dilation, stride, padding, seed):
    """``Conv1d``/``Conv2d(padding_mode=…)``: the input padded by ``F.pad`` in that mode, then convolved with no
    padding: values and the gradients of input, weight and bias equal PyTorch's."""
    if padding == "same" and stride != 1:
        stride = 1  # PyTorch refuses 'same' for strided convolutions, as glassgrad does
    layer = {1: "Conv1d", 2: "Conv2d"}[dims]
    theirs = getattr(torch.nn, layer)(2, 3, kernel, stride=stride, padding=padding, dilation=dilation,
                                      padding_mode=mode, dtype=torch.float64)
    mine = getattr(gg.nn, layer)(2, 3, kernel, stride=stride, padding=padding, dilation=dilation, padding_mode=mode,
                                 dtype=gg.float64)
    mine.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    x = np.random.default_rng(seed).normal(size=(2, 2) + (7,) * dims)
    mine_x, their_x = _leaf(x), torch.tensor(x, requires_grad=True)
    mine_out, their_out = mine(mine_x), theirs(their_x)
    np.testing.assert_allclose(mine_out.numpy(), their_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = np.random.default_rng(seed + 1).normal(size=their_out.shape)
    (mine_out * gg.tensor(weights)).sum().backward()
    (their_out * torch.tensor(weights)).sum().backward()
    for mine_grad, their_grad in [(mine_x.grad, their_x.grad), (mine.weight.grad, theirs.weight.grad),
                                  (mine.bias.grad, theirs.bias.grad)]:
        np.testing.assert_allclose(mine_grad.numpy(), their_grad.numpy(), rtol=1e-10, atol=1e-12)
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(gg.nn.Sequential(mine)), gg.nn.Sequential(mine).state_dict())
    assert rebuilt[0].padding_mode == mode


def test_a_digits_sized_batch_trains_a_step():
    model = gg.nn.Sequential(gg.nn.Conv2d(1, 8, 3, padding=1, seed=0), gg.nn.ReLU(), gg.nn.MaxPool2d(2),
                             gg.nn.Flatten(), gg.nn.Linear(8 * 4 * 4, 10, seed=1))
    x = gg.tensor(np.random.default_rng(0).random((32, 1, 8, 8)).astype(np.float32))
    y = gg.tensor(np.arange(32) % 10)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.torch
def test_changing_the_input_in_place_before_backward_is_refused_as_in_pytorch(torch):
    out = F.conv2d(x := gg.randn(1, 1, 4, 4), gg.randn(2, 1, 3, 3, requires_grad=True))
    x.add_(1)  # the weight's gradient reads the input
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    theirs_x = torch.randn(1, 1, 4, 4)
    theirs = torch.nn.functional.conv2d(theirs_x, torch.randn(2, 1, 3, 3, requires_grad=True))
    theirs_x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        theirs.sum().backward()


@pytest.mark.torch
@pytest.mark.parametrize("shape, output_size", [((2, 4, 5, 5), [3, 11, 11]), ((4, 5, 5), [2, 3, 11, 11]),
                                                ((2, 4, 5, 5), [1, 2, 3, 11, 11])])
def test_conv_transpose_output_size_of_the_wrong_length_is_refused_as_pytorch_refuses_it(torch, shape, output_size):
    """A 3-entry output_size for a 4-d input was read from its end; PyTorch wants the spatial sizes or the shape."""
    from one_line_errors import assert_raises_as_pytorch

    error = assert_raises_as_pytorch(
        lambda lib: lib.nn.ConvTranspose2d(4, 3, 3, stride=2)(lib.ones(*shape), output_size=output_size), torch)
    assert "output_size must have 2 or" in str(error)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("empty_dim", [0, 1, 2])
def test_a_weight_with_a_dim_of_size_0_is_refused_in_one_line(dims, transposed, empty_dim):
    """A kernel of size 0 gave an output one larger than the input (``⌊(H − d·(k − 1) − 1)/s⌋ + 1`` at k = 0), all
    zeros; no output channel raised NumPy's reshape error. Every window needs a weight entry."""
    shape = [2, 2, *(2,) * dims]
    shape[empty_dim] = 0
    x = gg.zeros(1, 2, *(4,) * dims)
    call = ((F.conv1d, F.conv2d, F.conv3d), (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d))[transposed]
    with pytest.raises(RuntimeError, match="has a dim of size 0") as error:
        call[dims - 1](x[:, :0] if empty_dim == (0 if transposed else 1) else x, gg.zeros(*shape))  # in_channels 0
    assert "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("call, weight_shape", [
    ("conv2d", (0, 2, 3, 3)), ("conv2d", (2, 2, 0, 3)), ("conv2d", (2, 2, 3, 0)),  # (2, 0, 3, 3): PyTorch gives
    ("conv_transpose2d", (0, 2, 3, 3)), ("conv_transpose2d", (2, 0, 3, 3)),      # (N, 0, H′, W′), not its 2 channels
    ("conv_transpose2d", (2, 2, 0, 3)),
])
def test_a_weight_with_a_dim_of_size_0_is_refused_as_pytorch_refuses_it(torch, call, weight_shape):
    from one_line_errors import assert_raises_as_pytorch

    channels = weight_shape[1 if call == "conv2d" else 0]
    assert_raises_as_pytorch(lambda lib: getattr(lib.nn.functional, call)(lib.zeros(1, channels, 5, 5),
                                                                          lib.zeros(*weight_shape)), torch)
