"""The distribution families beyond the everyday four against PyTorch 2.13's ``torch.distributions`` in float64:
log_prob, cdf, icdf, entropy, moments, mode and kl_divergence with the gradients of their parameters, over
hypothesis-drawn batch shapes; rsample's gradient against the implicit rule ``∂x/∂θ = −(∂F/∂θ)/p(x)`` read
from PyTorch's cdf; sampling by its statistics (the generators differ) and its repeatability under a seed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from derivatives import rsample_and_implicit_gradients
from distribution_checks import assert_mean_and_variance, draws_that_repeat_under_a_seed, value_and_parameter_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

D = gg.distributions


def _positive(t):
    return t.abs() + 0.2


def _unit(t):
    return t.sigmoid()


# family → (build(lib, a, b), {what: evaluate(lib, d, x)}); a, b are parameter tensors of the batch shape,
# x a float64 tensor of the batch shape (no gradient), mapped into the support where needed.
REAL = {"log_prob": lambda lib, d, x: d.log_prob(x), "cdf": lambda lib, d, x: d.cdf(x),
        "icdf": lambda lib, d, x: d.icdf(_unit(x)), "entropy": lambda lib, d, x: d.entropy(),
        "mean": lambda lib, d, x: d.mean, "variance": lambda lib, d, x: d.variance,
        "stddev": lambda lib, d, x: d.stddev, "mode": lambda lib, d, x: d.mode}
POSITIVE = {**REAL, "log_prob": lambda lib, d, x: d.log_prob(_positive(x)),
            "cdf": lambda lib, d, x: d.cdf(_positive(x))}
COUNTS = {"log_prob": lambda lib, d, x: d.log_prob((x.abs() * 3).floor()), "entropy": lambda lib, d, x: d.entropy(),
          "mean": lambda lib, d, x: d.mean, "variance": lambda lib, d, x: d.variance, "mode": lambda lib, d, x: d.mode}
FAMILIES = {
    "Laplace": (lambda lib, a, b: lib.distributions.Laplace(a, _positive(b)), REAL),
    "Cauchy": (lambda lib, a, b: lib.distributions.Cauchy(a, _positive(b)), REAL),
    "Gumbel": (lambda lib, a, b: lib.distributions.Gumbel(a, _positive(b)),  # PyTorch refuses F(x) < tiny: the
               {**REAL, "cdf": lambda lib, d, x: d.cdf(d.loc.detach() + x * d.scale.detach())}),  # points at z = x
    "Normal": (lambda lib, a, b: lib.distributions.Normal(a, _positive(b)), REAL),
    "Uniform": (lambda lib, a, b: lib.distributions.Uniform(a, a + _positive(b)),
                {**REAL, "log_prob": lambda lib, d, x: d.log_prob(d.low + 0.1), "mode": lambda lib, d, x: d.low,
                 "cdf": lambda lib, d, x: d.cdf(d.low + (d.high - d.low) * _unit(x))}),
    "Exponential": (lambda lib, a, b: lib.distributions.Exponential(_positive(a)), POSITIVE),
    "LogNormal": (lambda lib, a, b: lib.distributions.LogNormal(a, _positive(b)), POSITIVE),
    "HalfNormal": (lambda lib, a, b: lib.distributions.HalfNormal(_positive(b)), POSITIVE),
    "Geometric_probs": (lambda lib, a, b: lib.distributions.Geometric(probs=_unit(a)), COUNTS),
    "Geometric_logits": (lambda lib, a, b: lib.distributions.Geometric(logits=a), COUNTS),
    "Independent": (lambda lib, a, b: lib.distributions.Independent(lib.distributions.Laplace(a, _positive(b)), 1),
                    {"log_prob": lambda lib, d, x: d.log_prob(x), "entropy": lambda lib, d, x: d.entropy(),
                     "mean": lambda lib, d, x: d.mean, "variance": lambda lib, d, x: d.variance}),
    "OneHotCategorical": (lambda lib, a, b: lib.distributions.OneHotCategorical(logits=lib.stack([a, b, a * b], -1)),
                          {"log_prob": lambda lib, d, x: d.log_prob(lib.nn.functional.one_hot(
                              (x.abs() * 2).floor().long().clamp(0, 2), 3).double()),
                           "entropy": lambda lib, d, x: d.entropy(), "mean": lambda lib, d, x: d.mean,
                           "variance": lambda lib, d, x: d.variance, "mode": lambda lib, d, x: d.mode}),
}
PAIRS = {
    "Exponential": lambda lib, a, b: (lib.distributions.Exponential(_positive(a)),
                                      lib.distributions.Exponential(_positive(b))),
    "Laplace": lambda lib, a, b: (lib.distributions.Laplace(a, _positive(b)), lib.distributions.Laplace(b, 1.5)),
    "Cauchy": lambda lib, a, b: (lib.distributions.Cauchy(a, _positive(b)), lib.distributions.Cauchy(b, _positive(a))),
    "Gumbel": lambda lib, a, b: (lib.distributions.Gumbel(a, _positive(b)), lib.distributions.Gumbel(b, _positive(a))),
    "Geometric": lambda lib, a, b: (lib.distributions.Geometric(logits=a), lib.distributions.Geometric(probs=_unit(b))),
    "HalfNormal": lambda lib, a, b: (lib.distributions.HalfNormal(_positive(a)),
                                     lib.distributions.HalfNormal(_positive(b))),
    "LogNormal": lambda lib, a, b: (lib.distributions.LogNormal(a, _positive(b)), lib.distributions.LogNormal(b, 0.7)),
    "Uniform": lambda lib, a, b: (lib.distributions.Uniform(a, a + _positive(b)),
                                  lib.distributions.Uniform(a - _positive(b), a + 3.0)),
    "Uniform_outside": lambda lib, a, b: (lib.distributions.Uniform(a, a + _positive(b)),
                                          lib.distributions.Uniform(a + 0.1, a + 3.0)),
    "OneHotCategorical": lambda lib, a, b: (lib.distributions.OneHotCategorical(logits=lib.stack([a, b, a * b], -1)),
                                            lib.distributions.OneHotCategorical(probs=lib.stack([_unit(b), _unit(a),
                                                                                                 _positive(a)], -1))),
    "Independent": lambda lib, a, b: (lib.distributions.Independent(lib.distributions.Normal(a, _positive(b)), 1),
                                      lib.distributions.Independent(lib.distributions.Normal(b, _positive(a)), 1)),
}
ONE = {"Normal": lambda lib, a, b: lib.distributions.Normal(a, _positive(b)),
       "Laplace": lambda lib, a, b: lib.distributions.Laplace(a, _positive(b)),
       "Gumbel": lambda lib, a, b: lib.distributions.Gumbel(a, _positive(b)),
       "Exponential": lambda lib, a, b: lib.distributions.Exponential(_positive(a)),
       "Uniform": lambda lib, a, b: lib.distributions.Uniform(a, a + _positive(b)),
       "UniformPositive": lambda lib, a, b: lib.distributions.Uniform(a.abs(), a.abs() + _positive(b))}
CROSS = [("Exponential", "Normal"), ("Gumbel", "Normal"), ("Laplace", "Normal"), ("Uniform", "Normal"),
         ("Exponential", "Gumbel"), ("Normal", "Gumbel"), ("Uniform", "Gumbel"), ("Normal", "Laplace"),
         ("Uniform", "Exponential"), ("UniformPositive", "Exponential"), ("Normal", "Exponential"),
         ("Normal", "Uniform"), ("Laplace", "Exponential"), ("Laplace", "Uniform"), ("Gumbel", "Exponential"),
         ("Gumbel", "Uniform"), ("Exponential", "Uniform")]


def _cross(p, q):
    return lambda lib, a, b: (ONE[p](lib, a, b), ONE[q](lib, b * 0.5, a))


PAIRS.update({f"{p}_{q}": _cross(p, q) for p, q in CROSS})


def _compare(torch, build, evaluate, arrays, point):
    for mine, theirs in zip(value_and_parameter_gradients(gg, build, evaluate, arrays, point),
                            value_and_parameter_gradients(torch, build, evaluate, arrays, point)):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-11)


shapes = st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), shape=shapes)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_densities_moments_and_their_gradients_match_pytorch(torch, family, seed, shape):
    build, evaluations = FAMILIES[family]
    rng = np.random.default_rng(seed)
    arrays, point = [rng.normal(size=shape), rng.normal(size=shape)], rng.normal(size=shape)
    for evaluate in evaluations.values():
        _compare(torch, build, evaluate, arrays, point)
    assert build(gg, *map(gg.tensor, arrays)).batch_shape == tuple(build(torch, *map(torch.tensor, arrays)).batch_shape)


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), shape=shapes)
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_kl_divergence_and_its_gradients_match_pytorch(torch, pair, seed, shape):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape), rng.normal(size=shape)]
    _compare(torch, PAIRS[pair], lambda lib, d, x: lib.distributions.kl_divergence(*d), arrays, arrays[0])


RSAMPLED = ["Cauchy", "Exponential", "Gumbel", "HalfNormal", "Laplace", "LogNormal", "Normal", "Uniform"]


@pytest.mark.torch
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), shape=shapes)
@pytest.mark.parametrize("family", RSAMPLED)
def test_rsample_gradient_is_the_implicit_gradient_of_pytorchs_cdf(torch, family, seed, shape):
    """For a draw x = T(ε; θ), ``F(x; θ)`` stays at F's value of ε, so ``∂x/∂θ = −(∂F/∂θ)/p(x)``."""
    for p, q in rsample_and_implicit_gradients(gg, torch, FAMILIES[family][0], seed, shape):
        assert (p is None) == (q is None)
        if p is not None:
            np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-7, atol=1e-9)


