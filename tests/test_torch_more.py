"""The torch-more names against PyTorch 2.13 in float64: the ``*_copy`` functions, ``gradient``, ``isin``,
``unravel_index``, ``histogramdd``, ``pdist``, ``range``, ``scalar_tensor``, ``rsub``, ``frobenius_norm``,
``nuclear_norm``, ``svd_lowrank`` / ``pca_lowrank`` and the process settings, values and (where differentiable)
gradients via backward, over hypothesis-drawn shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg


def _value_and_grads(lib, function, arrays, weights):
    """``function(lib, *inputs)`` (a tensor or a tuple of them) and the gradients of ``Σ out²·weights`` into every
    input, as NumPy arrays."""
    inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = function(lib, *inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    total = sum((o * o * lib.tensor(np.resize(weights, tuple(o.shape)), dtype=lib.float64)).sum() for o in outs)
    grads = lib.autograd.grad(total, inputs, allow_unused=True, materialize_grads=True) if outs else []
    return [o.detach().numpy() for o in outs], [g.numpy() for g in grads]


def _assert_same(torch, function, arrays, seed, rtol=1e-10, atol=1e-12):
    weights = np.random.default_rng(seed).normal(size=512)
    ours, theirs = _value_and_grads(gg, function, arrays, weights), _value_and_grads(torch, function, arrays, weights)
    for mine, reference in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol)
    return ours


# --- *_copy ------------------------------------------------------------------------------------------------

COPIES = {  # name: (function of (lib, x), x's shape from sizes n, m, k)
    "alias_copy": (lambda lib, x: lib.alias_copy(x), lambda n, m, k: (n, m)),
    "diagonal_copy": (lambda lib, x: lib.diagonal_copy(x, 1, 0, 2), lambda n, m, k: (n, m, k)),
    "expand_copy": (lambda lib, x: lib.expand_copy(x, (k_of(x), x.shape[0], 3)), lambda n, m, k: (n, 1)),
    "permute_copy": (lambda lib, x: lib.permute_copy(x, (2, 0, 1)), lambda n, m, k: (n, m, k)),
    "slice_copy": (lambda lib, x: lib.slice_copy(x, 1, 1, 100, 2), lambda n, m, k: (n, m + 1)),
    "slice_copy_negative_start": (lambda lib, x: lib.slice_copy(x, -1, -2), lambda n, m, k: (n, m + 1)),
    "split_copy": (lambda lib, x: lib.split_copy(x, 2, 1), lambda n, m, k: (n, m + k)),
    "split_with_sizes_copy": (lambda lib, x: lib.split_with_sizes_copy(x, [1, x.shape[0] - 1]),
                              lambda n, m, k: (n + 1, m)),
    "squeeze_copy": (lambda lib, x: lib.squeeze_copy(x), lambda n, m, k: (1, n, 1, m)),
    "squeeze_copy_dims": (lambda lib, x: lib.squeeze_copy(x, (0, 2)), lambda n, m, k: (1, n, 1, m)),
    "t_copy": (lambda lib, x: lib.t_copy(x), lambda n, m, k: (n, m)),
    "t_copy_vector": (lambda lib, x: lib.t_copy(x), lambda n, m, k: (n,)),
    "transpose_copy": (lambda lib, x: lib.transpose_copy(x, 0, -1), lambda n, m, k: (n, m, k)),
    "unbind_copy": (lambda lib, x: lib.unbind_copy(x, 1), lambda n, m, k: (n, m, k)),
    "unfold_copy": (lambda lib, x: lib.unfold_copy(x, 1, 2, 1), lambda n, m, k: (n, m + 1)),
    "unsqueeze_copy": (lambda lib, x: lib.unsqueeze_copy(x, -2), lambda n, m, k: (n, m)),
    "view_copy": (lambda lib, x: lib.view_copy(x, (-1,)), lambda n, m, k: (n, m)),
}


def k_of(x):
    return 2


@pytest.mark.torch
@given(sizes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(COPIES))
def test_copies_match_pytorch_in_values_and_gradients(torch, name, sizes, seed):
    function, shape = COPIES[name]
    _assert_same(torch, function, [np.random.default_rng(seed).normal(size=shape(*sizes))], seed)


@pytest.mark.parametrize("name", sorted(COPIES))
def test_a_copy_shares_no_memory_is_row_major_and_leaves_its_input_alone(torch, name):
    function, shape = COPIES[name]
    x = gg.arange(float(np.prod(shape(2, 3, 2)))).reshape(shape(2, 3, 2))
    reference = torch.arange(float(np.prod(shape(2, 3, 2)))).reshape(shape(2, 3, 2))
    ours, theirs = function(gg, x), function(torch, reference)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for mine, their in zip(ours, theirs):
        assert not np.shares_memory(mine.numpy(), x.numpy())
        assert mine.is_contiguous() and mine.stride() == their.stride()
        mine.add_(100.0)
    np.testing.assert_array_equal(x.numpy(), reference.numpy())


def test_detach_copy_has_no_gradient_and_bad_slices_are_refused(torch):
    """PyTorch's detach_copy of a tensor that requires grad fails at backward ("derivative for aten::detach_copy is
    not implemented"); glassgrad's is cut from the graph, as ``detach`` is."""
    x = gg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    copy = gg.detach_copy(x)
    assert not copy.requires_grad and not np.shares_memory(copy.numpy(), x.numpy())
    assert copy.tolist() == torch.detach_copy(torch.tensor([[1.0, 2.0, 3.0]])).tolist()
    (copy * x).sum().backward()
    assert x.grad.tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(ValueError, match="step must be a whole number > 0"):
        gg.slice_copy(x, 1, step=-1)
    with pytest.raises(ValueError, match="split_sizes must be whole numbers >= 0"):
        gg.split_with_sizes_copy(x, [4, -1], 1)
    with pytest.raises(RuntimeError, match="add up to"):
        gg.split_with_sizes_copy(x, [1, 1], 1)
    with pytest.raises(NotImplementedError, match="expected a shape"):
        gg.view_copy(x, gg.int32)
    assert gg.view_copy(x, 3).shape == (3,) and gg.view_copy(x, gg.Size([3, 1])).shape == (3, 1)


