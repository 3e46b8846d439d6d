"""``gg.distributions.transforms``, ``biject_to``/``transform_to`` and ``TransformedDistribution`` against PyTorch
2.13 in float64: every transform's forward map, inverse and log-det with their gradients (values in and
parameters) over hypothesis-drawn shapes; the log-det against the log-determinant of the Jacobian that
``gg.autograd.functional.jacobian`` reads off the forward map (itself checked by central differences); the cache,
the inverse object and the shape/constraint/equality bookkeeping as PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

D = gg.distributions


def _transforms(lib):
    return lib.distributions.transforms


def _positive(a):
    return np.abs(a) + 0.5


def _nonzero(a):
    return np.sign(a + 1e-3) * (np.abs(a) + 0.5)


# name → (build(lib, *params), params(rng, batch), x(rng, batch)); params are float64 tensors with gradients.
CASES = {
    "Exp": (lambda lib: _transforms(lib).ExpTransform(), lambda r, b: [], lambda r, b: r.normal(size=b)),
    "Power": (lambda lib, k: _transforms(lib).PowerTransform(k), lambda r, b: [_nonzero(r.normal(size=b))],
              lambda r, b: _positive(r.normal(size=b))),
    "Sigmoid": (lambda lib: _transforms(lib).SigmoidTransform(), lambda r, b: [], lambda r, b: 2 * r.normal(size=b)),
    "Softplus": (lambda lib: _transforms(lib).SoftplusTransform(), lambda r, b: [],
                 lambda r, b: 2 * r.normal(size=b)),
    "Tanh": (lambda lib: _transforms(lib).TanhTransform(), lambda r, b: [], lambda r, b: r.normal(size=b)),
    "Abs": (lambda lib: _transforms(lib).AbsTransform(), lambda r, b: [], lambda r, b: r.normal(size=b)),
    "Affine": (lambda lib, loc, scale: _transforms(lib).AffineTransform(loc, scale),
               lambda r, b: [r.normal(size=b), _nonzero(r.normal(size=b))], lambda r, b: r.normal(size=b)),
    "Affine_numbers": (lambda lib: _transforms(lib).AffineTransform(0.5, -2.0), lambda r, b: [],
                       lambda r, b: r.normal(size=b)),
    "Affine_event": (lambda lib, loc, scale: _transforms(lib).AffineTransform(loc, scale, event_dim=1),
                     lambda r, b: [r.normal(size=b + (3,)), _nonzero(r.normal(size=(3,)))],
                     lambda r, b: r.normal(size=b + (3,))),
    "CumulativeDistribution": (lambda lib, loc, scale: _transforms(lib).CumulativeDistributionTransform(
        lib.distributions.Normal(loc, scale)), lambda r, b: [r.normal(size=b), _positive(r.normal(size=b))],
        lambda r, b: r.normal(size=b)),
    "Softmax": (lambda lib: _transforms(lib).SoftmaxTransform(), lambda r, b: [], lambda r, b: r.normal(size=b + (3,))),
    "StickBreaking": (lambda lib: _transforms(lib).StickBreakingTransform(), lambda r, b: [],
                      lambda r, b: r.normal(size=b + (3,))),
    "LowerCholesky": (lambda lib: _transforms(lib).LowerCholeskyTransform(), lambda r, b: [],
                      lambda r, b: r.normal(size=b + (3, 3))),
    "PositiveDefinite": (lambda lib: _transforms(lib).PositiveDefiniteTransform(), lambda r, b: [],
                         lambda r, b: r.normal(size=b + (3, 3))),
    "CorrCholesky": (lambda lib: _transforms(lib).CorrCholeskyTransform(), lambda r, b: [],
                     lambda r, b: r.normal(size=b + (6,))),
    "Inverse_sigmoid": (lambda lib: _transforms(lib).SigmoidTransform().inv, lambda r, b: [],
                        lambda r, b: r.uniform(0.05, 0.95, size=b)),
    "Compose": (lambda lib, loc: _transforms(lib).ComposeTransform([
        _transforms(lib).AffineTransform(loc, 0.5), _transforms(lib).ExpTransform(), _transforms(lib).PowerTransform(
            lib.tensor(1.5, dtype=lib.float64))]), lambda r, b: [r.normal(size=b)], lambda r, b: r.normal(size=b)),
    "Compose_vector": (lambda lib, scale: _transforms(lib).ComposeTransform([
        _transforms(lib).ExpTransform(), _transforms(lib).AffineTransform(0.0, scale, event_dim=1),
        _transforms(lib).StickBreakingTransform()]), lambda r, b: [_positive(r.normal(size=(2,)))],
        lambda r, b: 0.5 * r.normal(size=b + (2,))),  # no sliver of the stick so thin that 1 − Σy cancels
    "Independent": (lambda lib, loc: _transforms(lib).IndependentTransform(
        _transforms(lib).AffineTransform(loc, 2.0), 2), lambda r, b: [r.normal(size=(2, 2))],
        lambda r, b: r.normal(size=b + (2, 2))),
    "Reshape": (lambda lib: _transforms(lib).ReshapeTransform((2, 3), (3, 2)), lambda r, b: [],
                lambda r, b: r.normal(size=b + (2, 3))),
    "Cat_event": (lambda lib, loc: _transforms(lib).CatTransform([
        _transforms(lib).ExpTransform(), _transforms(lib).AffineTransform(loc, 3.0, event_dim=1)], dim=-1,
        lengths=[1, 2]), lambda r, b: [r.normal(size=(2,))], lambda r, b: r.normal(size=b + (3,))),
    "Cat_batch": (lambda lib: _transforms(lib).CatTransform([
        _transforms(lib).TanhTransform(), _transforms(lib).SigmoidTransform()], dim=0, lengths=[2, 1]),
        lambda r, b: [], lambda r, b: r.normal(size=(3,) + b)),
    "Stack": (lambda lib, scale: _transforms(lib).StackTransform([
        _transforms(lib).ExpTransform(), _transforms(lib).AffineTransform(1.0, scale)], dim=-1),
        lambda r, b: [_nonzero(r.normal(size=b))], lambda r, b: r.normal(size=b + (2,))),
}
NOT_BIJECTIVE = {"Abs", "Softmax", "LowerCholesky", "PositiveDefinite"}


def _weights(out):
    return np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)) / out.numel()


def _run(lib, name, params, x, y_in):
    """Forward, inverse and log-det values, and the gradients of a weighted sum of each w.r.t. x, y and params."""
    build = CASES[name][0]
    results = []
    for what in ("forward", "inverse", "log_det"):
        if what == "log_det" and name in NOT_BIJECTIVE:
            continue
        ps = [lib.tensor(p, dtype=lib.float64, requires_grad=True) for p in params]
        xs = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        ys = lib.tensor(y_in, dtype=lib.float64, requires_grad=True)
        t = build(lib, *ps)
        if what == "forward":
            out = t(xs)
        elif what == "inverse":
            out = t.inv(ys)
        else:
            out = t.log_abs_det_jacobian(xs, t(xs))
        if out.requires_grad:
            (out * lib.tensor(_weights(out))).sum().backward()
        results.append(out.detach().numpy())
        results += [z.grad.numpy() if z.grad is not None else np.zeros(z.shape) for z in (xs, ys, *ps)]
    return results


batches = st.lists(st.integers(1, 3), max_size=2).map(tuple)


@pytest.mark.torch
@settings(max_examples=12)
@given(seed=st.integers(0, 2**16), batch=batches)
@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_inverse_and_log_det_with_gradients_match_pytorch(torch, name, seed, batch):
    _, params_of, x_of = CASES[name]
    rng = np.random.default_rng(seed)
    params, x = params_of(rng, batch), x_of(rng, batch)
    with torch.no_grad():
        y_in = CASES[name][0](torch, *[torch.tensor(p) for p in params])(torch.tensor(x)).numpy()
    if name in ("Abs", "Inverse_sigmoid"):
        y_in = np.abs(y_in) if name == "Abs" else y_in
    for mine, theirs in zip(_run(gg, name, params, x, y_in), _run(torch, name, params, x, y_in), strict=True):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-10)


# name → (transform, x of one event, the entries of y the log-det is the Jacobian of)
def _strict_lower(y):
    rows, columns = np.tril_indices(y.shape[-1], -1)
    return y[..., rows, columns]


JACOBIAN_CASES = {
    "Exp": (lambda: D.transforms.ExpTransform(), (4,), lambda y: y),
    "Power": (lambda: D.transforms.PowerTransform(gg.tensor([0.5, -1.5, 2.0, 3.0], dtype=gg.float64)), (4,),
              lambda y: y),
    "Sigmoid": (lambda: D.transforms.SigmoidTransform(), (4,), lambda y: y),
    "Softplus": (lambda: D.transforms.SoftplusTransform(), (4,), lambda y: y),
    "Tanh": (lambda: D.transforms.TanhTransform(), (4,), lambda y: y),
    "Affine_event": (lambda: D.transforms.AffineTransform(1.0, gg.tensor([2.0, -0.5, 3.0], dtype=gg.float64), 1),
                     (3,), lambda y: y),
    "CumulativeDistribution": (lambda: D.transforms.CumulativeDistributionTransform(D.Laplace(
        gg.tensor(0.3, dtype=gg.float64), 1.5)), (4,),
                               lambda y: y),
    "StickBreaking": (lambda: D.transforms.StickBreakingTransform(), (4,), lambda y: y[..., :-1]),
    "CorrCholesky": (lambda: D.transforms.CorrCholeskyTransform(), (6,), _strict_lower),
    "Compose_vector": (lambda: D.transforms.ComposeTransform([
        D.transforms.AffineTransform(0.5, 2.0), D.transforms.StickBreakingTransform()]), (3,), lambda y: y[..., :-1]),
    "Inverse_tanh": (lambda: D.transforms.TanhTransform().inv, (4,), lambda y: y),
}


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(JACOBIAN_CASES))
def test_log_det_is_the_log_determinant_of_the_jacobian(name, seed):
    build, shape, read = JACOBIAN_CASES[name]
    x = np.random.default_rng(seed).normal(size=shape)
    if name == "Inverse_tanh":
        x = np.tanh(x)
    if name == "Power":
        x = _positive(x)
    t = build()
    jacobian = gg.autograd.functional.jacobian(lambda v: read(t(v)), gg.tensor(x, dtype=gg.float64)).numpy()
    step = 1e-6  # and the same Jacobian by central differences, independent of any backward rule

    def mapped(v):
        return read(t(gg.tensor(v, dtype=gg.float64))).numpy()

    differences = np.stack([(mapped(x + step * e) - mapped(x - step * e)) / (2 * step) for e in np.eye(x.size)], -1)
    np.testing.assert_allclose(jacobian, differences, rtol=1e-5, atol=1e-7)
    _, log_det = np.linalg.slogdet(jacobian)
    assert np.isfinite(log_det)
    found = t.log_abs_det_jacobian(gg.tensor(x), t(gg.tensor(x))).numpy().sum()
    np.testing.assert_allclose(found, log_det, rtol=1e-9, atol=1e-9)


def test_the_cache_returns_the_last_x_and_the_inverse_is_one_object():
    x = gg.tensor([0.3, -1.0], dtype=gg.float64)
    for t in (D.transforms.ExpTransform(cache_size=1), D.transforms.AffineTransform(1.0, 2.0, cache_size=1),
              D.transforms.ComposeTransform([D.transforms.SigmoidTransform(), D.transforms.PowerTransform(
                  gg.tensor(2.0))], cache_size=1), D.transforms.ExpTransform().with_cache(1),
              D.transforms.StackTransform([D.transforms.ExpTransform(), D.transforms.TanhTransform()],
                                          cache_size=1)):
        y = t(x)
        assert t.inv(y) is x and t(x) is y
        assert t.inv is t.inv and t.inv.inv is t
        z = t.inv(y * 1.0)  # a new y: computed, then remembered
        assert z is not x and t.inv(y * 1.0) is not z and np.allclose(z.numpy(), x.numpy())
    plain = D.transforms.ExpTransform()
    y = plain(x)
    assert plain.inv(y) is not x and plain.with_cache(0) is plain
    inverse_cached = plain.inv.with_cache(1)
    assert inverse_cached.inv._cache_size == 1 and inverse_cached.inv is not plain


@pytest.mark.torch
def test_pytorchs_cache_behaves_the_same(torch):
    for lib in (gg, torch):
        t = lib.distributions.transforms.ExpTransform(cache_size=1)
        x = lib.tensor([0.5])
        assert t.inv(t(x)) is x and t.inv.inv is t
        with pytest.raises(ValueError, match="cache_size"):
            lib.distributions.transforms.ExpTransform(cache_size=2)


def _described(t, shape):
    """What PyTorch and glassgrad should agree on about a transform (``None`` where it raises)."""
    def read(get):
        try:
            value = get()
        except (NotImplementedError, ValueError, RuntimeError):  # PyTorch's failed broadcast is a RuntimeError
            return None
        return value.tolist() if hasattr(value, "tolist") else value

    return {"domain": read(lambda: " ".join(repr(t.domain).split())),
            "codomain": read(lambda: " ".join(repr(t.codomain).split())),
            "event_dims": read(lambda: (t.domain.event_dim, t.codomain.event_dim)),
            "event_dim": read(lambda: t.event_dim),
            "bijective": t.bijective, "sign": read(lambda: t.sign),
            "forward_shape": read(lambda: tuple(t.forward_shape(shape))),
            "inverse_shape": read(lambda: tuple(t.inverse_shape(shape))),
            "inverse_domain": " ".join(repr(t.inv.domain).split()), "inverse_bijective": t.inv.bijective}


DESCRIBED = {
    "Exp": lambda lib: lib.distributions.transforms.ExpTransform(),
    "Power": lambda lib: lib.distributions.transforms.PowerTransform(lib.tensor([2.0, -1.0])),
    "Sigmoid": lambda lib: lib.distributions.transforms.SigmoidTransform(),
    "Tanh": lambda lib: lib.distributions.transforms.TanhTransform(),
    "Abs": lambda lib: lib.distributions.transforms.AbsTransform(),
    "Affine": lambda lib: lib.distributions.transforms.AffineTransform(1.0, -2.0, event_dim=2),
    "Affine_tensor": lambda lib: lib.distributions.transforms.AffineTransform(0.0, lib.tensor([[1.0, -3.0]])),
    "Softmax": lambda lib: lib.distributions.transforms.SoftmaxTransform(),
    "StickBreaking": lambda lib: lib.distributions.transforms.StickBreakingTransform(),
    "LowerCholesky": lambda lib: lib.distributions.transforms.LowerCholeskyTransform(),
    "PositiveDefinite": lambda lib: lib.distributions.transforms.PositiveDefiniteTransform(),
    "CorrCholesky": lambda lib: lib.distributions.transforms.CorrCholeskyTransform(),
    "Compose": lambda lib: lib.distributions.transforms.ComposeTransform([
        lib.distributions.transforms.ExpTransform(), lib.distributions.transforms.StickBreakingTransform(),
        lib.distributions.transforms.AffineTransform(0.0, -1.0)]),
    "Compose_empty": lambda lib: lib.distributions.transforms.identity_transform,
    "Independent": lambda lib: lib.distributions.transforms.IndependentTransform(
        lib.distributions.transforms.SigmoidTransform(), 2),
    "Reshape": lambda lib: lib.distributions.transforms.ReshapeTransform((6,), (2, 3)),
    "CumulativeDistribution": lambda lib: lib.distributions.transforms.CumulativeDistributionTransform(
        lib.distributions.Exponential(2.0)),
}


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(6,), (4, 6), (6, 6), (2, 3)])
@pytest.mark.parametrize("name", sorted(DESCRIBED))
def test_constraints_event_dims_signs_and_shapes_are_pytorchs(torch, name, shape):
    assert _described(DESCRIBED[name](gg), shape) == _described(DESCRIBED[name](torch), shape)


@pytest.mark.torch
def test_cat_and_stack_describe_themselves_as_pytorch(torch):
    def made(lib):
        t = lib.distributions.transforms
        return [t.CatTransform([t.ExpTransform(), t.StickBreakingTransform()], dim=-1, lengths=[1, 2]),
                t.StackTransform([t.ExpTransform(), t.SigmoidTransform()], dim=1)]

    for mine, theirs in zip(made(gg), made(torch)):
        assert (mine.event_dim, mine.bijective) == (theirs.event_dim, theirs.bijective)
        assert mine.domain.event_dim == theirs.domain.event_dim
        assert mine.codomain.event_dim == theirs.codomain.event_dim
    value = np.array([[0.5, 0.3], [-1.0, 0.9]])
    for lib in (gg, torch):
        check = lib.distributions.constraints.stack([lib.distributions.constraints.real,
                                                     lib.distributions.constraints.unit_interval], dim=1)
        assert check.check(lib.tensor(value)).tolist() == [[True, True], [True, True]]
        check = lib.distributions.constraints.cat([lib.distributions.constraints.positive,
                                                   lib.distributions.constraints.unit_interval], dim=0, lengths=[1, 1])
        assert check.check(lib.tensor(value)).tolist() == [[True, True], [False, True]]


EQUALITIES = [
    lambda t, lib: (t.ExpTransform(), t.ExpTransform()),
    lambda t, lib: (t.ExpTransform(), t.SigmoidTransform()),
    lambda t, lib: (t.ExpTransform().inv, t.ExpTransform().inv),
    lambda t, lib: (t.ExpTransform().inv, t.ExpTransform()),
    lambda t, lib: (t.PowerTransform(lib.tensor(2.0)), t.PowerTransform(lib.tensor(2.0))),
    lambda t, lib: (t.PowerTransform(lib.tensor(2.0)), t.PowerTransform(lib.tensor(3.0))),
    lambda t, lib: (t.AffineTransform(1.0, 2.0), t.AffineTransform(1.0, 2.0)),
    lambda t, lib: (t.AffineTransform(1.0, lib.tensor([2.0, 3.0])), t.AffineTransform(1.0, lib.tensor([2.0, 3.0]))),
    lambda t, lib: (t.AffineTransform(1.0, 2.0), t.AffineTransform(1.0, 2.5)),
    lambda t, lib: (t.ComposeTransform([t.ExpTransform(), t.TanhTransform()]),
                    t.ComposeTransform([t.ExpTransform(), t.TanhTransform()])),
    lambda t, lib: (t.ComposeTransform([t.ExpTransform()]), t.ComposeTransform([t.TanhTransform()])),
    lambda t, lib: (t.ReshapeTransform((2,), (2,)), t.ReshapeTransform((2,), (2,))),
    lambda t, lib: (t.StickBreakingTransform(), t.StickBreakingTransform()),
    lambda t, lib: (t.CorrCholeskyTransform(), t.LowerCholeskyTransform()),
    lambda t, lib: (t.ExpTransform(cache_size=1), t.ExpTransform()),
]


@pytest.mark.torch
@pytest.mark.parametrize("index", range(len(EQUALITIES)))
def test_equality_is_pytorchs(torch, index):
    mine = EQUALITIES[index](D.transforms, gg)
    theirs = EQUALITIES[index](torch.distributions.transforms, torch)
    assert (mine[0] == mine[1], mine[0] != mine[1]) == (theirs[0] == theirs[1], theirs[0] != theirs[1])


def _registry_constraints(lib):
    c = lib.distributions.constraints
    return [c.real, c.positive, c.nonnegative, c.greater_than(lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64)),
            c.greater_than_eq(-1.5), c.less_than(2.0), c.unit_interval, c.interval(-1.0, 3.0),
            c.half_open_interval(lib.tensor(0.5, dtype=lib.float64), 2.5), c.simplex, c.real_vector,
            c.independent(c.positive, 2), c.corr_cholesky, c.lower_cholesky, c.positive_definite,
            c.positive_semidefinite, c.cat([c.positive, c.unit_interval], dim=-1, lengths=[1, 2]),
            c.stack([c.real, c.greater_than(1.0)], dim=-1)]


@pytest.mark.torch
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("index", range(18))
def test_biject_to_and_transform_to_give_pytorchs_transforms(torch, registry, index):
    rng = np.random.default_rng(index)
    found = {}
    for lib in (gg, torch):
        constraint = _registry_constraints(lib)[index]
        try:
            found[lib] = getattr(lib.distributions, registry)(constraint)
        except NotImplementedError:
            found[lib] = None
    if found[torch] is None:
        assert found[gg] is None
        return
    mine, theirs = found[gg], found[torch]
    assert " ".join(repr(mine).split()) == " ".join(repr(theirs).split())
    assert mine.bijective == theirs.bijective
    x = rng.normal(size={2: (2, 3, 3), 17: (2, 2)}.get(mine.domain.event_dim, (2, 3)) if index != 17 else (2, 2))
    y = mine(gg.tensor(x))
    np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-14)
    constraint = _registry_constraints(gg)[index]
    assert constraint.check(y).numpy().all()
    if mine.bijective:
        np.testing.assert_allclose(mine.inv(y).numpy(), x, rtol=1e-9, atol=1e-9)


def test_registry_refuses_unknown_constraints_and_registers_new_ones():
    with pytest.raises(NotImplementedError, match="biject_to: no transform registered for LowerCholesky"):
        D.biject_to(D.constraints.lower_cholesky)
    with pytest.raises(NotImplementedError, match="IntegerGreaterThan"):
        D.transform_to(D.constraints.nonnegative_integer)
    with pytest.raises(TypeError, match="expected a Constraint subclass or instance"):
        D.transform_to.register(3, lambda c: D.transforms.ExpTransform())
    registry = type(D.biject_to)("mine")
    registry.register(D.constraints.positive)(lambda c: D.transforms.ExpTransform())
    assert registry(D.constraints.greater_than(3.0)) == D.transforms.ExpTransform()


# ---- TransformedDistribution -----------------------------------------------------------------------------------

def _normal(lib, loc, scale):
    return lib.distributions.Normal(loc, scale.abs() + 0.3)


TRANSFORMED = {
    "log_normal": lambda lib, a, b: lib.distributions.TransformedDistribution(
        _normal(lib, a, b), [lib.distributions.transforms.AffineTransform(0.5, 2.0),
                             lib.distributions.transforms.ExpTransform()]),
    "logistic_decreasing": lambda lib, a, b: lib.distributions.TransformedDistribution(
        lib.distributions.Uniform(a * 0.0, a * 0.0 + 1.0),
        [lib.distributions.transforms.SigmoidTransform().inv,
         lib.distributions.transforms.AffineTransform(a, -b.abs() - 0.3)]),
    "affine_sign_per_entry": lambda lib, a, b: lib.distributions.TransformedDistribution(
        _normal(lib, a, b), lib.distributions.transforms.AffineTransform(1.0, b)),
    "tanh_normal": lambda lib, a, b: lib.distributions.TransformedDistribution(
        _normal(lib, a, b), [lib.distributions.transforms.TanhTransform()]),
    "stick_breaking": lambda lib, a, b: lib.distributions.TransformedDistribution(
        _normal(lib, a, b), lib.distributions.transforms.StickBreakingTransform()),
    "mvn_exp": lambda lib, a, b: lib.distributions.TransformedDistribution(
        lib.distributions.MultivariateNormal(a, scale_tril=lib.diag_embed(b.abs() + 0.3)),
        [lib.distributions.transforms.ExpTransform()]),
    "widening_affine": lambda lib, a, b: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(a[..., :1], b[..., :1].abs() + 0.3),
        [lib.distributions.transforms.AffineTransform(a.detach() * 0.0, 2.0 + b.detach() ** 2)]),
    "reshape_independent": lambda lib, a, b: lib.distributions.TransformedDistribution(
        _normal(lib, a, b), [lib.distributions.transforms.IndependentTransform(
            lib.distributions.transforms.SigmoidTransform(), 1)]),
}


def _point(name, rng, shape):
    """A value in the support of ``TRANSFORMED[name]`` with ``shape`` = the batch + event of the parameters."""
    if name == "stick_breaking":
        return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if name == "tanh_normal":
        return np.tanh(rng.normal(size=shape))
    if name in ("log_normal", "mvn_exp"):
        return np.exp(rng.normal(size=shape))
    if name == "reshape_independent":
        return rng.uniform(0.05, 0.95, size=shape)
    return rng.normal(size=shape)


MONOTONE = {"log_normal", "logistic_decreasing", "affine_sign_per_entry", "tanh_normal", "widening_affine"}


def _scores(lib, name, arrays, point, probability):
    params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    d = TRANSFORMED[name](lib, *params)
    outs = [d.log_prob(lib.tensor(point, dtype=lib.float64))]
    if name in MONOTONE:
        outs += [d.cdf(lib.tensor(point, dtype=lib.float64)), d.icdf(lib.tensor(probability, dtype=lib.float64))]
    found = [(tuple(d.batch_shape), tuple(d.event_shape), " ".join(repr(d.support).split()), d.has_rsample)]
    for out in outs:
        grads = lib.autograd.grad((out * lib.tensor(_weights(out))).sum(), params, allow_unused=True,
                                  retain_graph=True)
        found += [out.detach().numpy()] + [g.numpy() if g is not None else np.zeros(p.shape)
                                           for g, p in zip(grads, params)]
    return found


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple))
@pytest.mark.parametrize("name", sorted(TRANSFORMED))
def test_transformed_distribution_scores_and_shapes_match_pytorch(torch, name, seed, batch):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch), rng.normal(size=batch)]
    d = TRANSFORMED[name](gg, *(gg.tensor(a) for a in arrays))
    point = _point(name, rng, d.batch_shape + d.event_shape)
    probability = rng.uniform(0.05, 0.95, size=d.batch_shape + d.event_shape)
    if name == "widening_affine":  # the base's batch (…, 1) widened to the transform's (…, n)
        assert d.batch_shape == batch and d.base_dist.batch_shape == batch
    mine, theirs = _scores(gg, name, arrays, point, probability), _scores(torch, name, arrays, point, probability)
    assert mine[0] == theirs[0]
    for a, b in zip(mine[1:], theirs[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), batch=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple))
@pytest.mark.parametrize("name", ["log_normal", "stick_breaking", "tanh_normal", "mvn_exp"])
def test_rsample_pushes_the_same_base_noise_through_pytorchs_transforms(torch, name, seed, batch):
    """Replay glassgrad's base draw through PyTorch's chain: the draws and ∂(Σ w·y)/∂θ agree."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch), rng.normal(size=batch)]
    mine = [gg.tensor(a, requires_grad=True) for a in arrays]
    d = TRANSFORMED[name](gg, *mine)
    gg.manual_seed(seed)
    base_draw = d.base_dist.sample((2,))
    gg.manual_seed(seed)
    draws = d.rsample((2,))
    assert tuple(draws.shape) == (2,) + d.batch_shape + d.event_shape
    (draws * gg.tensor(_weights(draws))).sum().backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    t = TRANSFORMED[name](torch, *theirs)
    base = t.base_dist.base_dist if isinstance(t.base_dist, torch.distributions.Independent) else t.base_dist
    if name == "mvn_exp":
        noise = np.linalg.solve(d.base_dist.scale_tril.detach().numpy(),
                                (base_draw.numpy() - arrays[0])[..., None])[..., 0]
        x = base.loc + (base.scale_tril @ torch.tensor(noise)[..., None])[..., 0]
    else:
        x = base.loc + base.scale * torch.tensor((base_draw.numpy() - base.loc.detach().numpy())
                                                 / base.scale.detach().numpy())
    for transform in t.transforms:
        x = transform(x)
    (x * torch.tensor(_weights(draws))).sum().backward()
    np.testing.assert_allclose(draws.detach().numpy(), x.detach().numpy(), rtol=1e-10, atol=1e-12)
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert not d.sample().requires_grad