def _mvn(lib, loc, matrix, form):
    """A MultivariateNormal whose Σ is made from ``matrix`` A: ``A·Aᵀ + I``, its inverse's source, or tril(A)."""
    n = matrix.shape[-1]
    spd = matrix @ matrix.mT + lib.eye(n, dtype=lib.float64)
    if form == "scale_tril":
        return lib.distributions.MultivariateNormal(loc, scale_tril=matrix.tril(-1) + lib.diag_embed(
            matrix.diagonal(dim1=-2, dim2=-1).abs() + 0.5))
    return lib.distributions.MultivariateNormal(loc, **{form: spd})


MVN_EVALUATIONS = {
    "log_prob": lambda lib, d, x: d.log_prob(x), "entropy": lambda lib, d, x: d.entropy(),
    "mean": lambda lib, d, x: d.mean, "variance": lambda lib, d, x: d.variance,
    "covariance": lambda lib, d, x: d.covariance_matrix, "precision": lambda lib, d, x: d.precision_matrix,
    "scale_tril": lambda lib, d, x: d.scale_tril,
    "kl": lambda lib, d, x: lib.distributions.kl_divergence(d, lib.distributions.MultivariateNormal(
        x.detach() * 0.5, scale_tril=lib.eye(x.shape[-1], dtype=lib.float64) * 1.5 + 0.3 * lib.ones(
            x.shape[-1], x.shape[-1], dtype=lib.float64).tril(-1))),
    "kl_reversed": lambda lib, d, x: lib.distributions.kl_divergence(lib.distributions.MultivariateNormal(
        x.detach(), covariance_matrix=2 * lib.eye(x.shape[-1], dtype=lib.float64)), d),
}


