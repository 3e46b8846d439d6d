"""GELU (exact and tanh form) and SiLU: the worked example of docs/adding-an-op.md.

Oracles: PyTorch 2.13 (values and gradients to 1e-12 in float64), finite differences
(gradcheck), and the trace's own local derivative × upstream against the engine's gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import glassgrad as gg
import glassgrad.nn.functional as F

ACTIVATIONS = [
    ("gelu", {"approximate": "none"}), ("gelu", {"approximate": "tanh"}), ("silu", {}),
]
finite = st.floats(-8, 8, allow_nan=False, width=64)


@pytest.mark.torch
@pytest.mark.parametrize("name, settings", ACTIVATIONS)
def test_values_and_gradients_match_pytorch_in_float64(torch, name, settings):
    x = np.concatenate([np.random.default_rng(0).normal(size=500) * 4, [0.0, -0.0, 1e-8, -30.0, 30.0]])
    upstream = np.random.default_rng(1).normal(size=x.shape)
    ours = gg.tensor(x, dtype=gg.float64, requires_grad=True)
    out = getattr(F, name)(ours, **settings)
    out.backward(gg.tensor(upstream))
    theirs = torch.tensor(x, requires_grad=True)
    expected = getattr(torch.nn.functional, name)(theirs, **settings)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name, settings", ACTIVATIONS)
def test_modules_match_pytorch_in_float32(torch, name, settings):
    x = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    module = {"gelu": gg.nn.GELU, "silu": gg.nn.SiLU}[name](**settings)
    theirs = {"gelu": torch.nn.GELU, "silu": torch.nn.SiLU}[name](**settings)(torch.tensor(x))
    out = module(gg.tensor(x))
    assert out.dtype == gg.float32
    np.testing.assert_allclose(out.array, theirs.numpy(), rtol=1e-6, atol=1e-7)


@given(arrays(np.float64, st.integers(1, 6), elements=finite))
@pytest.mark.parametrize("name, settings", ACTIVATIONS)
def test_gradient_matches_finite_differences(name, settings, values):
    x = gg.tensor(values, requires_grad=True)
    assert gg.gradcheck(lambda t: getattr(F, name)(t, **settings), [x]).ok


@pytest.mark.parametrize("name, settings", ACTIVATIONS)
def test_trace_shows_the_local_derivative_the_engine_used(name, settings):
    model = gg.nn.Sequential(gg.nn.Linear(3, 4), {"gelu": gg.nn.GELU, "silu": gg.nn.SiLU}[name](**settings))
    x = gg.randn(2, 3, seed=0)
    with gg.trace(model) as tape:
        (model(x) * gg.tensor([1.0, -2.0, 0.5, 3.0])).sum().backward()
    step = next(s for s in tape.describe()["backward"] if s["kind"] == "activation")
    symbol = {"gelu": "GELU", "silu": "SiLU"}[name]
    assert step["op"] == name and step["formula"] == f"∂v₂/∂Z₁ = ∂v₂/∂A₁ ⊙ {symbol}'(Z₁)"
    np.testing.assert_allclose(step["upstream"]["values"] * step["local"]["values"], step["output"]["values"],
                               rtol=1e-6)
    forward = next(s for s in tape.describe()["forward"] if s["kind"] == "activation")
    assert forward["formula"] == f"A₁ = {symbol}(Z₁)" and forward.get("settings", {}) == settings


def test_bad_arguments_fail_with_one_clear_line():
    with pytest.raises(RuntimeError, match="approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(gg.ones(2), approximate="erf")
    with pytest.raises(RuntimeError, match="approximate must be"):
        gg.nn.GELU("fast")
    with pytest.raises(NotImplementedError, match="silu: needs a floating tensor, got int64"):
        F.silu(gg.tensor([1, 2]))


def test_models_with_the_new_layers_round_trip_through_an_architecture():
    model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.GELU("tanh"), gg.nn.Linear(3, 1), gg.nn.SiLU())
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model))
    rebuilt.load_state_dict(model.state_dict())
    x = gg.randn(4, 2, seed=1)
    assert rebuilt[1].approximate == "tanh"
    np.testing.assert_array_equal(rebuilt(x).array, model(x).array)
