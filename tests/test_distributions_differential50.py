"""``gg.distributions`` against PyTorch 2.13's ``torch.distributions``, round 50 of the differential tests.

A hypothesis property test keeps the fuzzer's core: a family, parameters of drawn broadcast batch shapes (0-d and
size-0 batches among them), float32 or float64, and the scores, moments and their gradients in the parameters and
the value, the shapes of ``sample``/``rsample``/``expand``, all compared with PyTorch's. Beside it: the defect the
round found (Pareto's score lost precision for a large tail index), and pinning tests of what already behaved:
the dtype of a count's score, logits against probs, probabilities 0 and 1, which KL pairs PyTorch refuses, the
shapes of Independent / TransformedDistribution / MixtureSameFamily draws, and the places where glassgrad keeps the
exact number where PyTorch's formula gives NaN or the wrong infinity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

SHAPES = [(), (3,), (2, 1), (1, 3), (0,), (2, 0)]


def _positive(rng, shape):
    return rng.uniform(0.3, 3.0, shape)


def _real(rng, shape):
    return rng.normal(0.0, 1.5, shape)


def _unit(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


# family: (parameter draws, value draw or None where the value is built from the parameters, has a continuous value)
FAMILIES = {
    "Normal": ((_real, _positive), _real), "Laplace": ((_real, _positive), _real),
    "Cauchy": ((_real, _positive), _real), "Gumbel": ((_real, _positive), _real),
    "Exponential": ((_positive,), _positive), "LogNormal": ((_real, _positive), _positive),
    "HalfNormal": ((_positive,), _positive), "HalfCauchy": ((_positive,), _positive),
    "Gamma": ((_positive, _positive), _positive), "Chi2": ((_positive,), _positive),
    "Beta": ((_positive, _positive), _unit), "StudentT": ((_positive, _real, _positive), _real),
    "InverseGamma": ((_positive, _positive), _positive), "Weibull": ((_positive, _positive), _positive),
    "Pareto": ((_positive, _positive), None), "Kumaraswamy": ((_positive, _positive), _unit),
    "ContinuousBernoulli": ((_unit,), _unit), "Bernoulli": ((_unit,), "binary"),
    "Geometric": ((_unit,), "count"), "Poisson": ((_positive,), "count"),
}
# glassgrad's documented differences, pinned elsewhere in the suite: Kumaraswamy's and Weibull's mode (PyTorch:
# NaN where the formula holds), Beta's mode where both concentrations are below 1 (NaN: unbounded at both ends;
# PyTorch: a corner), Pareto's moment gradients where the moment is infinite (0; PyTorch's inf or NaN).
SKIP_MODE = {"Kumaraswamy", "Weibull", "Beta"}
SKIP_MOMENT_GRADIENT = {"Pareto"}


def _run(function, *arguments):
    try:
        return function(*arguments)
    except NotImplementedError:
        return NotImplementedError


def _evaluate(d, method, x):
    """A score (of ``x``), the entropy or a moment of ``d``."""
    if method in ("log_prob", "cdf", "icdf"):
        return getattr(d, method)(x)
    return d.entropy() if method == "entropy" else getattr(d, method)


def _gradients(lib, result, wrt):
    return lib.autograd.grad(result.sum(), wrt, allow_unused=True, retain_graph=True)


def _compare(theirs, mine, rtol):
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=rtol)


@settings(max_examples=30)
@given(name=st.sampled_from(sorted(FAMILIES)), shapes=st.lists(st.sampled_from(SHAPES), min_size=3, max_size=3),
       wide=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_scores_moments_gradients_and_shapes_match_pytorch(torch, name, shapes, wide, seed):
    """The fuzzer's core. float64 agrees to 1e-9, float32 to 2e-4 (its rounding over a few ops)."""
    rng = np.random.default_rng(seed)
    draws, value_draw = FAMILIES[name]
    shapes = shapes[:len(draws)]
    try:
        batch = np.broadcast_shapes(*shapes)
    except ValueError:
        return
    if name == "Beta" and 0 in batch:
        return  # PyTorch's Dirichlet cannot reshape a size-0 batch (glassgrad can)
    parameters = [draw(rng, shape) for draw, shape in zip(draws, shapes)]
    if name == "Pareto":
        value = np.broadcast_to(parameters[0], batch) * (1 + _positive(rng, batch))
    elif value_draw == "binary":
        value = rng.integers(0, 2, batch).astype(float)
    elif value_draw == "count":
        value = rng.integers(0, 6, batch).astype(float)
    else:
        value = value_draw(rng, batch)
    continuous = not isinstance(value_draw, str)
    uniform = rng.uniform(0.05, 0.95, batch)
    dtype, rtol = ("float64", 1e-9) if wide else ("float32", 2e-4)
    results = {}
    for lib in (torch, gg):
        made = [lib.tensor(np.asarray(p), dtype=getattr(lib, dtype), requires_grad=True) for p in parameters]
        d = getattr(lib.distributions, name)(*made)
        out = {"batch": tuple(d.batch_shape), "event": tuple(d.event_shape), "rsample": d.has_rsample,
               "expand": tuple(d.expand((2, *batch)).batch_shape)}
        for shape in [(), (3,), (2, 3)]:
            out[f"sample{shape}"] = tuple(d.sample(shape).shape)
        if d.has_rsample:
            out["rsample_shape"] = tuple(d.rsample((2,)).shape)
        for method in ["log_prob", "cdf", "icdf", "entropy", "mean", "mode", "variance", "stddev"]:
            if method == "mode" and name in SKIP_MODE:
                continue
            x = lib.tensor(uniform if method == "icdf" else value, dtype=getattr(lib, dtype),
                           requires_grad=continuous and method in ("log_prob", "cdf"))
            result = _run(_evaluate, d, method, x)
            if result is NotImplementedError:
                out[method] = result
                continue
            wrt = made + ([x] if x.requires_grad else [])
            grads = None
            if result.requires_grad and result.numel() and not (
                    name in SKIP_MOMENT_GRADIENT and method in ("mean", "variance", "stddev")):
                # PyTorch has no derivative of igamma in its first argument (Gamma's cdf in the concentration)
                grads = _run(_gradients, lib, result, wrt)
            out[method] = (result, grads)
        results[lib] = out
    theirs, mine = results[torch], results[gg]
    assert theirs.keys() == mine.keys()
    for key, expected in theirs.items():
        got = mine[key]
        if not isinstance(expected, tuple) or not expected or not hasattr(expected[0], "detach"):
            assert got == expected, key
            continue
        _compare(expected[0], got[0], rtol)
        if expected[1] in (None, NotImplementedError) or got[1] is None:
            continue
        for their_grad, my_grad in zip(expected[1], got[1]):
            if their_grad is None or my_grad is None:  # unused: the other is None or zeros
                other = my_grad if their_grad is None else their_grad
                assert other is None or not other.detach().numpy().any()
                continue
            _compare(their_grad, my_grad, 10 * rtol)


