"""The distributions added last against PyTorch 2.13's ``torch.distributions`` in float64: MixtureSameFamily,
OneHotCategoricalStraightThrough, HalfCauchy, InverseGamma, FisherSnedecor, GeneralizedPareto and VonMises —
values and their parameters' gradients over hypothesis-drawn batch shapes, sampling statistics (the generators
differ), the one-line refusals of bad parameters, and the transforms importable from ``gg.distributions``."""

from __future__ import annotations

import numpy as np
import pytest
from distribution_checks import assert_mean_and_variance, draws_that_repeat_under_a_seed, value_and_parameter_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.distributions import transforms

D = gg.distributions


def _positive(t):
    return t.abs() + 0.5


def _compare(torch, build, evaluate, arrays, point, rtol=1e-9, atol=1e-11):
    for mine, theirs in zip(value_and_parameter_gradients(gg, build, evaluate, arrays, point),
                            value_and_parameter_gradients(torch, build, evaluate, arrays, point)):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol)


shapes = st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)


def test_every_transform_is_importable_from_distributions_as_from_torch_distributions():
    for name in transforms.__all__:
        assert getattr(D, name) is getattr(transforms, name)
        assert name in D.__all__


# ---------------------------------------------------------------- MixtureSameFamily


def _gmm(lib, logits, means, scales):
    """A Gaussian mixture: weights from ``logits`` (batch + (K,)), components Normal(means, scales)."""
    return lib.distributions.MixtureSameFamily(lib.distributions.Categorical(logits=logits),
                                               lib.distributions.Normal(means, _positive(scales)))


def _gmm_from_probs(lib, logits, means, scales):
    return lib.distributions.MixtureSameFamily(lib.distributions.Categorical(probs=_positive(logits)),
                                               lib.distributions.Laplace(means, _positive(scales)))


def _vector_mixture(lib, logits, means, scales):
    """Components with event shape (2,): Independent normals over the last dim of ``means``."""
    return lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(logits=logits),
        lib.distributions.Independent(lib.distributions.Normal(lib.stack([means, means * 0.5], -1),
                                                               lib.stack([_positive(scales), _positive(means)], -1)),
                                      1))


MIXTURE_VALUES = {"log_prob": lambda lib, d, x: d.log_prob(x), "mean": lambda lib, d, x: d.mean,
                  "variance": lambda lib, d, x: d.variance, "stddev": lambda lib, d, x: d.stddev}


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 3), max_size=2).map(tuple), k=st.integers(1, 4),
       build=st.sampled_from([_gmm, _gmm_from_probs]))
def test_mixture_same_family_matches_pytorch(torch, seed, batch, k, build):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch + (k,)) for _ in range(3)]
    point = rng.normal(size=(2,) + batch) * 2
    for evaluate in [*MIXTURE_VALUES.values(), lambda lib, d, x: d.cdf(x)]:
        _compare(torch, build, evaluate, arrays, point)
    assert build(gg, *map(gg.tensor, arrays)).batch_shape == tuple(build(torch, *map(torch.tensor, arrays)).batch_shape)


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 3), max_size=1).map(tuple), k=st.integers(1, 3))
def test_mixture_of_vector_components_matches_pytorch(torch, seed, batch, k):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch + (k,)) for _ in range(3)]
    point = rng.normal(size=(2,) + batch + (2,))
    for evaluate in MIXTURE_VALUES.values():
        _compare(torch, _vector_mixture, evaluate, arrays, point)
    mine = _vector_mixture(gg, *map(gg.tensor, arrays))
    assert (mine.batch_shape, mine.event_shape) == (batch, (2,))
    assert tuple(mine.sample((3,)).shape) == (3,) + batch + (2,)


