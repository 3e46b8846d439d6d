"""Programs written the way probabilistic and scientific machine learning courses write their PyTorch (Gaussian-process
regression from scratch with Cholesky solves and fitted hyperparameters, RealNVP and planar normalizing flows,
variational inference with the reparameterization trick and a Gumbel-softmax, a mixture density network, EM for a
Gaussian mixture and k-means, PCA four ways and probabilistic PCA, a neural ODE through a hand-written RK4, a
Hamiltonian network and a Hamiltonian Monte Carlo step, a Kalman filter and smoother, Bayesian logistic regression
with a Laplace approximation, a hidden Markov model in log space, SVGD, HMC over a network's weights, last-layer
Laplace, SWAG and a deep ensemble), each run unchanged under PyTorch 2.13 and under glassgrad (``import torch`` giving
glassgrad), with the same numbers (rtol 1e-9 in float64) and the same warnings. Weights, data and noise come from
NumPy so both start alike; random draws are compared only by shape.

The programs live in ``tests/learner_programs/probml/``; below them, what glassgrad once did differently."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

PROBML_PROGRAMS = Path(__file__).parent / "learner_programs" / "probml"
PROGRAMS = sorted(PROBML_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_probabilistic_ml_course_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program, same_warnings=True)


def _outcome(call):
    """What a call gives: its shape, or the type of what it raised."""
    try:
        return tuple(call().shape)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


def _score(library, family, batch, value_shape):
    distributions = library.distributions
    n = batch[-1] if batch else 1
    made = {"Normal": lambda: distributions.Normal(library.zeros(batch), library.ones(batch)),
            "Bernoulli": lambda: distributions.Bernoulli(probs=library.full(batch, 0.3)),
            "Categorical": lambda: distributions.Categorical(logits=library.zeros(*batch, 3)),
            "MultivariateNormal": lambda: distributions.MultivariateNormal(library.zeros(n), library.eye(n)),
            "Independent": lambda: distributions.Independent(
                distributions.Normal(library.zeros(batch), library.ones(batch)), min(len(batch), 1))}[family]()
    value = library.zeros(value_shape, dtype=library.long if family == "Categorical" else library.float32)
    return _outcome(lambda: made.log_prob(value))


@pytest.mark.torch
@given(family=st.sampled_from(["Normal", "Bernoulli", "Categorical", "MultivariateNormal", "Independent"]),
       batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       value_shape=st.lists(st.integers(1, 4), min_size=0, max_size=3))
def test_log_prob_of_a_value_of_the_wrong_shape_is_refused_as_pytorch(family, batch, value_shape, torch):
    """``Normal(mu, sigma).log_prob(y)`` with y of a shape that does not broadcast with the batch (targets (N,)
    scored by a batch of (D,) means) raises ValueError in PyTorch ("Value is not broadcastable with
    batch_shape+event_shape"); glassgrad raised the RuntimeError of the subtraction inside the formula, and
    ``MultivariateNormal(zeros(3), eye(3)).log_prob(zeros(4, 1))`` (a value whose last dim is not the event's)
    silently broadcast the 1 and gave four numbers. Now the same ValueError, in one line naming both shapes; where
    PyTorch scores the value, the shapes agree."""
    shapes = (tuple(batch), tuple(value_shape))
    assert _score(gg, family, *shapes) == _score(torch, family, *shapes)


def test_a_value_that_does_not_fit_names_both_shapes():
    with pytest.raises(ValueError, match=r"Normal.log_prob: a value of shape \(3,\) is not broadcastable with "
                                         r"batch_shape \+ event_shape \(2,\)"):
        gg.distributions.Normal(gg.zeros(2), gg.ones(2)).log_prob(gg.zeros(3))
    with pytest.raises(ValueError, match=r"right-most size of value must match event_shape \(3,\)"):
        gg.distributions.MultivariateNormal(gg.zeros(3), gg.eye(3)).log_prob(gg.zeros(4, 1))
    unchecked = gg.distributions.Normal(gg.zeros(2), gg.ones(2), validate_args=False)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):  # the formula's own error, as PyTorch's
        unchecked.log_prob(gg.zeros(3))


def _sample_n(library, n):
    d = library.distributions.Normal(library.zeros(2), library.ones(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = d.sample_n(n)
    return tuple(drawn.shape), [w.category for w in caught], d.perplexity().tolist()


@pytest.mark.torch
@given(n=st.integers(1, 4))
def test_sample_n_and_perplexity_as_in_pytorch(n, torch):
    """``q.sample_n(n)`` (older VAE and policy-gradient code) and ``d.perplexity()`` exist in PyTorch; glassgrad had
    neither (AttributeError). Now ``sample_n`` draws ``sample((n,))`` with PyTorch's FutureWarning, and
    ``perplexity`` is ``exp(entropy)``."""
    mine, theirs = _sample_n(gg, n), _sample_n(torch, n)
    assert mine[:2] == theirs[:2]
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-6)


def _pca_outcome(library, shape, q):
    x = library.tensor(np.random.default_rng(0).normal(size=shape))
    return _outcome(lambda: library.pca_lowrank(x, q=q)[1])


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=3), q=st.integers(0, 7))
def test_pca_lowrank_refuses_more_components_than_the_matrix_has(shape, q, torch):
    """``torch.pca_lowrank(X, q=10)`` of a matrix with 4 columns raises ValueError in PyTorch ("q(=10) must be
    non-negative integer and not greater than min(m, n)=4"); glassgrad returned 4 components as if q were 4.
    Where PyTorch answers, the shapes agree."""
    assert _pca_outcome(gg, tuple(shape), q) == _pca_outcome(torch, tuple(shape), q)


OLD_MATRIX_CALLS = {
    "cholesky": lambda lib, a: lib.cholesky(a @ a.mT + lib.eye(3)),
    "Tensor.cholesky": lambda lib, a: (a @ a.mT + lib.eye(3)).cholesky(upper=True),
    "qr": lambda lib, a: lib.qr(a)[1].abs(),
    "Tensor.qr": lambda lib, a: a.qr(some=False)[1].abs(),
    "lu": lambda lib, a: lib.lu(a)[0],
    "lu_solve": lambda lib, a: lib.lu_solve(lib.eye(3, dtype=a.dtype), *lib.linalg.lu_factor(a)),
    "triangular_solve": lambda lib, a: lib.triangular_solve(a, lib.tril(a) + 3 * lib.eye(3), upper=False)[0],
    "chain_matmul": lambda lib, a: lib.chain_matmul(a, a, a),
}


def _old_matrix_call(library, spelling):
    a = library.tensor(np.random.default_rng(1).normal(size=(3, 3)))
    library.set_warn_always(True)  # PyTorch warns once in a process; each spelling is checked on its own here
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            answer = OLD_MATRIX_CALLS[spelling](library, a)
    finally:
        library.set_warn_always(False)
    return answer.tolist(), [(w.category, str(w.message).partition(" is deprecated")[:2], w.filename) for w in caught]


@pytest.mark.torch
@pytest.mark.parametrize("spelling", sorted(OLD_MATRIX_CALLS))
def test_matrix_functions_from_before_torch_linalg_warn_as_pytorch(spelling, torch):
    """Older GP and Kalman-filter notebooks write ``L = torch.cholesky(K)``, ``torch.triangular_solve(y, L)``,
    ``torch.qr``, ``torch.lu``/``torch.lu_solve`` and ``torch.chain_matmul``: PyTorch 2 runs them and warns (a
    UserWarning, once in a process) that each is deprecated in favor of its ``torch.linalg`` replacement.
    glassgrad ran them silently; now the same warning, at the learner's line, naming the replacement and how to
    write the call with it, and the same numbers."""
    (mine, ours), (theirs, pytorchs) = (_old_matrix_call(library, spelling) for library in (gg, torch))
    np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    name = f"torch.{spelling.removeprefix('Tensor.')}"
    assert [warning[:2] for warning in ours] == [(UserWarning, (name, " is deprecated"))] == [
        warning[:2] for warning in pytorchs]
    assert ours[0][2] == __file__


def test_an_old_matrix_function_warns_once_in_a_process():
    a = gg.eye(2) * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            gg.cholesky(a)
    assert len([w for w in caught if "torch.cholesky is deprecated" in str(w.message)]) <= 1
    assert "torch.linalg.cholesky(A).mH" in gg.linalg_lu.REPLACED_BY_LINALG["cholesky"][1]


VALUE_KINDS = {"float": lambda library: 0.5, "list": lambda library: [0.5, 0.1], "int": lambda library: 1,
               "numpy": lambda library: np.array([0.5, 0.1]), "tensor": lambda library: library.tensor([0.5, 0.1])}


def _scored(library, family, kind, validate_args):
    distributions = library.distributions
    made = {"Normal": lambda: distributions.Normal(library.zeros(2), library.ones(2), validate_args=validate_args),
            "Beta": lambda: distributions.Beta(library.ones(2), library.ones(2), validate_args=validate_args),
            "MultivariateNormal": lambda: distributions.MultivariateNormal(
                library.zeros(2), library.eye(2), validate_args=validate_args)}[family]()
    return _outcome(lambda: made.log_prob(VALUE_KINDS[kind](library)))


@pytest.mark.torch
@given(family=st.sampled_from(["Normal", "Beta", "MultivariateNormal"]), kind=st.sampled_from(sorted(VALUE_KINDS)),
       validate_args=st.sampled_from([None, True, False]))
def test_log_prob_of_a_number_or_a_list_is_refused_as_pytorch(family, kind, validate_args, torch):
    """``Normal(mu, sigma).log_prob(0.5)`` (or of a list, or a NumPy array) raises ValueError in PyTorch ("The value
    argument to log_prob must be a Tensor") while it checks its arguments; glassgrad scored it. Now the same
    refusal, naming the fix. (With ``validate_args=False`` what a number gives is left to each library's
    arithmetic; a tensor is scored by both.)"""
    assume(validate_args is not False or kind == "tensor")
    assert _scored(gg, family, kind, validate_args) == _scored(torch, family, kind, validate_args)


def _unchecked(library, default):
    distributions = library.distributions
    distributions.Distribution.set_default_validate_args(default)
    try:
        outcomes = [_outcome(lambda: distributions.Normal(library.zeros(2), library.tensor([1.0, -1.0]))),
                    _outcome(lambda: distributions.Uniform(0.0, 1.0).log_prob(library.tensor([2.0]))),
                    _outcome(lambda: distributions.Normal(0.0, 1.0).log_prob(library.tensor(float("nan")))),
                    _outcome(lambda: distributions.Normal(0.0, 1.0, validate_args=True).log_prob(library.zeros(1)))]
    finally:
        distributions.Distribution.set_default_validate_args(True)
    return outcomes


@pytest.mark.torch
@given(default=st.booleans())
def test_set_default_validate_args_switches_the_checks_as_in_pytorch(default, torch):
    """``torch.distributions.Distribution.set_default_validate_args(False)`` (probabilistic-programming notebooks
    turn the checks off for speed) raised AttributeError in glassgrad; now it switches every distribution made
    afterwards with ``validate_args=None``, as in PyTorch: a negative scale, a value outside the support and a NaN
    value are scored instead of refused, while ``validate_args=True`` still checks."""
    assert _unchecked(gg, default) == _unchecked(torch, default)
    with pytest.raises(ValueError, match="expected True or False"):
        gg.distributions.Distribution.set_default_validate_args("no")


@pytest.mark.torch
@given(alpha=st.floats(0.2, 40.0), rate=st.floats(0.3, 3.0), n=st.integers(1, 6), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float64", "float32"]))
def test_gamma_rsample_carries_the_implicit_gradient(alpha, rate, n, seed, dtype, torch):
    """``Gamma(a, b).rsample()`` (a VAE with a gamma or Dirichlet latent, a Student-t likelihood, a hierarchical
    model's variance) works in PyTorch, with the implicit gradient ``∂g/∂α = −(∂P/∂α)/p(g)`` of a standard gamma
    draw held at its quantile; glassgrad refused every rsample of Gamma, Chi2, Beta, Dirichlet, StudentT,
    InverseGamma and FisherSnedecor (NotImplementedError), even with no gradient asked. Now each draws, and the
    gradient at each draw is the derivative of SciPy's quantile function (finite differences, rtol 2e-6) and
    PyTorch's ``_standard_gamma_grad`` there (to its approximation, about 1e-3); in the rate it is ``−x/β``. In
    float32 (the default dtype) too: its difference quotient was taken in float32, 2e-5 to 2e-4 off."""
    from scipy import special

    gg.manual_seed(seed)
    concentration = gg.full((n,), alpha, dtype=getattr(gg, dtype), requires_grad=True)
    rate_t = gg.tensor(rate, dtype=getattr(gg, dtype), requires_grad=True)
    alpha, rate = concentration[0].item(), rate_t.item()  # as rounded to the dtype
    x = gg.distributions.Gamma(concentration, rate_t).rsample()
    x.sum().backward()
    draws = x.detach().numpy().astype(np.float64) * rate
    level, step = special.gammainc(alpha, draws), 1e-4 * alpha
    quantile_slope = (special.gammaincinv(alpha + step, level) - special.gammaincinv(alpha - step, level)) / (2 * step)
    upper = special.gammaincc(alpha, draws)
    upper_slope = (special.gammainccinv(alpha + step, upper) - special.gammainccinv(alpha - step, upper)) / (2 * step)
    expected = np.where(draws > alpha, upper_slope, quantile_slope) / rate
    np.testing.assert_allclose(concentration.grad.numpy(), expected, rtol=2e-6)
    pytorchs = torch._standard_gamma_grad(torch.tensor(np.full(n, alpha)), torch.tensor(draws)).numpy() / rate
    np.testing.assert_allclose(concentration.grad.numpy(), pytorchs, rtol=5e-3)
    exact = 1e-12 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(rate_t.grad.item(), -(draws / rate ** 2).sum(), rtol=exact)


GAMMA_DRAWN = {
    "Beta": (lambda D, p: D.Beta(p[0], p[1]), lambda p: p[0] / (p[0] + p[1]), [1.5, 2.5]),
    "Dirichlet": (lambda D, p: D.Dirichlet(p), lambda p: p[0] / p.sum(), [0.7, 2.0, 3.0]),
    "Chi2": (lambda D, p: D.Chi2(p[0]), lambda p: p[0], [3.0]),
    "StudentT": (lambda D, p: D.StudentT(p[0], p[1], p[2]), lambda p: p[1], [6.0, 0.5, 2.0]),
    "InverseGamma": (lambda D, p: D.InverseGamma(p[0], p[1]), lambda p: p[1] / (p[0] - 1), [4.0, 3.0]),
    "FisherSnedecor": (lambda D, p: D.FisherSnedecor(p[0], p[1]), lambda p: p[1] / (p[1] - 2), [5.0, 9.0]),
}


@pytest.mark.torch
@pytest.mark.parametrize("family", sorted(GAMMA_DRAWN))
def test_a_gamma_drawn_rsample_is_an_unbiased_gradient_of_the_mean(family, torch):
    """The pathwise gradient is unbiased: the average over many rsample draws of ``∂x₀/∂θ`` is ``∂E[x₀]/∂θ``, the
    derivative of the mean worked out by hand (``a/(a + b)`` for Beta, ``αᵢ/α₀`` for Dirichlet, ν for Chi2, μ for
    StudentT, ``β/(α − 1)`` for InverseGamma, ``d₂/(d₂ − 2)`` for FisherSnedecor), taken here by PyTorch's autograd.
    glassgrad refused these rsamples; now they agree within four standard errors of 40000 draws."""
    build, mean, values = GAMMA_DRAWN[family]
    gg.manual_seed(5)
    params = gg.tensor(values, dtype=gg.float64, requires_grad=True)
    batches = []  # the gradient of the mean of 4000 draws, ten times: their spread is the standard error's
    for _ in range(10):
        draws = build(gg.distributions, params).rsample((4000,))
        first = draws[..., 0] if draws.ndim > 1 else draws
        batches.append(gg.autograd.grad(first.mean(), params)[0].numpy())
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    mean(theirs).backward()
    batches = np.stack(batches)
    spread = 4 * batches.std(0, ddof=1) / np.sqrt(len(batches)) + 1e-12
    assert np.all(np.abs(batches.mean(0) - theirs.grad.numpy()) <= spread), (batches.mean(0), theirs.grad, spread)
    assert draws.requires_grad and not build(gg.distributions, params).sample((2,)).requires_grad


def _shared_distributions(torch):
    import inspect

    def shape_dependent(name):  # Wishart's and Uniform's constraints depend on their parameters: compared in own tests
        return isinstance(inspect.getattr_static(getattr(torch.distributions, name), "arg_constraints", None), property)

    return sorted(name for name in dir(torch.distributions) if name != "Distribution"
                  and inspect.isclass(getattr(torch.distributions, name)) and not shape_dependent(name)
                  and issubclass(getattr(torch.distributions, name), torch.distributions.Distribution)
                  and hasattr(gg.distributions, name))


@pytest.mark.torch
def test_every_distribution_names_its_arg_constraints_as_pytorch(torch):
    """``for name, constraint in d.arg_constraints.items()`` (a custom distribution's lesson, a parameter checked
    against its constraint, ``biject_to(constraint)`` to make an unconstrained parameter) raised AttributeError in
    glassgrad for Normal, Categorical, Bernoulli, MultivariateNormal and most others; now each class has PyTorch's
    dict, the same constraints by name ({} for the wrappers Independent, MixtureSameFamily and
    TransformedDistribution)."""
    names = _shared_distributions(torch)
    assert len(names) > 30
    for name in names:
        theirs = getattr(torch.distributions, name).arg_constraints
        ours = getattr(gg.distributions, name).arg_constraints
        assert {key: repr(c) for key, c in ours.items()} == {key: repr(c) for key, c in theirs.items()}, name


def _utils_results(library, values, is_binary, diag):
    utils = importlib.import_module(f"{library.__name__}.distributions.utils")
    x = library.tensor(values, dtype=library.float64, requires_grad=True)
    probs = x.sigmoid()
    answers = [utils.logits_to_probs(x, is_binary=is_binary), utils.probs_to_logits(probs, is_binary=is_binary),
               utils.clamp_probs(library.tensor(values).clamp(0, 1)), *utils.broadcast_all(x[..., :1], 2.0)]
    square = x[..., :1, None] * x[..., None, :1] + library.eye(3, dtype=library.float64)  # (…, 3, 3)
    try:
        vec = utils.tril_matrix_to_vec(square, diag)
        answers += [vec, utils.vec_to_tril_matrix(vec, diag)]
    except ValueError as error:
        answers.append(type(error))
    total = sum(a.sum() for a in answers if not isinstance(a, type))
    gradient = library.autograd.grad(total, x)[0]
    numbers = [a if isinstance(a, type) else a.detach().numpy() for a in answers]
    return numbers + [gradient.numpy()], utils.euler_constant


@pytest.mark.torch
@given(values=st.lists(st.floats(-4, 4), min_size=1, max_size=4).map(lambda row: [row, row[::-1]]),
       is_binary=st.booleans(), diag=st.integers(-4, 3))
def test_distributions_utils_are_pytorchs(values, is_binary, diag, torch):
    """``from torch.distributions.utils import probs_to_logits, logits_to_probs, clamp_probs`` (Gumbel-softmax and
    relaxed-Bernoulli code, custom distributions with ``broadcast_all`` and ``lazy_property``) failed on glassgrad
    with "no counterpart of torch.distributions.utils". Now the module exists, with PyTorch's numbers and gradients
    (and its refusal of a diagonal outside the matrix), and Bernoulli, Binomial, ContinuousBernoulli and the relaxed
    Bernoulli read their log-odds and clamp from it."""
    (mine, gamma), (theirs, their_gamma) = (_utils_results(library, values, is_binary, diag) for library in (gg, torch))
    assert gamma == their_gamma and len(mine) == len(theirs)
    for ours, pytorchs in zip(mine, theirs):
        if isinstance(pytorchs, type):
            assert ours is pytorchs
        else:
            np.testing.assert_allclose(ours, pytorchs, rtol=1e-12, atol=1e-15)


def test_lazy_property_computes_once_with_gradients():
    from glassgrad.distributions.utils import lazy_property

    calls = []

    class Scaled:
        def __init__(self, weight):
            self.weight = weight

        @lazy_property
        def doubled(self):
            calls.append(1)
            return self.weight * 2

    made = Scaled(gg.tensor(1.5, requires_grad=True))
    with gg.no_grad():
        first = made.doubled
    assert first.requires_grad and made.doubled is first and len(calls) == 1
    assert isinstance(Scaled.doubled, lazy_property)


def _log_space_forward(library, scores, dim):
    x = library.tensor(scores, dtype=library.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        total = x.logsumexp(dim)
        total.sum().backward()
    return total.detach().numpy(), x.grad.numpy(), [str(w.message) for w in caught]


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), dim=st.integers(-1, 0), seed=st.integers(0, 99))
def test_logsumexp_of_impossible_states_is_minus_infinity_without_warnings(shape, dim, seed, torch):
    """An HMM's forward algorithm in log space (``alpha = torch.logsumexp(alpha[:, None] + log_A, 0) + log_B``)
    meets rows whose every entry is ``-inf`` (a state that cannot be reached): PyTorch gives ``-inf`` silently
    (and a NaN gradient there). glassgrad gave the same numbers with NumPy's "invalid value encountered in
    divide" RuntimeWarning from inside its logsumexp, even with no gradient asked; now silent, as PyTorch."""
    rng = np.random.default_rng(seed)
    scores = np.where(rng.random(shape) < 0.5, -np.inf, rng.normal(size=shape))
    (value, grad, caught), (their_value, their_grad, theirs) = (_log_space_forward(library, scores, dim)
                                                                for library in (gg, torch))
    np.testing.assert_allclose(value, their_value, rtol=1e-12)
    np.testing.assert_allclose(grad, their_grad, rtol=1e-12)
    assert caught == theirs == []


def _masked_policy(library, weights, other, given, action):
    distributions = library.distributions
    raw = library.tensor(weights, dtype=library.float64, requires_grad=True)
    if given == "probs":
        d = distributions.Categorical(probs=raw)
    else:
        d = distributions.Categorical(logits=raw.log())  # ln 0 = −inf for a masked action
    q = distributions.Categorical(probs=library.tensor(other, dtype=library.float64))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        numbers = [d.logits, d.log_prob(library.tensor(action)), d.entropy(), distributions.kl_divergence(d, q),
                   distributions.kl_divergence(q, d)]
        total = numbers[1] + numbers[2]
        total.backward()
    return [n.detach().numpy() for n in numbers] + [raw.grad.numpy()], [str(w.message) for w in caught]


@pytest.mark.torch
@given(weights=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=2, max_size=5).filter(any),
       other=st.lists(st.sampled_from([0.0, 1.0, 3.0]), min_size=5, max_size=5).filter(any),
       given=st.sampled_from(["probs", "logits"]), seed=st.integers(0, 9))
def test_a_categorical_with_an_impossible_class_gives_pytorchs_numbers_and_gradients(weights, other, given, seed,
                                                                                       torch):
    """``Categorical(probs=probs * mask / (probs * mask).sum())`` (a policy over legal moves only, a mixture with a
    dead component) has classes of probability 0. PyTorch reads their logits as ``ln eps`` (-36.04 in float64), so
    ``entropy()``, ``log_prob`` of a legal class and their gradients stay finite; glassgrad made those logits -inf,
    and the gradient of ``log_prob + entropy`` in the probabilities was NaN in every entry. The KL from a
    distribution to one with a class of probability 0 that it can draw is +inf, as PyTorch's. Now the same numbers
    and gradients, without NumPy's warnings (logits of -inf given directly included)."""
    rng = np.random.default_rng(seed)
    action = int(rng.choice(np.flatnonzero(weights)))
    other = other[:len(weights)] if any(other[:len(weights)]) else [1.0] * len(weights)
    (mine, ours), (theirs, pytorchs) = (_masked_policy(library, weights, other, given, action)
                                        for library in (gg, torch))
    for number, pytorch_number in zip(mine, theirs):  # a KL of equal distributions: 0 here, 2e-16 there
        np.testing.assert_allclose(number, pytorch_number, rtol=1e-10, atol=1e-14)
    assert ours == pytorchs == []


MIXED_SOLVES = {
    "linalg.solve": lambda lib, matrix, rhs: lib.linalg.solve(matrix, rhs),
    "linalg.solve_ex": lambda lib, matrix, rhs: lib.linalg.solve_ex(matrix, rhs)[0],
    "cholesky_solve": lambda lib, matrix, rhs: lib.cholesky_solve(rhs, lib.linalg.cholesky(matrix)),
    "lstsq": lambda lib, matrix, rhs: lib.linalg.lstsq(matrix, rhs).solution,
    "lu_solve": lambda lib, matrix, rhs: lib.linalg.lu_solve(*lib.linalg.lu_factor(matrix), rhs),
}


def _solved(library, name, matrix_dtype, rhs_dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    matrix = library.tensor(a @ a.T + 3 * np.eye(3), dtype=getattr(library, matrix_dtype))
    rhs = library.tensor(rng.normal(size=(3, 2)), dtype=getattr(library, rhs_dtype))
    try:
        return str(MIXED_SOLVES[name](library, matrix, rhs).dtype).removeprefix("torch.")
    except RuntimeError as error:
        return type(error), str(error)


@pytest.mark.torch
@given(name=st.sampled_from(sorted(MIXED_SOLVES)), matrix_dtype=st.sampled_from(["float32", "float64"]),
       rhs_dtype=st.sampled_from(["float32", "float64"]))
def test_solving_with_two_dtypes_is_refused_as_pytorch(name, matrix_dtype, rhs_dtype, torch):
    """A GP notebook's kernel matrix in float32 (``torch.exp`` of a default-dtype tensor) and targets in float64
    (``torch.from_numpy(y)``): ``torch.cholesky_solve(y, L)`` and ``torch.linalg.solve(K, y)`` raise RuntimeError
    in PyTorch ("Expected b and A to have the same dtype"); glassgrad promoted both to float64 silently. Now the
    same refusal, naming both dtypes and the conversion, from one check that lstsq and lu_solve use too."""
    ours, theirs = _solved(gg, name, matrix_dtype, rhs_dtype), _solved(torch, name, matrix_dtype, rhs_dtype)
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and ours[0] is RuntimeError
        assert f"is {matrix_dtype} and B is {rhs_dtype}; give both the same dtype" in ours[1]
    else:
        assert ours == theirs


SVD_USERS = {
    "linalg.svd": lambda lib, x: lib.linalg.svd(x, full_matrices=False)[1],
    "svdvals": lambda lib, x: lib.linalg.svdvals(x),
    "pinv": lambda lib, x: lib.linalg.pinv(x),
    "matrix_rank": lambda lib, x: lib.linalg.matrix_rank(x),
    "matrix_norm 2": lambda lib, x: lib.linalg.matrix_norm(x, 2),
    "pca_lowrank": lambda lib, x: lib.pca_lowrank(x, q=1)[1],
    "torch.svd": lambda lib, x: lib.svd(x)[1],
}


def _decomposed(library, name, shape, where):
    x = np.random.default_rng(3).normal(size=shape)
    x[where % shape[0], where % shape[1]] = np.nan
    try:
        SVD_USERS[name](library, library.tensor(x))
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return isinstance(error, RuntimeError), isinstance(error, library.linalg.LinAlgError)
    return "answered"


@pytest.mark.torch
@given(name=st.sampled_from(sorted(SVD_USERS)), shape=st.tuples(st.integers(2, 4), st.integers(2, 4)),
       where=st.integers(0, 15))
def test_an_svd_of_a_matrix_with_nan_raises_pytorchs_linalg_error(name, shape, where, torch):
    """PCA of data with a missing value (a NaN from a division by zero upstream) raises ``torch.linalg.LinAlgError``
    (a RuntimeError) in PyTorch: "The algorithm failed to converge because the input matrix contained non-finite
    values". glassgrad let NumPy's LinAlgError through ("SVD did not converge"), a ValueError that ``except
    RuntimeError`` and ``except torch.linalg.LinAlgError`` do not catch. Now glassgrad's LinAlgError, saying why,
    from every function built on the SVD."""
    assert _decomposed(gg, name, shape, where) == _decomposed(torch, name, shape, where)
    with pytest.raises(gg.linalg.LinAlgError, match="failed to converge because the matrix has NaN or inf"):
        gg.linalg.svdvals(gg.tensor([[1.0, float("nan")], [0.0, 1.0]]))


INTEGER_MATRIX_CALLS = {
    "cholesky": lambda lib, a: lib.linalg.cholesky(a), "eigh": lambda lib, a: lib.linalg.eigh(a),
    "eigvalsh": lambda lib, a: lib.linalg.eigvalsh(a), "svd": lambda lib, a: lib.linalg.svd(a),
    "qr": lambda lib, a: lib.linalg.qr(a), "lu": lambda lib, a: lib.linalg.lu(a),
    "lu_factor": lambda lib, a: lib.linalg.lu_factor(a), "pinv": lambda lib, a: lib.linalg.pinv(a),
    "solve_triangular": lambda lib, a: lib.linalg.solve_triangular(a, a, upper=True),
    "cholesky_solve": lambda lib, a: lib.cholesky_solve(a, a),
    "cholesky_inverse": lambda lib, a: lib.cholesky_inverse(a),
    "inv_ex": lambda lib, a: lib.linalg.inv_ex(a), "matrix_rank": lambda lib, a: lib.linalg.matrix_rank(a),
}


def _integer_matrix_error(library, name, dtype):
    try:
        INTEGER_MATRIX_CALLS[name](library, library.eye(3, dtype=getattr(library, dtype)) * 2)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error).__name__.replace("_LinAlgError", "RuntimeError")
    return "answered"


@pytest.mark.torch
@given(name=st.sampled_from(sorted(INTEGER_MATRIX_CALLS)), dtype=st.sampled_from(["int64", "int32", "uint8"]))
def test_a_decomposition_of_an_integer_matrix_fails_with_pytorchs_error_type(name, dtype, torch):
    """``torch.linalg.eigh(torch.tensor([[2, 1], [1, 2]]))`` (a covariance typed from whole numbers) raises
    NotImplementedError in PyTorch ("linalg_eigh_cpu" not implemented for 'Long'), as do eigvalsh, the LU and
    triangular solves and cholesky_solve/cholesky_inverse, where cholesky, svd, qr … raise RuntimeError ("Expected
    a floating point tensor"). glassgrad raised RuntimeError for all; now each the type PyTorch raises (the message
    still naming the fix, ``.double()``)."""
    assert _integer_matrix_error(gg, name, dtype) == _integer_matrix_error(torch, name, dtype)


def _transform_calls(library):
    functional = library.autograd.functional
    square, total = (lambda x: x ** 2), (lambda x: (x ** 2).sum())
    return {"func.grad": lambda x: library.func.grad(total)(x), "func.jacrev": lambda x: library.func.jacrev(square)(x),
            "func.jacfwd": lambda x: library.func.jacfwd(square)(x), "func.vjp": lambda x: library.func.vjp(square, x),
            "func.jvp": lambda x: library.func.jvp(square, (x,), (x,)),
            "func.hessian": lambda x: library.func.hessian(total)(x),
            "func.grad_and_value": lambda x: library.func.grad_and_value(total)(x),
            "functional.jacobian": lambda x: functional.jacobian(square, x),
            "functional.hessian": lambda x: functional.hessian(total, x),
            "functional.vjp": lambda x: functional.vjp(square, x, x),
            "functional.jvp": lambda x: functional.jvp(square, x, x),
            "functional.hvp": lambda x: functional.hvp(total, x, x)}


def _transform_error(library, name, dtype):
    try:
        _transform_calls(library)[name](library.tensor([1, 2], dtype=getattr(library, dtype)))
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)
    return "answered"


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # PyTorch's own, from inside its transforms
@given(name=st.sampled_from(sorted(_transform_calls(gg))), dtype=st.sampled_from(["int64", "int32", "bool"]))
def test_a_transform_of_an_integer_input_fails_with_pytorchs_error_type(name, dtype, torch):
    """``torch.func.grad(log_density)(torch.tensor([1, 2]))`` (a point typed from whole numbers, as an HMC start
    often is) raises RuntimeError in PyTorch ("only Tensors of floating point dtype can require gradients"), and
    the forward-mode ``jacfwd``/``func.jvp``/``func.hessian`` ValueError ("Expected primal to be floating point");
    glassgrad raised TypeError, which neither ``except`` catches. Now each PyTorch's type."""
    assert _transform_error(gg, name, dtype) == _transform_error(torch, name, dtype)


def _made_with_nan(library, family, validate_args):
    distributions, t, nan = library.distributions, library.tensor, float("nan")
    row = t([nan, 0.5])
    made = {
        "Normal": lambda: distributions.Normal(row, 1.0, validate_args=validate_args),
        "Laplace": lambda: distributions.Laplace(row, 1.0, validate_args=validate_args),
        "LogNormal": lambda: distributions.LogNormal(row, 1.0, validate_args=validate_args),
        "StudentT": lambda: distributions.StudentT(3.0, row, 1.0, validate_args=validate_args),
        "VonMises": lambda: distributions.VonMises(row, 1.0, validate_args=validate_args),
        "MultivariateNormal": lambda: distributions.MultivariateNormal(row, library.eye(2),
                                                                        validate_args=validate_args),
        "LowRankMultivariateNormal": lambda: distributions.LowRankMultivariateNormal(
            row, library.ones(2, 1), library.ones(2), validate_args=validate_args),
        "Categorical logits": lambda: distributions.Categorical(logits=row, validate_args=validate_args),
        "Categorical probs": lambda: distributions.Categorical(probs=row, validate_args=validate_args),
        "Bernoulli logits": lambda: distributions.Bernoulli(logits=row, validate_args=validate_args),
        "Binomial logits": lambda: distributions.Binomial(3, logits=row, validate_args=validate_args),
        "RelaxedOneHotCategorical": lambda: distributions.RelaxedOneHotCategorical(t(0.5), logits=row,
                                                                                   validate_args=validate_args),
        "Uniform": lambda: distributions.Uniform(row, 2.0, validate_args=validate_args),
    }[family]
    try:
        made()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)
    return "made"


@pytest.mark.torch
@given(family=st.sampled_from(["Normal", "Laplace", "LogNormal", "StudentT", "VonMises", "MultivariateNormal",
                               "LowRankMultivariateNormal", "Categorical logits", "Categorical probs",
                               "Bernoulli logits", "Binomial logits", "RelaxedOneHotCategorical", "Uniform"]),
       validate_args=st.sampled_from([None, True]))
def test_a_nan_parameter_is_refused_where_the_distribution_is_made(family, validate_args, torch):
    """A VAE whose encoder diverged gives ``mu`` with NaN: ``Normal(mu, sigma)`` raises ValueError in PyTorch
    ("Expected parameter loc … to satisfy the constraint Real(), but found invalid values"), the error learners meet
    first when training blows up; so do NaN logits, NaN probabilities and a NaN bound of a Uniform. glassgrad made
    the distribution and the NaN surfaced later as a NaN loss. Now the same ValueError, naming the parameter, from
    one check (``check_real``) every real parameter passes through."""
    ours, theirs = _made_with_nan(gg, family, validate_args), _made_with_nan(torch, family, validate_args)
    assert ours is theirs is ValueError
    with pytest.raises(ValueError, match=r"Normal: loc must be a real number, got NaN in \[nan, 0.5\]"):
        gg.distributions.Normal(gg.tensor([float("nan"), 0.5]), 1.0)
    assert _made_with_nan(gg, family, False) == "made"


def _derivatives_of_numbers(library, shape, name):
    x = library.tensor(np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape), dtype=library.float64)
    summed = name.startswith(("hessian", "functional.hessian"))  # a Hessian needs one number out

    def cubic(v):
        return (v ** 3).sum() if summed else v ** 3

    call = {"jacrev": lambda: library.func.jacrev(cubic)(x), "jacfwd": lambda: library.func.jacfwd(cubic)(x),
            "hessian": lambda: library.func.hessian(cubic)(x),
            "functional.jacobian": lambda: library.autograd.functional.jacobian(cubic, x),
            "functional.hessian": lambda: library.autograd.functional.hessian(cubic, x),
            "hessian under vmap": lambda: library.func.vmap(library.func.hessian(cubic))(x.reshape(-1))}[name]
    return call().numpy()


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # PyTorch's own, from inside its transforms
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       name=st.sampled_from(["jacrev", "jacfwd", "hessian", "functional.jacobian", "functional.hessian",
                             "hessian under vmap"]))
