"""The relaxed Bernoulli and categorical distributions, LogisticNormal and ContinuousBernoulli against PyTorch 2.13
in float64: log_prob, moments, cdf/icdf, entropy and kl_divergence with the gradients of their parameters over
hypothesis-drawn batches; rsample replayed through PyTorch with the same uniforms (``torch.rand`` handed
glassgrad's draws), so the draws and their parameter gradients must agree; sampling by its statistics."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.creation import pick_generator

D = gg.distributions


def _family(lib, name):
    """A class of ``lib.distributions`` (PyTorch keeps LogitRelaxedBernoulli and ExpRelaxedCategorical in
    submodules)."""
    inside = {"LogitRelaxedBernoulli": "relaxed_bernoulli", "ExpRelaxedCategorical": "relaxed_categorical"}
    module = getattr(lib.distributions, inside[name]) if lib is not gg and name in inside else lib.distributions
    return getattr(module, name)


def _unit(t):
    return t.sigmoid() * 0.9 + 0.05


def _away_from_half(t):
    """λ in [0.05, 0.45] ∪ [0.55, 0.95]: a continuous Bernoulli's exact formulas subtract terms ~1/(1 − 2λ)², so
    λ just outside the Taylor region (0.499, 0.501] is ill-conditioned in both libraries (tested on its own)."""
    return 0.5 + t.sign() * (0.05 + 0.4 * t.tanh().abs())


def _positive(t):
    return t.abs() + 0.3


# family → (build(lib, a, b) from two float64 parameter tensors of the batch shape, a point in the support
#           from (rng, batch shape + event shape), what to evaluate)
FAMILIES = {
    "LogitRelaxedBernoulli_probs": (
        lambda lib, a, b: _family(lib, "LogitRelaxedBernoulli")(_positive(b), probs=_unit(a)),
        lambda r, s: 2 * r.normal(size=s), ("log_prob",)),
    "LogitRelaxedBernoulli_logits": (
        lambda lib, a, b: _family(lib, "LogitRelaxedBernoulli")(lib.tensor(0.7, dtype=lib.float64),
                                                                     logits=a * b),
        lambda r, s: 2 * r.normal(size=s), ("log_prob",)),
    "RelaxedBernoulli": (
        lambda lib, a, b: lib.distributions.RelaxedBernoulli(_positive(b), logits=a),
        lambda r, s: r.uniform(0.02, 0.98, size=s), ("log_prob", "cdf_free")),
    "ExpRelaxedCategorical": (
        lambda lib, a, b: _family(lib, "ExpRelaxedCategorical")(lib.tensor(0.6, dtype=lib.float64),
                                                                logits=lib.stack([a, b, a * b], -1)),
        lambda r, s: np.log(r.dirichlet(np.ones(s[-1]), size=s[:-1])), ("log_prob",)),
    "RelaxedOneHotCategorical": (
        lambda lib, a, b: lib.distributions.RelaxedOneHotCategorical(lib.tensor(1.3, dtype=lib.float64),
                                                                     probs=lib.stack([_unit(a), _unit(b)], -1)),
        lambda r, s: r.dirichlet(np.ones(s[-1]) * 2, size=s[:-1]), ("log_prob",)),
    "LogisticNormal": (
        lambda lib, a, b: lib.distributions.LogisticNormal(a, _positive(b)),
        lambda r, s: r.dirichlet(np.ones(s[-1]) * 2, size=s[:-1]), ("log_prob",)),
    "ContinuousBernoulli_probs": (
        lambda lib, a, b: lib.distributions.ContinuousBernoulli(probs=_away_from_half(a)),
        lambda r, s: r.uniform(0.0, 1.0, size=s), ("log_prob", "mean", "variance", "entropy", "cdf", "icdf")),
    "ContinuousBernoulli_logits": (
        lambda lib, a, b: lib.distributions.ContinuousBernoulli(logits=a.sign() * (0.2 + 2 * a.abs())),
        lambda r, s: r.uniform(0.0, 1.0, size=s), ("log_prob", "mean", "variance", "entropy", "cdf", "icdf")),
    "ContinuousBernoulli_near_half": (  # inside the Taylor region (0.499, 0.501] and just outside it
        lambda lib, a, b: lib.distributions.ContinuousBernoulli(probs=0.5 + 0.0015 * a.tanh()),
        lambda r, s: r.uniform(0.0, 1.0, size=s), ("log_prob", "mean", "variance", "entropy", "cdf", "icdf")),
}
EVALUATE = {
    "log_prob": lambda d, x, u: d.log_prob(x), "mean": lambda d, x, u: d.mean,
    "variance": lambda d, x, u: d.variance, "entropy": lambda d, x, u: d.entropy(),
    "cdf": lambda d, x, u: d.cdf(x), "icdf": lambda d, x, u: d.icdf(u),
    "cdf_free": lambda d, x, u: d.log_prob(x).exp(),  # the density itself, through the sigmoid's log-det
}


def _evaluate(lib, family, arrays, point, probability):
    build, _, names = FAMILIES[family]
    params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    d = build(lib, *params)
    found = [(tuple(d.batch_shape), tuple(d.event_shape), " ".join(repr(d.support).split()), d.has_rsample)]
    for name in names:
        out = EVALUATE[name](d, lib.tensor(point, dtype=lib.float64), lib.tensor(probability, dtype=lib.float64))
        weights = lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)) / out.numel())
        grads = lib.autograd.grad((out * weights).sum(), params, allow_unused=True, retain_graph=True)
        found += [out.detach().numpy()] + [g.numpy() if g is not None else np.zeros(p.shape)
                                           for g, p in zip(grads, params)]
    return found


def _shape_of(family, batch):
    d = FAMILIES[family][0](gg, gg.zeros(batch, dtype=gg.float64), gg.zeros(batch, dtype=gg.float64))
    return d.batch_shape + d.event_shape


batches = st.lists(st.integers(1, 3), max_size=2).map(tuple)


@pytest.mark.torch
@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), batch=batches)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_scores_moments_and_their_gradients_match_pytorch(torch, family, seed, batch):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch), rng.normal(size=batch)]
    if family == "LogisticNormal" and not batch:  # a number loc is read as a vector of one: event (2,)
        arrays = [rng.normal(size=()), rng.normal(size=())]
    shape = _shape_of(family, batch)
    point, probability = FAMILIES[family][1](rng, shape), rng.uniform(0.02, 0.98, size=shape)
    mine, theirs = (_evaluate(lib, family, arrays, point, probability) for lib in (gg, torch))
    assert mine[0][:3] == theirs[0][:3]
    # PyTorch's LogitRelaxedBernoulli and ExpRelaxedCategorical define rsample yet LogitRelaxedBernoulli leaves
    # has_rsample False; glassgrad says True for every family here, as each has a reparameterised draw
    assert mine[0][3]
    # just outside (0.499, 0.501] the exact formulas subtract terms ~1/(1 − 2λ)² ≈ 10⁵ (both libraries do):
    # their gradients carry that cancellation, ~1e-10 absolute here
    atol = 1e-9 if family == "ContinuousBernoulli_near_half" else 1e-11
    for a, b in zip(mine[1:], theirs[1:], strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=atol)


RSAMPLED = ["LogitRelaxedBernoulli_probs", "LogitRelaxedBernoulli_logits", "RelaxedBernoulli",
            "ExpRelaxedCategorical", "RelaxedOneHotCategorical", "ContinuousBernoulli_probs",
            "ContinuousBernoulli_logits", "ContinuousBernoulli_near_half"]


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=batches)
@pytest.mark.parametrize("family", RSAMPLED)
def test_rsample_with_the_same_uniforms_is_pytorchs_draw_and_gradient(torch, family, seed, batch):
    """glassgrad's uniforms are handed to PyTorch's ``torch.rand``: the two reparameterised draws and the
    gradients of ``Σ w·x`` w.r.t. the parameters must agree."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch), rng.normal(size=batch)]
    shape = (2,) + _shape_of(family, batch)
    gg.manual_seed(seed)
    uniforms = pick_generator(None, None).random(shape)
    handed_over = mock.patch.object(torch, "rand", lambda *size, dtype=None, device=None: torch.tensor(
        uniforms, dtype=dtype))
    weights = np.arange(1.0, uniforms.size + 1).reshape(shape) / uniforms.size
    found = {}
    for lib in (gg, torch):
        params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        gg.manual_seed(seed)
        with handed_over:
            draws = FAMILIES[family][0](lib, *params).rsample((2,))
        grads = lib.autograd.grad((draws * lib.tensor(weights)).sum(), params, allow_unused=True)
        found[lib] = [draws.detach().numpy()] + [g.numpy() if g is not None else np.zeros(p.shape)
                                                 for g, p in zip(grads, params)]
    for a, b in zip(found[gg], found[torch], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple))
