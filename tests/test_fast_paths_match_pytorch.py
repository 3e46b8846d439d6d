"""Ops whose NumPy form was rewritten for speed keep PyTorch's numbers, edge values included.

Oracle: PyTorch 2.13 (bit for bit where both compute the same formula, else within rounding),
and finite differences for gradients.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import glassgrad as gg
import glassgrad.nn.functional as F

EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e20, -1e-30, 3e12, -7.5, 1e-3]


def _with_edges(shape, dtype, seed=0):
    values = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    values.reshape(-1)[: len(EDGES)] = EDGES
    return values


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [3, -2, 3.0, -2.0])
def test_cube_and_inverse_square_are_pytorchs_bit_for_bit(torch, dtype, exponent):
    x = _with_edges((8, 16), dtype)
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, expected = ours**exponent, theirs**exponent
    np.testing.assert_array_equal(out.array, expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_gelu_at_edge_values_is_pytorchs(torch, dtype):
    x = _with_edges((8, 16), dtype)
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.gelu(ours, approximate="tanh")
    expected = torch.nn.functional.gelu(theirs, approximate="tanh")
    out.sum().backward()
    expected.sum().backward()
    tolerance = {"rtol": 8 * np.finfo(dtype).eps, "atol": 4 * np.finfo(dtype).eps}
    np.testing.assert_allclose(out.array, expected.detach().numpy(), **tolerance)
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), **tolerance)


def _cumprod_gradient_by_hand(a: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``∂L/∂aᵢ = Σ_(j≥i) upⱼ·Π_(k≤j, k≠i) aₖ`` of a 1-d ``a``, term by term in Python floats (products from
    the left, so a zero before an overflow keeps the term 0)."""
    n = len(a)
    grad = []
    for i in range(n):
        total = 0.0
        for j in range(i, n):
            product = float(up[j])
            for k in range(j + 1):
                product *= 1.0 if k == i else float(a[k])
            total += product
        grad.append(total)
    return np.array(grad)


@pytest.mark.torch
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 9)),
              elements=st.sampled_from([0.0, -0.0, 1.0, -2.0, 0.5, 3.0])), st.integers(0, 1))
def test_cumprod_gradient_with_zeros_is_pytorchs(torch, values, dim):
    upstream = np.arange(values.size, dtype=np.float64).reshape(values.shape) % 5 - 2
    ours = gg.tensor(values, requires_grad=True)
    (gg.cumprod(ours, dim) * gg.tensor(upstream)).sum().backward()
    theirs = torch.tensor(values, requires_grad=True)
    (torch.cumprod(theirs, dim) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@given(arrays(np.float64, st.integers(1, 7), elements=st.floats(-3, 3, allow_nan=False)))
def test_cumprod_gradient_matches_finite_differences(values):
    assert gg.gradcheck(lambda t: gg.cumprod(t, 0), [gg.tensor(values, requires_grad=True)]).ok


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("values", [
    [0.0, np.inf, 2.0], [np.inf, 0.0, 2.0], [3.0, np.nan, 0.0, 1.0], [2.0, 0.0, 3.0, 0.0, 4.0], [4.0],
    [0.0, 5.0, *[1e30] * 12], [0.0, -0.0, 1e30, 1e30, 7.0],
    [1e-30, 1e-30, 1e-30, 5.0],
])
def test_cumprod_gradient_at_edge_values_is_the_sum_of_its_terms(values, dtype):
    a = np.array(values, dtype)
    up = np.linspace(1.0, 2.0, len(a))
    ours = gg.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        (gg.cumprod(ours, 0) * gg.tensor(up, dtype=ours.dtype)).sum().backward()
        expected = _cumprod_gradient_by_hand(a, up).astype(dtype)
    np.testing.assert_allclose(ours.grad.array, expected, rtol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, settings", [("elu", {"alpha": 1.0}), ("elu", {"alpha": 0.5}), ("elu", {"alpha": 3.0}),
                                            ("selu", {}), ("celu", {"alpha": 2.0})])