# --- the defect -------------------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("dtype, alpha, rtol", [("float32", 3000.0, 2e-7), ("float32", 300.0, 2e-7),
                                                ("float64", 1e8, 1e-13), ("float64", 1e4, 1e-14)])
def test_pareto_score_of_a_large_tail_index_is_pytorchs(torch, dtype, alpha, rtol):
    """α·ln λ − (α + 1)·ln x cancelled two terms of size α (float32 at α = 3000: 100 ulps off PyTorch's score)."""
    scale = [1.5, 2.0, 0.7, 5.0]
    value = [1.5, 2.01, 0.75, 5.5]
    results = []
    for lib in (torch, gg):
        s = lib.tensor(scale, dtype=getattr(lib, dtype), requires_grad=True)
        a = lib.tensor([alpha] * 4, dtype=getattr(lib, dtype), requires_grad=True)
        x = lib.tensor(value, dtype=getattr(lib, dtype), requires_grad=True)
        score = lib.distributions.Pareto(s, a).log_prob(x)
        results.append([score.detach().numpy(), *(g.numpy() for g in lib.autograd.grad(score.sum(), [s, a, x]))])
    for theirs, mine in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=rtol)


@pytest.mark.torch
@pytest.mark.parametrize("name, make, counts", [
    ("Poisson", lambda D, t: D.Poisson(t([0.2, 3.0, 1.0])), [0.0, 2.0, 1.0]),
    ("Binomial", lambda D, t: D.Binomial(t([5.0, 5.0, 5.0]), probs=t([0.2, 0.3, 0.9])), [0.0, 2.0, 5.0]),
    ("NegativeBinomial", lambda D, t: D.NegativeBinomial(t([3.0, 3.0, 3.0]), t([0.2, 0.3, 0.9])), [0.0, 2.0, 7.0]),
    ("Multinomial", lambda D, t: D.Multinomial(3, probs=t([0.2, 0.3, 0.5])), [1.0, 0.0, 2.0]),
    ("Bernoulli", lambda D, t: D.Bernoulli(logits=t([0.2, -3.0, 1.0])), [0.0, 1.0, 1.0]),
])
def test_a_float64_count_scored_against_float32_parameters_gives_a_float64_score(torch, name, make, counts):
    """PyTorch promotes float32 parameters with a float64 value to float64; glassgrad cast the value to float32 and
    returned a float32 score (Poisson, Binomial, NegativeBinomial, Multinomial, Bernoulli)."""
    results = []
    for lib in (torch, gg):
        value = lib.tensor(counts, dtype=lib.float64, requires_grad=name == "Bernoulli")
        score = make(lib.distributions, lambda v, lib=lib: lib.tensor(v, dtype=lib.float32)).log_prob(value)
        results.append(score)
    theirs, mine = results
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "") == "float64"
    # the terms of the parameters alone are float32 in both, each library's own way
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=2e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name, parameters", [("Normal", (0.7, 1.3)), ("HalfNormal", (1.3,)),
                                              ("LogNormal", (0.7, 1.3))])
