"""ELU and Softplus: PyTorch 2.13 (values and gradients), finite differences, the trace, the kinks.

Kinks: ELU's derivative jumps at 0 from α (left, taken at 0 itself, as PyTorch) to 1 unless α = 1;
Softplus switches to the identity where β·x > threshold (a jump of σ(threshold)·… ≈ 2e-9 at the default).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import glassgrad as gg
import glassgrad.nn.functional as F

CASES = [("elu", {}), ("elu", {"alpha": 0.3}), ("softplus", {}), ("softplus", {"beta": 2.5, "threshold": 4.0}),
         ("softplus", {"beta": -1.5})]
MODULES = {"elu": "ELU", "softplus": "Softplus"}
INPUTS = np.concatenate([np.random.default_rng(0).normal(size=300) * 5, [0.0, -0.0, 1e-9, -1e-9, -50.0, 50.0,
                                                                          1.6, 8.0, 20.0, 20.000001]])


@pytest.mark.torch
@pytest.mark.parametrize("name, settings", CASES)
def test_values_and_gradients_match_pytorch_in_float64(torch, name, settings):
    upstream = np.random.default_rng(1).normal(size=INPUTS.shape)
    ours = gg.tensor(INPUTS, dtype=gg.float64, requires_grad=True)
    out = getattr(F, name)(ours, **settings)
    out.backward(gg.tensor(upstream))
    theirs = torch.tensor(INPUTS, requires_grad=True)
    expected = getattr(torch.nn.functional, name)(theirs, **settings)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("name, settings", CASES)
def test_modules_match_pytorch_in_float32(torch, name, settings):
    x = (np.random.default_rng(2).normal(size=(5, 4)) * 4).astype(np.float32)
    out = getattr(gg.nn, MODULES[name])(**settings)(gg.tensor(x))
    expected = getattr(torch.nn, MODULES[name])(**settings)(torch.tensor(x))
    assert out.dtype == gg.float32
    np.testing.assert_allclose(out.array, expected.numpy(), rtol=1e-6, atol=1e-7)


@given(arrays(np.float64, array_shapes(min_dims=0, max_dims=3, max_side=4),
              elements=st.floats(-6, 6).filter(lambda v: abs(v) > 1e-3)))
@pytest.mark.parametrize("name, settings", CASES)
def test_gradient_matches_finite_differences(name, settings, values):
    x = gg.tensor(values, requires_grad=True)
    assert gg.gradcheck(lambda t: getattr(F, name)(t, **settings), [x]).ok


def test_elu_kink_at_zero_takes_alpha_as_pytorch():
    x = gg.tensor([0.0], dtype=gg.float64, requires_grad=True)
    F.elu(x, alpha=0.3).backward(gg.ones(1, dtype=gg.float64))
    assert x.grad.tolist() == [0.3]


@pytest.mark.parametrize("name, module", [("elu", gg.nn.ELU(0.5)), ("softplus", gg.nn.Softplus(2.0))])
def test_trace_shows_one_activation_step_with_its_local_derivative(name, module):
    model = gg.nn.Sequential(gg.nn.Linear(3, 4), module)
    x = gg.randn(2, 3, seed=0)
    with gg.trace() as tape:
        tape.watch(model)
        model(x).sum().backward()
    document = tape.describe()
    assert document["forward"][1]["formula"] == f"A₁ = {MODULES[name]}(Z₁)"
    step = next(s for s in document["backward"] if s["op"] == name)
    assert step["formula"] == f"∂v₁/∂Z₁ = ∂v₁/∂A₁ ⊙ {MODULES[name]}'(Z₁)"  # v₁ = Σ A₁, what backward starts from
    np.testing.assert_allclose(step["upstream"]["values"] * step["local"]["values"], step["output"]["values"])


def test_saved_architecture_rebuilds_the_settings():
    model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.ELU(0.25), gg.nn.Linear(3, 3), gg.nn.Softplus(3.0, 7.0))
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model), model.state_dict())
    assert (rebuilt[1].alpha, rebuilt[3].beta, rebuilt[3].threshold) == (0.25, 3.0, 7.0)
    x = gg.randn(4, 2, seed=1)
    np.testing.assert_array_equal(rebuilt(x).array, model(x).array)
    assert gg.nn.mlp([2, 3, 1], activation="elu")[1].__class__ is gg.nn.ELU


@pytest.mark.parametrize("call, message", [
    (lambda: F.elu(gg.tensor([1, 2])), "elu: needs a floating tensor"),
    (lambda: F.elu(gg.tensor([1.0]), alpha="big"), "elu: alpha must be a finite number"),
    (lambda: F.softplus(gg.tensor([1.0]), beta=0), "softplus: beta must be nonzero"),
    (lambda: gg.nn.Softplus(threshold=float("nan")), "Softplus: threshold must be a finite number"),
    (lambda: gg.nn.ELU(alpha=None), "ELU: alpha must be a finite number"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises((TypeError, ValueError, NotImplementedError), match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("size", [7, 600, 5000])
def test_sigmoid_far_below_zero_is_pytorchs_in_every_float_dtype(torch, dtype, size):
    """σ of very negative inputs: float16 worked out in float32 (σ(−12) is 6·10⁻⁶, not the 1.6·10⁻⁵ of a capped
    exponent), and 0 past the exponent's range, as PyTorch's, at every size (a large float32 array gave 3·10⁻³⁹)."""
    values = np.linspace(-130.0, 30.0, size)
    results = []
    for library in (gg, torch):
        x = library.tensor(values, dtype=getattr(library, dtype), requires_grad=True)
        out = x.sigmoid()
        out.backward(library.ones_like(out))
        results.append((out.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)))
    eps = float(np.finfo(dtype).eps)
    (values_ours, grads_ours), (values_theirs, grads_theirs) = results
    np.testing.assert_allclose(values_ours, values_theirs, rtol=4 * eps,
                               atol=4 * float(np.finfo(dtype).smallest_subnormal))
    near_one = values_theirs > 0.5  # σ(1 − σ): 1 − σ cancels there, to about eps
    np.testing.assert_allclose(grads_ours[near_one], grads_theirs[near_one], rtol=4 * eps, atol=eps)
    np.testing.assert_allclose(grads_ours[~near_one], grads_theirs[~near_one], rtol=4 * eps,
                               atol=4 * float(np.finfo(dtype).smallest_subnormal))