def test_elu_family_at_edge_values_is_pytorchs_with_the_sign_of_zero(torch, name, settings, dtype):
    x = np.concatenate([_with_edges((40,), dtype), np.array([1e-45, -1e-45, -1e-300, 88.7, -88.7], dtype)])
    upstream = np.linspace(-1.0, 2.0, x.size).astype(dtype)
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(ours, **settings)
    expected = getattr(torch.nn.functional, name)(theirs, **settings)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    tolerance = {"rtol": 4 * np.finfo(dtype).eps, "atol": 0}
    np.testing.assert_allclose(out.array, expected.detach().numpy(), **tolerance)
    np.testing.assert_array_equal(np.signbit(out.array), np.signbit(expected.detach().numpy()))
    number = ~np.isnan(x)  # at NaN PyTorch's vector loop gives NaN and its scalar loop the upstream: either stands
    np.testing.assert_allclose(ours.grad.array[number], theirs.grad.numpy()[number], **tolerance)


# Gradients that add an upstream back where each entry was picked (and scatter_add, which adds src so): exact
# sums (halves and small integers), so PyTorch's adding order does not matter; −0 and ±∞ in the upstream (∞ − ∞ is
# NaN), repeats and negative indices in the index.
UPSTREAM_VALUES = st.sampled_from([0.0, -0.0, 0.5, -1.5, 2.0, 3.0, np.inf, -np.inf])


def _pick_and_gradient(library, pick, x, upstream):
    leaf = library.tensor(x, requires_grad=True)
    out = pick(library, leaf)
    out.backward(library.tensor(upstream))
    return out.detach().numpy() if hasattr(out, "numpy") else out.array, leaf.grad.numpy()


@pytest.mark.torch
@given(st.integers(1, 3), st.integers(0, 2), st.data())
def test_picks_add_back_as_pytorch_with_repeats_signed_zeros_and_infinities(torch, ndim, dim_seed, data):
    shape = data.draw(st.tuples(*[st.integers(1, 4)] * ndim), label="shape")
    dim = dim_seed % ndim
    n = shape[dim]
    x = data.draw(arrays(np.float64, shape, elements=UPSTREAM_VALUES), label="x")
    index_shape = shape[:dim] + (data.draw(st.integers(1, n)),) + shape[dim + 1:]
    index = data.draw(arrays(np.int64, index_shape, elements=st.integers(0, n - 1)), label="index")
    slices = data.draw(arrays(np.int64, data.draw(st.integers(1, 6)), elements=st.integers(0, n - 1)),
                       label="slices")
    rows = data.draw(arrays(np.int64, data.draw(st.integers(1, 6)), elements=st.integers(-shape[0], shape[0] - 1)),
                     label="rows")
    picks = {
        "gather": lambda lib, t: lib.gather(t, dim, lib.tensor(index)),
        "index_select": lambda lib, t: lib.index_select(t, dim, lib.tensor(slices)),
        "getitem": lambda lib, t: t[lib.tensor(rows)],
        "embedding": lambda lib, t: lib.nn.functional.embedding(lib.tensor(rows % shape[0]), t.reshape(shape[0], -1)),
        "scatter_add": lambda lib, t: lib.zeros(shape, dtype=lib.float64).scatter_add(
            dim, lib.tensor(index), t[tuple(slice(0, size) for size in index_shape)]),
    }
    for name, pick in picks.items():
        out_shape = pick(gg, gg.tensor(x)).shape
        upstream = data.draw(arrays(np.float64, tuple(out_shape), elements=UPSTREAM_VALUES), label=name)
        ours = _pick_and_gradient(gg, pick, x, upstream)
        theirs = _pick_and_gradient(torch, pick, x, upstream)
        for mine, expected in zip(ours, theirs):
            np.testing.assert_array_equal(mine, expected, err_msg=name)
            np.testing.assert_array_equal(np.signbit(mine), np.signbit(expected), err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("index", [[3, 0, 3, 299], [[1, 1], [298, -1]]], ids=["rows", "a grid of rows"])
def test_a_few_rows_of_a_large_table_add_back_as_pytorch(torch, index):
    """Rows picked from a table too large to number entry by entry (300×256, a few rows: NumPy's own add.at)
    get PyTorch's gradient, repeats added up."""
    table = np.random.default_rng(0).normal(size=(300, 256))
    upstream = np.random.default_rng(1).normal(size=np.shape(index) + (256,))
    ours = _pick_and_gradient(gg, lambda lib, t: t[lib.tensor(index)], table, upstream)
    theirs = _pick_and_gradient(torch, lambda lib, t: t[lib.tensor(index)], table, upstream)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_array_equal(mine, expected)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(5, 3, 4), (2, 1, 3, 4), (0, 3, 4), (3, 2, 0), (4,), (3, 4)])
