"""gg.nn.grad (a convolution's gradient with respect to its input or weight, as functions) against PyTorch 2.13's
torch.nn.grad in float64, over hypothesis-drawn 1-, 2- and 3-d shapes, strides, padding, dilation and groups:
the values, and the gradients of a loss on them with respect to the other operand and grad_output (backward)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


@st.composite
def convolutions(draw):
    """Sizes and settings of a convolution whose (dilated) kernel fits the padded input."""
    dims = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    per_dim = st.integers(1, 2)
    kernel = [draw(st.integers(1, 3)) for _ in range(dims)]
    dilation = [draw(per_dim) for _ in range(dims)]
    padding = [draw(st.integers(0, 2)) for _ in range(dims)]
    size_limit = 6 if dims < 3 else 4
    sizes = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(1, d * (k - 1) + 1 - 2 * p) + size_limit))
             for k, d, p in zip(kernel, dilation, padding)]
    return {"dims": dims, "groups": groups, "batch": draw(st.integers(1, 2)),
            "in_channels": groups * draw(st.integers(1, 2)), "out_channels": groups * draw(st.integers(1, 2)),
            "kernel": kernel, "sizes": sizes, "stride": [draw(per_dim) for _ in range(dims)], "padding": padding,
            "dilation": dilation, "seed": draw(st.integers(0, 10_000))}


def _operands(torch, setting):
    """Input, weight and an upstream gradient shaped like the convolution's output, as float64 arrays."""
    rng = np.random.default_rng(setting["seed"])
    dims = setting["dims"]
    x = rng.normal(size=(setting["batch"], setting["in_channels"], *setting["sizes"]))
    w = rng.normal(size=(setting["out_channels"], setting["in_channels"] // setting["groups"], *setting["kernel"]))
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    out = conv(torch.tensor(x), torch.tensor(w), None, setting["stride"], setting["padding"], setting["dilation"],
               setting["groups"])
    return x, w, rng.normal(size=tuple(out.shape)), rng.normal(size=tuple(out.shape))


@pytest.mark.parametrize("operand", ["input", "weight"])
@given(setting=convolutions())
def test_conv_gradients_match_torch_nn_grad(torch, operand, setting):
    x, w, upstream, _ = _operands(torch, setting)
    name = f"conv{setting['dims']}d_{operand}"
    options = (setting["stride"], setting["padding"], setting["dilation"], setting["groups"])
    ours = {"x": gg.tensor(x, requires_grad=True), "w": gg.tensor(w, requires_grad=True),
            "up": gg.tensor(upstream, requires_grad=True)}
    theirs = {"x": torch.tensor(x, requires_grad=True), "w": torch.tensor(w, requires_grad=True),
              "up": torch.tensor(upstream, requires_grad=True)}

    def call(lib, tensors):
        first, second = (x.shape, tensors["w"]) if operand == "input" else (tensors["x"], w.shape)
        return getattr(lib.nn.grad, name)(first, second, tensors["up"], *options)

    result, their_result = call(gg, ours), call(torch, theirs)
    assert result.shape == tuple(their_result.shape) == (x.shape if operand == "input" else w.shape)
    np.testing.assert_allclose(result.detach().numpy(), their_result.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(setting["seed"] + 1).normal(size=result.shape)  # a loss Σ R·result
    (result * gg.tensor(weights)).sum().backward()
    (their_result * torch.tensor(weights)).sum().backward()
    other = "w" if operand == "input" else "x"
    for key in (other, "up"):
        np.testing.assert_allclose(ours[key].grad.numpy(), theirs[key].grad.numpy(), rtol=1e-10, atol=1e-12)


@given(setting=convolutions())
def test_conv_input_gradient_is_what_backward_gives(torch, setting):
    """The oracle of the definition: ∂L/∂X and ∂L/∂W of Σ up·conv(X, W), by the engine's backward."""
    x, w, upstream, _ = _operands(torch, setting)
    dims = setting["dims"]
    options = (setting["stride"], setting["padding"], setting["dilation"], setting["groups"])
    xs, ws = gg.tensor(x, requires_grad=True), gg.tensor(w, requires_grad=True)
    (getattr(gg.nn.functional, f"conv{dims}d")(xs, ws, None, *options) * gg.tensor(upstream)).sum().backward()
    by_input = getattr(gg.nn.grad, f"conv{dims}d_input")(x.shape, gg.tensor(w), gg.tensor(upstream), *options)
    by_weight = getattr(gg.nn.grad, f"conv{dims}d_weight")(gg.tensor(x), w.shape, gg.tensor(upstream), *options)
    np.testing.assert_allclose(by_input.numpy(), xs.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(by_weight.numpy(), ws.grad.numpy(), rtol=1e-12, atol=1e-13)
    assert not by_input.requires_grad and not by_weight.requires_grad  # nothing given required grad


def test_conv_grad_refuses_mismatched_sizes_in_one_line():
    w, up = gg.ones(2, 1, 3), gg.ones(1, 2, 4)
    with pytest.raises(ValueError, match=r"grad_output has shape \(1, 2, 4\) but the convolution .* gives \(1, 2, 5\)"):
        gg.nn.grad.conv1d_input((1, 1, 7), w, up)
    with pytest.raises(ValueError, match="input_size must be 3 positive sizes"):
        gg.nn.grad.conv1d_input((1, 7), w, up)
    with pytest.raises(ValueError, match="weight_size must be 4 positive sizes"):
        gg.nn.grad.conv2d_weight(gg.ones(1, 1, 4, 4), (2, 1, 3), gg.ones(1, 2, 2, 2))
    with pytest.raises(TypeError, match="grad_output must be a gg.Tensor"):
        gg.nn.grad.conv1d_input((1, 1, 6), w, np.ones((1, 2, 4)))
    with pytest.raises(TypeError, match="grad_output has dtype float64 but the weight has float32"):
        gg.nn.grad.conv1d_input((1, 1, 6), w, gg.ones(1, 2, 4, dtype=gg.float64))