def test_the_quantile_of_a_float64_probability_with_float32_parameters_is_pytorchs(torch, name, parameters):
    """σ·√2 rounded √2 to the parameters' float32 before the float64 erf⁻¹(p) met it: a float64 quantile 1e-7 off
    PyTorch's (which multiplies by √2 last)."""
    results = []
    for lib in (torch, gg):
        d = getattr(lib.distributions, name)(*(lib.tensor([p] * 3) for p in parameters))
        results.append(d.icdf(lib.tensor([0.1, 0.35, 0.8], dtype=lib.float64)))
    theirs, mine = results
    assert str(mine.dtype) == "float64"
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-14)


# --- pinning tests ----------------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("name, make", [
    ("Categorical", lambda D, t: D.Categorical(probs=t([0.2, 0.3, 0.5]))),
    ("Poisson", lambda D, t: D.Poisson(t([0.2, 3.0, 1.0]))),
    ("Binomial", lambda D, t: D.Binomial(5, probs=t([0.2, 0.3, 0.9]))),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_score_of_int_counts_has_the_parameters_dtype(torch, name, make, dtype):
    """The dtype is PyTorch's, and the numbers are PyTorch's score of the same counts as floats: given int64 counts,
    PyTorch's Poisson takes lgamma(value + 1) of an int tensor in float32 (1e-9 off in float64; noted)."""
    counts = [0, 2, 1]
    results = []
    for lib in (torch, gg):
        distribution = make(lib.distributions, lambda v, lib=lib: lib.tensor(v, dtype=getattr(lib, dtype)))
        as_floats = lib.tensor(counts, dtype=getattr(lib, dtype))
        results.append((distribution.log_prob(lib.tensor(counts)), distribution.log_prob(as_floats)))
    (theirs, their_float_score), (mine, my_float_score) = results
    assert str(mine.dtype) == dtype == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(mine.numpy(), their_float_score.numpy(), rtol=1e-6 if dtype == "float32" else 1e-12)
    np.testing.assert_allclose(my_float_score.numpy(), their_float_score.numpy(), rtol=1e-6 if dtype == "float32"
                               else 1e-12)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.torch
