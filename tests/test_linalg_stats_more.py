"""Least squares, rank, condition number and the matrix exponential (``gg.linalg.lstsq``, ``matrix_rank``, ``cond``,
``matrix_exp``), statistics (``cov``, ``corrcoef``, ``histc``, ``histogram``) and the products and integrals made of
other ops (``cartesian_prod``, ``combinations``, ``vander``, ``trapezoid``, ``cumulative_trapezoid``) against
PyTorch 2.13 in float64 on hypothesis-drawn sizes and values: values, the gradient of a weighted sum of squares
into every input, and second derivatives.

Well-conditioned draws: the matrices given to ``lstsq`` and ``cond`` are a standard normal matrix plus 3 times
the identity in their leading square block (so every singular value is away from 0 and κ stays small), and
``matrix_exp`` gets normal entries scaled by a drawn factor up to 2.5, which takes ‖A‖₁ past θ₁₃ ≈ 5.4 for the
larger sizes (so the scaling-and-squaring path runs, with different squaring counts within one batch).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from derivatives import value_and_derivatives
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _conditioned(lib, a):
    """``a`` plus 3·I in its leading square block: singular values at least about 3 − ‖a‖₂/… away from 0."""
    rows, columns = a.shape[-2:]
    return a + 3 * lib.eye(rows, columns, dtype=lib.float64)


def _cond(lib, a, p):
    """``cond(a, p)``; PyTorch 2.13's backward of ``cond`` for these p fails (an in-place error), so its side is
    its documented formula ``‖A‖_p·‖A⁻¹‖_p`` (its values are compared with ``torch.linalg.cond`` below)."""
    if lib is gg:
        return gg.linalg.cond(a, p)
    value = lib.linalg.matrix_norm(a, p) * lib.linalg.matrix_norm(lib.linalg.inv(a), p)
    np.testing.assert_allclose(value.detach().numpy(), lib.linalg.cond(a.detach(), p).numpy(), rtol=1e-10)
    return value


# name: (function of (lib, *tensors), the inputs' shapes from three drawn sizes n, m, k, has a second derivative)
CASES = {
    "lstsq_tall": (lambda lib, a, b: lib.linalg.lstsq(_conditioned(lib, a), b).solution,
                   lambda n, m, k: [(k, n + m, n), (k, n + m, 2)], True),
    "lstsq_wide_vector": (lambda lib, a, b: lib.linalg.lstsq(_conditioned(lib, a), b).solution,
                          lambda n, m, k: [(n, n + m), (n,)], True),
    "lstsq_square_gelsd": (lambda lib, a, b: lib.linalg.lstsq(_conditioned(lib, a), b, driver="gelsd")[0],
                           lambda n, m, k: [(k, n, n), (k, n, m)], True),
    "lstsq_residuals": (lambda lib, a, b: lib.linalg.lstsq(_conditioned(lib, a), b, driver="gelsd").residuals,
                        lambda n, m, k: [(k, n + m + 1, n), (k, n + m + 1, 2)], True),  # PyTorch's have a gradient
    "cond_2": (lambda lib, a: lib.linalg.cond(_conditioned(lib, a)), lambda n, m, k: [(k, n + m, n)], True),
    "cond_minus_2_wide": (lambda lib, a: lib.linalg.cond(_conditioned(lib, a), -2), lambda n, m, k: [(n, n + m)],
                          True),
    "cond_fro": (lambda lib, a: _cond(lib, _conditioned(lib, a), "fro"), lambda n, m, k: [(k, n, n)], True),
    "cond_nuc": (lambda lib, a: _cond(lib, _conditioned(lib, a), "nuc"), lambda n, m, k: [(n, n)], True),
    "cond_1": (lambda lib, a: _cond(lib, _conditioned(lib, a), 1), lambda n, m, k: [(k, n, n)], True),
    "cond_minus_inf": (lambda lib, a: _cond(lib, _conditioned(lib, a), -math.inf), lambda n, m, k: [(n, n)],
                       True),
    "matrix_exp": (lambda lib, a, s: lib.linalg.matrix_exp(a * s.detach().abs()),
                   lambda n, m, k: [(k, n, n), (k, 1, 1)], True),
    "matrix_exp_method": (lambda lib, a: (a / 4).matrix_exp(), lambda n, m, k: [(n, n)], True),
    "cov": (lambda lib, x: lib.cov(x), lambda n, m, k: [(n, m + 2)], True),
    "cov_one_variable_method": (lambda lib, x: x.cov(correction=0), lambda n, m, k: [(m + 2,)], True),
    "cov_weights": (lambda lib, x, w: lib.cov(x, fweights=lib.tensor(list(range(1, x.shape[1] + 1))),
                                              aweights=w.abs() + 0.5), lambda n, m, k: [(n, m + 2), (m + 2,)], True),
    "cov_aweights_correction": (lambda lib, x, w: lib.cov(x, correction=2, aweights=w.abs() + 0.5),
                                lambda n, m, k: [(n, m + 3), (m + 3,)], True),
    "corrcoef": (lambda lib, x: lib.corrcoef(x), lambda n, m, k: [(n + 1, m + 2)], True),
    "corrcoef_method_one_variable": (lambda lib, x: x.corrcoef(), lambda n, m, k: [(m + 2,)], True),
    "trapezoid_unit": (lambda lib, y: lib.trapezoid(y), lambda n, m, k: [(n, m)], True),
    "trapezoid_dx_dim": (lambda lib, y: lib.trapezoid(y, dx=0.5, dim=0), lambda n, m, k: [(n, m, k)], True),
    "trapezoid_points": (lambda lib, y, x: lib.trapezoid(y, x), lambda n, m, k: [(n, m + 1), (m + 1,)], True),
    "trapezoid_points_broadcast": (lambda lib, y, x: lib.trapezoid(y, x, dim=1),
                                   lambda n, m, k: [(k, n + 1, m), (n + 1, m)], True),
    "trapz": (lambda lib, y, x: lib.trapz(y, x, dim=0), lambda n, m, k: [(n + 1, m), (n + 1,)], True),
    "cumulative_trapezoid": (lambda lib, y, x: lib.cumulative_trapezoid(y, x), lambda n, m, k: [(k, n + 1), (n + 1,)],
                             True),
    "cumulative_trapezoid_dx": (lambda lib, y: lib.cumulative_trapezoid(y, dx=2.0, dim=0),
                                lambda n, m, k: [(n + 1, m)], True),
    "cartesian_prod": (lambda lib, a, b, c: lib.cartesian_prod(a, b, c), lambda n, m, k: [(n,), (m,), (k,)], True),
    "cartesian_prod_one": (lambda lib, a: lib.cartesian_prod(a), lambda n, m, k: [(n,)], True),
    "combinations": (lambda lib, a: lib.combinations(a), lambda n, m, k: [(n + 1,)], True),
    "combinations_replacement": (lambda lib, a: lib.combinations(a, 3, with_replacement=True),
                                 lambda n, m, k: [(n,)], True),
    "linalg_vander": (lambda lib, x: lib.linalg.vander(x, N=k_plus_one(x)), lambda n, m, k: [(k, n)], True),
}


def k_plus_one(x):
    return x.shape[-1] + 1


def _results(lib, name, arrays, outer, inner):
    function, _, smooth = CASES[name]
    return value_and_derivatives(lib, function, smooth, arrays, outer, inner)


@pytest.mark.torch
@given(sizes=st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)), seed=st.integers(0, 2**16),
       scale=st.floats(0.1, 2.5))
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_derivatives_match_pytorch(torch, name, sizes, seed, scale):
    shapes = CASES[name][1](*sizes)
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape) for shape in shapes]
    if name == "matrix_exp":
        arrays[1] = np.full(shapes[1], scale) * rng.uniform(0.5, 1.5, size=shapes[1])
    outer, inner = rng.normal(size=256), [rng.normal(size=shape) for shape in shapes]
    mine, theirs = _results(gg, name, arrays, outer, inner), _results(torch, name, arrays, outer, inner)
    assert len(mine) == len(theirs)
    for ours, reference in zip(mine, theirs):
        assert ours.shape == reference.shape
        scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
        np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-10 * scale)


@pytest.mark.torch
@pytest.mark.parametrize("driver", [None, "gelsy", "gels", "gelsd", "gelss"])
@given(sizes=st.tuples(st.integers(1, 4), st.integers(0, 3), st.integers(1, 2)), seed=st.integers(0, 2**16),
       tall=st.booleans(), vector=st.booleans())
def test_lstsq_fills_the_fields_each_driver_fills_in_pytorch(torch, driver, sizes, seed, tall, vector):
    n, extra, k = sizes
    rng = np.random.default_rng(seed)
    shape = (k, n + extra, n) if tall else (k, n, n + extra)
    a = rng.normal(size=shape)
    b = rng.normal(size=(k, shape[1]) if vector else (k, shape[1], 2))
    found = [lib.linalg.lstsq(_conditioned(lib, lib.tensor(a)), lib.tensor(b), driver=driver) for lib in (gg, torch)]
    assert found[0]._fields == ("solution", "residuals", "rank", "singular_values")
    assert all(hasattr(found[1], field) for field in found[0]._fields)
    for ours, reference in zip(*found):
        assert tuple(ours.shape) == tuple(reference.shape)
        assert str(ours.dtype).split(".")[-1] == str(reference.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.torch
def test_lstsq_of_a_rank_deficient_matrix_gives_the_smallest_solution_its_rank_and_gradients(torch):
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0], [0.0, 2.0, 2.0]])  # column 3 = column 1 + 2
    b = np.array([[1.0], [2.0], [0.5], [1.0]])
    weights = np.array([[0.3], [-1.2], [0.7]])
    found = []
    for lib in (gg, torch):
        a_leaf, b_leaf = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        result = lib.linalg.lstsq(a_leaf, b_leaf)
        (result.solution * lib.tensor(weights)).sum().backward()
        found.append((result, a_leaf.grad.numpy(), b_leaf.grad.numpy()))
    (mine, mine_a, mine_b), (theirs, their_a, their_b) = found
    np.testing.assert_allclose(mine.solution.detach().numpy(), theirs.solution.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(mine.solution.detach().numpy(), np.linalg.pinv(a) @ b, rtol=1e-10)
    assert mine.rank.item() == theirs.rank.item() == 2
    np.testing.assert_allclose(mine_a, their_a, rtol=1e-9, atol=1e-12)  # PyTorch's: the gradient of pinv(A)·B
    np.testing.assert_allclose(mine_b, their_b, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@given(sizes=st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3)), seed=st.integers(0, 2**16),
       rank=st.integers(0, 5), hermitian=st.booleans())
def test_matrix_rank_counts_like_pytorch(torch, sizes, seed, rank, hermitian):
    n, m, k = sizes
    rng = np.random.default_rng(seed)
    m = n if hermitian else m
    rank = min(rank, n, m)
    a = rng.normal(size=(k, n, rank)) @ rng.normal(size=(k, rank, m))  # rank `rank` exactly, with probability 1
    if hermitian:
        a = a + np.swapaxes(a, -1, -2)
    for options in ({}, {"atol": 0.5}, {"rtol": 0.3}, {"atol": 0.1, "rtol": 0.2}, {"tol": 1.0}):
        mine = gg.linalg.matrix_rank(gg.tensor(a), hermitian=hermitian, **options)
        theirs = torch.linalg.matrix_rank(torch.tensor(a), hermitian=hermitian, **options)
        assert mine.dtype == gg.int64 and mine.tolist() == theirs.tolist()


@pytest.mark.torch
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond_of_singular_matrices_is_what_pytorch_gives(torch, p):
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]], [[0.0, 0.0], [0.0, 0.0]]])
    mine, theirs = gg.linalg.cond(gg.tensor(a), p), torch.linalg.cond(torch.tensor(a), p)
    assert np.array_equal(np.isnan(mine.numpy()), np.isnan(theirs.numpy()))
    big = theirs.numpy() > 1e15  # κ of an exactly singular matrix: 1e16-ish from rounding, or inf
    np.testing.assert_allclose(mine.numpy()[~big], theirs.numpy()[~big], rtol=1e-10, atol=1e-15)
    assert np.all(mine.numpy()[big] > 1e15)


@pytest.mark.torch
@given(n=st.integers(1, 4), seed=st.integers(0, 2**16), scale=st.floats(0.01, 3.0))
def test_matrix_exp_gradient_is_the_block_matrix_adjoint(torch, n, seed, scale):
    """``∂L/∂A`` is the upper-right block of ``exp([[Aᵀ, Ḡ], [0, Aᵀ]])``, computed by PyTorch's forward only."""
    rng = np.random.default_rng(seed)
    a, upstream = rng.normal(size=(n, n)) * scale, rng.normal(size=(n, n))
    x = gg.tensor(a, requires_grad=True)
    gg.linalg.matrix_exp(x).backward(gg.tensor(upstream))
    block = np.block([[a.T, upstream], [np.zeros((n, n)), a.T]])
    adjoint = torch.linalg.matrix_exp(torch.tensor(block)).numpy()[:n, n:]
    # PyTorch's own float64 matrix_exp is off by up to ~4e-9 relative on these (seed 193, n 1, scale 0.25:
    # 3.6e-9), so the comparison allows 1e-8; a 1×1 matrix has the exact answer exp(a)·g, held to 1e-13 (the
    # scaling and squaring's roundings: at most 4.6e-14 over 56,000 drawn cases, 1e-14 failed now and then).
    np.testing.assert_allclose(x.grad.numpy(), adjoint, rtol=1e-8, atol=1e-10 * np.abs(adjoint).max())
    if n == 1:
        np.testing.assert_allclose(x.grad.numpy(), np.exp(a) * upstream, rtol=1e-13)