def test_linear_of_extra_leading_dims_is_pytorchs(torch, shape):
    x = _with_edges(shape, np.float64, seed=3) if np.prod(shape) >= len(EDGES) else np.ones(shape)
    weight = np.random.default_rng(4).normal(size=(6, shape[-1]))
    bias = np.random.default_rng(5).normal(size=6)
    ours = F.linear(gg.tensor(x), gg.tensor(weight), gg.tensor(bias))
    theirs = torch.nn.functional.linear(torch.tensor(x), torch.tensor(weight), torch.tensor(bias))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, settings", [("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.25}),
                                            ("huber_loss", {}), ("huber_loss", {"delta": 3.0})])
def test_huber_and_smooth_l1_at_edge_values_are_pytorchs(torch, name, settings, dtype):
    differences = [0.0, -0.0, 1.0, -1.0, 0.999999, -1.000001, 1e-30, -1e-30, 2.5, -7.0, 1e30, np.inf, -np.inf,
                   np.nan, 0.25, 3.0, -3.0]
    x = np.array(differences, dtype)
    target = np.zeros_like(x)
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(ours, gg.tensor(target), reduction="none", **settings)
    expected = getattr(torch.nn.functional, name)(theirs, torch.tensor(target), reduction="none", **settings)
    out.backward(gg.ones_like(out))
    expected.backward(torch.ones_like(expected))
    tolerance = {"rtol": 2 * np.finfo(dtype).eps, "atol": 0}
    np.testing.assert_allclose(out.array, expected.detach().numpy(), **tolerance)
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), **tolerance)
    np.testing.assert_array_equal(np.signbit(ours.grad.array), np.signbit(theirs.grad.numpy()))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_norm_gradient_at_zero_infinite_and_nan_rows_is_pytorchs(torch, dtype):
    x = np.array([[0.0, -0.0, 0.0], [3.0, -4.0, 0.0], [np.inf, 1.0, -2.0], [np.nan, 1.0, 0.0], [-0.0, 5.0, -0.0],
                  [1e-3, -2e-3, 0.5], [np.inf, -np.inf, 0.0]], dtype)
    upstream = np.array([1.5, -2.0, 0.5, 1.0, -1.0, 3.0, 2.0], dtype)
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    gg.linalg.vector_norm(ours, dim=1).backward(gg.tensor(upstream))
    torch.linalg.vector_norm(theirs, dim=1).backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=2 * np.finfo(dtype).eps, atol=0)


