"""float16 convolutions against PyTorch 2.13's CPU kernels (round 144).

PyTorch's float16 ``conv1d``/``conv2d``/``conv_transpose2d`` work in float32 and round once, the forward (product
plus bias) and each gradient. glassgrad rounded the float16 product, then ``+ b`` again (up to 200 ulps off where
they cancel), added ∂L/∂X of a convolution and the whole transposed convolution up in float16 (300 ulps off).
float16 ``group_norm`` likewise: ``x·α + (β − μ·α)`` in float32, rounded once (glassgrad rounded three times).
"""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_half_precision137 import _overall_ulps

import glassgrad as gg


@st.composite
def _conv_case(draw):
    """A float16 conv1d, conv2d or conv_transpose2d with a bias near minus each channel's mean product (where the
    product and the bias cancel), its keywords and an upstream gradient's seed."""
    name = draw(st.sampled_from(["conv1d", "conv2d", "conv_transpose2d"]))
    dims = 1 if name == "conv1d" else 2
    groups = draw(st.integers(1, 2))
    channels, outs = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    size = tuple(k + draw(st.integers(0, 6)) for k in kernel)
    stride = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 3)), channels, *size)).astype(np.float16)
    shape = (channels, outs // groups) if name == "conv_transpose2d" else (outs, channels // groups)
    weight = (rng.standard_normal(shape + kernel) * draw(st.sampled_from([0.3, 1.0, 8.0]))).astype(np.float16)
    return name, x, weight, {"stride": stride, "groups": groups}, rng


def _run(module, name, arrays, up, keywords, dtype=None):
    """The output and the gradients of input, weight and bias of ``module``'s convolution ``name``."""
    leaves = [module.tensor(a if dtype is None else a.astype(dtype), requires_grad=True) for a in arrays]
    out = getattr(module.nn.functional, name)(*leaves, **keywords)
    out.backward(module.tensor(up if dtype is None else up.astype(dtype)))
    return [out.detach().numpy(), *(leaf.grad.numpy() for leaf in leaves)]


@settings(max_examples=60, deadline=None)
@given(case=_conv_case())
def test_float16_convolution_with_bias_rounds_once_forward_and_back(torch, case):
    """Output and each gradient: PyTorch's within one ulp at the tensor's scale, and each entry the float64 value
    rounded once to float16, but for the float32 sum's error (≤ n·2⁻²⁴·Σ|terms|, n the terms added)."""
    name, x, weight, keywords, rng = case
    exact = getattr(torch.nn.functional, name)(torch.tensor(x).double(), torch.tensor(weight).double(), **keywords)
    bias = (-exact.mean(dim=(0, *range(2, exact.ndim))).numpy() + rng.standard_normal(exact.shape[1]) * 0.05)
    arrays = (x, weight, bias.astype(np.float16))
    up = rng.standard_normal(tuple(exact.shape)).astype(np.float16)
    ours, theirs = _run(gg, name, arrays, up, keywords), _run(torch, name, arrays, up, keywords)
    exact = _run(torch, name, arrays, up, keywords, np.float64)
    terms = _run(torch, name, [np.abs(a) for a in arrays], np.abs(up), keywords, np.float64)
    n = up.size + x.size
    for got, want, value, bound in zip(ours, theirs, exact, terms):
        assert got.dtype == want.dtype == np.float16
        assert _overall_ulps(got, want) <= 1
        spacing = np.spacing(np.maximum(np.abs(value), np.abs(got)).astype(np.float16)).astype(np.float64)
        assert (np.abs(got - value) <= spacing / 2 + n * 2.0**-24 * bound).all()


def test_float16_conv_forward_is_float32_rounded_once_entrywise(torch):
    """Each entry of a float16 conv2d with a bias is the float32 result rounded once (within the float32 sum's last
    bits), where the product and the bias cancel: glassgrad's twice-rounded one was 29 ulps off (base)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float16)
    weight = (rng.standard_normal((4, 3, 3, 3)) * 8).astype(np.float16)
    wide = torch.nn.functional.conv2d(torch.tensor(x).double(), torch.tensor(weight).double(), padding=1).numpy()
    bias = (-wide.mean(axis=(0, 2, 3))).astype(np.float16)
    ours = gg.nn.functional.conv2d(gg.tensor(x), gg.tensor(weight), gg.tensor(bias), padding=1).numpy()
    exact = wide + bias.reshape(-1, 1, 1)
    terms = torch.nn.functional.conv2d(torch.tensor(x).double().abs(), torch.tensor(weight).double().abs(),
                                       padding=1).numpy() + np.abs(bias.astype(np.float64)).reshape(-1, 1, 1)
    spacing = np.spacing(np.maximum(np.abs(exact), np.abs(ours)).astype(np.float16)).astype(np.float64)
    assert (np.abs(ours - exact) <= spacing / 2 + 28 * 2.0**-24 * terms).all()


def test_float32_and_float64_convolutions_are_unchanged(torch):
    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64):
        x, weight = rng.standard_normal((2, 3, 7, 7)).astype(dtype), rng.standard_normal((3, 4, 3, 3)).astype(dtype)
        bias = rng.standard_normal(4).astype(dtype)
        for name, w in (("conv2d", weight.transpose(1, 0, 2, 3).copy()), ("conv_transpose2d", weight)):
            ours = getattr(gg.nn.functional, name)(gg.tensor(x), gg.tensor(w), gg.tensor(bias)).numpy()
            theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(w), torch.tensor(bias)).numpy()
            assert ours.dtype == dtype
            np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_compiled_float16_convolution_step_replays_eager_bit_for_bit():
    rng = np.random.default_rng(5)
    gg.manual_seed(0)
    layers = [gg.nn.Sequential(gg.nn.Conv1d(3, 4, 3), gg.nn.GroupNorm(2, 4),
                               gg.nn.ConvTranspose1d(4, 2, 3, stride=2)).half()]
    layers.append(copy.deepcopy(layers[0]))

    def step(layer, x):
        layer.zero_grad()
        loss = layer(x).square().mean()
        loss.backward()
        return (loss.detach(), *(layer[i].weight.grad.clone() for i in range(3)), layer[0].bias.grad.clone())

    compiled = gg.compile(step)
    for _ in range(3):
        x = gg.tensor(rng.standard_normal((4, 3, 10)).astype(np.float16))
        for a, b in zip(step(layers[0], x), compiled(layers[1], x)):
            assert a.dtype == b.dtype == gg.float16
            assert a.numpy().tobytes() == b.numpy().tobytes()


def _group_case(rng):
    n, groups = int(rng.integers(1, 9)), int(rng.integers(1, 4))
    channels, side = groups * int(rng.integers(1, 4)), int(rng.integers(2, 12))
    x = (rng.standard_normal((n, channels, side, side)) * 3 + 1).astype(np.float16)
    weight, bias = (rng.standard_normal(channels).astype(np.float16) for _ in range(2))
    return x, groups, weight, bias, rng.standard_normal(x.shape).astype(np.float16)


def _group_pair(torch, x, groups, weight, bias, up):
    """glassgrad's and PyTorch's float16 group_norm: the output and the gradients of x, γ and β."""
    results = []
    for module in (gg, torch):
        leaves = [module.tensor(a, requires_grad=True) for a in (x, weight, bias)]
        out = module.nn.functional.group_norm(leaves[0], groups, leaves[1], leaves[2])
        out.backward(module.tensor(up))
        results.append([out.detach().numpy(), *(leaf.grad.numpy() for leaf in leaves)])
    return results


def test_float16_group_norm_computes_in_float32_and_rounds_once(torch):
    """PyTorch's float16 group_norm: ``x·α + (β − μ·α)`` in float32 from float32 μ and σ⁻¹, rounded once, and
    ``∂L/∂β = Σ up`` in float32 rounded once. glassgrad rounded x̂, γ·x̂ and + β to float16 (base: output 2 ulps at
    the tensor's scale and 874 at an entry near 0, ∂L/∂β 57 at an entry, ∂L/∂γ 28 at the tensor's scale). ∂L/∂γ is
    left some ulps off: PyTorch's backward takes μ and σ⁻¹ rounded to float16 (its saved ones), its forward not."""
    rng = np.random.default_rng(8)
    for _ in range(60):
        case = _group_case(rng)
        (out, grad_x, grad_w, grad_b), theirs = _group_pair(torch, *case)
        x, groups, weight, bias, up = (np.asarray(a, np.float64) if isinstance(a, np.ndarray) else a for a in case)
        assert _overall_ulps(out, theirs[0]) <= 1 and _overall_ulps(grad_x, theirs[1]) <= 2
        assert _overall_ulps(grad_w, theirs[2]) <= 16 and _overall_ulps(grad_b, theirs[3]) <= 1
        exact, terms, count = up.sum((0, 2, 3)), np.abs(up).sum((0, 2, 3)), up.size // up.shape[1]
        spacing = np.spacing(np.maximum(np.abs(exact), np.abs(grad_b)).astype(np.float16)).astype(np.float64)
        assert (np.abs(grad_b - exact) <= spacing / 2 + count * 2.0**-24 * terms).all()
        # each output entry within an ulp of PyTorch's where it is not near 0 (≥ 1/64 of the largest)
        big = np.abs(theirs[0]) >= np.abs(theirs[0]).max() / 64
        spacing = np.spacing(np.abs(theirs[0][big])).astype(np.float64)
        assert (np.abs(out[big].astype(np.float64) - theirs[0][big]) <= spacing).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_float16_group_norm_is_pytorchs_within_an_ulp(torch, seed):
    (out, grad_x, _, grad_b), theirs = _group_pair(torch, *_group_case(np.random.default_rng(seed)))
    assert out.dtype == grad_b.dtype == np.float16
    assert _overall_ulps(out, theirs[0]) <= 1 and _overall_ulps(grad_b, theirs[3]) <= 1
    assert _overall_ulps(grad_x, theirs[1]) <= 2