def test_the_derivatives_of_a_function_of_one_number_are_pytorchs(shape, name, torch):
    """``torch.func.hessian(f)(torch.tensor(2.0))`` (a Laplace approximation in one parameter, the second
    derivative of a 1-D potential, ``vmap(hessian(u))(xs)`` for a PINN whose u takes one number) gives PyTorch's
    0-d answer; glassgrad raised TypeError ("reshape() missing its sizes") for every Jacobian of a 0-d input whose
    output is 0-d, the empty shape unpacked into ``reshape(*())``. Now the shapes and numbers are PyTorch's."""
    ours, theirs = (_derivatives_of_numbers(library, tuple(shape), name) for library in (gg, torch))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


SOBOL_STEPS = ["draw", "draw_base2", "fast_forward", "reset"]


def _sobol_walk(library, dimension, steps):
    engine = library.quasirandom.SobolEngine(dimension)
    seen = []
    for step, size in steps:
        try:
            if step == "draw":
                seen.append(engine.draw(size, dtype=library.float64).numpy())
            elif step == "draw_base2":
                seen.append(engine.draw_base2(size, dtype=library.float64).numpy())
            else:
                getattr(engine, step)(*([size] if step == "fast_forward" else []))
        except ValueError:
            seen.append("ValueError")
        seen.append(engine.num_generated)
    return seen