@pytest.mark.torch
def test_mixture_broadcasts_a_single_set_of_weights_and_expands_as_pytorch(torch):
    for lib in (gg, torch):
        d = lib.distributions.MixtureSameFamily(lib.distributions.Categorical(probs=lib.tensor([[0.3, 0.7]])),
                                                lib.distributions.Normal(lib.zeros(3, 2), lib.ones(3, 2)))
        assert tuple(d.batch_shape) == (3,) and tuple(d.expand((4, 3)).batch_shape) == (4, 3)
        assert tuple(d.expand((4, 3)).log_prob(lib.zeros(4, 3)).shape) == (4, 3)
        draw_shape = tuple(d.sample((5,)).shape)
    assert draw_shape == (5, 1)  # PyTorch's gather keeps the weights' batch shape, not its own (3,): a slip
    mine = D.MixtureSameFamily(D.Categorical(probs=gg.tensor([[0.3, 0.7]])), D.Normal(gg.zeros(3, 2), 1.0))
    assert tuple(mine.sample((5,)).shape) == (5, 3)  # sample_shape + batch_shape, as documented


def test_mixture_samples_have_the_mixtures_mean_and_variance():
    d = _gmm(gg, gg.tensor([[0.0, 1.0, -0.5], [0.3, 0.3, 0.3]], dtype=gg.float64),
             gg.tensor([[-2.0, 0.0, 3.0], [1.0, -1.0, 0.0]], dtype=gg.float64),
             gg.tensor([[0.1, 0.5, 1.0], [0.2, 0.2, 0.2]], dtype=gg.float64))
    draws = draws_that_repeat_under_a_seed(d, 20000)
    assert_mean_and_variance(draws, d.mean.detach().numpy(), d.variance.detach().numpy())


def test_mixture_refuses_mismatched_parts_in_one_line():
    normal = D.Normal(gg.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="must be a Categorical"):
        D.MixtureSameFamily(D.Bernoulli(probs=0.5), normal)
    with pytest.raises(ValueError, match="2 weights but the component distribution has 3"):
        D.MixtureSameFamily(D.Categorical(probs=gg.ones(2)), normal)
    with pytest.raises(ValueError, match=r"does not broadcast"):
        D.MixtureSameFamily(D.Categorical(probs=gg.ones(4, 3)), normal)
    with pytest.raises(ValueError, match="last batch dim"):
        D.MixtureSameFamily(D.Categorical(probs=gg.ones(3)), D.Normal(0.0, 1.0))


