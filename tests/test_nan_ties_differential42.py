"""Differential tests of NaN, ±inf, −0.0 and ties in ordering, selection and reduction ops against PyTorch 2.13
(helper round 42).

The fuzzer behind these drew small tensors (1-D to 3-D, size-0 and size-1 dims) from a pool of NaN, ±inf, ±0 and
repeated numbers and compared values, indices and gradients of max/min/amax/amin/argmax/argmin, maximum/minimum/
fmax/fmin, clamp, sort/argsort/topk/kthvalue, median/nanmedian/mode/quantile, cummax/cummin/logcumsumexp,
unique/unique_consecutive, searchsorted/bucketize/isin, nan_to_num, nansum/nanmean, sums and products, std/var,
norms, logsumexp/softmax/log_softmax/cross_entropy, sign/abs/relu/hardtanh, where and the comparisons.
The defects it found: a descending sort (argsort, sort, topk) put +inf before NaN where +inf came first (NaN was
mapped to −inf, tying with −(+inf)) and put int64's smallest value first (its negation overflows); isin of a bool
tensor raised TypeError where PyTorch raises RuntimeError; scatter_reduce's amax/amin shared a tie at ∓inf with the
padding of its table (an entry alone at its slot got a third of the gradient).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import glassgrad as gg

NAN, INF = math.nan, math.inf
POOL = [NAN, INF, -INF, 0.0, -0.0, 1.0, 1.0, 2.0, -3.5]


def _lib_tensor(lib, data, dtype, requires_grad=False):
    return lib.tensor(np.asarray(data).tolist(), dtype=getattr(lib, dtype), requires_grad=requires_grad)


def _same(t_out, g_out, label=""):
    t_arr, g_arr = t_out.detach().numpy(), g_out.detach().numpy()
    assert t_arr.shape == g_arr.shape and t_arr.dtype == g_arr.dtype, (label, t_arr, g_arr)
    if t_arr.dtype == np.float32:  # float32 rounding, also where a softmax gradient cancels
        finite = np.abs(t_arr[np.isfinite(t_arr)])
        scale = float(finite.max()) if finite.size else 1.0
        np.testing.assert_allclose(g_arr, t_arr, rtol=1e-5, atol=1e-6 * max(scale, 1.0), equal_nan=True,
                                   err_msg=label)
    elif t_arr.dtype.kind == "f":
        np.testing.assert_allclose(g_arr, t_arr, rtol=1e-12, atol=1e-14, equal_nan=True, err_msg=label)
    else:
        np.testing.assert_array_equal(g_arr, t_arr, err_msg=label)


# --- the defects -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("stable", [True, False])
def test_descending_sort_puts_nan_before_inf_like_pytorch(torch, dtype, stable):
    data = [1.0, 0.0, INF, NAN, -INF, INF, NAN]
    expected = torch.sort(_lib_tensor(torch, data, dtype), descending=True, stable=stable)
    found = gg.sort(_lib_tensor(gg, data, dtype), descending=True, stable=stable)
    assert found.indices.tolist() == expected.indices.tolist() == [3, 6, 2, 5, 0, 1, 4]
    _same(expected.values, found.values)
    assert gg.argsort(_lib_tensor(gg, data, dtype), descending=True).tolist() == expected.indices.tolist()


def test_descending_sort_along_a_dim_of_a_matrix(torch):
    data = np.array([[INF, NAN, 2.0], [NAN, INF, NAN], [-INF, -INF, INF]])
    for dim in (0, 1):
        expected = torch.sort(torch.tensor(data), dim=dim, descending=True, stable=True)
        found = gg.sort(gg.tensor(data), dim=dim, descending=True, stable=True)
        np.testing.assert_array_equal(found.indices.numpy(), expected.indices.numpy())
        _same(expected.values, found.values)


def test_topk_ranks_nan_above_inf_like_pytorch(torch):
    data = [1.0, INF, NAN, 2.0]
    expected = torch.topk(torch.tensor(data), 3)
    found = gg.topk(gg.tensor(data), 3)
    assert found.indices.tolist() == expected.indices.tolist() == [2, 1, 3]
    _same(expected.values, found.values)


def test_topk_gradient_follows_the_nan_and_inf_order(torch):
    data = [INF, 1.0, NAN]
    t_x, g_x = torch.tensor(data, requires_grad=True), gg.tensor(data, requires_grad=True)
    (torch.topk(t_x, 2).values * torch.tensor([1.0, 10.0])).sum().backward()
    (gg.topk(g_x, 2).values * gg.tensor([1.0, 10.0])).sum().backward()
    assert g_x.grad.tolist() == t_x.grad.tolist() == [10.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_descending_sort_of_the_smallest_integer(torch, dtype):
    low = int(np.iinfo(dtype).min)
    data = [low, 5, int(np.iinfo(dtype).max), 0, 5, low]
    expected = torch.sort(_lib_tensor(torch, data, dtype), descending=True, stable=True)
    found = gg.sort(_lib_tensor(gg, data, dtype), descending=True, stable=True)
    assert found.indices.tolist() == expected.indices.tolist() == [2, 1, 4, 3, 0, 5]
    assert found.values.tolist() == expected.values.tolist()
    assert gg.topk(_lib_tensor(gg, data, dtype), 2, largest=False).indices.tolist() == [0, 5]


def test_isin_of_bools_is_pytorchs_runtime_error(torch):
    with pytest.raises(RuntimeError, match="Unsupported input type"):
        torch.isin(torch.tensor([True, False]), torch.tensor([1]))
    with pytest.raises(RuntimeError, match="not booleans"):
        gg.isin(gg.tensor([True, False]), gg.tensor([1]))
    with pytest.raises(RuntimeError, match="not booleans"):
        gg.isin(gg.tensor([1, 2]), True)


@pytest.mark.parametrize("reduce, far", [("amax", -INF), ("amin", INF)])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_shares_an_infinite_tie_among_its_own_cells(torch, reduce, far, include_self):
    start, src, index = [far, far, 0.0], [far, far, far, far, 1.0], [1, 0, 0, 0, 2]  # slot 1: one cell, padded
    upstream = [1.0, 2.0, 3.0]
    grads = []
    for lib in (torch, gg):
        x, s = lib.tensor(start, requires_grad=True), lib.tensor(src, requires_grad=True)
        out = x.scatter_reduce(0, lib.tensor(index), s, reduce, include_self=include_self)
        (out * lib.tensor(upstream)).sum().backward()
        grads.append((out.tolist(), x.grad.tolist(), s.grad.tolist()))
    assert grads[1] == grads[0]


# --- the property: values, indices and gradients over NaN/inf/±0/ties -----------------------------------------

def _ordering_cases(dim, flag):
    return {
        "max_dim": lambda L, x: tuple(L.max(x, dim, keepdim=flag)),
        "min_dim": lambda L, x: tuple(L.min(x, dim, keepdim=flag)),
        "amax": lambda L, x: L.amax(x, dim, keepdim=flag),
        "argmax": lambda L, x: L.argmax(x, dim, keepdim=flag),
        "argmin": lambda L, x: L.argmin(x),
        "sort": lambda L, x: tuple(L.sort(x, dim=dim, descending=flag, stable=True)),
        "topk": lambda L, x: tuple(L.topk(x, min(2, x.shape[dim]), dim=dim, largest=flag)),
        "median": lambda L, x: tuple(L.median(x, dim, keepdim=flag)),
        "nanmedian": lambda L, x: tuple(L.nanmedian(x, dim, keepdim=flag)),
        "cummax": lambda L, x: tuple(L.cummax(x, dim)),
        "cummin": lambda L, x: tuple(L.cummin(x, dim)),
        "logcumsumexp": lambda L, x: L.logcumsumexp(x, dim),
        "logsumexp": lambda L, x: L.logsumexp(x, dim, keepdim=flag),
        "softmax": lambda L, x: L.softmax(x, dim),
        "nansum": lambda L, x: L.nansum(x, dim, keepdim=flag),
        "clamp": lambda L, x: L.clamp(x, -1.0, 1.5),
        "maximum": lambda L, x: L.maximum(x, x.flip(dim)),
        "fmin": lambda L, x: L.fmin(x, x.flip(dim)),
        "nan_to_num": lambda L, x: L.nan_to_num(x),
        "unique": lambda L, x: tuple(L.unique(x, return_inverse=True, return_counts=True)),
        "isin": lambda L, x: L.isin(x, x.flip(dim)),
        "scatter_amax": lambda L, x: L.zeros(3, dtype=x.dtype).scatter_reduce(
            0, L.arange(x.numel()) % 3, x.reshape(-1), "amax", include_self=flag),
        "scatter_amin": lambda L, x: L.full((2,), INF, dtype=x.dtype).scatter_reduce(
            0, L.arange(x.numel()) % 2, x.reshape(-1), "amin", include_self=flag),
    }


# Documented differences kept out of the property: a NaN takes amax's/max()'s (and scatter_reduce's) gradient
# (PyTorch: NaN to the whole slice); topk's order of ties is stable (PyTorch's picks among ties by its own order).
_NAN_GRADIENT_DIFFERS = {"amax", "scatter_amax", "scatter_amin"}
_TIES_UNSPECIFIED = {"topk"}


def _check_one(torch, name, call, t_x, g_x):
    """One op's values and indices, then its first output's gradient for the upstream 1, 2, 3, …"""
    t_out, g_out = call(torch, t_x), call(gg, g_x)
    t_outs, g_outs = (t_out, g_out) if isinstance(t_out, tuple) else ((t_out,), (g_out,))
    for t_part, g_part in zip(t_outs, g_outs, strict=True):
        _same(t_part, g_part, name)
    if not t_x.requires_grad or not t_outs[0].dtype.is_floating_point:
        return
    if name in _NAN_GRADIENT_DIFFERS and np.isnan(t_x.detach().numpy()).any():
        return
    upstream = np.arange(1.0, t_outs[0].numel() + 1).reshape(tuple(t_outs[0].shape))
    dtype = str(t_x.dtype).removeprefix("torch.")
    (t_grad,) = torch.autograd.grad(t_outs[0], t_x, _lib_tensor(torch, upstream, dtype))
    (g_grad,) = gg.autograd.grad(g_outs[0], g_x, _lib_tensor(gg, upstream, dtype))
    _same(t_grad, g_grad, name)


@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=24), st.sampled_from([(1,), (2,), (3,), (2, 3), (1, 4)]),
       st.sampled_from(["float64", "float32"]), st.booleans(), st.integers(-2, 1))
@example([INF, NAN, 1.0, NAN, -0.0, 0.0], (2, 3), "float64", True, -1)  # a descending sort: NaN before +inf
def test_ordering_and_selection_match_pytorch(values, shape, dtype, flag, dim):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    size = int(np.prod(shape))
    array = np.resize(np.array(values), size).reshape(shape)
    dim = dim % len(shape) - len(shape) * (dim < 0)  # a dim of this shape, negative where drawn so
    for name, call in _ordering_cases(dim, flag).items():
        if name in _TIES_UNSPECIFIED and np.unique(array).size < size:
            continue
        t_x = _lib_tensor(torch, array, dtype, requires_grad=name not in ("unique", "isin"))
        g_x = _lib_tensor(gg, array, dtype, requires_grad=t_x.requires_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy's about NaN: outside pytest glassgrad's own filter drops them
            _check_one(torch, name, call, t_x, g_x)


# --- pinned: what already matched -----------------------------------------------------------------------

def test_argmax_and_max_dim_pick_the_first_nan_or_the_first_tie(torch):
    for data in ([2.0, NAN, NAN], [2.0, 1.0, 2.0], [-INF, -INF], [0.0, -0.0]):
        for name in ("argmax", "argmin"):
            assert getattr(gg, name)(gg.tensor(data)).item() == getattr(torch, name)(torch.tensor(data)).item()
        for name in ("max", "min"):
            t_out, g_out = getattr(torch, name)(torch.tensor(data), 0), getattr(gg, name)(gg.tensor(data), 0)
            assert g_out.indices.item() == t_out.indices.item()


def test_tie_gradients_split_or_go_to_the_index_like_pytorch(torch):
    data = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    for call in (lambda L, x: L.max(x, 1).values.sum(), lambda L, x: L.amax(x, 1).sum(), lambda L, x: L.max(x),
                 lambda L, x: L.min(x, 0).values.sum(), lambda L, x: L.maximum(x, x.flip(1)).sum()):
        t_x, g_x = torch.tensor(data, requires_grad=True), gg.tensor(data, requires_grad=True)
        call(torch, t_x).backward()
        call(gg, g_x).backward()
        _same(t_x.grad, g_x.grad)


def test_fmax_fmin_skip_nan_and_give_ties_to_the_first(torch):
    a, b = [1.0, NAN, 0.0, NAN, 2.0], [1.0, 2.0, -0.0, NAN, NAN]
    for name in ("fmax", "fmin", "maximum", "minimum"):
        t_a, t_b = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        g_a, g_b = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
        t_out, g_out = getattr(torch, name)(t_a, t_b), getattr(gg, name)(g_a, g_b)
        _same(t_out, g_out)
        t_out.sum().backward()
        g_out.sum().backward()
        _same(t_a.grad, g_a.grad)
        _same(t_b.grad, g_b.grad)


def test_cummax_cummin_take_the_latest_tie_and_keep_a_nan(torch):
    data = [1.0, 1.0, 0.0, 1.0, NAN, 5.0, NAN]
    for name in ("cummax", "cummin"):
        t_out, g_out = getattr(torch, name)(torch.tensor(data), 0), getattr(gg, name)(gg.tensor(data), 0)
        _same(t_out.values, g_out.values)
        assert g_out.indices.tolist() == t_out.indices.tolist()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's ∞ − ∞ (outside pytest glassgrad's filter drops it)
def test_all_minus_inf_slices(torch):
    data = [[-INF, -INF], [-INF, 1.0]]
    for call in (lambda L, x: L.logsumexp(x, 1), lambda L, x: L.softmax(x, 1), lambda L, x: L.log_softmax(x, 1),
                 lambda L, x: L.logcumsumexp(x, 1)):
        t_x, g_x = torch.tensor(data, requires_grad=True), gg.tensor(data, requires_grad=True)
        t_out, g_out = call(torch, t_x), call(gg, g_x)
        _same(t_out, g_out)
        (t_grad,) = torch.autograd.grad(t_out.sum(), t_x)
        (g_grad,) = gg.autograd.grad(g_out.sum(), g_x)
        _same(t_grad, g_grad)


def test_logsumexp_of_all_minus_inf_is_minus_inf_with_pytorchs_nan_gradient(torch):
    t_x, g_x = torch.tensor([-INF, -INF], requires_grad=True), gg.tensor([-INF, -INF], requires_grad=True)
    t_out, g_out = torch.logsumexp(t_x, 0), gg.logsumexp(g_x, 0)
    assert g_out.item() == t_out.item() == -INF
    t_out.backward()
    g_out.backward()
    _same(t_x.grad, g_x.grad)
    assert np.isnan(g_x.grad.numpy()).all()  # exp(x − out) = exp(−∞ + ∞), as PyTorch's


def test_cross_entropy_with_minus_inf_logits(torch):
    logits = [[-INF, 1.0, 0.0], [2.0, -INF, 1.0]]
    t_x, g_x = torch.tensor(logits, requires_grad=True), gg.tensor(logits, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t_x, torch.tensor([1, 0]))
    g_loss = gg.nn.functional.cross_entropy(g_x, gg.tensor([1, 0]))
    _same(t_loss, g_loss)
    t_loss.backward()
    g_loss.backward()
    _same(t_x.grad, g_x.grad)


def test_unique_keeps_each_nan_and_sorted_neighbours(torch):
    data = [NAN, 1.0, NAN, 1.0, -0.0, 0.0]
    for t_part, g_part in zip(torch.unique(torch.tensor(data), return_inverse=True, return_counts=True),
                              gg.unique(gg.tensor(data), return_inverse=True, return_counts=True), strict=True):
        _same(t_part, g_part)
    for t_part, g_part in zip(torch.unique_consecutive(torch.tensor(data), return_counts=True),
                              gg.unique_consecutive(gg.tensor(data), return_counts=True), strict=True):
        _same(t_part, g_part)


def test_searchsorted_bucketize_isin_with_nan_and_ties(torch):
    sequence, values = [1.0, 2.0, 2.0, 3.0], [NAN, 2.0, -INF, INF]
    for right in (False, True):
        _same(torch.searchsorted(torch.tensor(sequence), torch.tensor(values), right=right),
              gg.searchsorted(gg.tensor(sequence), gg.tensor(values), right=right))
        _same(torch.bucketize(torch.tensor(values), torch.tensor(sequence), right=right),
              gg.bucketize(gg.tensor(values), gg.tensor(sequence), right=right))
    _same(torch.isin(torch.tensor([NAN, 1.0, 0.0]), torch.tensor([NAN, -0.0])),
          gg.isin(gg.tensor([NAN, 1.0, 0.0]), gg.tensor([NAN, -0.0])))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_to_num_defaults_per_dtype(torch, dtype):
    data = [NAN, INF, -INF, -0.0]
    _same(torch.nan_to_num(_lib_tensor(torch, data, dtype)), gg.nan_to_num(_lib_tensor(gg, data, dtype)))


def test_std_of_one_entry_is_nan_with_a_warning(torch):
    with pytest.warns(UserWarning):
        expected = torch.std(torch.tensor([1.0]))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        found = gg.std(gg.tensor([1.0]))
    _same(expected, found)
    _same(torch.var(torch.tensor([1.0]), correction=0), gg.var(gg.tensor([1.0]), correction=0))


def test_comparisons_with_nan_and_signed_zeros(torch):
    a, b = [NAN, 0.0, INF, NAN], [NAN, -0.0, INF, 1.0]
    for call in (lambda L, x, y: x == y, lambda L, x, y: x != y, lambda L, x, y: x < y,
                 lambda L, x, y: L.isclose(x, y), lambda L, x, y: L.isclose(x, y, equal_nan=True)):
        _same(call(torch, torch.tensor(a), torch.tensor(b)), call(gg, gg.tensor(a), gg.tensor(b)))


# --- pinned: documented differences ----------------------------------------------------------------------

def test_sign_of_nan_stays_nan_and_l1_gradient_keeps_it(torch):
    """Documented in glassgrad/ops.py: ``sign`` and ``abs`` keep the NaN (PyTorch's sign(NaN) is 0)."""
    assert torch.sign(torch.tensor([NAN])).item() == 0.0
    assert math.isnan(gg.sign(gg.tensor([NAN])).item())
    x = gg.tensor([NAN, -2.0], requires_grad=True)
    x.abs().sum().backward()
    assert math.isnan(x.grad[0].item()) and x.grad[1].item() == -1.0


def test_a_nan_takes_the_amax_gradient(torch):
    """Documented in glassgrad/ops.py: PyTorch gives NaN to the whole slice; glassgrad gives it to the NaN."""
    t_x, g_x = torch.tensor([1.0, NAN, 3.0], requires_grad=True), gg.tensor([1.0, NAN, 3.0], requires_grad=True)
    torch.amax(t_x, 0).backward()
    gg.amax(g_x, 0).backward()
    assert all(math.isnan(v) for v in t_x.grad.tolist())
    assert g_x.grad.tolist() == [0.0, 1.0, 0.0]


def test_quantile_at_an_infinite_end_is_the_limit(torch):
    """Documented in glassgrad/composed_ranks.py: PyTorch's lerp gives ∞ − ∞ = NaN there."""
    assert math.isnan(torch.quantile(torch.tensor([-INF, 1.0]), 0.0).item())
    assert gg.quantile(gg.tensor([-INF, 1.0]), 0.0).item() == -INF
    assert gg.quantile(gg.tensor([1.0, INF, INF]), 0.3).item() == INF


def test_kthvalue_and_topk_ties_follow_the_stable_order():
    """Documented in the README: PyTorch's quickselect picks among ties by its own order."""
    assert gg.kthvalue(gg.tensor([0.0, 2.0, 0.0]), 2).indices.item() == 2
    assert gg.topk(gg.tensor([1.0, NAN, 0.0, NAN]), 3, largest=False).indices.tolist() == [2, 0, 1]
