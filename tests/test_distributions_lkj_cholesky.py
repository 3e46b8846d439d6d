"""``LKJCholesky``, the LKJ prior over correlation matrices given by their Cholesky factors (it was missing):
``log_prob`` and its gradients against PyTorch 2.13, the draws against the exact marginals.

The draws are not compared with PyTorch's: its onion sampler gives the Beta draw of row k a first concentration of
k − ½ where the method needs k/2, so for D ≥ 3 its correlations do not follow the LKJ law (nor its own log_prob).
They are checked instead against what the law says: each correlation ρ has ``(ρ + 1)/2 ~ Beta(a, a)``,
``a = η − 1 + D/2``, and ``1 − L_kk²`` (row k's squared length left of the diagonal) is
``Beta(k/2, η + (D − 1 − k)/2)``.
For D = 3 and η = 1 the correlation matrices are uniform over the valid ones: their determinant is compared with
that of a rejection sample of uniform (ρ₁₂, ρ₁₃, ρ₂₃)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

D = gg.distributions


@pytest.mark.torch
@pytest.mark.parametrize("dim", [2, 3, 5])
def test_log_prob_and_its_gradients_are_pytorchs(torch, dim):
    gg.manual_seed(0)
    factors = D.LKJCholesky(dim, gg.tensor([1.0, 1.0], dtype=gg.float64)).sample((3,)).numpy()
    found = []
    for lib in (gg, torch):
        concentration = lib.tensor([0.5, 2.5], dtype=lib.float64, requires_grad=True)
        value = lib.tensor(factors, requires_grad=True)
        log_p = lib.distributions.LKJCholesky(dim, concentration).log_prob(value)
        (log_p * lib.tensor([1.0, 3.0], dtype=lib.float64)).sum().backward()
        found.append([log_p.detach().numpy(), concentration.grad.numpy(), value.grad.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_two_by_two_with_concentration_one_is_uniform_in_the_correlation():
    d = D.LKJCholesky(2, 1.0)
    for rho in (-0.9, 0.0, 0.6):
        factor = gg.tensor([[1.0, 0.0], [rho, (1 - rho ** 2) ** 0.5]])
        assert d.log_prob(factor).exp().item() == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize("dim, eta", [(2, 0.5), (3, 1.0), (3, 4.0), (5, 0.7)])
def test_draws_follow_the_lkj_marginals(dim, eta):
    stats = pytest.importorskip("scipy.stats")
    gg.manual_seed(3)
    factors = D.LKJCholesky(dim, gg.tensor(eta, dtype=gg.float64)).sample((6000,)).numpy()
    assert D.constraints.corr_cholesky.check(gg.tensor(factors)).numpy().all()
    correlations = factors @ factors.transpose(0, 2, 1)
    a = eta - 1 + dim / 2
    for i in range(1, dim):
        squared_length = 1 - factors[:, i, i] ** 2
        assert stats.kstest(squared_length, stats.beta(i / 2, eta + (dim - 1 - i) / 2).cdf).pvalue > 1e-3
        for j in range(i):
            assert stats.kstest((correlations[:, i, j] + 1) / 2, stats.beta(a, a).cdf).pvalue > 1e-3, (i, j)


def test_three_by_three_draws_are_uniform_over_correlation_matrices():
    stats = pytest.importorskip("scipy.stats")
    rho = np.random.default_rng(0).uniform(-1, 1, size=(60000, 3))
    determinants = 1 - (rho ** 2).sum(1) + 2 * rho.prod(1)
    gg.manual_seed(4)
    factors = D.LKJCholesky(3, gg.tensor(1.0, dtype=gg.float64)).sample((8000,)).numpy()
    drawn = np.linalg.det(factors @ factors.transpose(0, 2, 1))
    assert stats.ks_2samp(drawn, determinants[determinants > 0]).pvalue > 1e-3


@pytest.mark.torch
def test_shapes_constraints_and_refusals_are_pytorchs(torch):
    found = []
    for lib in (gg, torch):
        d = lib.distributions.LKJCholesky(3, lib.tensor([2.0, 0.5]))
        wide = d.expand((4, 2))
        found.append((tuple(d.batch_shape), tuple(d.event_shape), tuple(wide.sample((5,)).shape), d.has_rsample,
                      str(d.sample().dtype).replace("torch.", ""), repr(d.support),
                      {name: repr(c) for name, c in d.arg_constraints.items()}))
        with pytest.raises(ValueError, match="dim to be an integer greater than or equal to 2"):
            lib.distributions.LKJCholesky(1, 1.0)
        with pytest.raises(ValueError):
            lib.distributions.LKJCholesky(3, -1.0)
        with pytest.raises(ValueError):
            d.log_prob(lib.ones(3, 3))  # rows not of length 1
        with pytest.raises(NotImplementedError):
            d.rsample()
    assert found[0] == found[1]
    assert not D.LKJCholesky(3, gg.tensor(2.0, requires_grad=True)).sample().requires_grad