# ---------------------------------------------------------------- OneHotCategoricalStraightThrough


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 3), max_size=2).map(tuple), k=st.integers(2, 4))
def test_straight_through_rsample_is_a_one_hot_draw_with_the_gradient_of_probs(torch, seed, batch, k):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=batch + (k,))
    weights = rng.normal(size=(3,) + batch + (k,))
    mine = gg.tensor(logits, requires_grad=True)
    draws = D.OneHotCategoricalStraightThrough(logits=mine).rsample((3,))
    assert draws.requires_grad and set(np.unique(draws.detach().numpy())) <= {0.0, 1.0}
    np.testing.assert_array_equal(draws.detach().numpy().sum(-1), 1.0)
    (draws * gg.tensor(weights)).sum().backward()
    theirs = torch.tensor(logits, requires_grad=True)
    probs = torch.distributions.OneHotCategoricalStraightThrough(logits=theirs).probs  # y + p − p.detach(): ∂ of p
    (probs.expand(3, *probs.shape) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    d = D.OneHotCategoricalStraightThrough(logits=gg.tensor(logits))
    point = np.eye(k)[rng.integers(0, k, size=batch)]
    np.testing.assert_allclose(d.log_prob(gg.tensor(point)).numpy(), torch.distributions.OneHotCategorical(
        logits=torch.tensor(logits)).log_prob(torch.tensor(point)).numpy(), rtol=1e-12)
    assert D.OneHotCategoricalStraightThrough.has_rsample


# ---------------------------------------------------------------- HalfCauchy, InverseGamma, FisherSnedecor, GP


def _unit(t):
    return t.sigmoid()


def _detached(t):
    return t.detach() if t.requires_grad else t


def _pareto_shape(c):
    """ξ in (−0.8, 0.8), exactly 0 where ``c`` is small (the exponential limit's branch)."""
    xi = (c * 0.8).tanh()
    return xi * (c.abs() > 0.3)


def _pareto_point(lib, d, x):
    """A point inside the support: F⁻¹ of a probability in (0.05, 0.95)."""
    return d.icdf(0.05 + 0.9 * _unit(x)).detach()


FIXED = {"entropy": lambda lib, d, x: d.entropy(), "mean": lambda lib, d, x: d.mean,
         "variance": lambda lib, d, x: d.variance, "mode": lambda lib, d, x: d.mode}
FAMILIES = {
    "HalfCauchy": (lambda lib, a, b, c: lib.distributions.HalfCauchy(_positive(b)),
                   {**FIXED, "log_prob": lambda lib, d, x: d.log_prob(_positive(x)),
                    "cdf": lambda lib, d, x: d.cdf(_positive(x)), "icdf": lambda lib, d, x: d.icdf(_unit(x) * 0.98)}),
    "InverseGamma": (lambda lib, a, b, c: lib.distributions.InverseGamma(_positive(a) * 2, _positive(b)),
                     {**FIXED, "log_prob": lambda lib, d, x: d.log_prob(_positive(x))}),
    # PyTorch's Gamma.cdf has no gradient in the concentration either: it is detached here
    "InverseGamma_cdf": (lambda lib, a, b, c: lib.distributions.InverseGamma(_detached(_positive(a) * 2), _positive(b)),
                         {"cdf": lambda lib, d, x: d.cdf(_positive(x))}),
    "FisherSnedecor": (lambda lib, a, b, c: lib.distributions.FisherSnedecor(_positive(a) * 3, _positive(b) * 3),
                       {"log_prob": lambda lib, d, x: d.log_prob(_positive(x)), "mean": lambda lib, d, x: d.mean,
                        "mode": lambda lib, d, x: d.mode}),
    # PyTorch's variance sends NaN into d₁'s gradient where d₂ ≤ 4 (glassgrad's is 0 there): compared for d₂ > 4
    "FisherSnedecor_variance": (lambda lib, a, b, c: lib.distributions.FisherSnedecor(_positive(a) * 3,
                                                                                      _positive(b) + 4),
                                {"variance": lambda lib, d, x: d.variance}),
    "GeneralizedPareto": (lambda lib, a, b, c: lib.distributions.GeneralizedPareto(a, _positive(b), _pareto_shape(c)),
                          {**FIXED, "log_prob": lambda lib, d, x: d.log_prob(_pareto_point(lib, d, x)),
                           "cdf": lambda lib, d, x: d.cdf(_pareto_point(lib, d, x)),
                           "icdf": lambda lib, d, x: d.icdf(0.05 + 0.9 * _unit(x)),
                           "survival": lambda lib, d, x: d.log_survival_function(_pareto_point(lib, d, x))}),
}


class _TorchDefaultFloat64:
    """PyTorch's GeneralizedPareto compares ξ with a float32 ``tensor(0.0)`` and fails on float64 parameters
    ("Double did not match Float") unless the default dtype is float64."""

    def __init__(self, torch):
        self.torch = torch

    def __enter__(self):
        self.saved = self.torch.get_default_dtype()
        self.torch.set_default_dtype(self.torch.float64)

    def __exit__(self, *exc):
        self.torch.set_default_dtype(self.saved)


@pytest.mark.torch
@settings(max_examples=12)
@given(seed=st.integers(0, 2**16), shape=shapes)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_added_families_and_their_gradients_match_pytorch(torch, family, seed, shape):
    build, evaluations = FAMILIES[family]
    rng = np.random.default_rng(seed)
    arrays, point = [rng.normal(size=shape) for _ in range(3)], rng.normal(size=shape)
    with _TorchDefaultFloat64(torch):
        for evaluate in evaluations.values():
            _compare(torch, build, evaluate, arrays, point)
        assert build(gg, *map(gg.tensor, arrays)).batch_shape == tuple(build(torch, *map(torch.tensor,
                                                                                          arrays)).batch_shape)


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), shape=shapes)
def test_generalized_pareto_rsample_is_the_icdf_of_a_uniform_with_its_gradient(torch, seed, shape):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape) for _ in range(3)]
    mine = [gg.tensor(a, requires_grad=True) for a in arrays]
    d = FAMILIES["GeneralizedPareto"][0](gg, *mine)
    gg.manual_seed(seed)
    draws = d.rsample((2,))
    (draws * gg.tensor(np.arange(1.0, draws.numel() + 1).reshape(tuple(draws.shape)))).sum().backward()
    uniforms = d.cdf(draws.detach()).detach().numpy()
    with _TorchDefaultFloat64(torch):
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        t = FAMILIES["GeneralizedPareto"][0](torch, *theirs)
        replayed = t.icdf(torch.tensor(uniforms))
        (replayed * torch.arange(1.0, replayed.numel() + 1).reshape(replayed.shape)).sum().backward()
    np.testing.assert_allclose(draws.detach().numpy(), replayed.detach().numpy(), rtol=1e-8, atol=1e-10)
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-8)