@pytest.mark.torch
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 2), max_size=2).map(tuple), n=st.integers(1, 3),
       form=st.sampled_from(["covariance_matrix", "precision_matrix", "scale_tril"]))
def test_multivariate_normal_matches_pytorch(torch, seed, batch, n, form):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch + (n,)), rng.normal(size=batch + (n, n))]
    point = rng.normal(size=batch + (n,))
    for evaluate in MVN_EVALUATIONS.values():
        _compare(torch, lambda lib, loc, a: _mvn(lib, loc, a, form), evaluate, arrays, point)
    # rsample: x = μ + L·ε; replay the same ε through PyTorch's factor and compare ∂(Σ w·x)/∂(loc, A)
    gg.manual_seed(seed)
    mine = [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays]
    d = _mvn(gg, *mine, form)
    draws = d.rsample((2,))
    eps = np.linalg.solve(d.scale_tril.detach().numpy(), (draws.detach().numpy() - arrays[0])[..., None])
    weights = np.arange(1.0, draws.numel() + 1).reshape(tuple(draws.shape))
    (draws * gg.tensor(weights)).sum().backward()
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    t = _mvn(torch, *theirs, form)
    ((t.loc + (t.scale_tril @ torch.tensor(eps)).squeeze(-1)) * torch.tensor(weights)).sum().backward()
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-10)