def test_logistic_normal_rsample_is_the_stick_breaking_of_its_normal_draw(torch, seed, batch):
    rng = np.random.default_rng(seed)
    loc, scale = rng.normal(size=batch), np.abs(rng.normal(size=batch)) + 0.3
    mine = [gg.tensor(loc, requires_grad=True), gg.tensor(scale, requires_grad=True)]
    d = D.LogisticNormal(*mine)
    gg.manual_seed(seed)
    draws = d.rsample((3,))
    gg.manual_seed(seed)
    noise = (d.base_dist.sample((3,)).numpy() - loc) / scale
    weights = np.arange(1.0, draws.numel() + 1).reshape(tuple(draws.shape))
    (draws * gg.tensor(weights)).sum().backward()
    theirs = [torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)]
    expected = torch.distributions.transforms.StickBreakingTransform()(theirs[0] + theirs[1] * torch.tensor(noise))
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(draws.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-11)


def _continuous_bernoulli(lib, a, b):
    return lib.distributions.ContinuousBernoulli(probs=_away_from_half(a))


KL_PAIRS = {
    "ContinuousBernoulli": lambda lib, a, b: (_continuous_bernoulli(lib, a, b),
                                              lib.distributions.ContinuousBernoulli(logits=b.sign() * (b.abs() + 0.2))),
    "ContinuousBernoulli_near_half": lambda lib, a, b: (
        lib.distributions.ContinuousBernoulli(probs=0.5 + 0.001 * a.tanh()), _continuous_bernoulli(lib, b, a)),
    "ContinuousBernoulli_Exponential": lambda lib, a, b: (_continuous_bernoulli(lib, a, b),
                                                          lib.distributions.Exponential(_positive(b))),
    "ContinuousBernoulli_Normal": lambda lib, a, b: (_continuous_bernoulli(lib, a, b),
                                                     lib.distributions.Normal(b, _positive(a))),
    "ContinuousBernoulli_Uniform": lambda lib, a, b: (_continuous_bernoulli(lib, a, b), lib.distributions.Uniform(
        -_positive(a), 1 + _positive(b))),
    "ContinuousBernoulli_Uniform_inside": lambda lib, a, b: (_continuous_bernoulli(lib, a, b),
                                                             lib.distributions.Uniform(0.2 * _unit(a), 0.9 + 0.0 * b)),
    "Uniform_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Uniform(0.1 + 0.3 * _unit(a), 0.9 + 0.0 * a),
                                                      _continuous_bernoulli(lib, b, a)),
    "Uniform_outside_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Uniform(a * 0.0 - 0.5, 0.9 + 0.0 * a),
                                                              _continuous_bernoulli(lib, b, a)),
    "Normal_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Normal(a, _positive(b)),
                                                     _continuous_bernoulli(lib, b, a)),
    "Exponential_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Exponential(_positive(a)),
                                                          _continuous_bernoulli(lib, b, a)),
    "Laplace_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Laplace(a, _positive(b)),
                                                      _continuous_bernoulli(lib, b, a)),
    "Gumbel_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Gumbel(a, _positive(b)),
                                                     _continuous_bernoulli(lib, b, a)),
    "Beta_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Beta(_positive(a), _positive(b)),
                                                   _continuous_bernoulli(lib, b, a)),
    "ContinuousBernoulli_Pareto": lambda lib, a, b: (_continuous_bernoulli(lib, a, b),
                                                     lib.distributions.Pareto(_positive(a), _positive(b))),
    "Gamma_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Gamma(_positive(a), _positive(b)),
                                                    _continuous_bernoulli(lib, b, a)),
    "Pareto_ContinuousBernoulli": lambda lib, a, b: (lib.distributions.Pareto(_positive(a), _positive(b)),
                                                     _continuous_bernoulli(lib, b, a)),
    "LogisticNormal": lambda lib, a, b: (lib.distributions.LogisticNormal(a, _positive(b)),
                                         lib.distributions.LogisticNormal(b, _positive(a))),
}


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=batches)
@pytest.mark.parametrize("pair", sorted(KL_PAIRS))
def test_kl_divergence_and_its_gradients_match_pytorch(torch, pair, seed, batch):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch), rng.normal(size=batch)]
    found = {}
    for lib in (gg, torch):
        params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        kl = lib.distributions.kl_divergence(*KL_PAIRS[pair](lib, *params))
        grads = [np.zeros(batch)] * 2
        if kl.requires_grad and np.isfinite(kl.detach().numpy()).all():
            weights = lib.tensor(np.arange(1.0, kl.numel() + 1).reshape(tuple(kl.shape)))
            grads = [g.numpy() if g is not None else np.zeros(batch)
                     for g in lib.autograd.grad((kl * weights).sum(), params, allow_unused=True)]
        found[lib] = [kl.detach().numpy()] + grads
    # A Beta's or Gamma's entropy differentiates to trigamma, which PyTorch computes to only ~1e-8 relative;
    # there the tolerance is scaled to the largest entry (a gradient's terms cancel in its small entries).
    trigamma = pair.startswith(("Beta", "Gamma"))
    for a, b in zip(found[gg], found[torch], strict=True):
        assert a.shape == b.shape
        atol = 1e-7 * np.abs(b).max() if trigamma else 1e-11
        np.testing.assert_allclose(a, b, rtol=1e-7 if trigamma else 1e-9, atol=atol)