def _assert_quartiles(draws: np.ndarray, d) -> None:
    """At the sample's quartiles t, the distribution's F(t) is within 5 standard errors of ¼, ½, ¾."""
    for q in (0.25, 0.5, 0.75):
        t = np.quantile(draws, q, axis=0)
        np.testing.assert_allclose(d.cdf(gg.tensor(t)).numpy(), q, atol=5 * np.sqrt(q * (1 - q) / len(draws)))


def test_added_families_draw_with_their_distributions_statistics():
    f64 = lambda v: gg.tensor(v, dtype=gg.float64)  # noqa: E731
    half_cauchy = D.HalfCauchy(f64([0.5, 3.0]))
    _assert_quartiles(draws_that_repeat_under_a_seed(half_cauchy, 20000), half_cauchy)
    inverse_gamma = D.InverseGamma(f64([6.0, 9.0]), f64([2.0, 0.5]))
    draws = draws_that_repeat_under_a_seed(inverse_gamma, 20000)
    assert_mean_and_variance(draws, inverse_gamma.mean.numpy(), inverse_gamma.variance.numpy())
    _assert_quartiles(draws, inverse_gamma)
    fisher = D.FisherSnedecor(f64([3.0, 10.0]), f64([12.0, 20.0]))
    draws = draws_that_repeat_under_a_seed(fisher, 20000)
    assert_mean_and_variance(draws, fisher.mean.numpy(), fisher.variance.numpy())
    pareto = D.GeneralizedPareto(f64([0.0, 1.0, -2.0]), f64([1.0, 0.5, 2.0]), f64([-0.3, 0.0, 0.1]))
    draws = draws_that_repeat_under_a_seed(pareto, 20000)
    assert_mean_and_variance(draws, pareto.mean.numpy(), pareto.variance.numpy())
    _assert_quartiles(draws, pareto)
    assert (draws[:, 0] <= 0.0 + 1.0 / 0.3 + 1e-12).all() and (draws >= np.array([0.0, 1.0, -2.0])).all()


# ---------------------------------------------------------------- VonMises