def _distinct_with_edges(shape, seed):
    """Distinct values (no ties, whose shares PyTorch does not split) with ±∞, NaN, ±1e20 and −1e-30 among them."""
    rng = np.random.default_rng(seed)
    values = rng.permutation(np.prod(shape)).astype(np.float64) - np.prod(shape) / 2
    edges = [np.inf, -np.inf, np.nan, 1e20, -1e20, -1e-30]
    places = rng.permutation(values.size)[: min(len(edges), values.size // 4)]
    values[places] = edges[: len(places)]
    return values.reshape(shape)


@pytest.mark.torch
@given(st.integers(1, 3), st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=3),
       st.booleans(), st.integers(0, 2**16))
def test_adaptive_max_pool_whose_windows_tile_the_input_is_pytorchs(torch, channels, outputs_and_windows, uneven,
                                                                  seed):
    """Sizes n = o·k (every window k wide: the split-and-amax path), and with ``uneven`` one more entry in the
    first dim (overlapping windows of two sizes: the window-by-window path); values, gradients and indices."""
    dims = len(outputs_and_windows)
    wanted = tuple(out for out, _ in outputs_and_windows)
    sizes = [out * window for out, window in outputs_and_windows]
    sizes[0] += uneven
    x = _distinct_with_edges((2, channels, *sizes), seed)
    upstream = np.random.default_rng(seed + 1).normal(size=(2, channels, *wanted))
    pool = {1: "adaptive_max_pool1d", 2: "adaptive_max_pool2d", 3: "adaptive_max_pool3d"}[dims]
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, indices = getattr(F, pool)(ours, wanted, return_indices=True)
    expected, expected_indices = getattr(torch.nn.functional, pool)(theirs, wanted, return_indices=True)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(out.array, expected.detach().numpy())
    np.testing.assert_array_equal(indices.array, expected_indices.numpy())
    np.testing.assert_array_equal(ours.grad.array, theirs.grad.numpy())


CDIST_MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"]


def _cdist_and_gradients(library, a, b, upstream, mode):
    x1, x2 = library.tensor(a, requires_grad=True), library.tensor(b, requires_grad=True)
    out = library.cdist(x1, x2, compute_mode=mode)
    out.backward(library.tensor(upstream))
    return out.detach().numpy(), x1.grad.numpy(), x2.grad.numpy()


@pytest.mark.torch
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 5), st.sampled_from(CDIST_MODES),
       st.sampled_from([np.float32, np.float64]), st.sampled_from([None, np.nan, np.inf]), st.integers(0, 2**16))
def test_cdist_of_small_integer_rows_is_pytorchs_in_every_compute_mode(torch, rows, others, columns, mode, dtype,
                                                                       odd, seed):
    """Small integers: ‖a‖² + ‖b‖² − 2a·b is exact, so both forms give the same distances, 0 exactly where two rows
    are equal (its gradient 0), a zero row among them; and a row holding NaN or ±∞ (NaN or ∞ out, as PyTorch)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-3, 4, size=(2, rows, columns)).astype(dtype)
    b = rng.integers(-3, 4, size=(1, others, columns)).astype(dtype)
    a[0, 0], b[0, -1] = 0, a[1, -1]  # a zero row; a pair of equal rows
    if odd is not None:
        a[1, 0, 0], b[0, 0, -1] = odd, -odd
    upstream = rng.normal(size=(2, rows, others)).astype(dtype)
    ours = _cdist_and_gradients(gg, a, b, upstream, mode)
    theirs = _cdist_and_gradients(torch, a, b, upstream, mode)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2 * np.finfo(dtype).eps, atol=0)  # a rounding of √
    np.testing.assert_array_equal(ours[0] == 0, theirs[0] == 0)
    tolerance = 50 * np.finfo(dtype).eps * (1 + rows + others)  # terms of up to ~|a|·Σ|up/out| cancel
    for mine, expected in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(mine, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, others", [(26, 3), (3, 26), (25, 25), (64, 50)])
def test_cdist_of_normal_rows_is_pytorchs_on_either_side_of_25_rows(torch, rows, others, dtype):
    """Random rows, 25 or fewer (each pair's difference: two equal rows are exactly 0 apart, with gradient 0, where
    the matrix product's rounding would leave a small distance and a large gradient) and more (the matrix product,
    rounding as PyTorch's)."""
    rng = np.random.default_rng(rows * others)
    a, b = rng.normal(size=(rows, 7)).astype(dtype), rng.normal(size=(others, 7)).astype(dtype)
    if max(rows, others) <= 25:
        b[:3] = a[-3:]
    upstream = rng.normal(size=(rows, others)).astype(dtype)
    mode = CDIST_MODES[0]
    ours = _cdist_and_gradients(gg, a, b, upstream, mode)
    theirs = _cdist_and_gradients(torch, a, b, upstream, mode)
    if max(rows, others) <= 25:
        for pair in range(3):
            assert ours[0][rows - 3 + pair, pair] == theirs[0][rows - 3 + pair, pair] == 0
    tolerance = {"rtol": 1e-4 if dtype == np.float32 else 1e-12, "atol": 1e-4 if dtype == np.float32 else 1e-12}
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, **tolerance)


