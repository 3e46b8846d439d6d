"""gg.nn.utils.fuse_conv_bn_eval / fuse_linear_bn_eval (and their _weights halves) against PyTorch 2.13 in float64:
the fused weights equal PyTorch's, the fused layer's output equals conv → BatchNorm (eval), and gradients through
the fused layer equal PyTorch's; over hypothesis-drawn 1-d/2-d convolutions, transposed ones, channels, groups
and running statistics. A training-mode module is refused as PyTorch refuses it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _as_ours(theirs, ours):
    """``ours`` holding ``theirs``'s parameters and buffers (float64), both in eval mode."""
    ours.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    return theirs.eval(), ours.eval()


def _batch_norms(torch, dims, features, rng, affine):
    """A PyTorch BatchNorm with drawn running statistics (variance in [0.3, 3]) and glassgrad's copy of it."""
    theirs = getattr(torch.nn, f"BatchNorm{dims}d")(features, eps=rng.choice([1e-5, 1e-3]), affine=affine,
                                                    dtype=torch.float64)
    with torch.no_grad():
        theirs.running_mean.copy_(torch.tensor(rng.normal(size=features)))
        theirs.running_var.copy_(torch.tensor(rng.uniform(0.3, 3.0, features)))
        if affine:
            theirs.weight.copy_(torch.tensor(rng.normal(size=features)))
            theirs.bias.copy_(torch.tensor(rng.normal(size=features)))
    ours = getattr(gg.nn, f"BatchNorm{dims}d")(features, eps=theirs.eps, affine=affine, dtype=gg.float64)
    return _as_ours(theirs, ours)


convolutions = st.fixed_dictionaries({
    "dims": st.sampled_from([1, 2]), "groups": st.integers(1, 3), "in_per_group": st.integers(1, 3),
    "out_per_group": st.integers(1, 3), "kernel": st.integers(1, 3), "stride": st.integers(1, 2),
    "bias": st.booleans(), "affine": st.booleans(), "transpose": st.booleans(), "seed": st.integers(0, 10_000)})


@given(setting=convolutions)
def test_fused_convolution_matches_pytorch_and_conv_then_bn(torch, setting):
    dims, groups, transpose = setting["dims"], setting["groups"], setting["transpose"]
    if transpose:
        groups = 1  # PyTorch's own fusion cannot fold into a grouped transposed weight (see the test below)
    rng = np.random.default_rng(setting["seed"])
    in_channels, out_channels = groups * setting["in_per_group"], groups * setting["out_per_group"]
    kind = f"ConvTranspose{dims}d" if transpose else f"Conv{dims}d"
    arguments = (in_channels, out_channels, setting["kernel"])
    options = {"stride": setting["stride"], "groups": groups, "bias": setting["bias"]}
    their_conv, our_conv = _as_ours(getattr(torch.nn, kind)(*arguments, **options, dtype=torch.float64),
                                    getattr(gg.nn, kind)(*arguments, **options, dtype=gg.float64))
    their_bn, our_bn = _batch_norms(torch, dims, out_channels, rng, setting["affine"])
    theirs = torch.nn.utils.fuse_conv_bn_eval(their_conv, their_bn, transpose=transpose)
    ours = gg.nn.utils.fuse_conv_bn_eval(our_conv, our_bn, transpose=transpose)
    assert type(ours) is type(our_conv) and ours is not our_conv and not ours.training
    assert isinstance(ours.weight, gg.nn.Parameter) and isinstance(ours.bias, gg.nn.Parameter)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.bias.numpy(), theirs.bias.detach().numpy(), rtol=1e-12, atol=1e-14)
    x = rng.normal(size=(2, in_channels, *(5,) * dims))
    out = ours(gg.tensor(x))
    np.testing.assert_allclose(out.numpy(), our_bn(our_conv(gg.tensor(x))).numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.normal(size=out.shape)
    (out * gg.tensor(upstream)).sum().backward()
    (theirs(torch.tensor(x)) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    # PyTorch's fused bias learns only when the layer had one; here it always does. Its gradient: Σ of ∂L/∂Y
    np.testing.assert_allclose(ours.bias.grad.numpy(), upstream.sum(axis=(0, *range(2, upstream.ndim))), rtol=1e-10)
    if theirs.bias.requires_grad:
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert our_conv.weight.grad is None  # the original layer is left as it was


@given(groups=st.integers(2, 3), in_per_group=st.integers(1, 3), out_per_group=st.integers(1, 3),
       dims=st.sampled_from([1, 2]), seed=st.integers(0, 10_000))
def test_fused_grouped_transposed_convolution_equals_conv_then_bn(torch, groups, in_per_group, out_per_group, dims,
                                                                  seed):
    rng = np.random.default_rng(seed)
    conv = getattr(gg.nn, f"ConvTranspose{dims}d")(groups * in_per_group, groups * out_per_group, 3, groups=groups,
                                                     dtype=gg.float64, seed=seed).eval()
    _, bn = _batch_norms(torch, dims, groups * out_per_group, rng, affine=True)
    fused = gg.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=True)
    x = gg.tensor(rng.normal(size=(2, groups * in_per_group, *(4,) * dims)))
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), rtol=1e-10, atol=1e-12)