SAMPLED = {
    "ContinuousBernoulli": D.ContinuousBernoulli(probs=gg.tensor([0.2, 0.5, 0.9], dtype=gg.float64)),
    "RelaxedBernoulli": D.RelaxedBernoulli(gg.tensor(0.5, dtype=gg.float64),
                                           probs=gg.tensor([0.2, 0.7], dtype=gg.float64)),
    "RelaxedOneHotCategorical": D.RelaxedOneHotCategorical(gg.tensor(0.5, dtype=gg.float64),
                                                           probs=gg.tensor([0.2, 0.5, 0.3], dtype=gg.float64)),
    "LogisticNormal": D.LogisticNormal(gg.tensor([0.3, -0.2], dtype=gg.float64), gg.tensor(0.5, dtype=gg.float64)),
}
DRAWS = 40000


@pytest.mark.parametrize("name", sorted(SAMPLED))
def test_samples_lie_in_the_support_and_have_the_distributions_statistics(name):
    d = SAMPLED[name]
    gg.manual_seed(7)
    draws = d.sample((DRAWS,))
    assert tuple(draws.shape) == (DRAWS,) + d.batch_shape + d.event_shape and not draws.requires_grad
    assert d.support.check(draws).numpy().all()
    x = draws.numpy()
    if name == "ContinuousBernoulli":  # the mean and variance of the formulas, and F at the sample median ½
        mean, variance = d.mean.numpy(), d.variance.numpy()
        np.testing.assert_allclose(x.mean(0), mean, atol=5 * np.sqrt(variance / DRAWS).max())
        np.testing.assert_allclose(d.cdf(gg.tensor(np.median(x, 0))).numpy(), 0.5, atol=5 * 0.5 / math.sqrt(DRAWS))
    elif name == "RelaxedBernoulli":  # P(σ(L) > ½) = P(logit u > −logit p) = p
        np.testing.assert_allclose((x > 0.5).mean(0), [0.2, 0.7], atol=5 * 0.5 / math.sqrt(DRAWS))
    elif name == "RelaxedOneHotCategorical":  # the Gumbel-max class is the largest entry: chance pₖ
        np.testing.assert_allclose(np.bincount(x.argmax(-1), minlength=3) / DRAWS, [0.2, 0.5, 0.3],
                                   atol=5 * 0.5 / math.sqrt(DRAWS))
    else:  # ln(yₖ/y_K) is the Normal draw for the first entry (the stick's first share over the rest)
        first = np.log(x[:, 0] / (1 - x[:, 0])) + math.log(2)
        assert abs(first.mean() - 0.3) < 5 * 0.5 / math.sqrt(DRAWS) and abs(first.std() - 0.5) < 0.01