@pytest.mark.torch
def test_cdist_matrix_product_form_has_pytorchs_second_derivative(torch):
    rng = np.random.default_rng(1)
    a, b, upstream = rng.normal(size=(30, 3)), rng.normal(size=(27, 3)), rng.normal(size=(30, 27))
    found = []
    for library, grad in ((gg, gg.autograd.grad), (torch, torch.autograd.grad)):
        x1, x2 = library.tensor(a, requires_grad=True), library.tensor(b, requires_grad=True)
        first = grad((library.cdist(x1, x2) * library.tensor(upstream)).sum(), [x1, x2], create_graph=True)
        ((first[0] ** 2).sum() + (first[1] * library.tensor(b)).sum()).backward()
        found.append((x1.grad.numpy(), x2.grad.numpy()))
    for mine, expected in zip(*found):
        np.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_cdist_refuses_an_unknown_compute_mode_as_pytorch(torch):
    with pytest.raises(ValueError, match="not a valid value for compute_mode"):
        torch.cdist(torch.ones(2, 3), torch.ones(2, 3), compute_mode="fast")
    with pytest.raises(ValueError, match="cdist: 'fast' is not a valid value for compute_mode; use one of"):
        gg.cdist(gg.ones(2, 3), gg.ones(2, 3), compute_mode="fast")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name, settings", [("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}),
                                            ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {})])
def test_hard_activation_gradients_at_corners_and_odd_upstreams_are_pytorchs_bit_for_bit(torch, name, settings, dtype):
    """Every input (corners, ±0, ±∞, NaN) against every upstream (±0, ±∞, NaN): +0 on a flat piece whatever the
    upstream, the upstream's own sign of 0 elsewhere."""
    inputs = [-np.inf, -7.0, -6.0, -3.0, -2.0, -1.5, -1.0, -0.0, 0.0, 1e-30, 0.5, 1.0, 2.9, 3.0, 6.0, 7.0, np.inf,
              np.nan]
    upstreams = [0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan]
    x = np.repeat(np.array(inputs, dtype), len(upstreams))
    upstream = np.tile(np.array(upstreams, dtype), len(inputs))
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    getattr(F, name)(ours, **settings).backward(gg.tensor(upstream))
    getattr(torch.nn.functional, name)(theirs, **settings).backward(torch.tensor(upstream))
    mine, expected = ours.grad.array, theirs.grad.numpy()
    np.testing.assert_array_equal(mine == 0, expected == 0)
    np.testing.assert_array_equal(np.signbit(mine), np.signbit(expected))
    # within rounding off the flat pieces: PyTorch's hardsigmoid slope is float32's 1/6 in float64 too, and its
    # float16 hardswish slope x/3 + 1/2 is rounded differently
    np.testing.assert_allclose(mine, expected, rtol=max(2 * np.finfo(dtype).eps, 1e-7), atol=0)