@given(features=st.integers(1, 4), outputs=st.integers(1, 4), one_feature=st.booleans(), bias=st.booleans(),
       seed=st.integers(0, 10_000))
def test_fused_linear_matches_pytorch_and_linear_then_bn(torch, features, outputs, one_feature, bias, seed):
    rng = np.random.default_rng(seed)
    their_linear, our_linear = _as_ours(torch.nn.Linear(features, outputs, bias=bias, dtype=torch.float64),
                                        gg.nn.Linear(features, outputs, bias=bias, dtype=gg.float64))
    their_bn, our_bn = _batch_norms(torch, 1, 1 if one_feature else outputs, rng, affine=True)
    theirs = torch.nn.utils.fuse_linear_bn_eval(their_linear, their_bn)
    ours = gg.nn.utils.fuse_linear_bn_eval(our_linear, our_bn)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert ours.bias.shape == (outputs,)  # PyTorch's has 1 entry for a 1-feature BatchNorm and no bias: the same map
    np.testing.assert_allclose(ours.bias.numpy(), np.broadcast_to(theirs.bias.detach().numpy(), (outputs,)),
                               rtol=1e-12, atol=1e-14)
    x = rng.normal(size=(3, features))
    out = ours(gg.tensor(x))
    if not one_feature:  # a 1-feature BatchNorm1d would read (3, outputs) as outputs channels; the fold broadcasts
        np.testing.assert_allclose(out.numpy(), our_bn(our_linear(gg.tensor(x))).numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.normal(size=out.shape)
    (out * gg.tensor(upstream)).sum().backward()
    (theirs(torch.tensor(x)) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(outputs=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_fuse_weights_functions_match_pytorch(torch, outputs, seed):
    rng = np.random.default_rng(seed)
    weight, bias = rng.normal(size=(outputs, 2, 3)), rng.normal(size=outputs)
    mean, var = rng.normal(size=outputs), rng.uniform(0.3, 3.0, outputs)
    gamma, beta = rng.normal(size=outputs), rng.normal(size=outputs)
    ours = gg.nn.utils.fuse_conv_bn_weights(*(gg.tensor(a) for a in (weight, bias, mean, var)), 1e-5,
                                            gg.tensor(gamma), gg.tensor(beta))
    theirs = torch.nn.utils.fuse_conv_bn_weights(*(torch.tensor(a) for a in (weight, bias, mean, var)), 1e-5,
                                                 torch.tensor(gamma), torch.tensor(beta))
    for our_value, their_value in zip(ours, theirs):
        assert isinstance(our_value, gg.nn.Parameter)
        np.testing.assert_allclose(our_value.numpy(), their_value.detach().numpy(), rtol=1e-12, atol=1e-14)
    ours = gg.nn.utils.fuse_linear_bn_weights(gg.tensor(weight[:, :, 0]), None, gg.tensor(mean), gg.tensor(var), 1e-5,
                                              gg.tensor(gamma), gg.tensor(beta))
    scale = gamma / np.sqrt(var + 1e-5)  # the hand-derived fold
    np.testing.assert_allclose(ours[0].numpy(), weight[:, :, 0] * scale[:, None], rtol=1e-13)
    np.testing.assert_allclose(ours[1].numpy(), -mean * scale + beta, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("training", ["layer", "bn"])
def test_a_training_module_is_refused_as_pytorch_refuses_it(torch, training):
    conv, bn = gg.nn.Conv2d(2, 3, 3), gg.nn.BatchNorm2d(3)
    (conv if training == "layer" else bn).train()
    (bn if training == "layer" else conv).eval()
    their_conv, their_bn = torch.nn.Conv2d(2, 3, 3).train(training == "layer"), torch.nn.BatchNorm2d(3)
    their_bn.train(training == "bn")
    with pytest.raises(AssertionError):
        torch.nn.utils.fuse_conv_bn_eval(their_conv, their_bn)
    with pytest.raises(AssertionError, match=r"fusion only for eval: call \.eval\(\)"):
        gg.nn.utils.fuse_conv_bn_eval(conv, bn)
    with pytest.raises(AssertionError, match="fusion only for eval"):
        gg.nn.utils.fuse_linear_bn_eval(gg.nn.Linear(2, 3), gg.nn.BatchNorm1d(3).eval())


def test_bad_pairs_are_refused_in_one_line():
    with pytest.raises(AssertionError, match="no running_mean"):
        gg.nn.utils.fuse_conv_bn_eval(gg.nn.Conv2d(2, 3, 3).eval(), gg.nn.BatchNorm2d(3, track_running_stats=False)
                                      .eval())
    with pytest.raises(ValueError, match="the weight has 3 output channels .* the BatchNorm has 4 features"):
        gg.nn.utils.fuse_conv_bn_eval(gg.nn.Conv2d(2, 3, 3).eval(), gg.nn.BatchNorm2d(4).eval())
    with pytest.raises(ValueError, match="does not fit a BatchNorm of 4 features"):
        gg.nn.utils.fuse_conv_bn_eval(gg.nn.ConvTranspose2d(2, 3, 3).eval(), gg.nn.BatchNorm2d(4).eval(),
                                      transpose=True)