# --- gradient ----------------------------------------------------------------------------------------------

def _coordinates(size, seed):
    """Increasing coordinates with steps in [0.5, 1.5] (no near-equal neighbours)."""
    return np.cumsum(np.random.default_rng(seed).uniform(0.5, 1.5, size)) - 2.0


@pytest.mark.torch
@given(shape=st.lists(st.integers(3, 5), min_size=1, max_size=3), seed=st.integers(0, 2**16),
       edge_order=st.sampled_from([1, 2]), kind=st.sampled_from(["none", "scalar", "list", "coordinates", "dim"]))
def test_gradient_matches_pytorch(torch, shape, seed, edge_order, kind):
    rng = np.random.default_rng(seed)
    scales = [float(s) for s in rng.uniform(0.5, 2.0, len(shape))]

    def function(lib, f, *coordinates):
        options = {"edge_order": edge_order}
        if kind == "scalar":
            options["spacing"] = scales[0]
        elif kind == "list":
            options["spacing"] = scales
        elif kind == "coordinates":
            options["spacing"] = list(coordinates)
        elif kind == "dim":
            options["spacing"], options["dim"] = [scales[0]], [len(shape) - 1]
        return lib.gradient(f, **options)

    coordinates = [_coordinates(n, seed + d) for d, n in enumerate(shape)] if kind == "coordinates" else []
    _assert_same(torch, function, [rng.normal(size=shape), *coordinates], seed, rtol=1e-9, atol=1e-10)


@pytest.mark.torch
def test_gradient_of_integers_and_of_exact_polynomials(torch):
    ours, theirs = gg.gradient(gg.tensor([1, 4, 9, 16])), torch.gradient(torch.tensor([1, 4, 9, 16]))
    assert ours[0].dtype == np.float32 and ours[0].tolist() == theirs[0].tolist()
    x = np.array([0.0, 0.3, 1.0, 1.4, 2.5])  # a parabola: the second-order estimates are exact everywhere
    (slope,) = gg.gradient(gg.tensor(3 * x**2 - x), spacing=[gg.tensor(x)], edge_order=2)
    np.testing.assert_allclose(slope.numpy(), 6 * x - 1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.gradient(gg.ones(2, 3), spacing=[1.0]), "spacing has 1 entries"),
    (lambda: gg.gradient(gg.ones(1, 3)), "needs at least 2"),
    (lambda: gg.gradient(gg.ones(2, 3), edge_order=2), "needs at least 3"),
    (lambda: gg.gradient(gg.ones(3), edge_order=3), "edge_order must be 1 or 2"),
    (lambda: gg.gradient(gg.ones(3, 4), spacing=[gg.arange(4.0)], dim=0), "must be a 1-D tensor of 3 entries"),
    (lambda: gg.gradient(gg.ones(3), spacing="1"), "spacing must be a number"),
    (lambda: gg.gradient(gg.ones(3), spacing=0.0), "non-zero distance apart"),
    (lambda: gg.gradient(gg.ones(3), spacing=[gg.tensor([0.0, 1.0, 1.0])]), "non-zero distance apart"),
])
def test_gradient_refuses_bad_input_in_one_line(call, message):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