def test_bernoulli_scores_an_int_value_where_pytorch_cannot_cast():
    """PyTorch raises 'result type Float can't be cast to Long' for Bernoulli.log_prob(tensor([0, 1]));
    glassgrad scores it as the float value (a leniency, noted)."""
    score = gg.distributions.Bernoulli(probs=gg.tensor([0.2, 0.3])).log_prob(gg.tensor([0, 1]))
    assert score.dtype == gg.float32
    np.testing.assert_allclose(score.numpy(), np.log([0.8, 0.3]), rtol=1e-6)


@pytest.mark.torch
def test_logits_and_probs_give_the_same_scores_entropies_and_gradients_as_pytorch(torch):
    logits = [0.3, -1.2, 2.0]
    probs = np.exp(logits) / np.exp(logits).sum()
    rows = []
    for lib in (torch, gg):
        D = lib.distributions
        row = []
        for make, keyword, start in [(D.Categorical, "logits", logits), (D.Categorical, "probs", probs),
                                     (D.OneHotCategorical, "logits", logits), (D.Multinomial, "logits", logits),
                                     (D.Multinomial, "probs", probs), ("expanded", "logits", logits)]:
            parameter = lib.tensor(start, dtype=lib.float64, requires_grad=True)
            if make == "expanded":
                d = D.Categorical(logits=parameter).expand((2,))
            else:
                d = make(*((3,) if make is D.Multinomial else ()), **{keyword: parameter})
            value = {D.Categorical: lib.tensor(2), D.OneHotCategorical: lib.tensor([0.0, 0.0, 1.0], dtype=lib.float64),
                     D.Multinomial: lib.tensor([1.0, 0.0, 2.0], dtype=lib.float64)}[type(d)]
            total = d.log_prob(value).sum() + (d.entropy().sum() if type(d) is not D.Multinomial else 0)
            row.append(np.concatenate([[total.item()], lib.autograd.grad(total, [parameter])[0].numpy()]))
        rows.append(row)
    for theirs, mine in zip(*rows):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rows[1][0][0], rows[1][1][0], rtol=1e-12)  # logits and probs: one score


@pytest.mark.torch
@pytest.mark.parametrize("make, value", [
    (lambda D, t: D.Bernoulli(probs=t([0.0, 1.0, 0.0, 1.0])), [1.0, 0.0, 0.0, 1.0]),
    (lambda D, t: D.Categorical(probs=t([[0.0, 1.0], [1.0, 0.0]])), [0, 0]),
    (lambda D, t: D.Binomial(3, probs=t([0.0, 1.0, 0.0, 1.0])), [1.0, 2.0, 0.0, 3.0]),
    (lambda D, t: D.Geometric(t([1.0, 1.0])), [0.0, 2.0]),
    (lambda D, t: D.Categorical(logits=t([[-math.inf, 0.0]])), [0]),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_probabilities_zero_and_one_give_pytorchs_infinities_not_nan(torch, make, value, dtype):
    results = []
    for lib in (torch, gg):
        d = make(lib.distributions, lambda v, lib=lib: lib.tensor(v, dtype=getattr(lib, dtype)))
        v = lib.tensor(value) if isinstance(value[0], int) else lib.tensor(value, dtype=getattr(lib, dtype))
        results.append((d.log_prob(v).numpy(), d.entropy().numpy()))
    (their_score, their_entropy), (my_score, my_entropy) = results
    assert not np.isnan(my_score).any() and not np.isnan(my_entropy).any()
    np.testing.assert_array_equal(np.isinf(my_score), np.isinf(their_score))
    # a clamped probability leaves PyTorch's finite scores a rounding of ln(1 − eps) from 0: equal to an eps
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(my_score, their_score, rtol=1e-5, atol=4 * eps)
    np.testing.assert_allclose(my_entropy, their_entropy, rtol=1e-5, atol=4 * eps)


@pytest.mark.torch
def test_a_tiny_scale_scores_its_location_where_pytorch_gives_nan(torch):
    """Normal(0, 1e-30).log_prob(0) is −ln σ − ½ln 2π = 68.16; PyTorch's σ² underflows in float32 and its 0/0 is NaN.
    Off the location both give −inf."""
    value = [0.0, 1.0]
    theirs = torch.distributions.Normal(0.0, torch.tensor([1e-30])).log_prob(torch.tensor(value))
    mine = gg.distributions.Normal(0.0, gg.tensor([1e-30])).log_prob(gg.tensor(value))
    assert math.isnan(theirs[0].item()) and theirs[1].item() == -math.inf
    np.testing.assert_allclose(mine[0].item(), -math.log(1e-30) - 0.5 * math.log(2 * math.pi), rtol=1e-6)
    assert mine[1].item() == -math.inf


@pytest.mark.torch
def test_poisson_score_at_rate_zero_has_the_derivative_minus_one(torch):
    """d/dλ of ln P(0) = −λ is −1 at λ = 0; PyTorch's xlogy gives 0/0 = NaN there (noted)."""
    rate = gg.tensor([0.0, 0.5], requires_grad=True)
    gg.distributions.Poisson(rate).log_prob(gg.tensor([0.0, 2.0])).sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), [-1.0, 3.0])
    theirs = torch.tensor([0.0, 0.5], requires_grad=True)
    torch.distributions.Poisson(theirs).log_prob(torch.tensor([0.0, 2.0])).sum().backward()
    assert math.isnan(theirs.grad[0].item()) and theirs.grad[1].item() == 3.0