@pytest.mark.torch
@given(dimension=st.integers(1, 40),
       steps=st.lists(st.tuples(st.sampled_from(SOBOL_STEPS), st.integers(0, 5)).filter(
           lambda step: step != ("draw", 0)), min_size=1, max_size=5))  # PyTorch's draw(0) fails: ours is empty
def test_sobol_points_are_pytorchs(dimension, steps, torch):
    """Bayesian-optimization notebooks spread candidates with ``torch.quasirandom.SobolEngine(d).draw(n)`` (or
    ``draw_base2``); glassgrad had no ``torch.quasirandom`` ("no counterpart"). Now SobolEngine draws PyTorch's
    unscrambled points (the same direction numbers) through draw, draw_base2, fast_forward and reset, refuses a
    draw_base2 that breaks the balance as PyTorch does, and counts num_generated alike (fast_forward(0), SciPy's
    OverflowError before, does nothing, as there)."""
    ours, theirs = _sobol_walk(gg, dimension, steps), _sobol_walk(torch, dimension, steps)
    assert len(ours) == len(theirs)
    for mine, pytorchs in zip(ours, theirs):
        if isinstance(pytorchs, np.ndarray):
            np.testing.assert_array_equal(mine, pytorchs)
        else:
            assert mine == pytorchs