@pytest.mark.torch
@given(n=st.integers(0, 5), N=st.one_of(st.none(), st.integers(0, 6)), increasing=st.booleans(),
       seed=st.integers(0, 2**16))
def test_vander_matches_pytorch_and_its_gradient_is_the_power_rule(torch, n, N, increasing, seed):
    """PyTorch 2.13's ``vander`` has no working backward (an in-place error), so the gradient is checked against
    ``∂xᵢ^j/∂xᵢ = j·xᵢ^(j−1)`` (0 for j = 0, also at x = 0)."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), 1)
    if n:
        x[0] = 0.0
    mine = gg.vander(gg.tensor(x, requires_grad=True), N=N, increasing=increasing)
    theirs = torch.vander(torch.tensor(x), N=N, increasing=increasing)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.numpy(), rtol=1e-12)
    if mine.shape[1] < 2:  # no column depends on x (only x⁰ = 1, or none)
        return
    leaf = gg.tensor(x, requires_grad=True)
    weights = rng.normal(size=mine.shape)
    (gg.vander(leaf, N=N, increasing=increasing) * gg.tensor(weights)).sum().backward()
    count = mine.shape[1]
    exponents = np.arange(count) if increasing else np.arange(count)[::-1]
    slopes = exponents * np.where(exponents > 0, x[:, None] ** np.maximum(exponents - 1, 0), 0.0)
    np.testing.assert_allclose(leaf.grad.numpy(), (slopes * weights).sum(1), rtol=1e-12, atol=1e-12)
    integers = gg.vander(gg.tensor([1, 2, 3]))
    assert integers.dtype == gg.int64 and torch.vander(torch.tensor([1, 2, 3])).dtype == torch.int64
    assert integers.tolist() == torch.vander(torch.tensor([1, 2, 3])).tolist()


_BIN_DRAWS = st.tuples(st.integers(0, 40), st.one_of(st.integers(1, 6), st.integers(7, 150)), st.integers(0, 2**16))


@pytest.mark.torch
@given(draw=_BIN_DRAWS, low=st.integers(-4, 2), width=st.integers(0, 6), float32=st.booleans())
def test_histc_matches_pytorch_on_edges_and_outside(torch, draw, low, width, float32):
    """Values on a grid of quarters, so that many fall exactly on bin edges or on min / max."""
    size, bins, seed = draw
    values = np.random.default_rng(seed).integers(-16, 16, size=size) / 4
    dtype = "float32" if float32 else "float64"
    high = low + width if width else low  # min == max: the data's range is used
    for lo, hi in ((low, high), (0, 0)):
        mine = gg.histc(gg.tensor(values.astype(dtype)), bins=bins, min=lo, max=hi)
        theirs = torch.histc(torch.tensor(values.astype(dtype)), bins=bins, min=lo, max=hi)
        assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    np.testing.assert_array_equal(gg.tensor(values).histc(bins, low, high).numpy(),
                                  torch.tensor(values).histc(bins, low, high).numpy())


@pytest.mark.torch
@given(draw=_BIN_DRAWS, edges=st.lists(st.integers(-16, 16), min_size=2, max_size=6, unique=True),
       ranged=st.booleans(), weighted=st.booleans(), density=st.booleans())
def test_histogram_matches_pytorch(torch, draw, edges, ranged, weighted, density):
    size, bins, seed = draw
    rng = np.random.default_rng(seed)
    values = rng.integers(-16, 16, size=(size, 2)) / 4
    weight = rng.uniform(0.1, 2.0, size=values.shape)
    for lib_bins in (bins, np.sort(np.array(edges)) / 4):
        found = []
        for lib in (gg, torch):
            options = {"weight": lib.tensor(weight)} if weighted else {}
            if ranged and isinstance(lib_bins, int):
                options["range"] = (-2.5, 1.25)
            given_bins = lib_bins if isinstance(lib_bins, int) else lib.tensor(lib_bins)
            found.append(lib.histogram(lib.tensor(values), given_bins, density=density, **options))
        assert found[0]._fields == ("hist", "bin_edges") and hasattr(found[1], "bin_edges")
        for ours, reference in zip(*found):
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-12)
    method = gg.tensor(values).histogram(bins)
    np.testing.assert_array_equal(method.hist.numpy(), torch.tensor(values).histogram(bins).hist.numpy())


def test_the_counts_have_no_gradient_and_the_names_are_found_as_in_pytorch():
    x = gg.tensor([0.5, 1.5, 1.5], requires_grad=True)
    assert not gg.histc(x, bins=2, min=0, max=2).requires_grad
    assert not gg.histogram(x, 2).hist.requires_grad
    result = gg.linalg.lstsq(gg.eye(3, 2, dtype=gg.float64) + 1, gg.ones(3, 1, dtype=gg.float64))
    assert not result.rank.requires_grad and result.rank.dtype == gg.int64
    for name in ("cov", "corrcoef", "histc", "histogram", "matrix_exp"):
        assert hasattr(gg.Tensor, name) and name in gg.__all__
    for name in ("cartesian_prod", "combinations", "trapezoid", "trapz", "cumulative_trapezoid", "vander"):
        assert name in gg.__all__ and callable(getattr(gg, name))
    for name in ("lstsq", "matrix_rank", "cond", "matrix_exp", "eigvalsh", "svdvals", "vander"):
        assert callable(getattr(gg.linalg, name))


REFUSALS = {
    "lstsq_rows": (lambda: gg.linalg.lstsq(gg.ones(3, 2), gg.ones(4, 1)), "B needs 3 rows"),
    "lstsq_driver": (lambda: gg.linalg.lstsq(gg.ones(3, 2), gg.ones(3, 1), driver="gelsx"), "driver must be"),
    "lstsq_vector_A": (lambda: gg.linalg.lstsq(gg.ones(3), gg.ones(3)), "expected a matrix"),
    "lstsq_integers": (lambda: gg.linalg.lstsq(gg.ones(3, 2), gg.ones(3, 1, dtype=gg.int64)), "floating"),
    "lstsq_dtypes": (lambda: gg.linalg.lstsq(gg.ones(3, 2), gg.ones(3, 1, dtype=gg.float64)), "the same dtype"),
    "matrix_rank_tol_and_atol": (lambda: gg.linalg.matrix_rank(gg.ones(2, 2), 0.1, atol=0.1), "either tol"),
    "matrix_rank_negative": (lambda: gg.linalg.matrix_rank(gg.ones(2, 2), rtol=-1.0), "must be >= 0"),
    "cond_p": (lambda: gg.linalg.cond(gg.ones(2, 2), 3), "not a matrix norm"),
    "cond_square": (lambda: gg.linalg.cond(gg.ones(2, 3), "fro"), "needs square matrices"),
    "matrix_exp_square": (lambda: gg.linalg.matrix_exp(gg.ones(2, 3)), "square matrix"),
    "matrix_exp_nan": (lambda: gg.linalg.matrix_exp(gg.tensor([[math.nan]])), "inf or NaN"),
    "cov_dims": (lambda: gg.cov(gg.ones(2, 2, 2)), "1-D (one variable) or 2-D"),
    "cov_fweights_float": (lambda: gg.cov(gg.ones(2, 3), fweights=gg.ones(3)), "fweights must hold integers"),
    "cov_aweights_length": (lambda: gg.cov(gg.ones(2, 3), aweights=gg.ones(2)), "one per observation"),
    "cov_negative_weights": (lambda: gg.cov(gg.ones(2, 3), fweights=gg.tensor([1, -1, 2])), "must be >= 0"),
    "histc_bins": (lambda: gg.histc(gg.ones(3), bins=0), "bins must be a whole number > 0"),
    "histc_min_max": (lambda: gg.histc(gg.ones(3), min=3, max=2), "min must not exceed max"),
    "histc_integers": (lambda: gg.histc(gg.tensor([1, 2])), "floating"),
    "histogram_bins": (lambda: gg.histogram(gg.ones(3), -2), "bins must be > 0"),
    "histogram_edges": (lambda: gg.histogram(gg.ones(3), gg.tensor([2.0, 1.0])), "increasing edges"),
    "histogram_range": (lambda: gg.histogram(gg.ones(3), 2, range=(2.0, 1.0)), "min <= max"),
    "histogram_weight": (lambda: gg.histogram(gg.ones(3), 2, weight=gg.ones(2)), "input's shape"),
    "combinations_r": (lambda: gg.combinations(gg.ones(3), r=-1), "r must be a whole number >= 0"),
    "combinations_dims": (lambda: gg.combinations(gg.ones(2, 2)), "expects a 1-D tensor"),
    "cartesian_prod_dims": (lambda: gg.cartesian_prod(gg.ones(2, 2)), "expects 1-D tensors"),
    "vander_N": (lambda: gg.vander(gg.ones(3), N=-1), "N must be a whole number >= 0"),
    "linalg_vander_N": (lambda: gg.linalg.vander(gg.tensor([2.0])), "N must be greater than 1"),
    "vander_dims": (lambda: gg.vander(gg.ones(2, 2)), "x must be a 1-D tensor"),
    "trapezoid_points": (lambda: gg.trapezoid(gg.ones(3), gg.ones(2)), "one x value for each sample point"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_bad_input_is_refused_in_one_line_naming_the_fix(name):
    call, fragment = REFUSALS[name]
    with pytest.raises(RuntimeError) as caught:
        call()
    message = str(caught.value)
    assert fragment in message and "\n" not in message