# --- isin, unravel_index -----------------------------------------------------------------------------------

@pytest.mark.torch
@given(elements=st.lists(st.integers(-5, 5), max_size=12), tests=st.lists(st.integers(-5, 5), max_size=6),
       floats=st.booleans(), invert=st.booleans(), rows=st.sampled_from([1, 2]))
def test_isin_matches_pytorch(torch, elements, tests, floats, invert, rows):
    assume(len(elements) % rows == 0)
    values = np.array(elements, dtype=np.float64 if floats else np.int64).reshape(rows, -1)
    members = np.array(tests, dtype=np.int64)
    ours = gg.isin(gg.tensor(values), gg.tensor(members), invert=invert)
    theirs = torch.isin(torch.tensor(values), torch.tensor(members), invert=invert)
    assert ours.dtype == np.bool_ and ours.numpy().tolist() == theirs.numpy().tolist()
    if elements:
        assert gg.isin(elements[0], gg.tensor(members)).item() == torch.isin(elements[0], torch.tensor(members)).item()
        assert gg.isin(gg.tensor(values), tests[0] if tests else 0).tolist() == torch.isin(
            torch.tensor(values), tests[0] if tests else 0).tolist()


def test_isin_treats_nan_as_in_nothing_and_refuses_two_numbers():
    nan = float("nan")
    assert gg.isin(gg.tensor([nan, 1.0]), gg.tensor([nan, 1.0])).tolist() == [False, True]
    with pytest.raises(TypeError, match="must be a tensor"):
        gg.isin(2, 3)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=4), data=st.data())
def test_unravel_index_matches_pytorch(torch, shape, data):
    count = math.prod(shape)
    flat = data.draw(st.lists(st.integers(-count, count - 1), max_size=6))
    ours = gg.unravel_index(gg.tensor(flat, dtype=gg.int64), tuple(shape))
    theirs = torch.unravel_index(torch.tensor(flat, dtype=torch.int64), tuple(shape))
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert mine.dtype == np.int64 and mine.tolist() == reference.tolist()


def test_unravel_index_refuses_positions_outside_the_tensor():
    with pytest.raises(ValueError, match=r"must be in \[-6, 6\).*got 6"):
        gg.unravel_index(gg.tensor([6]), (2, 3))
    with pytest.raises(TypeError, match="integer dtype"):
        gg.unravel_index(gg.tensor([1.0]), (2, 3))
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        gg.unravel_index(gg.tensor([1]), (-2, 3))
    assert [c.tolist() for c in gg.unravel_index(gg.tensor(4), 5)] == [4]


# --- histogramdd -------------------------------------------------------------------------------------------

@pytest.mark.torch
@given(points=st.integers(0, 12), dims=st.integers(1, 3), seed=st.integers(0, 2**16),
       bins_kind=st.sampled_from(["int", "list", "edges"]), ranged=st.booleans(), weighted=st.booleans(),
       density=st.booleans(), batched=st.booleans())
def test_histogramdd_matches_pytorch(torch, points, dims, seed, bins_kind, ranged, weighted, density, batched):
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(size=(points, dims)), 1)  # repeats and entries on edges
    shape = (2, points, dims) if batched else (points, dims)
    values = np.concatenate([values, values[::-1]]).reshape(shape) if batched else values
    counts = [int(c) for c in rng.integers(1, 5, dims)]
    options = {"density": density}
    if ranged:
        options["range"] = [v for _ in range(dims) for v in (-1.0, 1.5)]
    found = []
    for lib in (gg, torch):
        if bins_kind == "int":
            bins = counts[0]
        elif bins_kind == "list":
            bins = counts
        else:
            bins = [lib.tensor(np.linspace(-1.5, 1.0, c + 1) ** 3, dtype=lib.float64) for c in counts]
        extra = {"weight": lib.tensor(np.abs(values[..., 0]) + 0.5, dtype=lib.float64)} if weighted else {}
        found.append(lib.histogramdd(lib.tensor(values, dtype=lib.float64), bins, **options, **extra))
    ours, theirs = found
    np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-12, equal_nan=True)
    assert len(ours.bin_edges) == len(theirs.bin_edges) == dims
    for mine, reference in zip(ours.bin_edges, theirs.bin_edges):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-15, atol=1e-15)
    hist, edges = ours  # unpacks as PyTorch's named tuple
    assert hist is ours.hist and edges is ours.bin_edges