def _low_rank(lib, loc, factor, diag):
    return lib.distributions.LowRankMultivariateNormal(loc, factor, _positive(diag))


LOW_RANK_EVALUATIONS = {
    **{name: MVN_EVALUATIONS[name] for name in ("log_prob", "entropy", "mean", "variance", "covariance", "precision",
                                                 "scale_tril")},
    "mode": lambda lib, d, x: d.mode,
    "kl_low_rank": lambda lib, d, x: lib.distributions.kl_divergence(d, lib.distributions.LowRankMultivariateNormal(
        x.detach(), lib.ones(x.shape[-1], 1, dtype=lib.float64), lib.ones(x.shape[-1], dtype=lib.float64))),
    "kl_to_full": lambda lib, d, x: lib.distributions.kl_divergence(d, lib.distributions.MultivariateNormal(
        x.detach(), covariance_matrix=2 * lib.eye(x.shape[-1], dtype=lib.float64))),
    "kl_from_full": MVN_EVALUATIONS["kl_reversed"],
}


@pytest.mark.torch
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 2), max_size=2).map(tuple), n=st.integers(1, 4),
       rank=st.integers(1, 2))
def test_low_rank_multivariate_normal_matches_pytorch(torch, seed, batch, n, rank):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch + (n,)), rng.normal(size=batch + (n, rank)), rng.normal(size=(n,))]
    for evaluate in LOW_RANK_EVALUATIONS.values():
        _compare(torch, _low_rank, evaluate, arrays, rng.normal(size=batch + (n,)))


SAMPLED = {
    "Normal": D.Normal(gg.tensor([0.5, -1.0], dtype=gg.float64), gg.tensor([1.0, 0.3], dtype=gg.float64)),
    "Laplace": D.Laplace(gg.tensor([0.5, -1.0], dtype=gg.float64), gg.tensor([1.0, 0.3], dtype=gg.float64)),
    "Cauchy": D.Cauchy(gg.tensor([0.5, -1.0], dtype=gg.float64), gg.tensor([1.0, 0.3], dtype=gg.float64)),
    "Gumbel": D.Gumbel(gg.tensor([0.5, -1.0], dtype=gg.float64), gg.tensor([1.0, 0.3], dtype=gg.float64)),
    "Exponential": D.Exponential(gg.tensor([0.5, 3.0], dtype=gg.float64)),
    "LogNormal": D.LogNormal(gg.tensor([0.5, -1.0], dtype=gg.float64), gg.tensor([0.4, 0.3], dtype=gg.float64)),
    "HalfNormal": D.HalfNormal(gg.tensor([1.0, 0.3], dtype=gg.float64)),
    "Uniform": D.Uniform(gg.tensor([0.5, -1.0], dtype=gg.float64), gg.tensor([1.0, 0.3], dtype=gg.float64)),
    "Geometric": D.Geometric(probs=gg.tensor([0.3, 0.8], dtype=gg.float64)),
    "OneHotCategorical": D.OneHotCategorical(probs=gg.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], dtype=gg.float64)),
    "MultivariateNormal": D.MultivariateNormal(gg.tensor([1.0, -2.0], dtype=gg.float64),
                                               covariance_matrix=gg.tensor([[2.0, 0.6], [0.6, 0.5]],
                                                                           dtype=gg.float64)),
    "LowRankMultivariateNormal": D.LowRankMultivariateNormal(gg.tensor([1.0, -2.0], dtype=gg.float64),
                                                             gg.tensor([[1.2], [0.5]], dtype=gg.float64),
                                                             gg.tensor([0.5, 0.3], dtype=gg.float64)),
    "Independent": D.Independent(D.Exponential(gg.tensor([[0.5, 3.0]], dtype=gg.float64)), 1),
}
DRAWS = 40000


