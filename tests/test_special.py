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