@pytest.mark.parametrize("call, message", [
    (lambda: gg.histogramdd(gg.ones(4), 2), "at least 2 dims"),
    (lambda: gg.histogramdd(gg.ones(4, 2), [2]), "one count or edges per dim"),
    (lambda: gg.histogramdd(gg.ones(4, 2), 2, range=[0.0, 1.0]), "range needs 4 numbers"),
    (lambda: gg.histogramdd(gg.ones(4, 2), 2, range=[1.0, 0.0, 0.0, 1.0]), "min <= max"),
    (lambda: gg.histogramdd(gg.ones(4, 2), 2, weight=gg.ones(4, 2)), "without its last dim"),
])
def test_histogramdd_refuses_bad_input_in_one_line(call, message):
    with pytest.raises(RuntimeError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


# --- pdist, rsub, norms, range, scalar_tensor --------------------------------------------------------------

@pytest.mark.torch
@given(rows=st.integers(2, 5), cols=st.integers(1, 4), seed=st.integers(0, 2**16),
       p=st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, math.inf]))
def test_pdist_matches_pytorch(torch, rows, cols, seed, p):
    _assert_same(torch, lambda lib, x: lib.pdist(x, p), [np.random.default_rng(seed).normal(size=(rows, cols))],
                 seed)
    assert gg.pdist is gg.nn.functional.pdist


@pytest.mark.torch
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), seed=st.integers(0, 2**16),
       alpha=st.sampled_from([1, 2, -0.5]), other=st.sampled_from(["number", "tensor"]))
def test_rsub_matches_pytorch(torch, rows, cols, seed, alpha, other):
    rng = np.random.default_rng(seed)
    if other == "number":
        _assert_same(torch, lambda lib, x: lib.rsub(x, 2.5, alpha=alpha), [rng.normal(size=(rows, cols))], seed)
    else:
        _assert_same(torch, lambda lib, x, y: lib.rsub(x, y, alpha=alpha),
                     [rng.normal(size=(rows, cols)), rng.normal(size=(cols,))], seed)


def test_rsub_of_integers():
    assert gg.rsub(gg.tensor([1, 2]), 3, alpha=2).tolist() == [1, -1]
    with pytest.raises(RuntimeError, match="alpha must be a whole number"):  # PyTorch's type
        gg.rsub(gg.tensor([1, 2]), 3, alpha=0.5)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:.*_norm is deprecated")
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=3), seed=st.integers(0, 2**16),
       keepdim=st.booleans(), data=st.data())
def test_frobenius_and_nuclear_norms_match_pytorch(torch, shape, seed, keepdim, data):
    ndim = len(shape)
    dims = tuple(data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=2,
                                    unique_by=lambda d: d % ndim)))
    arrays = [np.random.default_rng(seed).normal(size=shape)]
    _assert_same(torch, lambda lib, x: lib.frobenius_norm(x, dims, keepdim), arrays, seed)
    pair = (0, ndim - 1)
    # the nuclear norm's gradient U·Vᵀ is smooth where A has full rank: Gaussian matrices almost surely do
    _assert_same(torch, lambda lib, x: lib.nuclear_norm(x, pair, keepdim), arrays, seed, rtol=1e-8, atol=1e-9)
    _assert_same(torch, lambda lib, x: lib.nuclear_norm(x, keepdim), arrays, seed, rtol=1e-8, atol=1e-9)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:.*range is deprecated")
@given(start=st.integers(-20, 20), length=st.integers(0, 30), step=st.sampled_from([1, 2, 0.5, 0.1, 0.3, -1, -0.25]),
       dtype=st.sampled_from([None, "float64", "int64"]))
