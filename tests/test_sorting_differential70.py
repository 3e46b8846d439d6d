"""Differential tests of sorting, searching and counting against PyTorch 2.13 (helper round 70).

The fuzzer behind these drew tensors of 0 to 3 dims (size-0 and size-1 dims included) in float32, float64, int32
and int64, some with NaN, ±inf and ties, and compared values, index dtypes and gradients of sort (stable or not,
descending), argsort, msort, topk, kthvalue, median/nanmedian, mode, max/min/argmax/argmin along a dim or over
all, count_nonzero, unique/unique_consecutive (with dim), searchsorted/bucketize (right/side, sorter, out_int32,
a scalar, N-D sequences), histc, histogram (bin count or edges, range, weight, density), bincount (weights,
minlength) and isin (invert, assume_unique, scalars), and misuse (k out of range, bins ≤ 0, a 2-D or negative
bincount, mismatched leading dims).
The defects it found: searchsorted's ``sorter`` was not checked: one shorter than the sequence silently read only
its first entries (a wrong position), and a float or out-of-range one failed deep in NumPy with IndexError (PyTorch:
RuntimeError, 'sorter must be a tensor of long dtype' / 'sorter index out of range' / 'must have the same size');
bincount of an empty tensor with weights gave float zeros where PyTorch gives int64 ones.
Left as they are (documented or PyTorch's own): kthvalue's and topk's picks among ties follow the stable order
(round 42's pin; PyTorch's quickselect its own), topk(sorted=False)'s order, NaN in a searchsorted sequence
(documented: NumPy's order), mode and unique(dim=) with NaN (PyTorch's order depends on its comparisons with NaN),
median of an empty int tensor (PyTorch returns the dtype's smallest value; glassgrad refuses with IndexError).
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


def _t(lib, data, dtype="float32", requires_grad=False):
    return lib.tensor(np.asarray(data).tolist(), dtype=getattr(lib, dtype), requires_grad=requires_grad)


def _same(t_out, g_out, label=""):
    """Same shape, dtype and numbers (float32 within its rounding, float64 to 1e-12, ints exactly)."""
    t_arr, g_arr = t_out.detach().numpy(), g_out.detach().numpy()
    assert t_arr.shape == g_arr.shape and t_arr.dtype == g_arr.dtype, (label, t_arr, g_arr)
    if t_arr.dtype.kind == "f":
        tol = 1e-5 if t_arr.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(g_arr, t_arr, rtol=tol, atol=tol, equal_nan=True, err_msg=label)
    else:
        np.testing.assert_array_equal(g_arr, t_arr, err_msg=label)


def _flat(out):
    return [part for item in out for part in _flat(item)] if isinstance(out, (tuple, list)) else [out]


def _both(torch, call, label=""):
    """Run ``call`` on torch and on glassgrad and compare every tensor it returns."""
    t_out, g_out = _flat(call(torch)), _flat(call(gg))
    assert len(t_out) == len(g_out), label
    for t_part, g_part in zip(t_out, g_out, strict=True):
        _same(t_part, g_part, label)


def _error_class(lib, call):
    try:
        call(lib)
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        return type(error).__name__, str(error)
    return None, ""


# --- the defects -------------------------------------------------------------------------------------------

_BAD_SORTERS = {
    "shorter": lambda lib: lib.tensor([0]),
    "past the end": lambda lib: lib.tensor([0, 5]),
    "negative": lambda lib: lib.tensor([-1, 0]),
    "float": lambda lib: lib.tensor([0.0, 1.0]),
    "int32": lambda lib: lib.tensor([0, 1], dtype=lib.int32),
}


@pytest.mark.parametrize("kind", sorted(_BAD_SORTERS))
def test_searchsorted_refuses_a_bad_sorter_like_pytorch(torch, kind):
    def call(lib):
        return lib.searchsorted(lib.tensor([2.0, 1.0]), lib.tensor([1.5]), sorter=_BAD_SORTERS[kind](lib))
    assert _error_class(torch, call)[0] == "RuntimeError"
    with pytest.raises(RuntimeError, match="searchsorted: sorter") as caught:
        call(gg)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_with_a_sorter_of_rows(torch, right):
    """A sorter of the sequence's N-D shape (argsort's along the last dim) reads each row in its order."""
    sequence = [[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]
    _both(torch, lambda lib: lib.searchsorted(_t(lib, sequence), _t(lib, [[2.0, 2.5], [4.0, 9.0]]), right=right,
                                              sorter=_t(lib, sequence).argsort()))


@pytest.mark.parametrize("weights_dtype", ["float32", "float64"])
def test_bincount_of_nothing_with_weights_is_int64_zeros(torch, weights_dtype):
    _both(torch, lambda lib: lib.bincount(lib.tensor([], dtype=lib.int64),
                                          weights=lib.tensor([], dtype=getattr(lib, weights_dtype)), minlength=3))
    _both(torch, lambda lib: lib.bincount(lib.tensor([], dtype=lib.int64), weights=lib.tensor([])))


# --- the fuzzer's core ---------------------------------------------------------------------------------------

def _without_nan(lib, sequence):
    """A sorted sequence with its NaNs (last) made +inf: NaN in a searchsorted sequence is documented (NumPy's
    order, where PyTorch's bisection lands by its path)."""
    return lib.where(lib.isnan(sequence), lib.full_like(sequence, INF), sequence)


def _cases(dim, k, flag, distinct):
    """The ops drawn: name → (call, whether its first output's gradient is compared)."""
    cases = {
        "sort": (lambda L, x: tuple(L.sort(x, dim=dim, descending=flag, stable=True)), True),
        "argsort": (lambda L, x: L.argsort(x, dim=dim, descending=not flag, stable=True), False),
        "msort": (lambda L, x: L.msort(x), True),
        "max": (lambda L, x: tuple(L.max(x, dim=dim, keepdim=flag)), True),
        "min": (lambda L, x: tuple(L.min(x, dim, flag)), True),
        "argmax": (lambda L, x: L.argmax(x, dim=dim, keepdim=flag), False),
        "argmin_all": (lambda L, x: L.argmin(x), False),
        "median": (lambda L, x: tuple(L.median(x, dim=dim, keepdim=flag)), True),
        "nanmedian": (lambda L, x: tuple(L.nanmedian(x, dim=dim, keepdim=flag)), True),
        "count_nonzero": (lambda L, x: L.count_nonzero(x, dim=dim), False),
        "unique": (lambda L, x: tuple(L.unique(x, return_inverse=True, return_counts=True)), False),
        "unique_consecutive": (lambda L, x: tuple(L.unique_consecutive(x, dim=dim, return_inverse=True,
                                                                       return_counts=True)), False),
        "searchsorted": (lambda L, x: L.searchsorted(_without_nan(L, L.sort(x, dim=-1).values), x, right=flag),
                         False),
        "bucketize": (lambda L, x: L.bucketize(x, L.tensor([-1.0, 0.5, 1.0, 2.0], dtype=x.dtype), right=flag,
                                               out_int32=not flag), False),
        "isin": (lambda L, x: L.isin(x, x.flatten()[:2], invert=flag), False),
        "topk_values": (lambda L, x: L.topk(x, k, dim=dim, largest=flag).values, True),
        "kthvalue_values": (lambda L, x: L.kthvalue(x, max(k, 1), dim=dim, keepdim=flag).values, distinct),
    }
    if distinct:  # PyTorch's picks among ties are its own here (documented)
        cases["topk"] = (lambda L, x: tuple(L.topk(x, k, dim=dim, largest=flag)), True)
        cases["kthvalue"] = (lambda L, x: tuple(L.kthvalue(x, max(k, 1), dim=dim, keepdim=flag)), True)
    return cases


@given(st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.0, 2.0, 3.0, NAN, INF]), min_size=0, max_size=12),
       st.sampled_from([(0,), (1,), (3,), (2, 3), (3, 1), (2, 0), (1, 2, 2)]),
       st.sampled_from(["float32", "float64"]), st.booleans(), st.integers(-3, 2), st.integers(0, 3))
