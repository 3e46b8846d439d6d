"""``gg.distributions`` against PyTorch 2.13's ``torch.distributions``: log_prob, entropy, moments, cdf and
kl_divergence, with the gradients of their parameters, over hypothesis-drawn batches; sampling checked by
its statistics (the generators differ) and rsample by its gradient (∂x/∂μ = 1, ∂x/∂σ = ε)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _values(lib, build, arrays, evaluate):
    params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = evaluate(lib, build(lib, *params))
    (out * lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(tuple(out.shape))).sum().backward()
    return [out.detach().numpy()] + [p.grad.numpy() if p.grad is not None else np.zeros(p.shape) for p in params]


CASES = {
    "normal_log_prob": (lambda lib, m, s: lib.distributions.Normal(m, s.abs() + 0.1),
                        lambda lib, d: d.log_prob(lib.tensor([[[0.3]], [[-1.2]]], dtype=lib.float64)), 2),
    "normal_entropy_cdf": (lambda lib, m, s: lib.distributions.Normal(m, s.abs() + 0.1),
                           lambda lib, d: d.entropy() + d.cdf(lib.tensor(0.4, dtype=lib.float64)) + d.variance, 2),
    "categorical_probs": (lambda lib, p, _: lib.distributions.Categorical(probs=p.abs() + 0.05),
                          lambda lib, d: d.log_prob(lib.tensor([1, 0, 2])[: d.batch_shape[0]]) + d.entropy(), 3),
    "categorical_logits": (lambda lib, z, _: lib.distributions.Categorical(logits=z),
                           lambda lib, d: d.log_prob(lib.tensor(2)) * 2 + d.entropy(), 3),
    "bernoulli_logits": (lambda lib, z, _: lib.distributions.Bernoulli(logits=z),
                         lambda lib, d: d.log_prob(lib.ones_like(d.probs)) + d.entropy(), 2),
    "bernoulli_probs": (lambda lib, p, _: lib.distributions.Bernoulli(probs=p.sigmoid()),
                        lambda lib, d: d.log_prob(lib.zeros_like(d.probs)) - d.entropy(), 2),
    "uniform": (lambda lib, a, b: lib.distributions.Uniform(a, a + b.abs() + 0.5),
                lambda lib, d: d.entropy() + d.log_prob(d.low + 0.25), 2),
    "kl_normal": (lambda lib, m, s: (lib.distributions.Normal(m, s.abs() + 0.1), lib.distributions.Normal(0.5, 2.0)),
                  lambda lib, d: lib.distributions.kl_divergence(*d), 2),
    "kl_categorical": (lambda lib, z, y: (lib.distributions.Categorical(logits=z),
                                         lib.distributions.Categorical(logits=y)),
                       lambda lib, d: lib.distributions.kl_divergence(*d), 3),
    "kl_bernoulli": (lambda lib, z, y: (lib.distributions.Bernoulli(logits=z), lib.distributions.Bernoulli(logits=y)),
                     lambda lib, d: lib.distributions.kl_divergence(*d), 2),
}


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 3))
@pytest.mark.parametrize("name", sorted(CASES))
def test_densities_entropies_and_kl_match_pytorch(torch, name, seed, rows):
    build, evaluate, width = CASES[name]
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(rows, width)), rng.normal(size=(rows, width))]
    for mine, theirs in zip(_values(gg, build, arrays, evaluate), _values(torch, build, arrays, evaluate)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_samples_have_the_distributions_statistics_and_rsample_carries_gradients():
    gg.manual_seed(0)
    loc, scale = gg.tensor([1.0, -2.0], requires_grad=True), gg.tensor([0.5, 2.0], requires_grad=True)
    normal = gg.distributions.Normal(loc, scale)
    draws = normal.rsample((20000,))
    assert tuple(draws.shape) == (20000, 2)
    np.testing.assert_allclose(draws.detach().numpy().mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(draws.detach().numpy().std(0), [0.5, 2.0], rtol=0.03)
    draws.sum().backward()
    assert loc.grad.tolist() == [20000.0, 20000.0]  # ∂x/∂μ = 1 for every draw
    noise = (draws.detach().numpy() - [1.0, -2.0]) / [0.5, 2.0]
    np.testing.assert_allclose(scale.grad.numpy(), noise.sum(0), rtol=1e-3)  # ∂x/∂σ = ε
    assert not normal.sample().requires_grad
    counts = np.bincount(gg.distributions.Categorical(probs=gg.tensor([0.2, 0.5, 0.3])).sample((20000,)).numpy())
    np.testing.assert_allclose(counts / 20000, [0.2, 0.5, 0.3], atol=0.015)
    flips = gg.distributions.Bernoulli(probs=gg.tensor(0.3)).sample((20000,)).numpy()
    assert set(np.unique(flips)) <= {0.0, 1.0} and abs(flips.mean() - 0.3) < 0.015
    spread = gg.distributions.Uniform(2.0, 5.0).sample((20000,)).numpy()
    assert spread.min() >= 2.0 and spread.max() < 5.0 and abs(spread.mean() - 3.5) < 0.03


@pytest.mark.parametrize("call, message", [
    (lambda: gg.distributions.Normal(0.0, -1.0), "Normal: scale must be positive"),
    (lambda: gg.distributions.Categorical(), "give either probs or logits"),
    (lambda: gg.distributions.Bernoulli(probs=gg.tensor(1.5)), "probs must lie in [0, 1]"),
    (lambda: gg.distributions.Uniform(1.0, 1.0), "high must be greater than low"),
    (lambda: gg.distributions.kl_divergence(gg.distributions.Normal(0.0, 1.0), gg.distributions.Bernoulli(0.5)),
     "kl_divergence: no closed form for Normal and Bernoulli"),
    (lambda: gg.distributions.Categorical(logits=gg.tensor([0.0, 1.0])).rsample(), "Categorical has no"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((ValueError, NotImplementedError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
