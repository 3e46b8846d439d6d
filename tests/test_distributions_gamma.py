"""The gamma family (Gamma, Chi2, Beta, Dirichlet, StudentT), the counts (Poisson, Binomial, NegativeBinomial,
Multinomial) and the power-law families (Weibull, Pareto, Kumaraswamy) against PyTorch 2.13's
``torch.distributions`` in float64: log_prob, cdf, icdf, entropy, moments, mode, kl_divergence and the gradients
of their parameters, over hypothesis-drawn batch shapes; supports, arg_constraints, expand; sampling by its
statistics (the generators differ) under a fixed seed; the refusals (rsample, Gamma.cdf, …) as one-line errors.

Tolerances: PyTorch's trigamma (ψ⁽¹⁾, the derivative of digamma) has a relative error near 1e-8 (SciPy's, which
glassgrad uses, near 1e-15), so the gradients of anything with a digamma in it (entropies, KL rules) are compared
with rtol 1e-7 (and an absolute error of 1e-7 of the largest entry, as a sum of such terms errs relative to the
terms, not to their sum); everything else with rtol 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

D = gg.distributions
TIGHT = {"rtol": 1e-9, "atol": 1e-11}
TRIGAMMA = {"rtol": 1e-7, "atol": 1e-9, "scaled": True}  # PyTorch's trigamma is good to ~1e-8 relative


def _positive(t, low=0.2):
    return t.abs() + low


def _unit(t):
    return t.sigmoid()


def _stack(lib, a, b):
    return lib.stack([a, b, a * b], -1)


CONTINUOUS = {"log_prob": lambda lib, d, x: d.log_prob(_positive(x)), "entropy": lambda lib, d, x: d.entropy(),
              "mean": lambda lib, d, x: d.mean, "variance": lambda lib, d, x: d.variance,
              "stddev": lambda lib, d, x: d.stddev, "mode": lambda lib, d, x: d.mode}
UNIT = {**CONTINUOUS, "log_prob": lambda lib, d, x: d.log_prob(_unit(x))}
WITH_CDF = {"cdf": lambda lib, d, x: d.cdf(_positive(x)), "icdf": lambda lib, d, x: d.icdf(_unit(x))}
COUNTS = {**CONTINUOUS, "log_prob": lambda lib, d, x: d.log_prob((x.abs() * 3).floor())}
del COUNTS["entropy"]  # Poisson and NegativeBinomial have none (PyTorch neither)


def _binomial_value(lib, d, x):
    return d.log_prob((d.total_count * _unit(x)).floor())


def _multinomial_value(lib, d, x):
    first, second = (_unit(x) * 2.99).floor(), (_unit(-x) * 2).floor()
    return d.log_prob(lib.stack([first, second, 4 - first - second], -1))


# family → (build(lib, a, b), {what: evaluate(lib, d, x)}); a, b are float64 parameter tensors of the batch
# shape, x a float64 tensor of the batch shape (no gradient), mapped into the support where needed.
FAMILIES = {
    "Gamma": (lambda lib, a, b: lib.distributions.Gamma(_positive(a, 0.5), _positive(b)), CONTINUOUS),
    "Chi2": (lambda lib, a, b: lib.distributions.Chi2(_positive(a, 0.5)), CONTINUOUS),
    "Beta": (lambda lib, a, b: lib.distributions.Beta(_positive(a, 1.05), _positive(b, 0.3)), UNIT),
    "Beta_small": (lambda lib, a, b: lib.distributions.Beta(a.abs() * 0.5 + 0.2, b.abs() * 0.5 + 0.2),
                   {name: UNIT[name] for name in ("log_prob", "entropy", "mean", "variance")}),
    "Dirichlet": (lambda lib, a, b: lib.distributions.Dirichlet(lib.stack([_positive(a, 1.05), _positive(b, 0.3),
                                                                            _positive(a * b, 0.3)], -1)),
                  {**{name: CONTINUOUS[name] for name in ("entropy", "mean", "variance", "mode")},
                   "log_prob": lambda lib, d, x: d.log_prob(_stack(lib, x, -x).softmax(-1))}),
    "StudentT": (lambda lib, a, b: lib.distributions.StudentT(_positive(a, 2.5), b, _positive(a - b, 0.3)),
                 {**CONTINUOUS, "log_prob": lambda lib, d, x: d.log_prob(x * 3)}),
    "StudentT_heavy": (lambda lib, a, b: lib.distributions.StudentT(a.abs() * 0.3 + 0.2, b, _positive(a)),
                       {name: CONTINUOUS[name] for name in ("entropy", "mean", "variance", "mode")}),
    "Poisson": (lambda lib, a, b: lib.distributions.Poisson(_positive(a) * 2), COUNTS),
    "Binomial_probs": (lambda lib, a, b: lib.distributions.Binomial(5, probs=_unit(a)),
                       {**COUNTS, "log_prob": _binomial_value, "entropy": lambda lib, d, x: d.entropy()}),
    "Binomial_logits": (lambda lib, a, b: lib.distributions.Binomial(lib.tensor(3.0, dtype=lib.float64), logits=a),
                        {**COUNTS, "log_prob": _binomial_value, "entropy": lambda lib, d, x: d.entropy()}),
    "Binomial_counts": (lambda lib, a, b: lib.distributions.Binomial((b.detach().abs() * 4).floor() + 1, probs=_unit(a)),
                        {**COUNTS, "log_prob": _binomial_value}),
    "NegativeBinomial_probs": (lambda lib, a, b: lib.distributions.NegativeBinomial(_positive(b.detach(), 0.5),
                                                                                   probs=_unit(a) * 0.9), COUNTS),
    "NegativeBinomial_logits": (lambda lib, a, b: lib.distributions.NegativeBinomial(3.0, logits=a), COUNTS),
    "Multinomial_probs": (lambda lib, a, b: lib.distributions.Multinomial(4, probs=_stack(lib, _unit(a), _unit(b))),
                          {"log_prob": _multinomial_value, "entropy": lambda lib, d, x: d.entropy(),
                           "mean": lambda lib, d, x: d.mean, "variance": lambda lib, d, x: d.variance}),
    "Multinomial_logits": (lambda lib, a, b: lib.distributions.Multinomial(4, logits=_stack(lib, a, b)),
                           {"log_prob": _multinomial_value, "entropy": lambda lib, d, x: d.entropy(),
                            "mean": lambda lib, d, x: d.mean, "variance": lambda lib, d, x: d.variance}),
    "Weibull": (lambda lib, a, b: lib.distributions.Weibull(_positive(a, 0.3), _positive(b, 1.05)),
                {**CONTINUOUS, **WITH_CDF}),
    "Weibull_spiky": (lambda lib, a, b: lib.distributions.Weibull(_positive(a, 0.3), b.abs() * 0.3 + 0.4),
                      {**WITH_CDF, **{name: CONTINUOUS[name] for name in ("log_prob", "entropy", "mean", "variance")}}),
    "Pareto": (lambda lib, a, b: lib.distributions.Pareto(_positive(a, 0.3), _positive(b, 2.2)),
               {**CONTINUOUS, "log_prob": lambda lib, d, x: d.log_prob(d.scale.detach() + x.abs()),
                "cdf": lambda lib, d, x: d.cdf(d.scale.detach() + x.abs()), "icdf": WITH_CDF["icdf"]}),
    "Kumaraswamy": (lambda lib, a, b: lib.distributions.Kumaraswamy(_positive(a, 0.5), _positive(b, 0.5)),
                    {**{name: UNIT[name] for name in ("log_prob", "entropy", "mean", "variance", "stddev")},
                     "cdf": lambda lib, d, x: d.cdf(_unit(x)), "icdf": WITH_CDF["icdf"]}),
}
DIGAMMA_INSIDE = {"entropy", "kl"}


def _evaluate(lib, build, evaluate, arrays, point):
    """The value of ``evaluate`` and the gradient of ``Σ wᵢ·outᵢ`` (distinct weights) w.r.t. each parameter."""
    params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = evaluate(lib, build(lib, *params), lib.tensor(point, dtype=lib.float64))
    if out.requires_grad:
        weights = lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(tuple(out.shape))
        (out * weights).sum().backward()
    grads = [p.grad.numpy() if p.grad is not None else np.zeros(p.shape) for p in params]
    return [out.detach().double().numpy()] + grads


def _compare(torch, build, evaluate, arrays, point, tolerance):
    mine_all, theirs_all = _evaluate(gg, build, evaluate, arrays, point), _evaluate(torch, build, evaluate, arrays, point)
    infinite = np.isinf(theirs_all[0])
    for mine, theirs in zip(mine_all, theirs_all):
        assert mine.shape == theirs.shape
        if mine is not mine_all[0] and infinite.any() and mine.shape == infinite.shape:
            # where the value is +inf (p reaches outside q's support) it stays +inf under a small change of the
            # parameters: the gradient is 0 (PyTorch's is NaN where its formula took the log of a negative number)
            assert (mine[infinite] == 0).all()
            theirs = np.where(infinite, 0.0, theirs)
        rtol, atol = tolerance["rtol"], tolerance["atol"]
        if tolerance.get("scaled") and np.isfinite(theirs).all() and theirs.size:
            atol += rtol * np.abs(theirs).max()  # a gradient summing trigamma terms errs relative to the terms
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol)


shapes = st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), shape=shapes)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_densities_moments_and_their_gradients_match_pytorch(torch, family, seed, shape):
    build, evaluations = FAMILIES[family]
    rng = np.random.default_rng(seed)
    arrays, point = [rng.normal(size=shape), rng.normal(size=shape)], rng.normal(size=shape)
    for name, evaluate in evaluations.items():
        _compare(torch, build, evaluate, arrays, point, TRIGAMMA if name in DIGAMMA_INSIDE else TIGHT)
    mine, theirs = build(gg, *map(gg.tensor, arrays)), build(torch, *map(torch.tensor, arrays))
    assert (mine.batch_shape, mine.event_shape) == (tuple(theirs.batch_shape), tuple(theirs.event_shape))


def _gamma(lib, a, b):
    return lib.distributions.Gamma(_positive(a, 0.5), _positive(b))


def _beta(lib, a, b):
    return lib.distributions.Beta(_positive(a, 0.3), _positive(b, 0.3))


def _pareto(lib, a, b, heavy=False):
    return lib.distributions.Pareto(_positive(a, 0.3), b.abs() + (0.3 if heavy else 2.2))


ONE = {"Gamma": _gamma, "Beta": _beta, "Pareto": _pareto,
       "ParetoHeavy": lambda lib, a, b: _pareto(lib, a, b, heavy=True),
       "Exponential": lambda lib, a, b: lib.distributions.Exponential(_positive(a)),
       "Normal": lambda lib, a, b: lib.distributions.Normal(a, _positive(b)),
       "Laplace": lambda lib, a, b: lib.distributions.Laplace(a, _positive(b)),
       "Gumbel": lambda lib, a, b: lib.distributions.Gumbel(a, _positive(b)),
       "Uniform": lambda lib, a, b: lib.distributions.Uniform(a, a + _positive(b)),
       "UniformPositive": lambda lib, a, b: lib.distributions.Uniform(a.abs() + 0.1, a.abs() + _positive(b, 0.3)),
       "UniformInside": lambda lib, a, b: lib.distributions.Uniform(_unit(a) * 0.4 + 0.05, 0.55 + _unit(b) * 0.4),
       "UniformWide": lambda lib, a, b: lib.distributions.Uniform(-a.abs() - 0.1, b.abs() + 1.1),
       "Poisson": lambda lib, a, b: lib.distributions.Poisson(_positive(a)),
       "Bernoulli": lambda lib, a, b: lib.distributions.Bernoulli(logits=a),
       "Binomial": lambda lib, a, b: lib.distributions.Binomial(4, logits=a)}
CROSS = [("Beta", "Pareto"), ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"),
         ("Beta", "UniformWide"), ("Exponential", "Beta"), ("Exponential", "Pareto"), ("Exponential", "Gamma"),
         ("Gamma", "Beta"), ("Gamma", "Pareto"), ("Gamma", "Uniform"), ("Gamma", "Exponential"),
         ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Gumbel", "Beta"), ("Gumbel", "Gamma"), ("Gumbel", "Pareto"),
         ("Laplace", "Beta"), ("Laplace", "Gamma"), ("Laplace", "Pareto"), ("Normal", "Beta"), ("Normal", "Gamma"),
         ("Normal", "Pareto"), ("Pareto", "Beta"), ("Pareto", "Uniform"), ("Pareto", "Exponential"),
         ("ParetoHeavy", "Exponential"), ("Pareto", "Gamma"), ("ParetoHeavy", "Gamma"), ("Pareto", "Normal"),
         ("ParetoHeavy", "Normal"), ("Poisson", "Bernoulli"), ("Poisson", "Binomial"), ("Bernoulli", "Poisson"),
         ("Uniform", "Beta"), ("UniformInside", "Beta"), ("Uniform", "Gamma"), ("UniformPositive", "Gamma"),
         ("Uniform", "Pareto"), ("UniformPositive", "Pareto"), ("Gamma", "Gamma"), ("Beta", "Beta"),
         ("Pareto", "Pareto"), ("Poisson", "Poisson")]


def _cross(p, q):
    return lambda lib, a, b: (ONE[p](lib, a, b), ONE[q](lib, b * 0.5, a))


PAIRS = {f"{p}_{q}": _cross(p, q) for p, q in CROSS}
PAIRS.update({
    "Binomial_Binomial": lambda lib, a, b: (lib.distributions.Binomial(5, logits=a),
                                            lib.distributions.Binomial(5, probs=_unit(b))),
    "Binomial_Binomial_counts": lambda lib, a, b: (lib.distributions.Binomial(a.detach().abs().floor() + 6, logits=a),
                                                   lib.distributions.Binomial(6, probs=_unit(b))),
    "Dirichlet_Dirichlet": lambda lib, a, b: (lib.distributions.Dirichlet(_positive(_stack(lib, a, b), 0.3)),
                                              lib.distributions.Dirichlet(_positive(_stack(lib, b, a), 0.5))),
    "Chi2_Gamma": lambda lib, a, b: (lib.distributions.Chi2(_positive(a, 0.5)), _gamma(lib, b, a)),
    "Exponential_Chi2": lambda lib, a, b: (lib.distributions.Exponential(_positive(a)),
                                           lib.distributions.Chi2(_positive(b, 0.5))),
})


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), shape=shapes)
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_kl_divergence_and_its_gradients_match_pytorch(torch, pair, seed, shape):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape), rng.normal(size=shape)]
    _compare(torch, PAIRS[pair], lambda lib, d, x: lib.distributions.kl_divergence(*d), arrays, arrays[0], TRIGAMMA)