def _with_odd_entries(shape, seed):
    """Normal values with ∞, −∞ and NaN at random places (the padding's place once pointed at one of them)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=shape)
    values.reshape(-1)[rng.integers(0, values.size, 3)] = [np.inf, -np.inf, np.nan]
    return values


@pytest.mark.torch
@given(st.integers(1, 2), st.integers(1, 2), st.tuples(st.integers(1, 5), st.integers(1, 5)),
       st.tuples(st.integers(1, 3), st.integers(1, 3)), st.integers(1, 2), st.integers(0, 2), st.integers(1, 2),
       st.integers(0, 2**16))
def test_unfold_and_fold_with_padding_keep_infinities_and_nan_out_of_the_padding(torch, batch, channels, size,
                                                                                   kernel, dilation, padding, stride,
                                                                                   seed):
    """The padding reads 0 and its gradient is dropped, whatever the input or upstream holds, as PyTorch's:
    glassgrad multiplied the entry at the padding's place by 0, which turns ∞ and NaN into NaN."""
    blocks = [(n + 2 * padding - dilation * (k - 1) - 1) // stride + 1 for n, k in zip(size, kernel)]
    if min(blocks) < 1:
        return
    settings = {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}
    x = _with_odd_entries((batch, channels, *size), seed)
    columns_shape = (batch, channels * kernel[0] * kernel[1], blocks[0] * blocks[1])
    upstream = _with_odd_entries(columns_shape, seed + 1)
    columns = _with_odd_entries(columns_shape, seed + 2)
    found = []
    for library in (gg, torch):
        functional = library.nn.functional
        image = library.tensor(x, requires_grad=True)
        unfolded = functional.unfold(image, **settings)
        unfolded.backward(library.tensor(upstream))
        stacked = library.tensor(columns, requires_grad=True)
        folded = functional.fold(stacked, size, **settings)
        folded.backward(library.tensor(x))
        found.append([unfolded.detach().numpy(), image.grad.numpy(), folded.detach().numpy(), stacked.grad.numpy()])
    for name, mine, expected in zip(["unfold", "unfold's gradient", "fold", "fold's gradient"], *found):
        np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_lengths", [[30, 30, 30, 30], [30, 7, 0, 30], [12, 30, 3, 29]])
def test_ctc_loss_of_long_inputs_some_cut_short_is_pytorchs(torch, input_lengths, dtype):
    """30 frames: steps every sample reads run without holding α, the rest hold a finished sample's α."""
    rng = np.random.default_rng(sum(input_lengths))
    scores = (rng.normal(size=(30, 4, 6)) * 3).astype(dtype)
    targets = np.array([[1, 1, 2, 3, 5], [2, 2, 2, 4, 1], [3, 1, 4, 1, 5], [5, 4, 3, 2, 1]])
    target_lengths = [5, 3, 2, 0]
    upstream = np.array([1.0, -2.0, 0.5, 3.0], dtype)
    found = []
    for library in (gg, torch):
        z = library.tensor(scores, requires_grad=True)
        loss = library.nn.functional.ctc_loss(z.log_softmax(-1), library.tensor(targets), input_lengths,
                                              target_lengths, reduction="none", zero_infinity=True)
        loss.backward(library.tensor(upstream))
        found.append((loss.detach().numpy(), z.grad.numpy()))
    tolerance = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    for mine, expected in zip(*found):
        np.testing.assert_allclose(mine, expected, **tolerance)


@pytest.mark.torch
@given(st.integers(1, 3), st.data())
def test_tensor_unfold_gradient_adds_overlapping_windows_as_pytorch(torch, ndim, data):
    """Windows that overlap (step < size), touch, or skip entries (step > size); exact sums of halves, ±0, ±∞ (the
    sign of a 0 sum left aside: glassgrad adds onto +0, so a lone −0 upstream gives +0 where PyTorch keeps −0)."""
    shape = data.draw(st.tuples(*[st.integers(1, 7)] * ndim), label="shape")
    dim = data.draw(st.integers(0, ndim - 1), label="dim")
    size = data.draw(st.integers(0, shape[dim]), label="size")
    step = data.draw(st.integers(1, 4), label="step")
    x = data.draw(arrays(np.float64, shape, elements=UPSTREAM_VALUES), label="x")
    out_shape = tuple(gg.tensor(x).unfold(dim, size, step).shape)
    upstream = data.draw(arrays(np.float64, out_shape, elements=UPSTREAM_VALUES), label="upstream")
    ours = _pick_and_gradient(gg, lambda lib, t: t.unfold(dim, size, step), x, upstream)
    theirs = _pick_and_gradient(torch, lambda lib, t: t.unfold(dim, size, step), x, upstream)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_array_equal(mine, expected)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@given(st.integers(1, 6), st.integers(1, 6), st.booleans(), st.data())
def test_masked_fill_gradient_is_plus_zero_under_the_mask_whatever_the_upstream(torch, dtype, rows, columns,
                                                                               broadcast, data):
    """A random or broadcast mask; upstreams ±0, ±∞, NaN: +0 under the mask, the upstream itself elsewhere."""
    mask = data.draw(arrays(np.bool_, (columns,) if broadcast else (rows, columns)), label="mask")
    x = data.draw(arrays(dtype, (rows, columns), elements=UPSTREAM_VALUES), label="x")
    upstream = data.draw(arrays(dtype, (rows, columns), elements=st.sampled_from(
        [0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan])), label="upstream")
    found = []
    for library in (gg, torch):
        leaf = library.tensor(x, requires_grad=True)
        out = leaf.masked_fill(library.tensor(mask), -np.inf)
        out.backward(library.tensor(upstream))
        found.append((out.detach().numpy(), leaf.grad.numpy()))
    for mine, expected in zip(*found):
        np.testing.assert_array_equal(mine, expected)
        np.testing.assert_array_equal(np.signbit(mine), np.signbit(expected))


@pytest.mark.torch
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.booleans(),
       st.sampled_from([np.float32, np.float64]), st.data())
