"""Gaps between glassgrad.distributions and PyTorch 2.13, closed: each test failed before its fix.

The multivariate normal scores a value with an infinite entry −∞ (it gave NaN); parameters PyTorch refuses are
refused; a non-symmetric covariance is read by its lower triangle when not validating; the KL rules of HalfCauchy and
InverseGamma pairs; ``Independent(base, 0)`` enumerates as its base; a user subclass of ``Distribution`` may call
PyTorch's constructor; Gamma, Chi2 and HalfCauchy score in their parameters' dtype; and the smaller API pieces
(``param_shape``, ``constraints.dependent``, ``constraints.multinomial``, ``GeneralizedPareto.log_cdf``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

INF = math.inf


@pytest.mark.torch
@pytest.mark.parametrize("covariance", [[[1.0, 0.5], [0.5, 1.0]], [[2.0, -0.3], [-0.3, 1.5]]])
def test_mvn_log_prob_of_an_infinite_entry_is_minus_infinity(torch, covariance):
    values = [[INF, 0.0], [0.0, -INF], [-INF, 0.0], [1.0, 2.0]]
    results = []
    for lib in (gg, torch):
        d = lib.distributions.MultivariateNormal(lib.zeros(2, dtype=lib.float64),
                                                 covariance_matrix=lib.tensor(covariance, dtype=lib.float64))
        results.append(d.log_prob(lib.tensor(values, dtype=lib.float64)).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    assert np.isneginf(results[0][:3]).all()


def test_mvn_log_prob_of_an_infinite_entry_leaves_no_nan_in_the_gradient():
    loc = gg.zeros(2, dtype=gg.float64, requires_grad=True)
    scale_tril = gg.tensor([[1.0, 0.0], [0.5, 1.0]], dtype=gg.float64, requires_grad=True)
    d = gg.distributions.MultivariateNormal(loc, scale_tril=scale_tril)
    lp = d.log_prob(gg.tensor([[INF, INF], [1.0, 2.0]], dtype=gg.float64))
    assert np.isneginf(lp[0].item())
    lp[1].backward()
    assert np.isfinite(loc.grad.numpy()).all() and np.isfinite(scale_tril.grad.numpy()).all()
    low_rank = gg.distributions.LowRankMultivariateNormal(gg.zeros(2), gg.ones(2, 1), gg.ones(2))
    assert np.isneginf(low_rank.log_prob(gg.tensor([INF, 0.0])).item())


PARAMETERS_REFUSED = [
    ("Categorical(probs=zeros)", lambda lib: lib.distributions.Categorical(probs=lib.zeros(3)), "finite, positive sum"),
    ("Categorical(probs=[1, inf])", lambda lib: lib.distributions.Categorical(probs=lib.tensor([1.0, INF])),
     "finite, positive sum"),
    ("OneHotCategorical(probs=zeros)", lambda lib: lib.distributions.OneHotCategorical(probs=lib.zeros(2, 3)),
     "finite, positive sum"),
    ("Categorical(logits=[1, inf])", lambda lib: lib.distributions.Categorical(logits=lib.tensor([1.0, INF])),
     r"must not be \+inf"),
    ("Multinomial(logits=[-inf, -inf])", lambda lib: lib.distributions.Multinomial(2, logits=lib.tensor([-INF, -INF])),
     "all -inf"),
    ("GeneralizedPareto(loc=nan)", lambda lib: lib.distributions.GeneralizedPareto(
        lib.tensor([math.nan]), lib.tensor([1.0]), lib.tensor([0.5])), "loc must be a real number"),
    ("GeneralizedPareto(concentration=nan)", lambda lib: lib.distributions.GeneralizedPareto(
        lib.tensor([0.0]), lib.tensor([1.0]), lib.tensor([math.nan])), "concentration must be a real number"),
    ("MultivariateNormal(scale_tril with 1e-9 above)", lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), scale_tril=lib.tensor([[1.0, 1e-9], [2.0, 1.0]], dtype=lib.float64)), "lower triangular"),
    ("MultivariateNormal(scale_tril with NaN below)", lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), scale_tril=lib.tensor([[1.0, 0.0], [math.nan, 1.0]])), "lower triangular"),
]


@pytest.mark.torch
@pytest.mark.parametrize("case, make, message", PARAMETERS_REFUSED, ids=[c[0] for c in PARAMETERS_REFUSED])
def test_parameters_pytorch_refuses_are_refused_in_one_line(torch, case, make, message):
    with pytest.raises(ValueError):
        make(torch)
    with pytest.raises(ValueError, match=message) as caught:
        make(gg)
    assert "\n" not in str(caught.value)


@pytest.mark.torch
def test_parameters_at_the_edge_pytorch_accepts_are_accepted(torch):
    for lib in (gg, torch):
        D = lib.distributions
        assert D.Categorical(logits=lib.tensor([-INF, 1.0])).probs.tolist() == [0.0, 1.0]
        assert D.Categorical(probs=lib.tensor([0.0, 2.0])).probs.tolist() == [0.0, 1.0]
        D.MultivariateNormal(lib.zeros(2), scale_tril=lib.tensor([[1.0, 0.0], [2.0, 1.0]]))
        assert D.constraints.lower_cholesky.check(lib.tensor([[1.0, 0.0], [math.nan, 1.0]])).item() is False
    assert gg.distributions.Categorical(probs=gg.zeros(3), validate_args=False).probs.isnan().all().item()


@pytest.mark.torch
@pytest.mark.parametrize("given", ["covariance_matrix", "precision_matrix"])
def test_mvn_reads_a_non_symmetric_matrix_as_pytorch_when_not_validating(torch, given):
    matrix = [[2.0, 0.6], [0.3, 1.0]]  # the covariance is read by its lower triangle, the precision by its upper one
    results = []
    for lib in (gg, torch):
        d = lib.distributions.MultivariateNormal(lib.zeros(2, dtype=lib.float64), validate_args=False,
                                                 **{given: lib.tensor(matrix, dtype=lib.float64)})
        results.append(d.log_prob(lib.tensor([[1.0, 1.0], [-0.5, 2.0]], dtype=lib.float64)).numpy())
        with pytest.raises(ValueError):
            lib.distributions.MultivariateNormal(lib.zeros(2), **{given: lib.tensor(matrix)})
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("given", ["covariance_matrix", "precision_matrix"])
def test_mvn_accepts_a_matrix_symmetric_within_pytorchs_tolerance_with_its_gradient(torch, given):
    matrix = [[2.0, 0.01], [0.01 + 8e-7, 1.0]]  # np.allclose refused it; PyTorch's isclose(atol=1e-6) does not
    results = []
    for lib in (gg, torch):
        m = lib.tensor(matrix, dtype=lib.float64, requires_grad=True)
        d = lib.distributions.MultivariateNormal(lib.zeros(2, dtype=lib.float64), **{given: m})
        d.log_prob(lib.tensor([1.0, 1.0], dtype=lib.float64)).backward()
        results.append((d.log_prob(lib.tensor([1.0, 1.0], dtype=lib.float64)).item(), m.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9)


KL_PAIRS = [("HalfCauchy", [(1.0,), (2.0,)], [(0.3,), (5.0,)]),
            ("InverseGamma", [(2.0, 1.0), (3.0, 2.0)], [(0.7, 4.0), (1.5, 0.5)])]


@pytest.mark.torch
@pytest.mark.parametrize("name, p_parameters, q_parameters", KL_PAIRS)
def test_kl_of_halfcauchy_and_inversegamma_pairs_matches_pytorch_and_the_integral(torch, name, p_parameters,
                                                                                  q_parameters):
    from scipy import integrate

    results = []
    for lib in (gg, torch):
        def make(parameters, lib=lib):
            return [lib.tensor([p[i] for p in parameters], dtype=lib.float64, requires_grad=True)
                    for i in range(len(parameters[0]))]
        p_tensors = make(p_parameters)
        p = getattr(lib.distributions, name)(*p_tensors)
        q = getattr(lib.distributions, name)(*make(q_parameters))
        kl = lib.distributions.kl_divergence(p, q)
        kl.sum().backward()
        results.append((kl.detach().numpy(), [t.grad.numpy() for t in p_tensors], p, q))
    (mine, my_grad, p, q), (theirs, their_grad, _, _) = results
    np.testing.assert_allclose(mine, theirs, rtol=1e-10)
    np.testing.assert_allclose(my_grad, their_grad, rtol=1e-8)  # ψ′ (trigamma) differs in the last digits
    for i in range(len(mine)):  # KL = ∫ p·ln(p/q) over (0, ∞), by quadrature
        def integrand(x, i=i):
            v = gg.tensor([x, x], dtype=gg.float64)
            log_p, log_q = p.log_prob(v)[i].item(), q.log_prob(v)[i].item()
            return math.exp(log_p) * (log_p - log_q)
        exact = sum(integrate.quad(integrand, a, b, limit=200)[0] for a, b in [(0, 1), (1, math.inf)])
        np.testing.assert_allclose(mine[i], exact, rtol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("expand", [True, False])
def test_independent_of_zero_dims_enumerates_as_its_base(torch, expand):
    results = []
    for lib in (gg, torch):
        D = lib.distributions
        d = D.Independent(D.Bernoulli(lib.tensor([[0.3, 0.4]])), 0)
        assert d.has_enumerate_support is True
        assert D.Independent(D.Bernoulli(lib.tensor([[0.3, 0.4]])), 1).has_enumerate_support is False
        assert D.Independent(D.Normal(lib.zeros(2), 1.0), 0).has_enumerate_support is False
        with pytest.raises(NotImplementedError):
            D.Independent(D.Bernoulli(lib.tensor([[0.3, 0.4]])), 1).enumerate_support()
        results.append(d.enumerate_support(expand=expand).numpy())
    np.testing.assert_array_equal(results[0], results[1])
    assert results[0].shape == results[1].shape


PARAM_SHAPES = [("Categorical", lambda lib: {"probs": lib.ones(2, 3)}),
                ("Categorical", lambda lib: {"logits": lib.ones(2, 3)}),
                ("OneHotCategorical", lambda lib: {"probs": lib.ones(4, 3)}),
                ("Bernoulli", lambda lib: {"probs": lib.full((2, 3), 0.5)}),
                ("ContinuousBernoulli", lambda lib: {"logits": lib.zeros(2)}),
                ("Binomial", lambda lib: {"total_count": 5, "probs": lib.full((2,), 0.5)}),
                ("NegativeBinomial", lambda lib: {"total_count": lib.ones(3, 1), "logits": lib.zeros(2)}),
                ("Multinomial", lambda lib: {"total_count": 5, "logits": lib.zeros(2, 3)})]


@pytest.mark.torch
@pytest.mark.parametrize("name, arguments", PARAM_SHAPES)
def test_param_shape_as_pytorch(torch, name, arguments):
    shapes = [tuple(getattr(lib.distributions, name)(**arguments(lib)).param_shape) for lib in (gg, torch)]
    assert shapes[0] == shapes[1]


def _with_dependent_support(constraints):
    """An object whose ``support`` (and ``bare``) are dependent properties of ``constraints`` (gg's or PyTorch's)."""

    class Shifted:
        low = 2.0

        @constraints.dependent_property(is_discrete=False, event_dim=0)
        def support(self):
            return constraints.greater_than(self.low)

        @constraints.dependent_property
        def bare(self):
            return constraints.real

    return Shifted()


@pytest.mark.torch
def test_multinomial_and_dependent_constraints_as_pytorch(torch):
    counts = [[1.0, 2.0, 0.0], [1.0, 1.0, 2.0], [-1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]
    for lib in (gg, torch):
        C = lib.distributions.constraints
        assert C.multinomial(3).check(lib.tensor(counts)).tolist() == [True, False, False, True]
        assert (C.multinomial(3).event_dim, C.multinomial(3).is_discrete) == (1, True)
        assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
        assert C.dependent(is_discrete=True, event_dim=1).event_dim == 1
        with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
            C.dependent.check(lib.zeros(1))
        with pytest.raises(NotImplementedError):
            C.dependent.event_dim  # noqa: B018

        shifted = _with_dependent_support(C)
        assert C.is_dependent(type(shifted).support) and C.is_dependent(type(shifted).bare)
        assert type(shifted).support.event_dim == 0
        assert shifted.support.check(lib.tensor([1.0, 3.0])).tolist() == [False, True]
    assert gg.distributions.Multinomial(3, probs=gg.ones(3)).support.check(gg.tensor([1.0, 1.0, 1.0])).item()


@pytest.mark.torch
def test_generalized_pareto_log_cdf(torch):
    values = [[1.0, 1.0, 1.0], [0.3, 4.0, 1.9], [0.0, 0.0, 0.0]]
    results = []
    for lib in (gg, torch):
        # float32: PyTorch's GeneralizedPareto compares ξ with a float32 0 and fails for float64 parameters
        d = lib.distributions.GeneralizedPareto(lib.zeros(3), lib.full((3,), 1.5), lib.tensor([0.5, 0.0, -0.5]))
        results.append(d.log_cdf(lib.tensor(values)).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
    d = gg.distributions.GeneralizedPareto(gg.zeros(1), gg.ones(1), gg.tensor([0.5]))
    assert d.log_cdf(gg.tensor([1e-9])).item() == pytest.approx(math.log(1e-9), rel=1e-5)  # PyTorch's: -inf


def _user_distribution(lib):
    """A distribution written the way PyTorch's own are, against ``lib`` (glassgrad or PyTorch)."""
    D = lib.distributions

    class ShiftedExponential(D.Distribution):
        arg_constraints = {"rate": D.constraints.positive, "shift": D.constraints.real,
                           "lower": D.constraints.dependent}
        has_rsample = True

        def __init__(self, rate, shift, validate_args=None):
            self.rate, self.shift = D.utils.broadcast_all(rate, shift)
            super().__init__(batch_shape=self.rate.shape, validate_args=validate_args)

        @D.constraints.dependent_property(is_discrete=False, event_dim=0)
        def support(self):
            return D.constraints.greater_than_eq(self.shift)

        @property
        def lower(self):
            return self.shift

        def rsample(self, sample_shape=()):
            shape = self._extended_shape(sample_shape)
            return self.shift + lib.ones(shape) / self.rate

        def log_prob(self, value):
            if self._validate_args:
                self._validate_sample(value)
            return self.rate.log() - self.rate * (value - self.shift)

    return ShiftedExponential


