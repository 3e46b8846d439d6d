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