@given(m=st.integers(1, 6), dimension=st.integers(1, 4), seed=st.integers(0, 99))
def test_scrambled_sobol_points_keep_the_balance(m, dimension, seed):
    """A scrambled draw (random numbers: other than PyTorch's) still puts one of the first 2^m points in each of
    the 2^m dyadic intervals of every coordinate, and the same seed gives the same points."""
    points = gg.quasirandom.SobolEngine(dimension, scramble=True, seed=seed).draw_base2(m, dtype=gg.float64).numpy()
    assert points.shape == (2 ** m, dimension) and ((points >= 0) & (points < 1)).all()
    for column in points.T:
        assert sorted(np.floor(column * 2 ** m).astype(int)) == list(range(2 ** m))
    again = gg.quasirandom.SobolEngine(dimension, scramble=True, seed=seed).draw_base2(m, dtype=gg.float64)
    np.testing.assert_array_equal(again.numpy(), points)
    with pytest.raises(ValueError, match=r"dimensionality for SobolEngine is \[1, 21201\]"):
        gg.quasirandom.SobolEngine(0)
    with pytest.raises(ValueError, match=r"fast_forward\(-1\): n must be >= 0 \(to go back to the start, call "):
        gg.quasirandom.SobolEngine(dimension).fast_forward(-1)  # PyTorch counts num_generated down to -1


