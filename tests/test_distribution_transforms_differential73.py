"""``gg.distributions``' transforms, constraints and composite distributions against PyTorch 2.13, round 73.

Round 50 (``test_distributions_differential50.py``) fuzzed the basic families' scores, draws and entropies; this
round fuzzes what is built on them: the transforms (values, ``log_abs_det_jacobian``, inverses, gradients, shapes,
``sign``, caching, equality), ``biject_to``/``transform_to`` and the constraints' ``check``, and the composite
distributions (TransformedDistribution, Independent, MixtureSameFamily, the relaxed families, LogNormal), the KL
registry and argument validation. A hypothesis property test keeps the fuzzer's core (a drawn transform, input
shape and cache size, every output compared with PyTorch's); beside it the round's defects (LowerCholeskyTransform
of a vector failed with IndexError; MixtureSameFamily's gradient in ``mixture_distribution.logits`` was not
PyTorch's; an ambiguous KL pair picked a rule without PyTorch's warning; ``register_kl`` of a non-class was
accepted) and pinning tests of what already behaved.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _t(lib, values, grad=False):
    return lib.tensor(np.array(values, dtype=np.float64), dtype=lib.float64, requires_grad=grad)


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy(), dtype=np.float64)
    return value


def _close(got, want, rtol=1e-12):
    got, want = _np(got), _np(want)
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w, rtol)
        return
    if isinstance(want, np.ndarray):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-13)
    else:
        assert got == want


# name: (build(D, lib, last) → transform, input maker from a normal draw); ``last`` is the input's last dim
TRANSFORMS = {
    "Exp": (lambda D, lib, n, c: D.transforms.ExpTransform(cache_size=c), lambda x: x),
    "Sigmoid": (lambda D, lib, n, c: D.transforms.SigmoidTransform(cache_size=c), lambda x: x),
    "Tanh": (lambda D, lib, n, c: D.transforms.TanhTransform(cache_size=c), lambda x: x),
    "Softplus": (lambda D, lib, n, c: D.transforms.SoftplusTransform(cache_size=c), lambda x: x),
    "Power": (lambda D, lib, n, c: D.transforms.PowerTransform(_t(lib, 2.5), cache_size=c), lambda x: abs(x) + 0.1),
    "Affine": (lambda D, lib, n, c: D.transforms.AffineTransform(0.5, -2.0, cache_size=c), lambda x: x),
    "Affine event_dim 1": (lambda D, lib, n, c: D.transforms.AffineTransform(
        _t(lib, 0.3), _t(lib, np.linspace(-1.5, 2.0, n)), event_dim=1, cache_size=c), lambda x: x),
    "Compose": (lambda D, lib, n, c: D.transforms.ComposeTransform(
        [D.transforms.AffineTransform(0.1, 2.0), D.transforms.ExpTransform()], cache_size=c), lambda x: x),
    "Independent": (lambda D, lib, n, c: D.transforms.IndependentTransform(
        D.transforms.SigmoidTransform(), 1, cache_size=c), lambda x: x),
    "Softmax": (lambda D, lib, n, c: D.transforms.SoftmaxTransform(cache_size=c), lambda x: x),
    "StickBreaking": (lambda D, lib, n, c: D.transforms.StickBreakingTransform(cache_size=c), lambda x: x),
    "CDF of a Normal": (lambda D, lib, n, c: D.transforms.CumulativeDistributionTransform(
        D.Normal(_t(lib, 0.3), _t(lib, 1.2)), cache_size=c), lambda x: x),
    "Reshape": (lambda D, lib, n, c: D.transforms.ReshapeTransform((n,), (n, 1), cache_size=c), lambda x: x),
}


def _transform_outputs(lib, name, values, cache_size):
    D = lib.distributions
    build, prepare = TRANSFORMS[name]
    x = _t(lib, prepare(values), grad=True)
    t = build(D, lib, values.shape[-1], cache_size)
    y = t(x)
    outputs = [y, t.inv(y), tuple(t.forward_shape(tuple(x.shape))), tuple(t.inverse_shape(tuple(y.shape))),
               t.domain.event_dim, t.codomain.event_dim, t.bijective, t.inv(y) is x, t.inv.inv is t]
    if name != "Softmax":   # SoftmaxTransform has no log-det in either library
        ld = t.log_abs_det_jacobian(x, y)
        outputs += [ld, lib.autograd.grad(y.sum() + ld.sum(), x)[0]]
    if name not in ("Softmax", "StickBreaking", "Reshape"):
        outputs.append(float(t.sign) if not hasattr(t.sign, "shape") or t.sign.ndim == 0 else t.sign)
    return outputs


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(TRANSFORMS)), shape=st.sampled_from([(1,), (3,), (2, 3), (4, 1, 2)]),
       cache_size=st.integers(0, 1), seed=st.integers(0, 2**16))
def test_transforms_values_log_dets_inverses_gradients_and_shapes_match_pytorch(torch, name, shape, cache_size,
                                                                               seed):
    values = np.random.default_rng(seed).normal(0.0, 1.5, shape)
    _close(_transform_outputs(gg, name, values, cache_size), _transform_outputs(torch, name, values, cache_size))


@pytest.mark.parametrize("shape", [(3,), (), (2, 3)])
@pytest.mark.parametrize("name", ["LowerCholeskyTransform", "PositiveDefiniteTransform"])
def test_lower_cholesky_of_no_square_matrix_raises_pytorchs_runtime_error_in_one_line(torch, name, shape):
    """Defect: a vector or a 0-d tensor failed with IndexError from ``diagonal`` (PyTorch: RuntimeError)."""
    with pytest.raises(RuntimeError):
        getattr(torch.distributions.transforms, name)()(torch.ones(shape))
    with pytest.raises(RuntimeError, match=r"LowerCholeskyTransform: expected a square matrix .* got shape"):
        getattr(gg.distributions.transforms, name)()(gg.ones(shape))
    with pytest.raises(RuntimeError, match="LowerCholeskyTransform.inv: expected a square matrix"):
        gg.distributions.transforms.LowerCholeskyTransform().inv(gg.ones(shape))


def _lower_cholesky(lib):
    tr = lib.distributions.transforms
    x = _t(lib, np.random.default_rng(1).normal(size=(2, 3, 3)), grad=True)
    y = tr.LowerCholeskyTransform()(x)
    return [y, tr.LowerCholeskyTransform().inv(y), lib.autograd.grad(y.sum(), x)[0],
            tr.PositiveDefiniteTransform()(x), tuple(tr.LowerCholeskyTransform()(lib.ones(2, 0, 0)).shape)]


def test_lower_cholesky_of_square_matrices_matches_pytorch(torch):
    _close(_lower_cholesky(gg), _lower_cholesky(torch))


def _mixture_gradients(lib, logits, locs, scales, value):
    D = lib.distributions
    mixture = D.Categorical(logits=_t(lib, logits, grad=True))
    components = D.Normal(_t(lib, locs, grad=True), _t(lib, scales, grad=True))
    m = D.MixtureSameFamily(mixture, components)
    score = m.log_prob(_t(lib, value))
    gradients = lib.autograd.grad(score.sum(), [mixture.logits, components.loc, components.scale])
    return [score, *gradients, m.mean, m.variance, m.cdf(_t(lib, value))]


def test_mixture_gradient_in_the_categoricals_logits_is_pytorchs(torch):
    """Defect: ``log_prob`` added ``mixture_distribution.logits`` without PyTorch's ``log_softmax``, so the
    gradient with respect to that (normalised) tensor did not sum to zero over the components."""
    rng = np.random.default_rng(7)
    logits, locs = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    scales, value = np.abs(rng.normal(size=(2, 3))) + 0.4, [[0.3], [-1.2]]
    got = _mixture_gradients(gg, logits, locs, scales, value)
    _close(got, _mixture_gradients(torch, logits, locs, scales, value))
    np.testing.assert_allclose(_np(got[1]).sum(-1), 0.0, atol=1e-15)


def _ambiguous_kl(lib):
    D = lib.distributions

    class A(D.Normal):
        pass

    class B(D.Normal):
        pass

    class A2(A):
        pass

    class B2(B):
        pass

    D.register_kl(A2, B)(lambda p, q: p.loc * 0 + 1.0)
    D.register_kl(A, B2)(lambda p, q: p.loc * 0 + 2.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kl = D.kl_divergence(A2(_t(lib, 0.0), _t(lib, 1.0)), B2(_t(lib, 0.0), _t(lib, 1.0)))
        unambiguous = D.kl_divergence(A2(_t(lib, 0.0), _t(lib, 1.0)), B(_t(lib, 0.0), _t(lib, 1.0)))
    return kl.item(), unambiguous.item(), [(type(w.message), str(w.message)) for w in caught]


def test_an_ambiguous_kl_pair_warns_as_pytorch_and_picks_its_rule(torch):
    """Defect: glassgrad picked the rule of the pair silently; PyTorch warns (RuntimeWarning) and names the
    pair to register."""
    got, want = _ambiguous_kl(gg), _ambiguous_kl(torch)
    assert got == want
    assert want[2] == [(RuntimeWarning, "Ambiguous kl_divergence(A2, B2). Please register_kl(A2, B2)")]


def test_register_kl_of_no_class_raises_type_error(torch):
    """Defect: ``register_kl(1, Normal)`` was accepted (PyTorch: TypeError)."""
    with pytest.raises(TypeError):
        torch.distributions.register_kl(1, torch.distributions.Normal)
    with pytest.raises(TypeError, match="register_kl: type_p must be a Distribution subclass, got 1"):
        gg.distributions.register_kl(1, gg.distributions.Normal)


def _register_custom_pair(lib):
    D = lib.distributions

    class Mine(D.Normal):
        pass

    @D.register_kl(Mine, D.Normal)
    def _rule(p, q):
        return (p.loc - q.loc) ** 2

    return D.kl_divergence(Mine(_t(lib, [1.0, 3.0]), _t(lib, 1.0)), D.Normal(_t(lib, 0.5), _t(lib, 2.0)))


def test_a_registered_custom_pair_is_used(torch):
    _close(_register_custom_pair(gg), _register_custom_pair(torch))


def _cache_and_equality(lib):
    tr = lib.distributions.transforms
    out = []
    for t in [tr.ExpTransform(cache_size=1), tr.SigmoidTransform(cache_size=1),
              tr.ComposeTransform([tr.ExpTransform(), tr.AffineTransform(1.0, 2.0)], cache_size=1),
              tr.AffineTransform(1.0, 2.0, cache_size=1).inv, tr.ExpTransform(), tr.ExpTransform().with_cache(1)]:
        x = _t(lib, [0.5, -1.0])
        y = t(x)
        out += [t.inv(y) is x, t(x) is y, t.inv(_t(lib, [0.5, -1.0])) is x]
    out += [tr.ExpTransform() == tr.ExpTransform(), tr.ExpTransform() == tr.SigmoidTransform(),
            tr.ExpTransform().inv == tr.ExpTransform().inv, tr.ExpTransform().inv == tr.ExpTransform(),
            tr.PowerTransform(2.0) == tr.PowerTransform(2.0),
            tr.StickBreakingTransform() == tr.StickBreakingTransform(),
            tr.ExpTransform() != tr.ExpTransform(), tr.identity_transform == tr.ComposeTransform([])]
    try:
        tr.ExpTransform(cache_size=2)
    except ValueError:
        out.append("ValueError")
    return out


def test_caching_with_cache_and_equality_are_pytorchs(torch):
    assert _cache_and_equality(gg) == _cache_and_equality(torch)


def _constraint_checks(lib):
    C = lib.distributions.constraints
    rng = np.random.default_rng(3)
    m = _t(lib, rng.normal(size=(2, 3)))
    values = [m, lib.softmax(m, -1), _t(lib, np.tril(rng.normal(size=(3, 3)))), _t(lib, np.eye(3) * 2),
              _t(lib, [[0.0, 1.0, 2.0], [3.0, -1.0, 1.0]])]
    out = []
    for c in [C.real, C.positive, C.nonnegative, C.unit_interval, C.interval(-1.0, 1.0),
              C.half_open_interval(-1.0, 1.0), C.greater_than(0.5), C.greater_than_eq(0.5), C.less_than(0.2),
              C.simplex, C.real_vector, C.lower_cholesky, C.lower_triangular, C.positive_definite, C.corr_cholesky,
              C.boolean, C.nonnegative_integer, C.positive_integer, C.integer_interval(0, 3),
              C.independent(C.positive, 1), C.square, C.symmetric, C.positive_semidefinite, C.one_hot,
              C.multinomial(3)]:
        for v in values:
            try:
                out.append(c.check(v).numpy().astype(float).tolist())
            except Exception as e:  # noqa: BLE001  (the class is what is compared)
                out.append(type(e).__name__)
        out.append((c.event_dim, c.is_discrete))
    return out


def test_constraint_checks_are_pytorchs(torch):
    assert _constraint_checks(gg) == _constraint_checks(torch)


def _bijections(lib):
    D = lib.distributions
    C = D.constraints
    rng = np.random.default_rng(5)
    m, square, corr = rng.normal(size=(2, 3)), rng.normal(size=(3, 3)), rng.normal(size=(2, 3))
    low = _t(lib, rng.normal(size=3))
    out = []
    for c in [C.real, C.positive, C.nonnegative, C.unit_interval, C.interval(-1.0, 2.0), C.greater_than(0.5),
              C.greater_than_eq(0.5), C.less_than(0.2), C.simplex, C.real_vector, C.lower_cholesky,
              C.corr_cholesky, C.positive_definite, C.independent(C.positive, 1), C.half_open_interval(0.0, 1.0),
              C.interval(low, low + 2), C.greater_than(low), C.less_than(low),
              C.cat([C.positive, C.real], dim=-1, lengths=[1, 2]),
              C.stack([C.positive, C.real, C.unit_interval], dim=-1)]:
        for to in (D.biject_to, D.transform_to):
            values = square if c in (C.lower_cholesky, C.positive_definite) else corr if c is C.corr_cholesky else m
            x = _t(lib, values, grad=True)
            try:
                t = to(c)
            except NotImplementedError:   # biject_to(lower_cholesky), as PyTorch
                out.append("NotImplementedError")
                continue
            y = t(x)
            ld = t.log_abs_det_jacobian(x, y) if t.bijective else y.sum() * 0   # transform_to(simplex): a softmax
            out.append([y, ld, lib.autograd.grad(y.sum() + ld.sum(), x)[0], c.check(y).double(), t.bijective])
    for c in (C.boolean, C.integer_interval(0, 3), C.dependent):
        try:
            D.biject_to(c)
        except NotImplementedError:
            out.append("NotImplementedError")
    return out


def test_biject_to_and_transform_to_give_pytorchs_maps_log_dets_and_gradients(torch):
    _close(_bijections(gg), _bijections(torch))


def _cat_stack_corr(lib):
    tr = lib.distributions.transforms
    x = _t(lib, np.random.default_rng(11).normal(size=(2, 3)), grad=True)
    cat = tr.CatTransform([tr.ExpTransform(), tr.AffineTransform(_t(lib, 1.0), _t(lib, 2.0))], dim=-1,
                          lengths=[1, 2])
    stack = tr.StackTransform([tr.ExpTransform(), tr.SigmoidTransform(), tr.TanhTransform()], dim=-1)
    corr = tr.CorrCholeskyTransform()
    out = []
    for t in (cat, stack, corr):
        y = t(x)
        ld = t.log_abs_det_jacobian(x, y)
        out += [y, ld, t.inv(y), lib.autograd.grad(y.sum() + ld.sum(), x)[0], t.bijective]
    out += [cat.event_dim, stack.event_dim, corr.domain.event_dim, corr.codomain.event_dim,
            tuple(corr.forward_shape((2, 6))), tuple(corr.inverse_shape((2, 4, 4)))]
    return out


def test_cat_stack_and_corr_cholesky_transforms_match_pytorch(torch):
    _close(_cat_stack_corr(gg), _cat_stack_corr(torch))


def _transformed(lib):
    D, tr = lib.distributions, lib.distributions.transforms
    loc, scale = _t(lib, [0.3, -0.8, 1.1], grad=True), _t(lib, [0.5, 1.2, 2.0], grad=True)
    td = D.TransformedDistribution(D.Normal(loc, scale), [tr.AffineTransform(_t(lib, 0.5), _t(lib, -2.0)),
                                                          tr.ExpTransform()])
    value = _t(lib, [0.4, 1.7, 0.2])
    score = td.log_prob(value)
    independent = D.Independent(td, 1)
    sticks = D.TransformedDistribution(D.Normal(_t(lib, [0.1, 0.2, 0.3]), _t(lib, 1.0)),
                                       [tr.StickBreakingTransform(), tr.AffineTransform(0.0, 2.0, event_dim=1)])
    reshaped = D.TransformedDistribution(D.Normal(_t(lib, np.zeros((2, 6))), _t(lib, 1.0)),
                                         [tr.ReshapeTransform((6,), (2, 3))])
    lognormal = D.LogNormal(_t(lib, [0.2, -0.4]), _t(lib, [1.3, 0.6]))
    return [score, lib.autograd.grad(score.sum(), [loc, scale]), tuple(td.batch_shape), tuple(td.event_shape),
            independent.log_prob(value), tuple(independent.batch_shape), tuple(independent.event_shape),
            td.cdf(value), td.icdf(_t(lib, [0.2, 0.5, 0.7])), tuple(td.expand((4, 3)).batch_shape),
            tuple(sticks.batch_shape), tuple(sticks.event_shape),
            sticks.log_prob(lib.softmax(_t(lib, [0.1, 0.2, 0.3, 0.4]), -1) * 2), tuple(sticks.sample((3,)).shape),
            tuple(reshaped.batch_shape), tuple(reshaped.event_shape), reshaped.log_prob(_t(lib, np.ones((2, 2, 3)))),
            lognormal.mean, lognormal.variance, lognormal.entropy(), lognormal.mode,
            lognormal.log_prob(_t(lib, [0.5, 2.0]))]


def test_transformed_distributions_score_and_shape_as_pytorch(torch):
    _close(_transformed(gg), _transformed(torch))


def test_rsample_of_a_transformed_distribution_carries_the_chain_rule():
    """The draw is ``2·exp(z) + 1`` with ``z = loc + ε``, so ``d draw / d loc = draw − 1`` (no chance involved)."""
    D = gg.distributions
    loc = gg.tensor([0.2, -0.5], dtype=gg.float64, requires_grad=True)
    td = D.TransformedDistribution(D.Normal(loc, 1.0), [D.transforms.ExpTransform(),
                                                        D.transforms.AffineTransform(1.0, 2.0)])
    gg.manual_seed(3)
    draw = td.rsample((4,))
    (gradient,) = gg.autograd.grad(draw.sum(), loc)
    np.testing.assert_allclose(gradient.numpy(), (draw.detach().numpy() - 1).sum(0), rtol=1e-12)
    assert tuple(draw.shape) == (4, 2) and td.has_rsample


def _independent_and_kl(lib):
    D, tr = lib.distributions, lib.distributions.transforms
    m = np.random.default_rng(13).normal(size=(2, 3))
    normal = D.Normal(_t(lib, m), _t(lib, 1.5))
    out = []
    for n in (0, 1, 2):
        i = D.Independent(normal, n)
        out += [tuple(i.batch_shape), tuple(i.event_shape), i.log_prob(_t(lib, m * 0.5)), i.entropy(), i.mean]
    loc, scale = _t(lib, m, grad=True), _t(lib, np.abs(m) + 0.3, grad=True)
    kl = D.kl_divergence(D.Independent(D.Normal(loc, scale), 2),
                         D.Independent(D.Normal(_t(lib, 0.0), _t(lib, 1.5)).expand((2, 3)), 2))
    out += [kl, lib.autograd.grad(kl, [loc, scale])]
    exp_p = D.TransformedDistribution(D.Normal(_t(lib, m), _t(lib, 1.5)), [tr.ExpTransform()])
    exp_q = D.TransformedDistribution(D.Normal(_t(lib, m * 0.3), _t(lib, 0.7)), [tr.ExpTransform()])
    expanded = D.Independent(normal, 1).expand((4, 2))
    out += [D.kl_divergence(exp_p, exp_q), D.kl_divergence(D.Independent(exp_p, 1), D.Independent(exp_q, 1)),
            D.kl_divergence(D.LogNormal(_t(lib, m), _t(lib, 1.5)), D.LogNormal(_t(lib, 0.2), _t(lib, 0.9))),
            tuple(expanded.batch_shape), expanded.log_prob(_t(lib, m[0]))]
    return out


def test_independent_shapes_scores_and_kl_pairs_match_pytorch(torch):
    _close(_independent_and_kl(gg), _independent_and_kl(torch))


def _kl_refusals(lib):
    D, tr = lib.distributions, lib.distributions.transforms
    standard = (_t(lib, 0.0), _t(lib, 1.0))
    pairs = [
        (D.TransformedDistribution(D.Normal(*standard), [tr.ExpTransform()]),
         D.TransformedDistribution(D.Normal(*standard), [tr.SigmoidTransform()])),
        (D.Independent(D.Normal(_t(lib, np.zeros((2, 3))), 1.0), 1),
         D.Independent(D.Normal(_t(lib, np.zeros((2, 3))), 1.0), 2)),
        (D.LogNormal(*standard), D.Normal(*standard)),
        (D.RelaxedBernoulli(_t(lib, 0.5), probs=_t(lib, 0.3)), D.RelaxedBernoulli(_t(lib, 0.5), probs=_t(lib, 0.4))),
    ]
    out = []
    for p, q in pairs:
        try:
            D.kl_divergence(p, q)
            out.append("ok")
        except Exception as e:  # noqa: BLE001  (the class is what is compared)
            out.append(type(e).__name__)
    return out


def test_kl_pairs_pytorch_has_no_rule_for_raise_not_implemented(torch):
    assert _kl_refusals(gg) == _kl_refusals(torch) == ["NotImplementedError"] * 4


def _relaxed(lib):
    D = lib.distributions
    temperature, logits = _t(lib, 0.7, grad=True), _t(lib, [[0.3, -1.0, 0.5], [1.2, 0.1, -0.4]], grad=True)
    bernoulli = D.RelaxedBernoulli(temperature, logits=logits)
    score = bernoulli.log_prob(lib.sigmoid(_t(lib, [[0.2, -0.3, 0.9], [-1.1, 0.4, 0.0]])))
    one_hot = D.RelaxedOneHotCategorical(temperature, logits=logits)
    score2 = one_hot.log_prob(lib.softmax(_t(lib, [[0.5, 0.1, -0.2], [0.0, 1.0, 2.0]]), -1))
    return [score, lib.autograd.grad(score.sum(), [temperature, logits]), score2,
            lib.autograd.grad(score2.sum(), [temperature, logits]), tuple(bernoulli.batch_shape),
            tuple(one_hot.batch_shape), tuple(one_hot.event_shape), tuple(one_hot.rsample((2,)).shape),
            bernoulli.temperature, tuple(one_hot.expand((4, 2)).batch_shape)]


def test_relaxed_scores_and_their_gradients_in_temperature_and_logits_match_pytorch(torch):
    _close(_relaxed(gg), _relaxed(torch))


def _validation(lib):
    D = lib.distributions
    makers = [(lambda: D.LogNormal(_t(lib, 0.0), _t(lib, 1.0)), -1.0),
              (lambda: D.TransformedDistribution(D.Normal(_t(lib, 0.0), _t(lib, 1.0)),
                                                 [D.transforms.SigmoidTransform()]), 1.5),
              (lambda: D.TransformedDistribution(D.Uniform(_t(lib, 0.0), _t(lib, 1.0)),
                                                 [D.transforms.AffineTransform(1.0, 2.0)]), [0.5, 1.5, 3.5]),
              (lambda: D.Independent(D.Normal(_t(lib, [0.0, 0.0]), 1.0), 1), [0.0, 1.0, 2.0]),
              (lambda: D.MixtureSameFamily(D.Categorical(logits=_t(lib, [0.0, 1.0])),
                                           D.Gamma(_t(lib, [1.0, 2.0]), _t(lib, 1.0))), -1.0)]
    out = []
    for make, value in makers:
        try:
            out.append(make().log_prob(_t(lib, value)).tolist())
        except Exception as e:  # noqa: BLE001  (the class is what is compared)
            out.append(type(e).__name__)
    D.Distribution.set_default_validate_args(False)
    try:
        out.append(D.LogNormal(_t(lib, 0.0), _t(lib, 1.0)).log_prob(_t(lib, 2.0)).item())
        out.append(D.TransformedDistribution(D.Uniform(_t(lib, 0.0), _t(lib, 1.0)),
                                             [D.transforms.AffineTransform(1.0, 2.0)]).log_prob(_t(lib, 1.5)).item())
    finally:
        D.Distribution.set_default_validate_args(True)
    return out


def test_values_outside_the_support_raise_value_error_unless_validation_is_off(torch):
    got, want = _validation(gg), _validation(torch)
    assert got[:5] == want[:5] == ["ValueError"] * 5
    _close(got[5:], want[5:])


def _mixtures(lib):
    D = lib.distributions
    mix = D.Categorical(logits=_t(lib, [[0.3, -1.0, 0.5], [1.2, 0.1, -0.4]]))
    vectors = D.Independent(D.Normal(_t(lib, np.arange(12.0).reshape(2, 3, 2) / 5), _t(lib, 1.2)), 1)
    m = D.MixtureSameFamily(mix, vectors)
    scalar = D.MixtureSameFamily(D.Categorical(logits=_t(lib, [0.3, -1.0])),
                                 D.Normal(_t(lib, [0.5, 2.0]), _t(lib, 1.0))).expand((4,))
    return [m.log_prob(_t(lib, [0.3, 0.4])), m.mean, m.variance, tuple(m.batch_shape), tuple(m.event_shape),
            tuple(m.sample((5,)).shape), tuple(scalar.batch_shape), scalar.log_prob(_t(lib, [0.1, 0.2, 0.3, 0.4])),
            tuple(scalar.sample((2,)).shape)]


def test_mixtures_of_vectors_and_expanded_mixtures_match_pytorch(torch):
    _close(_mixtures(gg), _mixtures(torch))


def test_extreme_inputs_give_pytorchs_finite_log_dets(torch):
    """Sigmoid/Tanh/Softplus/Exp at ±800 and StickBreaking at ±200: the log-dets and their gradients are
    PyTorch's (finite or the same infinity), not NaN."""
    def run(lib):
        tr = lib.distributions.transforms
        x = _t(lib, [-800.0, -40.0, -20.0, 0.0, 20.0, 40.0, 800.0], grad=True)
        out = []
        for t in [tr.SigmoidTransform(), tr.TanhTransform(), tr.SoftplusTransform(), tr.ExpTransform()]:
            y = t(x)
            ld = t.log_abs_det_jacobian(x, y)
            out += [y, ld, lib.autograd.grad(ld.sum(), x)[0]]
        sticks = _t(lib, [[-50.0, 30.0, 0.0], [200.0, -200.0, 5.0]], grad=True)
        y = tr.StickBreakingTransform()(sticks)
        ld = tr.StickBreakingTransform().log_abs_det_jacobian(sticks, y)
        return out + [y, ld, lib.autograd.grad(ld.sum(), sticks)[0]]

    _close(run(gg), run(torch))