def test_max_pool_gradient_adds_shared_maxima_in_pytorchs_order(torch, dims, kernel, stride, dilation, ceil_mode,
                                                                dtype, data):
    """Overlapping windows whose maxima coincide add their upstreams window by window, as PyTorch's kernel (bit for
    bit); ±∞ and NaN in the input and the upstream."""
    padding = data.draw(st.integers(0, kernel // 2), label="padding")
    size = data.draw(st.integers(dilation * (kernel - 1) + 1, 9), label="size")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    x = _with_odd_entries((2, 2) + (size,) * dims, seed).astype(dtype)
    pool = f"max_pool{dims}d"
    settings = {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation,
                "ceil_mode": ceil_mode}
    upstream = _with_odd_entries(tuple(getattr(F, pool)(gg.tensor(x), **settings).shape), seed + 1).astype(dtype)
    found = []
    for library in (gg, torch):
        leaf = library.tensor(x, requires_grad=True)
        out = getattr(library.nn.functional, pool)(leaf, **settings)
        out.backward(library.tensor(upstream))
        found.append((out.detach().numpy(), leaf.grad.numpy()))
    for mine, expected in zip(*found):
        np.testing.assert_array_equal(mine, expected)


@pytest.mark.torch
@pytest.mark.parametrize("shapes", [((3, 4), (4,), None), ((4,), (4,), None), ((4,), (4,), ()),
                                    ((3, 4), (5, 4), (3, 5)), ((2, 3, 4), (5, 4), (3, 5)), ((3, 4), (5, 4), (1,))])
def test_linear_takes_the_shapes_pytorchs_takes(torch, shapes):
    """A vector of weights (``linear(x, w)`` with w of shape (in,): x·w) and a bias of more than one dim computed
    forward, then raised in backward (the fused row assumed an (out, in) weight and an (out,) bias); a 0-d output's
    upstream had no ``.dot``. Now they are products and sums of their own, with PyTorch's numbers."""
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-1, 1, shape) for shape in shapes if shape is not None]
    found = []
    for lib in (gg, torch):
        tensors = [lib.tensor(array, dtype=lib.float64, requires_grad=True) for array in arrays]
        out = lib.nn.functional.linear(*tensors)
        (out * 2).sum().backward()
        found.append([out.detach().numpy(), *(tensor.grad.numpy() for tensor in tensors)])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-15)