@pytest.mark.torch
@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), shape=shapes)
def test_von_mises_matches_the_exact_density_and_pytorchs_approximation(torch, seed, shape):
    from scipy import special, stats
    rng = np.random.default_rng(seed)
    loc, kappa, x = rng.normal(size=shape), rng.uniform(0.05, 30.0, size=shape), rng.uniform(-np.pi, np.pi, shape)
    mu, k = gg.tensor(loc, requires_grad=True), gg.tensor(kappa, requires_grad=True)
    d = D.VonMises(mu, k)
    log_p = d.log_prob(gg.tensor(x))
    np.testing.assert_allclose(log_p.detach().numpy(), stats.vonmises.logpdf(x, kappa, loc=loc), rtol=1e-11,
                               atol=1e-12)
    log_p.sum().backward()
    ratio = special.i1e(kappa) / special.i0e(kappa)  # ∂ ln I₀/∂κ = I₁/I₀
    np.testing.assert_allclose(mu.grad.numpy(), kappa * np.sin(x - loc), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(k.grad.numpy(), np.cos(x - loc) - ratio, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d.variance.detach().numpy(), 1 - ratio, rtol=1e-12)
    theirs = torch.distributions.VonMises(torch.tensor(loc), torch.tensor(kappa))
    np.testing.assert_allclose(log_p.detach().numpy(), theirs.log_prob(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(d.variance.detach().numpy(), theirs.variance.numpy(), rtol=1e-5, atol=1e-7)
    assert d.mean is mu and d.mode is mu and d.expand((2,) + shape).batch_shape == (2,) + shape


def test_von_mises_draws_are_angles_with_its_mean_resultant():
    kappa = np.array([1e-6, 0.5, 4.0, 50.0])
    loc = np.array([0.3, -3.0, 3.1, 1.0])
    d = D.VonMises(gg.tensor(loc), gg.tensor(kappa))
    draws = draws_that_repeat_under_a_seed(d, 20000)
    assert (draws >= -np.pi).all() and (draws < np.pi).all()
    cosines, sines = np.cos(draws - loc), np.sin(draws - loc)
    resultant = 1 - d.variance.numpy()  # E[cos(x − μ)] = I₁(κ)/I₀(κ); E[sin(x − μ)] = 0
    np.testing.assert_allclose(cosines.mean(0), resultant, atol=5 * cosines.std(0).max() / np.sqrt(20000))
    np.testing.assert_allclose(sines.mean(0), 0.0, atol=5 * sines.std(0).max() / np.sqrt(20000))


# ---------------------------------------------------------------- refusals


BAD = {
    "HalfCauchy": lambda lib: lib.distributions.HalfCauchy(lib.tensor([1.0, -1.0])),
    "InverseGamma concentration": lambda lib: lib.distributions.InverseGamma(lib.tensor(0.0), 1.0),
    "InverseGamma rate": lambda lib: lib.distributions.InverseGamma(1.0, lib.tensor(-2.0)),
    "FisherSnedecor df1": lambda lib: lib.distributions.FisherSnedecor(lib.tensor(-1.0), 1.0),
    "FisherSnedecor df2": lambda lib: lib.distributions.FisherSnedecor(1.0, lib.tensor(0.0)),
    "GeneralizedPareto": lambda lib: lib.distributions.GeneralizedPareto(0.0, lib.tensor(-1.0), 0.5),
    "VonMises": lambda lib: lib.distributions.VonMises(0.0, lib.tensor(-1.0)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_parameters_are_refused_in_one_line_as_pytorch_refuses_them(torch, case):
    with pytest.raises(ValueError):
        BAD[case](torch)
    with pytest.raises(ValueError, match="must be positive") as caught:
        BAD[case](gg)
    assert "\n" not in str(caught.value)


@pytest.mark.torch
def test_values_outside_the_support_are_refused_unless_validation_is_off(torch):
    pareto = D.GeneralizedPareto(0.0, 1.0, -0.5)  # support [0, 2]
    for method in ("log_prob", "cdf"):
        with pytest.raises(ValueError, match="support"):
            getattr(pareto, method)(gg.tensor(2.5))
    with pytest.raises(ValueError, match="support"):
        D.HalfCauchy(1.0).log_prob(gg.tensor(-1.0))
    with pytest.raises(ValueError, match="support"):
        D.InverseGamma(2.0, 1.0).log_prob(gg.tensor(0.0))
    assert D.HalfCauchy(1.0, validate_args=False).log_prob(gg.tensor(-1.0)).item() == -np.inf
    for no_cdf in (D.FisherSnedecor(2.0, 3.0), D.VonMises(0.0, 1.0)):
        with pytest.raises(NotImplementedError, match="has no cdf"):
            no_cdf.cdf(gg.tensor(1.0))
    with pytest.raises(NotImplementedError, match="VonMises has no cdf"):
        D.MixtureSameFamily(D.Categorical(probs=gg.ones(2)), D.VonMises(gg.zeros(2), 1.0)).cdf(gg.tensor(0.0))