def test_range_includes_its_end_as_pytorch(torch, start, length, step, dtype):
    assume(dtype != "int64" or step == int(step))  # PyTorch's range dies (SIGFPE) on an int64 range of step 0.1
    end = start + length * abs(step) * (1 if step > 0 else -1) + (0.05 if step > 0 else -0.05) * abs(step)
    ours = gg.range(start, end, step, **({} if dtype is None else {"dtype": getattr(gg, dtype)}))
    theirs = torch.range(start, end, step, **({} if dtype is None else {"dtype": getattr(torch, dtype)}))
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    exact = gg.range(start, start + length * 2, 2.0)
    assert exact.shape == (length + 1,) and exact.tolist()[-1] == start + length * 2


@pytest.mark.filterwarnings("ignore:.*range is deprecated")
def test_range_and_scalar_tensor_details(torch):
    with pytest.warns(UserWarning, match="range is deprecated"):
        assert gg.range(1, 4, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="give both start and end"):
        gg.range(4)
    with pytest.raises(RuntimeError, match="never arrives"):  # PyTorch: RuntimeError
        gg.range(5, 1)
    for value, options in [(3, {}), (True, {}), (3.5, {"dtype": "float64"}), (2, {"dtype": "int64"})]:
        ours = gg.scalar_tensor(value, **{k: getattr(gg, v) for k, v in options.items()})
        theirs = torch.scalar_tensor(value, **{k: getattr(torch, v) for k, v in options.items()})
        assert ours.shape == () and ours.item() == theirs.item()
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    assert gg.scalar_tensor(gg.tensor(2.0)).item() == 2.0
    assert gg.scalar_tensor(1.5, requires_grad=True).requires_grad


# --- svd_lowrank, pca_lowrank ------------------------------------------------------------------------------

def _low_rank(rng, batch, rows, cols, rank):
    """A matrix of exact rank ``rank`` with well separated singular values (in [1, 10])."""
    count = min(rows, cols)
    left = np.linalg.qr(rng.normal(size=(*batch, rows, count)))[0][..., :rank]
    right = np.linalg.qr(rng.normal(size=(*batch, cols, count)))[0][..., :rank]
    values = np.sort(rng.uniform(1.0, 10.0, rank))[::-1] + np.arange(rank)[::-1] * 0.5
    return (left * values) @ np.swapaxes(right, -1, -2)


@pytest.mark.torch
@given(rows=st.integers(1, 7), cols=st.integers(1, 7), seed=st.integers(0, 2**16), niter=st.integers(0, 3),
       batch=st.sampled_from([(), (2,)]), data=st.data())
def test_svd_lowrank_is_exact_for_matrices_of_rank_at_most_q(torch, rows, cols, seed, niter, batch, data):
    q = data.draw(st.integers(1, min(rows, cols) + 1))
    rank = data.draw(st.integers(1, min(q, rows, cols)))
    rng = np.random.default_rng(seed)
    A = _low_rank(rng, batch, rows, cols, rank)
    U, S, V = gg.svd_lowrank(gg.tensor(A, dtype=gg.float64), q=q, niter=niter)
    their_U, their_S, their_V = torch.svd_lowrank(torch.tensor(A), q=q, niter=niter)
    assert (U.shape, S.shape, V.shape) == (their_U.shape, their_S.shape, their_V.shape)
    scale = np.abs(A).max()
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ V.mT).numpy(), A, atol=1e-10 * scale)
    np.testing.assert_allclose(S.numpy(), their_S.numpy(), atol=1e-10 * scale)
    np.testing.assert_allclose((U.mT @ U).numpy(), np.broadcast_to(np.eye(S.shape[-1]), (*batch, *[S.shape[-1]] * 2)),
                               atol=1e-10)
    mean = rng.normal(size=(1, cols))
    _, shifted_S, _ = gg.svd_lowrank(gg.tensor(A + mean), q=q, niter=niter, M=gg.tensor(mean))
    np.testing.assert_allclose(shifted_S.numpy(), S.numpy(), atol=1e-9 * scale)


