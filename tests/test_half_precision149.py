"""float16 ``instance_norm`` with running statistics (``use_input_stats=False``) against PyTorch 2.13's CPU kernel
(round 149).

PyTorch's instance norm is a batch norm of (1, N·C, …) with γ and β repeated N times: in float16 each instance's
γ and β gradients are rounded to float16, then summed over N. glassgrad's eval branch summed them over the batch in
one float32 sum (∂L/∂β 26 ulps, ∂L/∂γ 2 ulps off at the tensor's scale); its training branch already did as PyTorch.
"""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_half_precision137 import _norm_case, _norm_pair, _overall_ulps

import glassgrad as gg


@st.composite
def _instance_case(draw):
    """float16 (N, C, L…) with 1 to 3 spatial dims, γ and β (each maybe missing), running statistics, upstream."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(draw(st.integers(1, 3))))
    n, c = draw(st.integers(1, 9)), draw(st.integers(1, 5))
    scale = draw(st.sampled_from([0.5, 3.0, 20.0]))
    x = (rng.standard_normal((n, c, *spatial)) * scale + 1).astype(np.float16)
    w, b = (rng.standard_normal(c).astype(np.float16) if draw(st.booleans()) else None for _ in range(2))
    mean = (rng.standard_normal(c) * scale * 0.3).astype(np.float16)
    var = (rng.uniform(0.5, 2, c) * scale * scale).astype(np.float16)
    return x, w, b, mean, var, rng.standard_normal(x.shape).astype(np.float16)


def _eval_run(module, x, w, b, mean, var, up, dtype=None):
    """Output and the gradients of x, γ, β (None where absent) of ``instance_norm`` with running statistics."""
    cast = (lambda a: a) if dtype is None else (lambda a: a.astype(dtype))
    leaves = [None if a is None else module.tensor(cast(a), requires_grad=True) for a in (x, w, b)]
    out = module.nn.functional.instance_norm(leaves[0], module.tensor(cast(mean)), module.tensor(cast(var)),
                                             leaves[1], leaves[2], use_input_stats=False)
    out.backward(module.tensor(cast(up)))
    return [out.detach().numpy()] + [None if t is None else t.grad.numpy() for t in leaves]


@settings(max_examples=80, deadline=None)
@given(case=_instance_case())
def test_float16_eval_instance_norm_weight_and_bias_gradients_are_pytorchs(torch, case):
    """γ's and β's gradients bit for bit (each instance's rounded to float16, then summed over N), the output and
    ∂L/∂X within an ulp at the tensor's scale."""
    ours, theirs = _eval_run(gg, *case), _eval_run(torch, *case)
    for got, want in zip(ours[2:], theirs[2:]):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == np.float16 and got.tobytes() == want.tobytes(), _overall_ulps(got, want)
    assert ours[0].dtype == ours[1].dtype == np.float16
    assert _overall_ulps(ours[0], theirs[0]) <= 1
    assert _overall_ulps(ours[1], theirs[1]) <= 1


def test_float16_eval_instance_norm_seeded_cases(torch):
    """Round 137's 60 seeded cases (base: ∂L/∂β 26 ulps, ∂L/∂γ 2 ulps off at the tensor's scale)."""
    rng = np.random.default_rng(6)
    for _ in range(60):
        ours, theirs = _norm_pair(torch, "instance_norm", *_norm_case(rng), False)
        assert ours[2].tobytes() == theirs[2].tobytes() and ours[3].tobytes() == theirs[3].tobytes()
        assert _overall_ulps(ours[0], theirs[0]) <= 1 and _overall_ulps(ours[1], theirs[1]) <= 1


@settings(max_examples=30, deadline=None)
@given(case=_instance_case(), dtype=st.sampled_from([np.float32, np.float64]))
def test_float32_and_float64_eval_instance_norm_unchanged(torch, case, dtype):
    """float32 and float64 still go through batch_norm; against PyTorch within their own rounding."""
    ours, theirs = _eval_run(gg, *case, dtype=dtype), _eval_run(torch, *case, dtype=dtype)
    tolerance = 1e-9 if dtype == np.float64 else 1e-4
    for got, want in zip(ours, theirs):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * max(1.0, np.abs(want).max()))


def test_float16_eval_instance_norm_keeps_its_refusals():
    x = gg.zeros(2, 3, 4, dtype=gg.float16)
    running = gg.zeros(3, dtype=gg.float16), gg.ones(3, dtype=gg.float16)
    try:
        gg.nn.functional.instance_norm(x, *running, use_input_stats=False, eps=-1.0)
    except ValueError as error:
        assert "eps must be non-negative" in str(error)
    else:
        raise AssertionError("negative eps taken")
    try:
        gg.nn.functional.instance_norm(x, running[0], None, use_input_stats=False)
    except RuntimeError as error:
        assert "running_mean and running_var to be defined" in str(error)
    else:
        raise AssertionError("missing running_var taken")


def test_compiled_float16_eval_instance_norm_step_replays_eager_bit_for_bit():
    """Running statistics read at each replay: they change between calls (another module trains them)."""
    rng = np.random.default_rng(149)
    gg.manual_seed(0)
    layers = [gg.nn.Sequential(gg.nn.Conv1d(3, 4, 3), gg.nn.InstanceNorm1d(4, affine=True,
                                                                          track_running_stats=True)).half()]
    layers.append(copy.deepcopy(layers[0]))

    def step(layer, x):  # the loss and every parameter's gradient (the norm's γ and β among them)
        layer.zero_grad()
        (loss := layer(x).square().mean()).backward()
        return (loss.detach(), *(parameter.grad.clone() for parameter in layer.parameters()))

    compiled = gg.compile(step)
    for layer in layers:
        layer.eval()
    for call in range(4):
        mean, var = rng.standard_normal(4).astype(np.float16), rng.uniform(0.5, 2, 4).astype(np.float16)
        for layer in layers:  # new running statistics before each call
            layer[1].running_mean.copy_(gg.tensor(mean))
            layer[1].running_var.copy_(gg.tensor(var))
        x = gg.tensor((rng.standard_normal((5, 3, 9)) * 2).astype(np.float16))
        for a, b in zip(step(layers[0], x), compiled(layers[1], x)):
            assert a.dtype == b.dtype == gg.float16
            assert a.numpy().tobytes() == b.numpy().tobytes(), call