def test_continuous_bernoulli_is_finite_with_finite_gradients_at_and_near_one_half():
    probs = gg.tensor([0.499, 0.4995, 0.5, 0.5005, 0.501, 0.5015], dtype=gg.float64, requires_grad=True)
    d = D.ContinuousBernoulli(probs=probs)
    total = (d.log_prob(gg.full((6,), 0.3, dtype=gg.float64)) + d.mean + d.variance + d.entropy()
             + d.cdf(gg.full((6,), 0.7, dtype=gg.float64)) + d.icdf(gg.full((6,), 0.2, dtype=gg.float64))).sum()
    total.backward()
    assert np.isfinite(total.item()) and np.isfinite(probs.grad.numpy()).all()
    at_half = D.ContinuousBernoulli(probs=gg.tensor(0.5, dtype=gg.float64))
    assert at_half.log_prob(gg.tensor(0.8, dtype=gg.float64)).item() == pytest.approx(0.0, abs=1e-15)
    assert at_half.variance.item() == pytest.approx(1 / 12)


@pytest.mark.torch
def test_relaxed_distributions_expand_as_pytorch(torch):
    for family in ("RelaxedBernoulli", "RelaxedOneHotCategorical", "LogisticNormal", "ContinuousBernoulli_probs",
                   "ExpRelaxedCategorical"):
        mine = FAMILIES[family][0](gg, gg.zeros(2, dtype=gg.float64), gg.ones(2, dtype=gg.float64)).expand((3, 2))
        theirs = FAMILIES[family][0](torch, torch.zeros(2, dtype=torch.float64),
                                     torch.ones(2, dtype=torch.float64)).expand((3, 2))
        assert (mine.batch_shape, mine.event_shape) == (tuple(theirs.batch_shape), tuple(theirs.event_shape))
        gg.manual_seed(0)
        value = mine.sample()
        np.testing.assert_allclose(mine.log_prob(value).numpy(), theirs.log_prob(torch.tensor(value.numpy())).numpy(),
                                   rtol=1e-10)


