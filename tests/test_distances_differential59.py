"""Differential tests of the distance, similarity and normalization functions against PyTorch 2.13 (round 59).

The fuzzer behind these drew broadcastable shapes (sizes 0 to 3, one side's dims dropped), zero vectors, identical
points, integer-valued entries and huge or tiny magnitudes (10^±160, float32 near 1e20) and compared values and
gradients of ``F.cosine_similarity``/``nn.CosineSimilarity`` (dim, eps 0 to 1), ``F.pairwise_distance``/
``nn.PairwiseDistance`` (p 0, 0.5, 1, 1.5, 2, 3, inf; eps; keepdim), ``gg.dist``, ``F.normalize``, ``gg.cdist``
(every compute_mode, up to 30 rows, batch dims that broadcast), ``F.pdist``, ``gg.renorm`` and ``F.one_hot``.
The defects it found: a norm over dims of size 1 formed ``|a|^p``, so one huge or tiny entry overflowed to ∞ or
underflowed to 0 where PyTorch's norm is ``|a|`` (pairwise distances of one-feature rows, normalize and renorm of
such slices, a NaN slope ∞/∞); cosine_similarity of a vector whose norm overflowed gave NaN (the eps clamp formed
∞ − ∞) where PyTorch gives 0; pdist of rows with no columns at p = inf raised; pdist of an integer tensor raised
TypeError (PyTorch: RuntimeError).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F


def _tf(torch):
    return torch.nn.functional


def _close(ours, theirs, tol: float = 1e-12) -> None:
    if ours is None or theirs is None:  # no gradient (p = 0): None from both
        assert ours is None and theirs is None
        return
    ours = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, equal_nan=True)


def _grads(lib, fn, arrays, weight=None):
    """The value of ``fn(lib, *tensors)`` and the gradient of ``Σ weight·value`` with respect to each input."""
    tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *tensors)
    w = np.ones(tuple(out.shape)) if weight is None else weight
    grads = lib.autograd.grad((out * lib.tensor(w, dtype=out.dtype)).sum(), tensors, allow_unused=True)
    return out, grads


def _compare(torch, fn, arrays, tol=1e-12, weight=None):
    """Values and gradients of ``fn`` on both libraries (values only where PyTorch's backward refuses: p = 0)."""
    try:
        _grads(torch, fn, arrays, weight)
    except RuntimeError:
        _close(fn(gg, *[gg.tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays]), tol)
        return
    ours, our_grads = _grads(gg, fn, arrays, weight)
    theirs, their_grads = _grads(torch, fn, arrays, weight)
    _close(ours, theirs, tol)
    for a, b in zip(our_grads, their_grads):
        _close(a, b, tol)


def _raises_like(torch, function):
    """The exception class PyTorch raises for ``function(torch, F)``; glassgrad raises the same."""
    with pytest.raises(Exception) as t_error:
        function(torch, _tf(torch))
    with pytest.raises(type(t_error.value)):
        function(gg, F)


# --- the defects --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2.0, 3.0, 0.5, 4.0, math.inf])
def test_norm_of_one_entry_is_its_absolute_value(torch, p):
    """A norm over a dim of size 1 is |a|: 7e136 (its cube overflows), 1e-170 (its square underflows)."""
    x = np.array([[7e136, 1e-170], [-2.0, -3e200]])
    for dim in (0, (0,)):
        column = x[:1]
        _close(gg.linalg.vector_norm(gg.tensor(column), p, dim), torch.linalg.vector_norm(torch.tensor(column), p, dim))
    ours, (grad,) = _grads(gg, lambda lib, a: lib.linalg.vector_norm(a, p, 1), [x[:, :1]])
    np.testing.assert_array_equal(ours.numpy(), [7e136, 2.0])
    np.testing.assert_array_equal(grad.numpy(), [[1.0], [-1.0]])  # sign(a): PyTorch's NaN at p = 4 is its ∞/∞


def test_float32_norm_of_one_entry_does_not_overflow(torch):
    x = np.array([[3e20], [-1e-30]], dtype=np.float32)
    for p in (2.0, 3.0):
        _close(gg.tensor(x).norm(p, dim=1), torch.tensor(x).norm(p, dim=1), 0)


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_pairwise_distance_of_one_feature_rows_at_huge_values(torch, p):
    a, b = np.array([[-0.875], [1.0]]), np.array([[-7.28e136], [0.5]])
    _compare(torch, lambda lib, x, y: (F if lib is gg else _tf(lib)).pairwise_distance(x, y, p, 0.0), [a, b])
    _compare(torch, lambda lib, x, y: lib.dist(x[:1], y[:1], p), [a, b])


def test_normalize_and_renorm_of_a_one_entry_slice(torch):
    x = np.array([9.78e15, -2.0], dtype=np.float32)
    _close(F.normalize(gg.tensor(x), 3.0, 0)[:1], _tf(torch).normalize(torch.tensor(x), 3.0, 0)[:1], 0)
    _close(F.normalize(gg.tensor(x[:1]), 3.0, 0), _tf(torch).normalize(torch.tensor(x[:1]), 3.0, 0), 0)
    big = np.array([[5.4e16]], dtype=np.float32)
    _close(gg.renorm(gg.tensor(big), 3, 0, 5.0), torch.renorm(torch.tensor(big), 3, 0, 5.0), 0)
    tiny = np.array([[-3.76e-42]], dtype=np.float32)  # a float32 subnormal: its square is 0, its norm is not
    _compare(torch, lambda lib, a: lib.renorm(a, 2, 0, 0.0), [tiny], 0)


def test_cosine_similarity_of_an_overflowed_norm_is_zero_not_nan(torch):
    x1 = np.array([[[7.1e20, -6.8e20, 8.9e20]], [[2.2e21, 4.5e20, 2.2e20]]], dtype=np.float32)
    x2 = np.array([[[1.15]], [[-1.5]]], dtype=np.float32)
    for eps in (1e-3, 1.0):
        ours = F.cosine_similarity(gg.tensor(x1), gg.tensor(x2), 2, eps)
        _close(ours, _tf(torch).cosine_similarity(torch.tensor(x1), torch.tensor(x2), 2, eps), 0)
        np.testing.assert_array_equal(ours.numpy(), [[0.0], [0.0]])
    one = np.array([[-2.99e20], [-8.86e20]], dtype=np.float32)[None]  # a size-1 dim: the norm is |a|, no overflow
    _close(gg.nn.CosineSimilarity(-1, 1e-3)(gg.tensor(one), gg.tensor(one * 0.5)),
           torch.nn.CosineSimilarity(-1, 1e-3)(torch.tensor(one), torch.tensor(one * 0.5)), 0)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 0.5, math.inf])
