"""``gg.special`` (``torch.special``) against PyTorch 2.13: values and gradients, sinc at 0 included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

CALLS = {
    "expit": (lambda s, x: s.expit(x), "any"), "logit": (lambda s, x: s.logit(x), "unit"),
    "logit_eps": (lambda s, x: s.logit(x, eps=0.2), "unit"), "erf": (lambda s, x: s.erf(x), "any"),
    "erfc": (lambda s, x: s.erfc(x), "any"), "exp2": (lambda s, x: s.exp2(x), "any"),
    "sinc": (lambda s, x: s.sinc(x * x.detach().round()), "any"),  # exact zeros where x rounds to 0
    "expm1": (lambda s, x: s.expm1(x), "any"), "log1p": (lambda s, x: s.log1p(x), "unit"),
    "log_softmax": (lambda s, x: s.log_softmax(x, dim=1), "any"), "softmax": (lambda s, x: s.softmax(x, 0), "any"),
    "logsumexp": (lambda s, x: s.logsumexp(x, 1), "any"), "xlogy": (lambda s, x: s.xlogy(x, x * x + 1), "any"),
    "round": (lambda s, x: s.round(x * 3) * x, "any"),
}


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_special_functions_match_pytorch(torch, name, seed):
    call, domain = CALLS[name]
    values = np.random.default_rng(seed).uniform(-2, 2, size=(3, 4))
    if domain == "unit":
        values = (values + 2) / 4 * 0.9 + 0.05
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = call(lib.special, x)
        (out * lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(tuple(out.shape))).sum().backward()
        found.append((out.detach().numpy(), x.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
def test_erfc_and_exp2_keep_their_relative_precision_in_the_tails(torch, seed):
    """Before they became rows, erfc was 1 − erf (erfc(10) came out 0, not 2.1e-45; erfc(4) in float32 was 0, not
    1.5e-8) and exp2 was e^(x·ln 2) (300 ulps off at x = 1000)."""
    rng = np.random.default_rng(seed)
    tails = {"float64": rng.uniform(-6, 26, size=12), "float32": rng.uniform(-4, 9, size=12)}
    for dtype, values in tails.items():
        found = []
        for lib in (gg, torch):
            x = lib.tensor(values.astype(dtype), requires_grad=True)
            out = lib.special.erfc(x)
            out.sum().backward()
            found.append((out.detach().numpy(), x.grad.numpy()))
        (value, slope), (expected_value, expected_slope) = found
        rtol = 1e-13 if dtype == "float64" else 2e-6
        np.testing.assert_allclose(value, expected_value, rtol=rtol, atol=0)
        np.testing.assert_allclose(slope, expected_slope, rtol=max(rtol, 1e-13 * np.abs(values).max() ** 2), atol=0)
    whole = rng.integers(-1000, 1000, size=20).astype(np.float64)
    np.testing.assert_array_equal(gg.exp2(gg.tensor(whole)).numpy(), np.ldexp(1.0, whole.astype(int)))
    powers = rng.uniform(-1000, 1000, size=20)
    np.testing.assert_allclose(gg.exp2(gg.tensor(powers)).numpy(), torch.exp2(torch.tensor(powers)).numpy(),
                               rtol=4e-16, atol=0)
