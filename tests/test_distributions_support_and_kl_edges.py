"""Distributions at the edge of their support, against PyTorch 2.13: ``cdf`` refuses a value outside the support
when validating (it gave a "probability" below 0 or above 1: Exponential(1).cdf(−1) = −1.718, or NaN), and the
KL divergence between Bernoullis is +∞ where q cannot draw an outcome p can (probs 0 or 1; it came out finite)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

OUTSIDE = [("Exponential", (1.0,), -1.0), ("HalfNormal", (1.0,), -1.0), ("HalfCauchy", (1.0,), -1.0),
           ("Pareto", (1.0, 2.0), 0.5), ("Kumaraswamy", (2.0, 3.0), 1.1), ("Gamma", (2.0, 1.0), -1.0),
           ("InverseGamma", (2.0, 1.0), -1.0), ("LogNormal", (0.0, 1.0), -1.0),
           ("Uniform", (0.0, 1.0), 1.5), ("ContinuousBernoulli", (0.3,), -0.3), ("Normal", (0.0, 1.0), np.nan)]


@pytest.mark.torch
@pytest.mark.parametrize("name, parameters, value", OUTSIDE)
def test_cdf_refuses_a_value_outside_the_support_as_pytorch(torch, name, parameters, value):
    def cdf(lib, **options):
        made = getattr(lib.distributions, name)(*(lib.tensor([p], dtype=lib.float64) for p in parameters), **options)
        return made.cdf(lib.tensor([value], dtype=lib.float64))

    with pytest.raises(ValueError):
        cdf(torch)
    with pytest.raises(ValueError, match=rf"{name}\.cdf: the value must lie in the support") as caught:
        cdf(gg)
    assert "\n" not in str(caught.value)
    cdf(gg, validate_args=False)  # not checked: computed as asked


@pytest.mark.torch
def test_kl_between_bernoullis_is_infinite_where_q_cannot_draw_what_p_can(torch):
    p_probs = np.array([0.0, 1.0, 0.3, 0.0, 1.0, 0.2, 0.5, 0.5])
    q_probs = np.array([0.0, 1.0, 0.6, 1.0, 0.0, 0.9, 0.0, 1.0])
    results = []
    for lib in (gg, torch):
        p = lib.tensor(p_probs, requires_grad=True)
        kl = lib.distributions.kl_divergence(lib.distributions.Bernoulli(p),
                                             lib.distributions.Bernoulli(lib.tensor(q_probs)))
        kl[[2, 5]].sum().backward()
        results.append((kl.detach().numpy(), p.grad.numpy()))
    (mine, my_grad), (theirs, their_grad) = results
    np.testing.assert_array_equal(np.isposinf(mine), np.isposinf(theirs))
    assert np.isposinf(mine[[3, 4, 6, 7]]).all()
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    np.testing.assert_allclose(my_grad, their_grad, rtol=1e-12)