KL_PAIRS = {
    "Normal_Laplace": lambda D, t: (D.Normal(t(2.0), t(3.0)), D.Laplace(t(0.0), t(1.0))),
    "Beta_Uniform": lambda D, t: (D.Beta(t(2.0), t(3.0)), D.Uniform(t(-1.0), t(1.0))),
    "Bernoulli_Poisson": lambda D, t: (D.Bernoulli(t(0.3)), D.Poisson(t(2.0))),
    "Binomial_Binomial": lambda D, t: (D.Binomial(5, t(0.3)), D.Binomial(4, t(0.6))),
    "Pareto_Gamma": lambda D, t: (D.Pareto(t(2.0), t(3.0)), D.Gamma(t(2.0), t(0.4))),
    "Uniform_Gumbel": lambda D, t: (D.Uniform(t(2.0), t(3.0)), D.Gumbel(t(1.0), t(0.6))),
    "MVN_LowRank": lambda D, t: (D.MultivariateNormal(t([0.0, 1.0]), t([[2.0, 0.5], [0.5, 1.0]])),
                                 D.LowRankMultivariateNormal(t([0.0, 0.0]), t([[1.0], [1.0]]), t([1.0, 2.0]))),
    "Independent_Independent": lambda D, t: (D.Independent(D.Normal(t([[0.0, 1.0]]), t(1.0)), 1),
                                             D.Independent(D.Normal(t([[1.0, 1.0]]), t(2.0)), 1)),
    "Transformed_Transformed": lambda D, t: (D.TransformedDistribution(D.Normal(t(0.0), t(1.0)), [D.ExpTransform()]),
                                             D.TransformedDistribution(D.Normal(t(1.0), t(2.0)), [D.ExpTransform()])),
    "Poisson_Poisson_zero": lambda D, t: (D.Poisson(t([2.0, 0.0])), D.Poisson(t([0.0, 2.0]))),
    "Geometric_Geometric_one": lambda D, t: (D.Geometric(t([1.0, 0.5])), D.Geometric(t([0.5, 1.0]))),
}