@pytest.mark.torch
def test_a_user_subclass_written_as_pytorchs_works(torch):
    results = []
    for lib in (gg, torch):
        made = _user_distribution(lib)
        d = made(lib.tensor([1.0, 2.0]), lib.tensor([0.0, 1.0]))
        assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == ()
        assert tuple(d._extended_shape((3,))) == (3, 2) and tuple(d.rsample((3,)).shape) == (3, 2)
        assert d._validate_args is True
        with pytest.raises(ValueError):
            made(lib.tensor([-1.0, 2.0]), lib.tensor([0.0, 1.0]))  # rate outside positive
        with pytest.raises(ValueError):
            d.log_prob(lib.tensor([0.5, 0.5]))  # 0.5 is below the second shift
        with pytest.raises(ValueError):
            d.log_prob(lib.zeros(3))  # not broadcastable with the batch shape
        unchecked = made(lib.tensor([-1.0, 2.0]), lib.tensor([0.0, 1.0]), validate_args=False)
        assert unchecked._validate_args is False
        results.append((d.log_prob(lib.tensor([1.0, 1.5])).numpy(), unchecked.log_prob(lib.tensor([0.5, 0.5]))))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    with pytest.raises(ValueError, match="parameter rate must satisfy the constraint GreaterThan") as caught:
        _user_distribution(gg)(gg.tensor([-1.0, 2.0]), gg.tensor([0.0, 1.0]))
    assert "\n" not in str(caught.value)