def test_pdist_of_rows_with_no_columns_is_zero(torch, p):
    _close(F.pdist(gg.zeros(3, 0), p), _tf(torch).pdist(torch.zeros(3, 0), p), 0)
    _close(F.pdist(gg.zeros(1, 0), p), _tf(torch).pdist(torch.zeros(1, 0), p), 0)


def test_pdist_of_integers_is_refused_with_runtime_error(torch):
    _raises_like(torch, lambda lib, f: f.pdist(lib.ones(3, 2, dtype=lib.int64)))


# --- the property: the fuzzer's core ------------------------------------------------------------------------------

@st.composite
def _pair(draw):
    """Two broadcastable float64 arrays (sizes 1 to 3, one side maybe with dims dropped or set to 1), entries from
    small integers (zero vectors and equal points come often) or normals scaled by 10^k, |k| <= 100."""
    nd = draw(st.integers(1, 3))
    shape = draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd))
    s1 = [n if draw(st.booleans()) else 1 for n in shape]
    s2 = [n if draw(st.booleans()) else 1 for n in shape][draw(st.integers(0, nd - 1)):]
    seed, kind, scale = draw(st.integers(0, 2**32 - 1)), draw(st.sampled_from(["int", "normal"])), draw(
        st.integers(-100, 100))
    rng = np.random.default_rng(seed)
    make = (lambda s: rng.integers(-1, 2, size=s).astype(float)) if kind == "int" else (
        lambda s: rng.standard_normal(s) * 10.0 ** scale)
    a, b = make(tuple(s1)), make(tuple(s2))
    if draw(st.booleans()):
        b = np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)).copy()  # identical points
    return a, b, draw(st.integers(-nd, nd - 1)), seed