@pytest.mark.parametrize("call, message", [
    (lambda: D.RelaxedBernoulli(gg.tensor(0.5)), "give either probs or logits"),
    (lambda: D.RelaxedBernoulli(gg.tensor(-0.5), probs=0.3), "RelaxedBernoulli"),
    (lambda: D.LogitRelaxedBernoulli(gg.tensor(0.0), probs=0.3), "LogitRelaxedBernoulli: temperature must be positive"),
    (lambda: D.LogitRelaxedBernoulli(gg.ones(3), probs=gg.tensor([0.3, 0.4])), "temperature of shape (3,) must "
                                                                                  "broadcast to the batch shape (2,)"),
    (lambda: D.ExpRelaxedCategorical(1.0, probs=gg.tensor([-0.2, 1.2])), "probs must be non-negative"),
    (lambda: D.ContinuousBernoulli(probs=1.5), "ContinuousBernoulli: probs must lie in [0, 1]"),
    (lambda: D.ContinuousBernoulli(probs=0.3).log_prob(gg.tensor(1.5)), "the support Interval(lower_bound=0.0, "
                                                                        "upper_bound=1.0)"),
    (lambda: D.RelaxedOneHotCategorical(1.0, probs=gg.tensor([0.5, 0.5])).log_prob(gg.tensor([0.9, 0.3])),
     "the support Simplex()"),
    (lambda: D.LogisticNormal(0.0, -1.0), "Normal: scale must be positive"),
    (lambda: D.kl_divergence(D.ContinuousBernoulli(probs=0.3), D.Laplace(0.0, 1.0)),
     "no closed form for ContinuousBernoulli and Laplace"),
    (lambda: D.kl_divergence(D.RelaxedBernoulli(1.0, probs=0.3), D.RelaxedBernoulli(2.0, probs=0.3)),
     "no closed form for LogitRelaxedBernoulli and LogitRelaxedBernoulli"),
    (lambda: D.kl_divergence(D.TransformedDistribution(D.Normal(0.0, 1.0), D.transforms.ExpTransform()),
                             D.TransformedDistribution(D.Normal(0.0, 1.0), D.transforms.TanhTransform())),
     "their transforms are equal"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((ValueError, NotImplementedError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