@pytest.mark.torch
def test_expand_and_the_missing_moments_are_pytorchs(torch):
    for lib in (gg, torch):
        d = TRANSFORMED["stick_breaking"](lib, lib.zeros(2, 3, dtype=lib.float64), lib.ones(2, 3, dtype=lib.float64))
        wide = d.expand((4, 2))
        assert (tuple(wide.batch_shape), tuple(wide.event_shape)) == ((4, 2), (4,))
        assert tuple(wide.sample().shape) == (4, 2, 4)
        for moment in ("mean", "variance"):
            with pytest.raises(NotImplementedError):
                getattr(d, moment)
        with pytest.raises(NotImplementedError):
            d.entropy()
    with pytest.raises(NotImplementedError) as error:
        _ = TRANSFORMED["log_normal"](gg, gg.zeros(2), gg.ones(2)).mean
    assert "\n" not in str(error.value)
    with pytest.raises(NotImplementedError, match="StickBreakingTransform has no sign"):
        TRANSFORMED["stick_breaking"](gg, gg.zeros(3), gg.ones(3)).cdf(gg.tensor([0.2, 0.3, 0.1, 0.4]))


def test_transformed_samples_follow_the_change_of_variables():
    d = D.TransformedDistribution(D.Normal(gg.tensor(0.2, dtype=gg.float64), 0.5), [D.transforms.ExpTransform()])
    gg.manual_seed(3)
    x = d.sample((40000,)).numpy()
    assert abs(x.mean() - np.exp(0.2 + 0.125)) < 5 * np.sqrt(np.expm1(0.25) * np.exp(0.65) / 40000)
    np.testing.assert_allclose(d.cdf(gg.tensor(np.median(x))).numpy(), 0.5, atol=0.0125)