@given(_pair(), st.sampled_from([1e-8, 0.0, 1e-3]), st.sampled_from([1.0, 2.0, 3.0, 1.5, 0.0, math.inf]))
def test_distances_match_pytorch_on_drawn_pairs(torch, pair, eps, p):
    a, b, dim, seed = pair
    ops = [
        lambda lib, x, y: (F if lib is gg else _tf(lib)).pairwise_distance(x, y, p, eps * 100, dim % 2 == 0),
        lambda lib, x, y: lib.dist(x, y, p),
        lambda lib, x, y: (F if lib is gg else _tf(lib)).normalize(x, p if p else 2.0, dim % x.ndim, 1e-12),
        lambda lib, x, y: (F if lib is gg else _tf(lib)).cosine_similarity(x, y, dim, eps),
    ]
    for fn in ops:
        tensors_ok = True
        try:
            fn(torch, torch.tensor(a), torch.tensor(b))
        except Exception as error:  # noqa: BLE001 - then glassgrad raises the same class
            tensors_ok = False
            with pytest.raises(type(error)):
                fn(gg, gg.tensor(a), gg.tensor(b))
        if tensors_ok:
            shape = tuple(fn(torch, torch.tensor(a), torch.tensor(b)).shape)
            _compare(torch, fn, [a, b], 1e-9, np.random.default_rng(seed).standard_normal(shape))


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 1.0, 2.0, 3.0, 0.5]),
       st.sampled_from(["use_mm_for_euclid_dist_if_necessary", "donot_use_mm_for_euclid_dist"]))
def test_cdist_and_pdist_match_pytorch_on_drawn_rows(torch, seed, p, mode):
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, size=(2, int(rng.integers(1, 5)), 3)).astype(float)
    y = np.concatenate([x[:, :1], rng.standard_normal((2, int(rng.integers(0, 4)), 3))], 1)  # a coinciding row
    _compare(torch, lambda lib, u, v: lib.cdist(u, v, p, mode), [x, y], 1e-12, rng.standard_normal(
        (2, x.shape[1], y.shape[1])))
    rows = np.concatenate([x[0], x[0, :1]])  # a repeated row
    _compare(torch, lambda lib, u: (F if lib is gg else _tf(lib)).pdist(u, p), [rows], 1e-12)


# --- pinned behaviour ---------------------------------------------------------------------------------------------

def test_cosine_similarity_clamps_each_norm_on_its_own(torch):
    """PyTorch 2.13 divides each vector by max(‖x‖, eps) (not the product of the norms by eps), with the slope of the
    norm kept below eps; a zero vector gives 0 and a finite gradient."""
    for a, b, eps in (([[1e-5, 2e-5]], [[3.0, 4.0]], 1e-3), ([[0.0, 0.0]], [[3.0, 4.0]], 1e-8),
                      ([[0.0, 0.0]], [[0.0, 0.0]], 1e-8), ([[1e-5, 0.0]], [[1e-5, 1e-5]], 1e-4)):
        _compare(torch, lambda lib, x, y, eps=eps: (F if lib is gg else _tf(lib)).cosine_similarity(x, y, 1, eps),
                 [np.array(a), np.array(b)])
    assert F.cosine_similarity(gg.tensor([[1e-5, 0.0]], dtype=gg.float64), gg.tensor([[3.0, 4.0]], dtype=gg.float64),
                               eps=1e-3).item() == \
        pytest.approx(1e-5 / 1e-3 * 0.6, rel=1e-12)