def _wishart_numbers(library, p, df, given, batch, seed):
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(*batch, p, p))
    scale = library.tensor(factor @ np.swapaxes(factor, -1, -2) + np.eye(p), requires_grad=True)
    nu = library.tensor(df + p - 1, dtype=library.float64, requires_grad=True)
    matrix = library.linalg.cholesky(scale) if given == "scale_tril" else scale
    values = rng.normal(size=(2, *batch, p, p + 1))
    values = library.tensor(values @ np.swapaxes(values, -1, -2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = library.distributions.Wishart(nu, **{given: matrix})
    scores, entropy = d.log_prob(values), d.entropy()
    (scores.sum() + entropy.sum()).backward()
    numbers = [scores, entropy, d.mean, d.mode, d.variance, d.covariance_matrix, d.precision_matrix, scale.grad]
    with warnings.catch_warnings():  # PyTorch warns of a singular draw; compared by shape only here
        warnings.simplefilter("ignore")
        drawn = tuple(d.rsample((3,)).shape)
    return [n.detach().numpy() for n in numbers], nu.grad.numpy(), [str(w.message).split(".")[0] for w in caught], drawn


@pytest.mark.torch
@given(p=st.integers(1, 4), df=st.floats(0.3, 6.0), given=st.sampled_from(["covariance_matrix", "precision_matrix",
                                                                           "scale_tril"]),
       batch=st.lists(st.integers(1, 2), max_size=1), seed=st.integers(0, 99))
def test_wishart_gives_pytorchs_numbers(p, df, given, batch, seed, torch):
    """``torch.distributions.Wishart(df, covariance_matrix=S)`` (a prior over a precision matrix in a Bayesian
    Gaussian model, a Normal-Wishart posterior) had no counterpart in glassgrad. Now log_prob, entropy, mean, mode,
    variance and their gradients in Σ are PyTorch's (in ν to its digamma's accuracy), with its warning for
    p − 1 < ν < p, and rsample (Bartlett's decomposition over standard gamma draws) has PyTorch's shape."""
    ours, theirs = (_wishart_numbers(library, p, df, given, tuple(batch), seed) for library in (gg, torch))
    for mine, pytorchs in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(mine, pytorchs, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    assert ours[2:] == theirs[2:]


def test_wishart_draws_have_the_mean_and_gradient_of_their_mean():
    """Bartlett's draws average to νΣ, and the gradient of their average in ν is Σ (the derivative of the mean
    νΣ worked out by hand), within four standard errors."""
    scale = np.array([[2.0, 0.6], [0.6, 1.0]])
    gg.manual_seed(3)
    batches = []
    for _ in range(8):
        nu = gg.tensor(4.5, dtype=gg.float64, requires_grad=True)
        draws = gg.distributions.Wishart(nu, covariance_matrix=gg.tensor(scale)).rsample((2000,))
        mean = draws.mean(0)
        batches.append([mean.detach().numpy(), gg.autograd.grad(mean[0, 1], nu)[0].item()])
    means = np.stack([b[0] for b in batches])
    slopes = np.array([b[1] for b in batches])
    assert np.all(np.abs(means.mean(0) - 4.5 * scale) <= 4 * means.std(0, ddof=1) / np.sqrt(8) + 1e-12)
    assert abs(slopes.mean() - scale[0, 1]) <= 4 * slopes.std(ddof=1) / np.sqrt(8)
    with pytest.raises(ValueError, match="expected to be greater than ndim - 1 = 1"):
        gg.distributions.Wishart(gg.tensor(0.5), covariance_matrix=gg.tensor(scale))