@pytest.mark.parametrize("name", sorted(SAMPLED))
def test_samples_have_the_distributions_statistics_and_repeat_under_a_seed(name):
    d = SAMPLED[name]
    x = draws_that_repeat_under_a_seed(d, DRAWS)
    if name == "Cauchy":  # no mean: check the quartiles instead, each a binomial share of 1/4
        below = (x < d.icdf(gg.tensor([[0.25], [0.75]], dtype=gg.float64)).numpy()[:, None]).mean(1)
        np.testing.assert_allclose(below, [[0.25, 0.25], [0.75, 0.75]], atol=5 * math.sqrt(0.25 * 0.75 / DRAWS))
        return
    assert_mean_and_variance(x, d.mean.detach().numpy(), d.variance.detach().numpy())
    if type(d).cdf is not D.Distribution.cdf:  # a family with a cdf: the empirical cdf at the median is ½
        median = np.median(x, axis=0)
        np.testing.assert_allclose(d.cdf(gg.tensor(median)).numpy(), 0.5, atol=5 * 0.5 / math.sqrt(DRAWS))


@pytest.mark.parametrize("name", ["MultivariateNormal", "LowRankMultivariateNormal"])
def test_multivariate_normal_samples_have_its_covariance(name):
    d = SAMPLED[name]
    gg.manual_seed(5)
    x = d.sample((DRAWS,)).numpy()
    np.testing.assert_allclose(np.cov(x.T), d.covariance_matrix.numpy(), atol=0.05)


@pytest.mark.torch
@pytest.mark.parametrize("family", ["Laplace", "Exponential", "Geometric_logits", "OneHotCategorical",
                                    "Independent", "LogNormal"])
def test_expand_repeats_the_batch_as_pytorch(torch, family):
    build = FAMILIES[family][0]
    arrays = [np.array([0.3, -0.4]), np.array([0.7, 1.1])]
    mine = build(gg, *(gg.tensor(a) for a in arrays)).expand((3, 2))
    theirs = build(torch, *(torch.tensor(a) for a in arrays)).expand((3, 2))
    assert mine.batch_shape == tuple(theirs.batch_shape) and mine.event_shape == tuple(theirs.event_shape)
    gg.manual_seed(0)
    value = mine.sample()
    np.testing.assert_allclose(mine.log_prob(value).numpy(), theirs.log_prob(torch.tensor(value.numpy())).numpy(),
                               rtol=1e-12)