def test_cosine_similarity_broadcasts_and_takes_1d_and_0d(torch):
    for a, b, dim in ((np.ones((2, 1, 3)), np.arange(6.0).reshape(2, 3), -1), (np.array([1.0, 2.0]),
                      np.array([2.0, 1.0]), 0), (np.array(1.0), np.array(-2.0), 0), (np.ones((3, 1)),
                      np.arange(6.0).reshape(3, 2) - 2, 1)):
        _compare(torch, lambda lib, x, y, dim=dim: lib.nn.CosineSimilarity(dim)(x, y), [a, b])
    _raises_like(torch, lambda lib, f: f.cosine_similarity(lib.ones(2, 3), lib.ones(4, 3)))
    _raises_like(torch, lambda lib, f: f.cosine_similarity(lib.ones(2, 3), lib.ones(2, 3), dim=2))


def test_pairwise_distance_adds_eps_to_the_difference(torch):
    for p in (0.0, 1.0, 2.0, 3.0, math.inf, -1.0):
        for keepdim in (False, True):
            for a, b in (([1.0, 2.0], [0.0, 0.0]), ([[1.0, 2.0]], [[1.0, 2.0]]), (np.ones((2, 3, 4)), np.zeros((3, 4))),
                         (1.0, 0.0)):
                _compare(torch, lambda lib, x, y, p=p, k=keepdim: lib.nn.PairwiseDistance(p, 1e-6, k)(x, y),
                         [np.array(a), np.array(b)])
    _raises_like(torch, lambda lib, f: f.pairwise_distance(lib.ones(2, 3), lib.ones(2, 4)))
    _raises_like(torch, lambda lib, f: f.pairwise_distance(lib.ones(2, 0), lib.ones(2, 0), p=math.inf))


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                                  "donot_use_mm_for_euclid_dist"])
def test_cdist_gradient_at_coinciding_points_is_zero(torch, mode):
    """p = 2 with 30 rows (above 25: the matrix-product form unless told not to): a distance of 0 has slope 0."""
    x = np.random.default_rng(0).integers(-2, 3, size=(30, 3)).astype(float)
    y = x[:4].copy()
    ours, (gx, gy) = _grads(gg, lambda lib, u, v: lib.cdist(u, v, compute_mode=mode), [x, y])
    theirs, (tx, ty) = _grads(torch, lambda lib, u, v: lib.cdist(u, v, compute_mode=mode), [x, y])
    _close(ours, theirs, 1e-7)
    assert np.all(np.isfinite(gx.numpy())) and np.all(np.isfinite(gy.numpy()))
    _close(gx, tx, 1e-7)
    _close(gy, ty, 1e-7)


def test_cdist_refusals(torch):
    _raises_like(torch, lambda lib, f: lib.cdist(lib.ones(3), lib.ones(3)))
    _raises_like(torch, lambda lib, f: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p=-1))
    _raises_like(torch, lambda lib, f: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), compute_mode="x"))
    _raises_like(torch, lambda lib, f: lib.cdist(lib.ones(2, 3, dtype=lib.int64), lib.ones(2, 3, dtype=lib.int64)))
    _raises_like(torch, lambda lib, f: lib.cdist(lib.ones(2, 2, 3), lib.zeros(3, 4, 3)))
    _close(gg.cdist(gg.ones(2, 1, 2, 3), gg.zeros(3, 4, 3)), torch.cdist(torch.ones(2, 1, 2, 3), torch.zeros(3, 4, 3)))