@example([2.0, 1.0, 2.0, 1.0, 2.0, 1.0], (2, 3), "float64", True, 0, 1)  # ties everywhere
def test_sorting_and_counting_match_pytorch(torch, values, shape, dtype, flag, dim, k):
    size = int(np.prod(shape))
    array = np.resize(np.array(values or [0.0]), size).reshape(shape)
    dim %= len(shape)
    k = min(k, shape[dim])
    distinct = np.unique(array).size == size
    for name, (call, with_grad) in _cases(dim, k, flag, distinct).items():
        if name.startswith("kthvalue") and shape[dim] == 0:
            continue
        t_x, g_x = _t(torch, array, dtype, with_grad), _t(gg, array, dtype, with_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = _error_class(torch, lambda lib, call=call, x=t_x: call(lib, x))[0]  # along an empty dim
            if expected is not None:
                assert _error_class(gg, lambda lib, call=call, x=g_x: call(lib, x))[0] == expected, name
                continue
            t_out, g_out = call(torch, t_x), call(gg, g_x)
        t_parts, g_parts = _flat(t_out), _flat(g_out)
        for t_part, g_part in zip(t_parts, g_parts, strict=True):
            _same(t_part, g_part, name)
        if with_grad and t_parts[0].requires_grad and t_parts[0].numel():
            upstream = np.arange(1.0, t_parts[0].numel() + 1).reshape(tuple(t_parts[0].shape))
            (t_grad,) = torch.autograd.grad(t_parts[0], t_x, _t(torch, upstream, dtype))
            (g_grad,) = gg.autograd.grad(g_parts[0], g_x, _t(gg, upstream, dtype))
            _same(t_grad, g_grad, name + " gradient")


@given(st.lists(st.integers(0, 6), min_size=0, max_size=10), st.integers(0, 8), st.booleans(),
       st.sampled_from(["int64", "int32"]))
def test_bincount_and_histc_match_pytorch(torch, values, minlength, weighted, dtype):
    weights = np.linspace(0.25, 2.5, len(values))
    _both(torch, lambda lib: lib.bincount(_t(lib, values, dtype), minlength=minlength,
                                          weights=_t(lib, weights, "float64") if weighted else None))
    floats = np.asarray(values, dtype=float) / 2
    for low, high in ((0.0, 0.0), (1.0, 2.0), (2.0, 2.0), (0.5, 3.0)):
        _both(torch, lambda lib, low=low, high=high: lib.histc(_t(lib, floats), bins=max(minlength, 1), min=low,
                                                               max=high))
    if floats.size:
        _both(torch, lambda lib: tuple(lib.histogram(_t(lib, floats, "float64"), bins=max(minlength, 1),
                                                     weight=_t(lib, weights, "float64") if weighted else None,
                                                     density=weighted)))


# --- pinned: what already matched -----------------------------------------------------------------------------

def test_return_types_are_named_pairs_of_int64_indices(torch):
    x = [[3.0, 1.0, 2.0], [2.0, 2.0, 0.0]]
    for name, call in {"sort": lambda t: t.sort(), "topk": lambda t: t.topk(2), "kthvalue": lambda t: t.kthvalue(2),
                       "median": lambda t: t.median(0), "nanmedian": lambda t: t.nanmedian(1),
                       "mode": lambda t: t.mode(), "max": lambda t: t.max(1), "min": lambda t: t.min(0)}.items():
        t_out, g_out = call(_t(torch, x)), call(_t(gg, x))
        assert isinstance(g_out, tuple) and len(g_out) == 2, name
        assert g_out.values is g_out[0] and g_out.indices is g_out[1], name
        assert g_out.indices.dtype == gg.int64, name
        _same(t_out.values, g_out.values, name)
        _same(t_out.indices, g_out.indices, name)
        values, indices = g_out
        assert values is g_out.values and indices is g_out.indices
    hist = gg.histogram(_t(gg, x), bins=2)
    assert hist.hist is hist[0] and hist.bin_edges is hist[1]


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64"])
@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_keeps_the_order_of_ties_both_ways(torch, dtype, descending):
    data = [2, 1, 2, 1, 2, 0, 1]
    _both(torch, lambda lib: tuple(lib.sort(_t(lib, data, dtype), descending=descending, stable=True)))
    _both(torch, lambda lib: lib.argsort(_t(lib, data, dtype), descending=descending, stable=True))


def test_tie_picks_and_their_gradients(torch):
    """max/min along a dim take the first tie, median the stable lower median's index, mode the last of the
    smallest most frequent value's entries; the gradient goes to the picked entry."""
    data = [[2.0, 1.0, 2.0, 1.0, 3.0, 3.0], [0.0, 0.0, 5.0, 5.0, 1.0, 1.0]]
    for name, call in {"max": lambda lib, x: lib.max(x, 1), "min": lambda lib, x: lib.min(x, dim=1, keepdim=True),
                       "median": lambda lib, x: lib.median(x, 1), "nanmedian": lambda lib, x: lib.nanmedian(x, 0),
                       "mode": lambda lib, x: lib.mode(x, 1)}.items():
        t_x, g_x = _t(torch, data, "float64", True), _t(gg, data, "float64", True)
        t_out, g_out = call(torch, t_x), call(gg, g_x)
        _same(t_out.indices, g_out.indices, name)
        t_out.values.sum().backward()
        g_out.values.sum().backward()
        _same(t_x.grad, g_x.grad, name)


def test_zero_d_inputs(torch):
    for name, call in {"sort": lambda lib, x: tuple(lib.sort(x, 0)), "topk": lambda lib, x: tuple(lib.topk(x, 1)),
                       "kthvalue": lambda lib, x: tuple(lib.kthvalue(x, 1)), "median": lambda lib, x: tuple(
                           lib.median(x, 0)), "mode": lambda lib, x: tuple(lib.mode(x)),
                       "max": lambda lib, x: tuple(lib.max(x, dim=0, keepdim=True)),
                       "argmax": lambda lib, x: lib.argmax(x, 0), "msort": lambda lib, x: lib.msort(x),
                       "unique": lambda lib, x: tuple(lib.unique(x, return_inverse=True, return_counts=True)),
                       "unique_consecutive": lambda lib, x: tuple(lib.unique_consecutive(x, return_counts=True)),
                       "count_nonzero": lambda lib, x: lib.count_nonzero(x),
                       "searchsorted": lambda lib, x: lib.searchsorted(lib.tensor([1.0, 3.0, 4.0]), x),
                       "bucketize": lambda lib, x: lib.bucketize(x, lib.tensor([1.0, 3.0, 4.0]), right=True)}.items():
        _both(torch, lambda lib, call=call: call(lib, _t(lib, 3.0)), name)


def test_empty_inputs(torch):
    cases = {
        "sort": lambda lib: tuple(lib.sort(lib.zeros(2, 0), dim=1)),
        "topk k=0": lambda lib: tuple(lib.topk(lib.zeros(0), 0)),
        "max dim of size 2": lambda lib: tuple(lib.max(lib.zeros(0, 2), dim=1)),
        "median dim": lambda lib: tuple(lib.median(lib.zeros(2, 0), dim=0)),
        "median all": lambda lib: lib.median(lib.zeros(0)),
        "unique": lambda lib: tuple(lib.unique(lib.zeros(0), return_inverse=True, return_counts=True)),
        "unique dim": lambda lib: tuple(lib.unique(lib.zeros(0, 2), dim=0, return_inverse=True, return_counts=True)),
        "searchsorted": lambda lib: lib.searchsorted(lib.zeros(0), lib.tensor([1.0])),
        "histc": lambda lib: lib.histc(lib.zeros(0), bins=3),
        "bincount": lambda lib: lib.bincount(lib.tensor([], dtype=lib.int64), minlength=2),
        "count_nonzero": lambda lib: lib.count_nonzero(lib.zeros(0, 3), dim=0),
        "isin": lambda lib: lib.isin(lib.tensor([1, 2]), lib.tensor([], dtype=lib.int64)),
    }
    for name, call in cases.items():
        _both(torch, call, name)


@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_searchsorted_spellings(torch, dtype):
    sequence = [1, 2, 2, 3]
    for call in (lambda lib: lib.searchsorted(_t(lib, sequence, dtype), 2, right=True),
                 lambda lib: lib.searchsorted(_t(lib, sequence, dtype), 2.5),
                 lambda lib: lib.searchsorted(_t(lib, sequence, dtype), _t(lib, [2, 0], dtype), side="right"),
                 lambda lib: lib.searchsorted(_t(lib, sequence, dtype), _t(lib, [[2, 5]], dtype), out_int32=True),
                 lambda lib: lib.searchsorted(_t(lib, [sequence, sequence[::-1]], dtype).sort().values,
                                              _t(lib, [[2], [3]], dtype), side="left"),
                 lambda lib: lib.bucketize(_t(lib, [[0, 2], [3, 9]], dtype), _t(lib, sequence, dtype), right=True,
                                           out_int32=True)):
        _both(torch, call)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_and_histogram_ranges(torch, dtype):
    """histc with min == max takes the data's range (one value: ±1 around it, as PyTorch), values on the last edge
    land in the last bin, values outside [min, max] are dropped."""
    for data, low, high in (([3.0, 3.0], 3, 3), ([1.0, 3.0], 3, 3), ([3.0, 3.0], 0, 0), ([-3.0, -1.0], 0, 0),
                            ([0.0, 1.0, 2.0, 3.0], 0, 3), ([0.1, 0.2, 0.3, 0.7], 0, 1), ([1.0, 2.0, 2.0, 5.0], 1.5, 3)):
        _both(torch, lambda lib, data=data, low=low, high=high: lib.histc(_t(lib, data, dtype), bins=4, min=low,
                                                                          max=high))
    _both(torch, lambda lib: tuple(lib.histogram(_t(lib, [3.0, 3.0]), bins=4)))
    _both(torch, lambda lib: tuple(lib.histogram(_t(lib, [1.0, 2.0, 2.0, 5.0]), bins=3, range=(1.5, 3.0))))
    _both(torch, lambda lib: tuple(lib.histogram(_t(lib, [1.0, 2.0, 2.0, 5.0]), bins=_t(lib, [0.0, 2.0, 6.0]),
                                                 weight=_t(lib, [1.0, 2.0, 3.0, 4.0]), density=True)))


def test_isin_spellings(torch):
    for call in (lambda lib: lib.isin(_t(lib, [[1, 2], [3, 4]], "int64"), _t(lib, [4, 1], "int64"),
                                      assume_unique=True, invert=True),
                 lambda lib: lib.isin(_t(lib, [1, 2], "int64"), _t(lib, 2, "int64")),
                 lambda lib: lib.isin(_t(lib, [1.5, 2.0]), 2),
                 lambda lib: lib.isin(2, _t(lib, [1, 2], "int64"))):
        _both(torch, call)


_MISUSE = {
    "topk k > size": lambda lib: lib.topk(lib.tensor([1.0, 2.0]), 3),
    "topk k < 0": lambda lib: lib.topk(lib.tensor([1.0, 2.0]), -1),
    "topk dim out of range": lambda lib: lib.topk(lib.tensor([1.0, 2.0]), 1, dim=2),
    "kthvalue k = 0": lambda lib: lib.kthvalue(lib.tensor([1.0, 2.0]), 0),
    "kthvalue k > size": lambda lib: lib.kthvalue(lib.tensor([1.0, 2.0]), 3),
    "kthvalue of nothing": lambda lib: lib.kthvalue(lib.tensor([]), 1),
    "histc bins = 0": lambda lib: lib.histc(lib.tensor([1.0, 2.0]), bins=0),
    "histc min > max": lambda lib: lib.histc(lib.tensor([1.0, 2.0]), bins=3, min=2, max=1),
    "histc of ints": lambda lib: lib.histc(lib.tensor([1, 2]), bins=3),
    "histc of inf": lambda lib: lib.histc(lib.tensor([1.0, INF]), bins=3),
    "histogram bins = 0": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), bins=0),
    "histogram weight shape": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), bins=2, weight=lib.tensor([1.0])),
    "bincount 2-D": lambda lib: lib.bincount(lib.tensor([[1, 2]])),
    "bincount negative": lambda lib: lib.bincount(lib.tensor([-1, 2])),
    "bincount floats": lambda lib: lib.bincount(lib.tensor([1.0, 2.0])),
    "bincount minlength < 0": lambda lib: lib.bincount(lib.tensor([1, 2]), minlength=-1),
    "bincount weights length": lambda lib: lib.bincount(lib.tensor([1, 2]), weights=lib.tensor([1.0])),
    "searchsorted leading dims": lambda lib: lib.searchsorted(lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                                              lib.tensor([[1.0], [2.0], [3.0]])),
    "searchsorted 0-d sequence": lambda lib: lib.searchsorted(lib.tensor(1.0), lib.tensor([1.0])),
    "searchsorted side": lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0]), lib.tensor([1.0]), side="middle"),
    "searchsorted side vs right": lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0]), lib.tensor([1.0]),
                                                               right=True, side="left"),
    "bucketize N-D boundaries": lambda lib: lib.bucketize(lib.tensor([1.0]), lib.tensor([[1.0, 2.0]])),
    "unique dim out of range": lambda lib: lib.unique(lib.tensor([1.0, 2.0]), dim=1),
    "unique dim of a 0-d": lambda lib: lib.unique(lib.tensor(1.0), dim=0),
    "argmax of nothing": lambda lib: lib.argmax(lib.tensor([])),
    "max along an empty dim": lambda lib: lib.max(lib.zeros(0, 2), dim=0),
    "median along an empty dim": lambda lib: lib.median(lib.zeros(0, 2), dim=0),
    "sort dim of a 0-d": lambda lib: lib.sort(lib.tensor(3.0), dim=1),
    "topk k = 2 of a 0-d": lambda lib: lib.topk(lib.tensor(3.0), 2),
    "mode of nothing": lambda lib: lib.mode(lib.tensor([])),
    "count_nonzero repeated dim": lambda lib: lib.count_nonzero(lib.ones(2, 2), dim=(0, 0)),
}


def test_misuse_raises_pytorchs_class_in_one_line(torch):
    for name, call in _MISUSE.items():
        expected, _ = _error_class(torch, call)
        found, message = _error_class(gg, call)
        assert expected is not None, name
        assert found == expected, (name, expected, found, message)
        assert message and "\n" not in message, (name, message)