@pytest.mark.torch
@pytest.mark.parametrize("pair", sorted(KL_PAIRS))
def test_kl_of_registered_pairs_and_its_gradients_match_pytorch(torch, pair):
    results = []
    for lib in (torch, gg):
        leaves = []

        def tensor(v, lib=lib, leaves=leaves):
            leaves.append(lib.tensor(v, dtype=lib.float64, requires_grad=True))
            return leaves[-1]

        p, q = KL_PAIRS[pair](lib.distributions, tensor)
        kl = lib.distributions.kl_divergence(p, q)
        finite = kl[kl.isfinite()] if kl.dim() else kl
        grads = lib.autograd.grad(finite.sum(), leaves, allow_unused=True) if finite.requires_grad else ()
        results.append((kl.detach().numpy(), [None if g is None else g.numpy() for g in grads]))
    (theirs, their_grads), (mine, my_grads) = results
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
    # PyTorch's gradient of Beta's entropy is 1e-8 off (mpmath agrees with glassgrad's to 1e-15; noted)
    rtol = 1e-7 if pair.startswith("Beta") else 1e-10
    for g, h in zip(their_grads, my_grads):
        if g is not None and h is not None:
            np.testing.assert_allclose(h, g, rtol=rtol, atol=1e-14)


UNREGISTERED = {
    "VonMises_VonMises": lambda D, L: (D.VonMises(0.0, 1.0), D.VonMises(1.0, 2.0)),
    "StudentT_StudentT": lambda D, L: (D.StudentT(2.0), D.StudentT(3.0)),
    "Independent_Normal": lambda D, L: (D.Independent(D.Normal(L.zeros(2, 3), 1.0), 1), D.Normal(0.0, 1.0)),
    "Independent_ndims": lambda D, L: (D.Independent(D.Normal(L.zeros(2, 3), 1.0), 1),
                                       D.Independent(D.Normal(L.zeros(2, 3), 1.0), 2)),
    "Mixture_Normal": lambda D, L: (D.MixtureSameFamily(D.Categorical(L.ones(2)), D.Normal(L.zeros(2), 1.0)),
                                    D.Normal(0.0, 1.0)),
    "Binomial_more_trials": lambda D, L: (D.Binomial(3, L.tensor(0.3)), D.Binomial(4, L.tensor(0.6))),
    "Transformed_other": lambda D, L: (D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform()]),
                                       D.TransformedDistribution(D.Normal(1.0, 2.0), [D.SigmoidTransform()])),
}


@pytest.mark.torch
@pytest.mark.parametrize("pair", sorted(UNREGISTERED))
def test_kl_pairs_pytorch_refuses_raise_not_implemented_in_one_line(torch, pair):
    with pytest.raises(NotImplementedError):
        torch.distributions.kl_divergence(*UNREGISTERED[pair](torch.distributions, torch))
    with pytest.raises(NotImplementedError) as caught:
        gg.distributions.kl_divergence(*UNREGISTERED[pair](gg.distributions, gg))
    assert "\n" not in str(caught.value) and str(caught.value)


@pytest.mark.torch
def test_kl_of_a_continuous_bernoulli_to_a_uniform_from_zero_is_finite_where_pytorchs_is_infinite(torch):
    """Uniform(0, 2) covers [0, 1], so KL = −H(p) + ln 2; PyTorch tests q.low ≥ 0 (not > 0) and answers +∞ (noted).
    Inside [0, 1] (q.low > 0) both answer +∞."""
    D, T = gg.distributions, torch.distributions
    mine = D.kl_divergence(D.ContinuousBernoulli(0.3), D.Uniform(0.0, 2.0)).item()
    np.testing.assert_allclose(mine, -D.ContinuousBernoulli(0.3).entropy().item() + math.log(2.0), rtol=1e-6)
    assert T.kl_divergence(T.ContinuousBernoulli(0.3), T.Uniform(0.0, 2.0)).item() == math.inf
    assert D.kl_divergence(D.ContinuousBernoulli(0.3), D.Uniform(0.2, 0.9)).item() == math.inf