def test_one_hot_against_pytorch(torch):
    for labels, classes in (([0, 2, 1], -1), ([0, 2, 1], 5), (2, -1), (2, 4), ([[1, 0]], 3)):
        ours = F.one_hot(gg.tensor(labels), classes)
        theirs = _tf(torch).one_hot(torch.tensor(labels), classes)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == gg.int64
    for make in (lambda lib, f: f.one_hot(lib.tensor([0, -1]), 3), lambda lib, f: f.one_hot(lib.tensor([0, 3]), 3),
                 lambda lib, f: f.one_hot(lib.tensor([0.0, 1.0]), 3),
                 lambda lib, f: f.one_hot(lib.tensor([], dtype=lib.int64), -1),
                 lambda lib, f: f.one_hot(lib.tensor([True]), 2)):
        _raises_like(torch, make)
    assert tuple(F.one_hot(gg.zeros(0, 2, dtype=gg.int64), 3).shape) == (0, 2, 3)


def test_normalize_writes_out_and_refuses_like_pytorch(torch):
    out = gg.zeros(1, 2)
    result = F.normalize(gg.tensor([[3.0, 4.0]]), out=out)
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8]], rtol=1e-7)
    _close(result, _tf(torch).normalize(torch.tensor([[3.0, 4.0]])))
    for p in (0, -1, 1, math.inf):
        _close(F.normalize(gg.tensor([3.0, 0.0, 4.0]), p, 0), _tf(torch).normalize(torch.tensor([3.0, 0.0, 4.0]), p, 0))
    _raises_like(torch, lambda lib, f: f.normalize(lib.tensor([3.0, 4.0])))
    _raises_like(torch, lambda lib, f: f.normalize(lib.tensor([3, 4]), dim=0))


def test_renorm_and_dist_pinned(torch):
    x = np.array([[3.0, 0.1], [-4.0, 0.1]])
    for p in (1, 2, 3, math.inf):
        for dim in (0, 1, -1):
            _compare(torch, lambda lib, a, p=p, dim=dim: lib.renorm(a, p, dim, 1.0), [x])
    for bad in (lambda lib, f: lib.renorm(lib.ones(2, 2), 0, 0, 1.0), lambda lib, f: lib.renorm(lib.ones(2), 2, 0, 1.0),
                lambda lib, f: lib.renorm(lib.ones(2, 2), 2, 0, -1.0),
                lambda lib, f: lib.renorm(lib.ones(2, 2), 2, 2, 1.0),
                lambda lib, f: lib.dist(lib.ones(3, dtype=lib.int64), lib.zeros(3, dtype=lib.int64))):
        _raises_like(torch, bad)
    for p in (0, 1, 2, 3, math.inf, -math.inf):
        _close(gg.ones(2, 3).dist(gg.zeros(3), p), torch.ones(2, 3).dist(torch.zeros(3), p))


def test_second_derivatives_of_cosine_similarity_and_pairwise_distance(torch):
    a, b = np.array([[1.0, 2.0, -0.5], [0.3, 0.0, 1.0]]), np.array([[0.5, -1.0, 2.0]])

    def hessian_vector(lib, fn):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        (gx,) = lib.autograd.grad(fn(lib, x, y).sum(), [x], create_graph=True)
        return lib.autograd.grad((gx * lib.tensor(a[::-1].copy())).sum(), [x, y])

    for fn in (lambda lib, x, y: (F if lib is gg else _tf(lib)).cosine_similarity(x, y),
               lambda lib, x, y: (F if lib is gg else _tf(lib)).pairwise_distance(x, y, 3.0)):
        for ours, theirs in zip(hessian_vector(gg, fn), hessian_vector(torch, fn)):
            _close(ours, theirs)


def test_a_0d_tensor_p_counts_as_its_number(torch):
    """PyTorch reads a 0-d tensor p of dist, norm, normalize and pairwise_distance as its number (it was refused)."""
    x = np.array([[1.0, -2.0, 0.5]])
    for fn in (lambda lib, a: lib.dist(a, a * 0, lib.tensor(3.0)), lambda lib, a: a.norm(lib.tensor(3)),
               lambda lib, a: (F if lib is gg else _tf(lib)).normalize(a, lib.tensor(0.5), 1),
               lambda lib, a: (F if lib is gg else _tf(lib)).pairwise_distance(a, a * 2, lib.tensor(1.5))):
        _compare(torch, fn, [x])