@pytest.mark.torch
def test_a_user_subclass_without_arg_constraints_or_support_is_warned_as_pytorchs(torch):
    for lib in (gg, torch):
        class Bare(lib.distributions.Distribution):
            def __init__(self, loc, validate_args=None):
                self.loc = loc
                super().__init__(batch_shape=loc.shape, validate_args=validate_args)

            def log_prob(self, value):
                self._validate_sample(value)
                return -(value - self.loc) ** 2

        with pytest.warns(UserWarning, match="does not define `arg_constraints`"):
            bare = Bare(lib.tensor([1.0, 2.0]))
        assert tuple(bare.batch_shape) == (2,)
        with pytest.warns(UserWarning, match="does not define `support`"):
            assert bare.log_prob(lib.zeros(2)).tolist() == [-1.0, -4.0]


DTYPE_CASES = [("Gamma", (2.0, 1.0)), ("Chi2", (3.0,)), ("HalfCauchy", (1.5,)), ("HalfNormal", (1.5,)),
               ("Normal", (0.0, 1.0)), ("InverseGamma", (2.0, 1.0))]


@pytest.mark.torch
@pytest.mark.parametrize("name, parameters", DTYPE_CASES)
def test_log_prob_of_a_float64_value_with_float32_parameters_has_pytorchs_dtype(torch, name, parameters):
    results = []
    for lib in (gg, torch):
        d = getattr(lib.distributions, name)(*(lib.tensor([p]) for p in parameters))
        value = lib.tensor([0.7, 2.5], dtype=lib.float64, requires_grad=True)
        lp = d.log_prob(value)
        lp.sum().backward()
        results.append((str(lp.dtype).replace("torch.", ""), lp.detach().numpy(), value.grad.dtype, value.grad.numpy()))
    (my_dtype, mine, my_grad_dtype, my_grad), (their_dtype, theirs, their_grad_dtype, their_grad) = results
    assert my_dtype == their_dtype
    assert str(my_grad_dtype).replace("torch.", "") == str(their_grad_dtype).replace("torch.", "") == "float64"
    np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    np.testing.assert_allclose(my_grad, their_grad, rtol=1e-6)


@pytest.mark.torch
def test_gamma_scores_a_python_number_as_pytorch(torch):
    for name, parameters in [("Gamma", (2.0, 1.0)), ("Chi2", (3.0,))]:
        mine, theirs = (getattr(lib.distributions, name)(*parameters).log_prob(1.0).item() for lib in (gg, torch))
        assert mine == pytest.approx(theirs, rel=1e-6)
    for lib in (gg, torch):
        with pytest.raises(ValueError, match="must be a Tensor"):
            lib.distributions.HalfCauchy(1.0).log_prob(1.0)