@pytest.mark.parametrize("call, message", [
    (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"), "transforms must be a Transform or a list"),
    (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), D.transforms.StickBreakingTransform()),
     "the transforms read events of 1 dims"),
    (lambda: D.transforms.ReshapeTransform((2, 3), (4,)), "hold different numbers of entries"),
    (lambda: D.transforms.ReshapeTransform((2, 3), (6,)).forward_shape((3, 2)), "does not end in (2, 3)"),
    (lambda: D.transforms.CorrCholeskyTransform().forward_shape((4,)), "must be D(D − 1)/2"),
    (lambda: D.transforms.CorrCholeskyTransform().inverse_shape((2, 3)), "needs square matrices"),
    (lambda: D.transforms.StickBreakingTransform().forward_shape(()), "needs a last dim"),
    (lambda: D.transforms.CatTransform([D.transforms.ExpTransform()], lengths=[1, 2]), "need as many lengths"),
    (lambda: D.transforms.CatTransform([D.transforms.ExpTransform()], lengths=[2])(gg.zeros(3)),
     "needs 2 entries along dim 0"),
    (lambda: D.transforms.StackTransform([D.transforms.ExpTransform()])(gg.zeros(3)), "needs 1 slices along dim 0"),
    (lambda: D.transforms.CatTransform([D.Normal(0.0, 1.0)]), "every entry of tseq must be a Transform"),
    (lambda: D.transforms.AbsTransform().log_abs_det_jacobian(gg.zeros(1), gg.zeros(1)), "it is not a bijection"),
    (lambda: D.transforms.AbsTransform().sign, "AbsTransform has no sign"),
    (lambda: D.transforms.IndependentTransform(D.transforms.ExpTransform(), 2)(gg.zeros(3)), "fewer than the 2"),
    (lambda: D.transforms.StickBreakingTransform().event_dim, None),
    (lambda: D.transforms.CorrCholeskyTransform().event_dim, "different event dims (1 and 2)"),
    (lambda: D.constraints.cat([D.constraints.real], lengths=[1, 1]), "need as many lengths"),
])
def test_bad_calls_are_one_line_errors(call, message):
    if message is None:  # a transform whose domain and codomain are both vectors has one event dim
        assert call() == 1
        return
    with pytest.raises((ValueError, TypeError, NotImplementedError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def _matrices(rng, batch):
    """Matrices of every kind the matrix constraints tell apart: lower Cholesky factors, correlation factors,
    positive-definite, symmetric indefinite, merely lower triangular, and arbitrary (no singular one: an eigenvalue
    of 0 rounds to either side)."""
    general = rng.normal(size=batch + (3, 3))
    kind = rng.integers(0, 6, size=batch)
    lower = np.tril(general, -1) + np.eye(3) * (np.abs(general) + 0.1)
    corr = lower / np.linalg.norm(lower, axis=-1, keepdims=True)
    spd = general @ np.swapaxes(general, -1, -2) + np.eye(3)
    indefinite = spd - (np.linalg.eigvalsh(spd)[..., 1:2, None] * np.eye(3))  # eigenvalues below, at 0, above
    indefinite = indefinite - 0.5 * np.eye(3)  # … now one clearly negative, one −0.5, one positive
    choices = [lower, corr, spd, indefinite, np.tril(general), general]
    return np.choose(kind[..., None, None], choices)


@pytest.mark.torch
@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), batch=batches)
@pytest.mark.parametrize("name", ["lower_triangular", "lower_cholesky", "corr_cholesky", "square", "symmetric",
                                  "positive_semidefinite", "positive_definite"])