def _composite(D, t):
    return {
        "Independent": D.Independent(D.Normal(t(np.zeros((2, 3))), t(np.ones((2, 3)))), 1),
        "Independent_0d": D.Independent(D.Normal(t(np.zeros(3)), t(1.0)), 1),
        "Transformed": D.TransformedDistribution(D.Normal(t(np.zeros((2, 3))), t(1.0)), [D.StickBreakingTransform()]),
        "Transformed_reshape": D.TransformedDistribution(D.Independent(D.Normal(t(np.zeros((2, 6))), t(1.0)), 1),
                                                         [D.ReshapeTransform((6,), (2, 3))]),
        "Transformed_affine": D.TransformedDistribution(D.Normal(t(0.0), t(1.0)),
                                                        [D.ExpTransform(), D.AffineTransform(t(np.ones(2)), t(2.0))]),
        "Mixture": D.MixtureSameFamily(D.Categorical(logits=t(np.zeros((2, 3)))),
                                       D.Normal(t(np.zeros((2, 3))), t(1.0))),
        "Mixture_vector": D.MixtureSameFamily(D.Categorical(logits=t(np.zeros(3))),
                                              D.Independent(D.Normal(t(np.zeros((3, 2))), t(1.0)), 1)),
        "MultivariateNormal_0d": D.MultivariateNormal(t(np.zeros(2)), scale_tril=t(np.eye(2))),
    }


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(_composite(gg.distributions, gg.tensor)))
def test_composite_distributions_have_pytorchs_shapes_draws_and_scores(torch, name):
    shapes, scores = [], []
    for lib in (torch, gg):
        d = _composite(lib.distributions, lambda v, lib=lib: lib.tensor(np.asarray(v), dtype=lib.float64))[name]
        expanded = d.expand((4, *d.batch_shape))
        row = [tuple(d.batch_shape), tuple(d.event_shape), d.has_rsample, tuple(expanded.batch_shape)]
        row += [tuple(d.sample(shape).shape) for shape in [(), (3,), (2, 3)]]
        row += [tuple(expanded.sample((2,)).shape)]
        if d.has_rsample:
            row += [tuple(d.rsample((2, 3)).shape)]
        shapes.append(row)
        draw = d.sample((2,)).numpy() if lib is torch else scores[0][0]
        scores.append((draw, d.log_prob(lib.tensor(draw)).numpy()))
    assert shapes[0] == shapes[1]
    np.testing.assert_allclose(scores[1][1], scores[0][1], rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name, parameters, value", [
    ("Exponential", (1.0,), -1.0), ("Beta", (2.0, 2.0), 1.1), ("Uniform", (0.0, 1.0), 1.5),
    ("Poisson", (2.0,), 0.5), ("Bernoulli", (0.3,), 0.5), ("Binomial", (3.0, 0.3), 4.0),
    ("Gamma", (2.0, 1.0), -1.0),
])
def test_values_outside_the_support_raise_value_error_and_validate_args_false_scores_them(torch, name, parameters,
                                                                                            value):
    def score(lib, **options):
        d = getattr(lib.distributions, name)(*(lib.tensor(p, dtype=lib.float64) for p in parameters), **options)
        return d.log_prob(lib.tensor([value], dtype=lib.float64))

    with pytest.raises(ValueError):
        score(torch)
    with pytest.raises(ValueError, match="support") as caught:
        score(gg)
    assert "\n" not in str(caught.value)
    theirs, mine = score(torch, validate_args=False).numpy(), score(gg, validate_args=False).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name, parameters", [
    ("Normal", (0.0, -1.0)), ("Normal", (math.nan, 1.0)), ("Exponential", (0.0,)), ("Gamma", (0.0, 1.0)),
    ("Beta", (2.0, -1.0)), ("Bernoulli", (1.5,)), ("Geometric", (0.0,)), ("Poisson", (-1.0,)),
    ("Binomial", (2.5, 0.3)), ("Uniform", (1.0, 0.0)), ("VonMises", (0.0, 0.0)),
])
def test_parameters_out_of_range_raise_value_error_unless_validate_args_is_false(torch, name, parameters):
    def make(lib, **options):
        return getattr(lib.distributions, name)(*(lib.tensor(p) for p in parameters), **options)

    with pytest.raises(ValueError):
        make(torch)
    with pytest.raises(ValueError) as caught:
        make(gg)
    assert "\n" not in str(caught.value)
    assert make(gg, validate_args=False).batch_shape == make(torch, validate_args=False).batch_shape == ()