@pytest.mark.torch
@given(rows=st.integers(2, 6), cols=st.integers(2, 6), seed=st.integers(0, 2**16), data=st.data())
def test_singular_value_gradients_of_svd_lowrank_match_pytorch(torch, rows, cols, seed, data):
    """With rank exactly q and distinct singular values, ``∂σᵢ/∂A = uᵢ·vᵢᵀ`` whatever the random sketch."""
    q = data.draw(st.integers(1, min(rows, cols)))
    rng = np.random.default_rng(seed)
    A = _low_rank(rng, (), rows, cols, q)
    weights = rng.normal(size=q)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(A, requires_grad=True)
        (lib.svd_lowrank(x, q=q)[1] * lib.tensor(weights)).sum().backward()
        found.append(x.grad.numpy())
    np.testing.assert_allclose(found[0], found[1], atol=1e-8)


@pytest.mark.torch
@given(rows=st.integers(2, 7), cols=st.integers(1, 5), seed=st.integers(0, 2**16), center=st.booleans())
def test_pca_lowrank_matches_pytorch(torch, rows, cols, seed, center):
    rng = np.random.default_rng(seed)
    rank = min(rows - 1, cols)
    assume(rank >= 1)
    A = _low_rank(rng, (), rows, cols, rank)
    A = A - A.mean(0) + rng.normal(size=(1, cols)) * 3  # rank ≤ rank + 1; centred, rank ≤ rank
    q = min(6, rows, cols)
    U, S, V = gg.pca_lowrank(gg.tensor(A), center=center)
    _, their_S, _ = torch.pca_lowrank(torch.tensor(A), center=center)
    np.testing.assert_allclose(S.numpy(), their_S.numpy(), atol=1e-9 * np.abs(A).max())
    centered = A - A.mean(0) if center else A
    np.testing.assert_allclose(((U * S) @ V.mT).numpy(), centered, atol=1e-9 * np.abs(A).max())
    assert S.shape == (q,)


def test_lowrank_refuses_bad_input():
    with pytest.raises(ValueError, match="floating matrix"):
        gg.svd_lowrank(gg.ones(3))
    with pytest.raises(ValueError, match="niter must be a whole number >= 0"):
        gg.svd_lowrank(gg.ones(3, 3), niter=-1)
    with pytest.raises(ValueError, match="q must be a whole number"):
        gg.pca_lowrank(gg.ones(3, 3), q=1.5)


# --- settings, devices and type names ----------------------------------------------------------------------

def test_settings_are_remembered_and_devices_other_than_the_cpu_refused(torch):
    assert gg.get_default_device() == "cpu" and str(torch.get_default_device()) == "cpu"
    gg.set_default_device("cpu")
    gg.set_default_device(None)
    gg.set_default_device(gg.device("cpu"))
    with pytest.raises(RuntimeError, match="glassgrad runs on the CPU") as caught:
        gg.set_default_device("cuda")
    assert "\n" not in str(caught.value)
    before = gg.get_num_interop_threads()
    gg.set_num_interop_threads(3)
    assert gg.get_num_interop_threads() == 3
    gg.set_num_interop_threads(before)
    with pytest.raises(ValueError, match=">= 1"):
        gg.set_num_interop_threads(0)
    assert not gg.is_warn_always_enabled()
    gg.set_warn_always(True)
    assert gg.is_warn_always_enabled()
    gg.set_warn_always(False)
    assert gg.set_flush_denormal(True) is False and gg.set_flush_denormal(False) is False


def test_typename_and_is_storage_as_pytorch(torch):
    for make in (lambda lib: lib.zeros(2), lambda lib: lib.zeros(2, dtype=lib.int64),
                 lambda lib: lib.zeros(2, dtype=lib.float64), lambda lib: lib.zeros(2, requires_grad=True)):
        assert gg.typename(make(gg)) == torch.typename(make(torch))
    for thing in (3, [1], int, "text"):
        assert gg.typename(thing) == torch.typename(thing)
    assert gg.typename(gg.nn.Linear(1, 1)) == f"{gg.nn.Linear.__module__}.Linear"
    assert gg.typename(gg.nn.Linear) == f"{gg.nn.Linear.__module__}.Linear"
    assert gg.typename(gg.isin) == "glassgrad.indices.isin"
    assert gg.is_storage(gg.zeros(2)) is False and torch.is_storage(torch.zeros(2)) is False


@pytest.mark.parametrize("module", ["copies", "finite_differences", "indices", "aten_names", "lowrank", "type_names",
                                    "statistics", "device", "optim.muon"])
def test_the_examples_in_the_docstrings_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"glassgrad.{module}"), extraglobs={"gg": gg})
    assert result.failed == 0 and result.attempted > 0