def test_matrix_constraints_check_as_pytorchs(torch, name, seed, batch):
    values = _matrices(np.random.default_rng(seed), batch)
    mine, theirs = getattr(D.constraints, name), getattr(torch.distributions.constraints, name)
    assert (repr(mine), mine.event_dim, mine.is_discrete) == (repr(theirs), theirs.event_dim, theirs.is_discrete)
    expected = theirs.check(torch.tensor(values)).numpy()
    found = mine.check(gg.tensor(values)).numpy()
    assert found.shape == expected.shape and (found == expected).all()


@pytest.mark.torch
def test_less_than_cat_and_stack_constraints_check_as_pytorchs(torch):
    values = np.array([[-2.0, 0.5, 3.0], [1.0, -0.5, 0.2]])
    for build in (lambda c: c.less_than(1.0),
                  lambda c: c.cat([c.less_than(0.0), c.unit_interval], dim=1, lengths=[1, 2]),
                  lambda c: c.cat([c.positive, c.real], dim=0),
                  lambda c: c.stack([c.positive, c.real, c.greater_than(0.1)], dim=-1)):
        mine, theirs = build(D.constraints), build(torch.distributions.constraints)
        assert (mine.event_dim, mine.is_discrete) == (theirs.event_dim, theirs.is_discrete)
        np.testing.assert_array_equal(mine.check(gg.tensor(values)).numpy(),
                                      theirs.check(torch.tensor(values)).numpy())


def test_a_cached_chain_scores_its_own_draw_from_the_remembered_base_value():
    """With cache_size=1, log_prob of the last draw reads the base value back from the cache, not through atanh
    (which cannot recover x from a y rounded to 1.0)."""
    base = D.Normal(gg.tensor([0.0, 30.0], dtype=gg.float64), 1.0)
    cached = D.TransformedDistribution(base, [D.transforms.TanhTransform(cache_size=1)])
    gg.manual_seed(2)
    y = cached.rsample()
    assert y.numpy()[1] == 1.0  # tanh of a number near 30 rounds to 1
    x = cached.transforms[0].inv(y)
    expected = base.log_prob(x) - D.transforms.TanhTransform().log_abs_det_jacobian(x, y)
    np.testing.assert_array_equal(cached.log_prob(y).numpy(), expected.numpy())
    assert np.isfinite(cached.log_prob(y).numpy()).all()
    uncached = D.TransformedDistribution(base, [D.transforms.TanhTransform()])
    with np.errstate(divide="ignore", invalid="ignore"):  # atanh(1) = inf, and the log-det then NaN
        assert not np.isfinite(uncached.log_prob(y).numpy()[1])