@pytest.mark.torch
@given(batch=st.lists(st.integers(1, 3), max_size=2).map(tuple), expand=st.booleans())
@pytest.mark.parametrize("family", ["Bernoulli", "Categorical", "OneHotCategorical"])
def test_enumerate_support_is_pytorchs(torch, family, batch, expand):
    logits = np.linspace(-1.0, 1.0, int(np.prod(batch + (3,)))).reshape(batch + (3,))
    built = {lib: getattr(lib.distributions, family)(logits=lib.tensor(logits[..., 0] if family == "Bernoulli"
                                                                        else logits)) for lib in (gg, torch)}
    mine, theirs = (built[lib].enumerate_support(expand=expand) for lib in (gg, torch))
    assert built[gg].has_enumerate_support and tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert mine.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    if expand:  # every value scores: the probabilities over the support sum to 1
        total = built[gg].log_prob(mine).exp().sum(0).numpy()
        np.testing.assert_allclose(total, 1.0, rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: D.Laplace(0.0, 0.0), "Laplace: scale must be positive"),
    (lambda: D.Cauchy(0.0, gg.tensor([1.0, -1.0])), "Cauchy: scale must be positive"),
    (lambda: D.Normal(gg.zeros(3, 4), -gg.ones(3, 4)), "Normal: scale must be positive, got [-1., -1.,"),
    (lambda: D.Bernoulli(probs=gg.ones(3, 3) * 2), "Bernoulli: probs must lie in [0, 1], got [2., 2.,"),
    (lambda: D.Exponential(-1.0), "Exponential: rate must be positive"),
    (lambda: D.HalfNormal(0.0), "HalfNormal: scale must be positive"),
    (lambda: D.LogNormal(0.0, -2.0), "LogNormal: scale must be positive"),
    (lambda: D.Gumbel(0.0, -2.0), "Gumbel: scale must be positive"),
    (lambda: D.Geometric(probs=0.0), "Geometric: probs must lie in (0, 1]"),
    (lambda: D.Geometric(probs=1.5), "Geometric: probs must lie in (0, 1]"),
    (lambda: D.Geometric(), "Geometric: give either probs or logits"),
    (lambda: D.OneHotCategorical(probs=[-0.1, 1.1]), "OneHotCategorical: probs must be non-negative"),
    (lambda: D.MultivariateNormal(gg.zeros(2)), "give exactly one of covariance_matrix"),
    (lambda: D.MultivariateNormal(gg.zeros(2), covariance_matrix=gg.eye(3)), "must be (…, 2, 2)"),
    (lambda: D.MultivariateNormal(gg.zeros(2), covariance_matrix=gg.tensor([[1.0, 2.0], [2.0, 1.0]])),
     "covariance_matrix must be symmetric positive-definite"),
    (lambda: D.MultivariateNormal(gg.zeros(2), covariance_matrix=gg.tensor([[1.0, 0.5], [0.0, 1.0]])),
     "it is not symmetric"),
    (lambda: D.MultivariateNormal(gg.zeros(2), scale_tril=gg.tensor([[1.0, 0.5], [0.0, 1.0]])),
     "scale_tril must be lower triangular"),
    (lambda: D.MultivariateNormal(gg.zeros(2), scale_tril=gg.tensor([[1.0, 0.0], [0.0, -1.0]])),
     "scale_tril's diagonal must be positive"),
    (lambda: D.Independent(D.Normal(gg.zeros(2), 1.0), 2), "reinterpreted_batch_ndims must be between 0 and"),
    (lambda: D.LowRankMultivariateNormal(gg.zeros(2), gg.ones(2, 1), gg.tensor([1.0, 0.0])),
     "LowRankMultivariateNormal: cov_diag must be positive"),
    (lambda: D.LowRankMultivariateNormal(gg.zeros(2), gg.ones(3, 1), gg.ones(2)), "cov_factor must be (…, 2, r)"),
    (lambda: D.kl_divergence(D.Gumbel(0.0, 1.0), D.Laplace(0.0, 2.0)), "no closed form for Gumbel and Laplace"),
    (lambda: D.Geometric(probs=0.5).icdf(gg.tensor(0.5)), "Geometric has no icdf"),
    (lambda: D.Geometric(probs=0.5).rsample(), "Geometric has no"),
    (lambda: D.Exponential(1.0).log_prob(gg.tensor([-1.0, 2.0])), "Exponential.log_prob: the value must lie in the "
                                                                   "support GreaterThanEq(lower_bound=0.0)"),
    (lambda: D.Geometric(probs=0.5).log_prob(gg.tensor(1.5)), "the support IntegerGreaterThan(lower_bound=0)"),
    (lambda: D.Categorical(logits=gg.zeros(3)).log_prob(gg.tensor(3)), "IntegerInterval(lower_bound=0, upper_bound=2)"),
    (lambda: D.Uniform(gg.zeros(2, 2), 1.0).log_prob(gg.ones(2, 2) * 2), "Uniform.log_prob: the value must lie in"),
    (lambda: D.OneHotCategorical(logits=gg.zeros(3)).log_prob(gg.tensor([1.0, 1.0, 0.0])), "the support OneHot()"),
    (lambda: D.Bernoulli(logits=gg.zeros(2)).log_prob(gg.tensor([0.5, 1.0])), "the support Boolean()"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((ValueError, NotImplementedError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.torch
def test_pytorch_refuses_the_same_values_outside_the_support(torch):
    for lib in (gg, torch):
        for d, value in [(lib.distributions.Exponential(1.0), -1.0), (lib.distributions.Geometric(probs=0.5), 1.5),
                         (lib.distributions.LogNormal(0.0, 1.0), -2.0), (lib.distributions.HalfNormal(1.0), -0.5),
                         (lib.distributions.Bernoulli(probs=0.5), 0.5), (lib.distributions.Uniform(0.0, 1.0), 1.5)]:
            with pytest.raises(ValueError, match="support"):
                d.log_prob(lib.tensor(value))


def test_validate_args_false_skips_the_checks():
    assert D.Laplace(0.0, -1.0, validate_args=False).batch_shape == ()
    assert D.Geometric(probs=0.0, validate_args=False).batch_shape == ()
    assert D.Exponential(2.0, validate_args=False).log_prob(gg.tensor(-1.0)).item() == pytest.approx(math.log(2) + 2)
    assert D.HalfNormal(1.0, validate_args=False).log_prob(gg.tensor(-1.0)).item() == -math.inf
    assert D.Uniform(0.0, 1.0, validate_args=False).log_prob(gg.tensor(2.0)).item() == -math.inf


PROBES = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, np.inf, np.nan])


@pytest.mark.torch
@pytest.mark.parametrize("family", sorted(FAMILIES) + ["MultivariateNormal", "LowRankMultivariateNormal"])
def test_support_is_pytorchs_and_checks_values_as_it_does(torch, family):
    build = FAMILIES.get(family, (lambda lib, a, b: _mvn(lib, a, lib.diag_embed(b), "scale_tril")
                                  if family == "MultivariateNormal" else _low_rank(lib, a, b.unsqueeze(-1), b),))[0]
    arrays = [np.array([0.3, -0.4]), np.array([0.7, 1.1])]
    mine = build(gg, *(gg.tensor(a) for a in arrays))
    theirs = build(torch, *(torch.tensor(a) for a in arrays))
    assert (mine.support.is_discrete, mine.support.event_dim) == (theirs.support.is_discrete, theirs.support.event_dim)
    if family != "Uniform":  # PyTorch writes the bounds of a Uniform's interval as tensors
        assert repr(mine.support) == repr(theirs.support)
    gg.manual_seed(1)
    drawn = mine.sample((3,)).numpy()
    probes = np.random.default_rng(0).choice(PROBES, size=(12,) + drawn.shape[1:])
    values = np.concatenate([drawn, probes])
    expected = theirs.support.check(torch.tensor(values)).numpy()
    np.testing.assert_array_equal(mine.support.check(gg.tensor(values)).numpy(), expected)
    assert expected[:3].all() and not expected.all()
