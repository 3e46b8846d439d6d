"""Tensor methods and ``gg.*`` functions called with their keyword arguments and edge inputs, against PyTorch 2.13
in float64: values, dtypes, shapes, indices and the gradients of ``Σ out·w`` (w random). Each test here failed
before the fix it names; hypothesis draws the shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _numpy(t):
    return t.detach().numpy()


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def assert_same(ours, theirs, tolerance: float = 1e-12):
    """Same dtype, shape and values (NaN where PyTorch has NaN), to ``tolerance`` relative to the largest."""
    assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    reference = _numpy(theirs)
    scale = np.abs(reference[np.isfinite(reference)]).max(initial=1.0) if reference.dtype.kind == "f" else 0
    np.testing.assert_allclose(_numpy(ours), reference, rtol=tolerance, atol=tolerance * scale, equal_nan=True)


def value_and_gradients(lib, form, arrays, seed):
    """``form(lib, *inputs)`` (one tensor, or a pair whose first is differentiated) and the gradients of
    ``Σ out·w`` for the float inputs."""
    inputs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = form(lib, *inputs)
    values = out[0] if isinstance(out, tuple) else out
    weights = np.random.default_rng(seed).normal(size=tuple(values.shape))
    if values.requires_grad:
        (values * lib.tensor(weights, dtype=values.dtype)).sum().backward()
    return out, [t.grad for t in inputs if t.requires_grad]


def assert_matches_pytorch(torch, form, arrays, seed=0):
    """Values and gradients alike; computed in float32 or float16 (their sums in another order), to a few of
    that dtype's last bits times the number of terms."""
    ours, our_grads = value_and_gradients(gg, form, arrays, seed)
    theirs, their_grads = value_and_gradients(torch, form, arrays, seed)
    ours, theirs = (ours if isinstance(ours, tuple) else (ours,)), (theirs if isinstance(theirs, tuple) else (theirs,))
    low = _numpy(theirs[0]).dtype
    tolerance = 1e-12 if low.kind != "f" or low == np.float64 else 8 * np.finfo(low).eps * max(theirs[0].numel(), 1)
    for mine, reference in zip(ours, theirs):
        assert_same(mine, reference, tolerance)
    for mine, reference in zip(our_grads, their_grads):
        assert (mine is None) == (reference is None)  # None: the output does not depend on that input
        if mine is not None:
            assert_same(mine, reference, tolerance)


# --- type promotion: a 0-d tensor or a Python number decides the dtype only when of a higher kind -----------

PROMOTIONS = {
    "float32 + 0-d float64": (np.float32, np.array(2.5)),
    "0-d float64 on the left": (np.float32, np.array(-1.5)),
    "float16 + 0-d float64": (np.float16, np.array(0.25)),
    "int32 + 0-d int64": (np.int32, np.array(3)),
    "int8 + 0-d int64 out of int8's range": (np.int8, np.array(1000)),
    "uint8 + 0-d int64": (np.uint8, np.array(7)),
    "int64 + 0-d float64": (np.int64, np.array(0.5)),
    "bool + 0-d int64": (np.bool_, np.array(2)),
    "int32 + 0-d float32": (np.int32, np.array(1.5, dtype=np.float32)),
}


def _defined(name: str, op: str) -> bool:
    """PyTorch refuses ``bool − x``; atan2 is taken of floats here."""
    dtype, zero_d = PROMOTIONS[name]
    floats = np.dtype(dtype).kind == zero_d.dtype.kind == "f"
    return not (op == "sub" and dtype is np.bool_) and (op != "atan2" or floats)


@pytest.mark.parametrize(("name", "op"), [(name, op) for name in PROMOTIONS
                                          for op in ("add", "mul", "sub", "maximum", "atan2") if _defined(name, op)])
@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_a_zero_d_operand_promotes_by_its_kind_only(torch, name, op, shape, seed):
    """PyTorch's categories (bool < integer < float): float32 + 0-d float64 stays float32 (glassgrad gave
    float64), int8 + 0-d int64 stays int8, int32 + 0-d float64 is float64."""
    dtype, zero_d = PROMOTIONS[name]
    rng = np.random.default_rng(seed)
    dims = (rng.normal(size=shape) * 5).astype(dtype)
    pair = (zero_d, dims) if "left" in name else (dims, zero_d)
    assert_matches_pytorch(torch, lambda lib, x, y: getattr(lib, op)(x, y), pair, seed)


@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_a_python_int_keeps_a_small_integer_dtype(torch, shape, seed):
    """int8 · 100 wraps around in int8, uint8 − 3 in uint8, int32 + 2⁴⁰ in int32 (glassgrad gave int64)."""
    rng = np.random.default_rng(seed)
    for dtype, number in ((np.int8, 100), (np.uint8, -3), (np.int32, 2**40), (np.int16, 7)):
        values = rng.integers(0, 100, size=shape).astype(dtype)
        for form in (lambda lib, x, n=number: x * n, lambda lib, x, n=number: x + n, lambda lib, x, n=number: n - x):
            with np.errstate(over="ignore"):
                assert_matches_pytorch(torch, form, [values], seed)


# --- var/std: PyTorch's positions, a bool after dim is unbiased ----------------------------------------------

VARIANCE_CALLS = {
    "x.var(False)": lambda lib, x: x.var(False),
    "x.std(True)": lambda lib, x: x.std(True),
    "x.var(dim, False)": lambda lib, x: x.var(-1, False),
    "x.std(dim, True, True)": lambda lib, x: x.std(0, True, True),
    "var(x, dim, False, True)": lambda lib, x: lib.var(x, -1, False, True),
    "std_mean(x, dim, False)": lambda lib, x: lib.std_mean(x, 0, False),
    "var_mean(x, False)": lambda lib, x: lib.var_mean(x, False),
    "var_mean(x, dim, unbiased=False, keepdim=True)": lambda lib, x: lib.var_mean(x, -1, unbiased=False, keepdim=True),
    "std_mean(x, correction=None)": lambda lib, x: lib.std_mean(x, correction=None),
}


@pytest.mark.parametrize("call", VARIANCE_CALLS)
@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 2**16))
def test_var_and_std_read_a_bool_after_dim_as_unbiased(torch, call, shape, seed):
    """``x.var(False)`` was the variance over dim 0 and ``x.var(0, True)`` kept the dim (PyTorch: unbiased)."""
    values = np.random.default_rng(seed).normal(size=shape)
    assert_matches_pytorch(torch, VARIANCE_CALLS[call], [values], seed)


# --- median and nanmedian: NaN propagates, ties share the gradient of the whole-tensor median --------------

def _distinct_with_nans(shape, seed, nan_share=0.3):
    """Distinct numbers (so every index is unambiguous), some made NaN."""
    rng = np.random.default_rng(seed)
    values = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.75 - 3.0
    return np.where(rng.random(shape) < nan_share, np.nan, values)


def _tied_with_nans(shape, seed, nan_share=0.2):
    """Few distinct numbers (many ties), some NaN."""
    rng = np.random.default_rng(seed)
    values = rng.integers(-2, 3, size=shape) * 0.5
    return np.where(rng.random(shape) < nan_share, np.nan, values)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@given(shape=SHAPES, seed=st.integers(0, 2**16), keepdim=st.booleans(), data=st.data())
def test_median_over_a_dim_propagates_nan_with_the_first_nans_index(torch, name, shape, seed, keepdim, data):
    """A slice holding a NaN: median gives NaN at the first NaN's index (glassgrad skipped the NaNs). Each slice
    keeps one number: where all are NaN, PyTorch's nanmedian index is its selection algorithm's accident."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    values = _distinct_with_nans(shape, seed)
    np.moveaxis(values, dim, 0)[-1] = np.moveaxis(_distinct_with_nans(shape, seed, 0.0), dim, 0)[-1]
    assert_matches_pytorch(torch, lambda lib, x: tuple(getattr(x, name)(dim, keepdim=keepdim)), [values], seed)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("values", [_tied_with_nans, lambda shape, seed: _tied_with_nans(shape, seed, 0.0),
                                    _distinct_with_nans], ids=["ties and NaNs", "ties", "NaNs"])
@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_median_of_all_entries_shares_the_gradient_among_ties(torch, name, values, shape, seed):
    """The whole-tensor median: NaN if a NaN is there (median), and the gradient split evenly among the
    entries equal to it (the NaNs, if NaN), as PyTorch; glassgrad sent it all to one entry."""
    assert_matches_pytorch(torch, lambda lib, x: getattr(x, name)(), [values(shape, seed)], seed)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("dim", [0, -1])
def test_median_of_a_zero_d_tensor_over_its_dim(torch, name, dim):
    """``median(dim)`` of a 0-d tensor is the tensor and index 0 (glassgrad raised IndexError)."""
    assert_matches_pytorch(torch, lambda lib, x: tuple(getattr(lib, name)(x, dim, keepdim=True)), [np.array(1.5)])


def test_median_of_infinities_shares_the_gradient_among_them(torch):
    for values in ([-np.inf, 1.0, -np.inf], [np.inf, np.inf, 0.0], [-np.inf, -np.inf, -np.inf, 2.0]):
        for name in ("median", "nanmedian"):
            assert_matches_pytorch(torch, lambda lib, x, n=name: getattr(x, n)(), [np.array(values)])


# --- cummax/cummin: NaN from a NaN on -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cummax", "cummin"])
@given(shape=SHAPES, seed=st.integers(0, 2**16), data=st.data())
def test_running_extremes_stay_nan_after_a_nan(torch, name, shape, seed, data):
    """From a NaN on the running extreme is NaN and its index the latest NaN's (glassgrad went on with the
    numbers, index 0 at the NaNs); the latest of ties, as before."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    values = data.draw(st.sampled_from([_tied_with_nans, _distinct_with_nans]))(shape, seed)
    assert_matches_pytorch(torch, lambda lib, x: tuple(getattr(x, name)(dim)), [values], seed)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_running_extremes_of_a_zero_d_tensor(torch, name):
    """The tensor and index 0, as PyTorch (glassgrad raised TypeError: cannot accumulate on a scalar)."""
    assert_matches_pytorch(torch, lambda lib, x: tuple(getattr(lib, name)(x, 0)), [np.array(-2.5)])


# --- mode: a NaN counts once -------------------------------------------------------------------------------

@given(shape=SHAPES, seed=st.integers(0, 2**16), data=st.data())
def test_mode_with_nans_at_the_end_of_each_slice(torch, shape, seed, data):
    """A NaN equals nothing, so it wins only a slice of NaNs (glassgrad raised IndexError on any NaN). NaNs at the
    end of each slice: where PyTorch's sort with ``<`` leaves them, so its answer is the sorted one."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    values = _tied_with_nans(shape, seed, 0.0)
    tail = data.draw(st.integers(0, shape[dim]))
    np.moveaxis(values, dim, 0)[shape[dim] - tail:] = np.nan
    assert_matches_pytorch(torch, lambda lib, x: tuple(x.mode(dim)), [values], seed)


def test_mode_counts_each_nan_once():
    nan = float("nan")
    found = gg.tensor([[nan, 1.0, nan, 1.0], [nan, 2.0, nan, 3.0], [nan, nan, nan, nan]]).mode(1)
    assert found.indices.tolist() == [3, 1, 0]
    np.testing.assert_array_equal(found.values.numpy(), [1.0, 2.0, nan])


# --- sums: integers in int64, dtype= ------------------------------------------------------------------------

INTEGER_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_]


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("name", ["sum", "nansum"])
@given(shape=SHAPES, seed=st.integers(0, 2**16), keepdim=st.booleans(), data=st.data())
def test_integer_sums_are_int64(torch, dtype, name, shape, seed, keepdim, data):
    """uint8 summed to uint64 (NumPy's rule); PyTorch sums every integer and bool dtype in int64."""
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    values = np.random.default_rng(seed).integers(0, 200, size=shape).astype(dtype)
    assert_matches_pytorch(torch, lambda lib, x: getattr(lib, name)(x, dim, keepdim) if dim is not None
                           else getattr(lib, name)(x), [values], seed)


SUM_DTYPES = {"float64": [np.float32, np.int64, np.uint8, np.bool_], "float32": [np.float64, np.int32],
              "int64": [np.int8, np.bool_], "int32": [np.int64, np.uint8]}


@pytest.mark.parametrize(("name", "to", "start"), [(name, to, start) for to, starts in SUM_DTYPES.items()
                                                    for start in starts for name in ("sum", "mean", "nansum")
                                                    if name != "mean" or to.startswith("float")])
@given(shape=SHAPES, seed=st.integers(0, 2**16), data=st.data())
def test_sum_and_mean_take_a_dtype(torch, to, start, name, shape, seed, data):
    """``x.sum(dim, dtype=…)``, ``x.mean(dtype=…)``, ``gg.nansum(x, dtype=…)`` (a TypeError before); positive
    numbers, so that float32 sums do not cancel."""
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    values = (np.abs(np.random.default_rng(seed).normal(size=shape)) * 50 + 1).astype(start)
    assert_matches_pytorch(torch, lambda lib, x: getattr(lib, name)(x, dtype=getattr(lib, to)) if dim is None
                           else getattr(x, name)(dim, dtype=getattr(lib, to)), [values], seed)


# --- an integer tensor meeting a float number: the default float ------------------------------------------

CLAMPS_AND_WHERES = {
    "int.clamp(float, float)": lambda lib, x: x.clamp(-0.5, 2.5),
    "int.clamp(min=float)": lambda lib, x: lib.clamp(x, min=1.5),
    "int.clamp(max=int)": lambda lib, x: x.clamp(max=2),
    "int.clip(min=0-d float64 tensor)": lambda lib, x: x.clip(min=lib.tensor(0.25, dtype=lib.float64)),
    "where(c, 1, 0)": lambda lib, x: lib.where(x > 0, 1, 0),
    "where(c, 1.5, 0)": lambda lib, x: lib.where(x > 0, 1.5, 0),
    "where(c, True, False)": lambda lib, x: lib.where(x > 0, True, False),
    "where(c, int tensor, 2.5)": lambda lib, x: lib.where(x > 0, x, 2.5),
}


@pytest.mark.parametrize("call", CLAMPS_AND_WHERES)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_integers_with_float_numbers_give_the_default_float(torch, call, dtype, shape, seed):
    """``int_tensor.clamp(0.5)`` was float64 and ``where(c, 1, 0)`` float32; PyTorch: float32 and int64."""
    values = np.random.default_rng(seed).integers(0, 5, size=shape).astype(dtype)
    assert_matches_pytorch(torch, CLAMPS_AND_WHERES[call], [values], seed)


# --- take_along_dim broadcasts the input and the indices -------------------------------------------------

@given(shape=SHAPES, seed=st.integers(0, 2**16), data=st.data())
def test_take_along_dim_broadcasts_input_and_indices(torch, shape, seed, data):
    """Indices of size 1 where the input is larger (or the other way round) broadcast, as in PyTorch; glassgrad
    gathered from a corner of the input (a (1, 2) result for a (3, 4) input and (1, 2) indices)."""
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(0, len(shape) - 1))
    input_shape = tuple(n if d == dim or rng.random() < 0.6 else 1 for d, n in enumerate(shape))
    index_shape = tuple(data.draw(st.integers(1, 4)) if d == dim else (n if input_shape[d] == 1 else
                        data.draw(st.sampled_from([1, n]))) for d, n in enumerate(shape))
    values = rng.normal(size=input_shape)
    indices = rng.integers(0, shape[dim], size=index_shape)
    assert_matches_pytorch(torch, lambda lib, x, i: lib.take_along_dim(x, i, dim), [values, indices], seed)


@given(shape=SHAPES, seed=st.integers(0, 2**16), data=st.data())
def test_take_along_dim_counts_a_negative_index_from_the_end(torch, shape, seed, data):
    """PyTorch's take_along_dim takes an index in [−n, 0) as n plus it (gather alone refuses it); glassgrad
    raised gather's out-of-bounds error. Below −n PyTorch reads some other entry, and glassgrad refuses."""
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    indices = rng.integers(-size, size, size=shape)
    assert_matches_pytorch(torch, lambda lib, x, i: lib.take_along_dim(x, i, dim), [rng.normal(size=shape),
                                                                                    indices], seed)
    with pytest.raises(RuntimeError, match=rf"take_along_dim: index {-size - 1} is out of bounds .* "
                                           rf"\(expected {-size} <= index < {size}\)"):
        gg.take_along_dim(gg.zeros(shape), gg.tensor(np.full(shape, -size - 1)), dim)


def test_take_along_dim_of_a_0d_tensor_along_a_dim_is_one_line():
    with pytest.raises(IndexError, match="take_along_dim: the input is 0-d, so it has no dim 0 .* use dim=None"):
        gg.take_along_dim(gg.tensor(3.0), gg.tensor(0), 0)


@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple), seed=st.integers(0, 2**16), data=st.data(),
       source=st.sampled_from(["bool", "int64", "float64"]))
def test_sum_with_dtype_bool_is_whether_any_entry_is_true(torch, shape, seed, data, source):
    """``x.sum(dtype=torch.bool)`` casts to bool and adds in bool, which is ``or``: PyTorch gives a bool; glassgrad
    counted the True entries in int64."""
    values = (np.random.default_rng(seed).integers(-1, 2, size=shape) * (data.draw(st.booleans()))).astype(source)
    dim = data.draw(st.sampled_from([None, *range(len(shape))]))
    keep = data.draw(st.booleans())
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values)
        out = x.sum(dtype=lib.bool) if dim is None else x.sum(dim, keepdim=keep, dtype=lib.bool)
        found.append((_dtype_name(out.dtype), tuple(out.shape), out.tolist()))
    assert found[0] == found[1]
    assert found[0][0] == "bool"


# --- dim=() reduces every dim ------------------------------------------------------------------------------

EMPTY_DIMS = {
    "sum": lambda lib, x, dims, keep: x.sum(dims, keepdim=keep),
    "mean": lambda lib, x, dims, keep: lib.mean(x, list(dims), keepdim=keep),
    "var": lambda lib, x, dims, keep: x.var(dims, keepdim=keep),
    "std": lambda lib, x, dims, keep: lib.std(x, dim=list(dims), keepdim=keep, correction=0),
    "nansum": lambda lib, x, dims, keep: lib.nansum(x, dims, keep),
    "var_mean": lambda lib, x, dims, keep: lib.var_mean(x, dims, keepdim=keep),
    "norm": lambda lib, x, dims, keep: x.norm(3, dim=dims, keepdim=keep),
    "logsumexp": lambda lib, x, dims, keep: lib.logsumexp(x, dims, keepdim=keep),
}


@pytest.mark.parametrize("name", EMPTY_DIMS)
@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 2**16),
       keepdim=st.booleans())
def test_an_empty_dim_list_reduces_every_dim(torch, name, shape, seed, keepdim):
    """PyTorch's ``x.sum(())`` is the sum of every entry; glassgrad reduced none (NumPy's ``axis=()``). The
    oracle names every dim: PyTorch's own backward of ``var(())`` divides by n − 1 with n = 1 (inf), and its
    ``logsumexp(x, ())`` without keepdim fails."""
    values = np.random.default_rng(seed).normal(size=shape)
    assert_matches_pytorch(torch, lambda lib, x: EMPTY_DIMS[name](lib, x, () if lib is gg else tuple(range(x.ndim)),
                                                                  keepdim), [values], seed)


def test_numpys_empty_axis_still_reduces_nothing():
    x = gg.arange(6.0).reshape(2, 3)
    assert x.sum(axis=()).shape == (2, 3) and x.all(()).shape == (2, 3)


# --- bincount's weights, unique's NaNs ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.float16])
@given(size=st.integers(1, 12), minlength=st.integers(0, 8), seed=st.integers(0, 2**16))
def test_bincount_sums_weights_in_pytorchs_dtype_with_a_gradient(torch, dtype, size, minlength, seed):
    """float32 weights give float32 (glassgrad: float64), and the weights get the gradient ``up[input[i]]``
    (glassgrad: none, silently; PyTorch: not implemented, so the gradient is checked against that formula). An
    empty input is left out: PyTorch then gives int64 whatever the weights, glassgrad the weights' dtype."""
    rng = np.random.default_rng(seed)
    values, weights = rng.integers(0, 6, size=size), (rng.normal(size=size) * 4).astype(dtype)
    theirs = torch.bincount(torch.tensor(values), torch.tensor(weights), minlength)
    mine = gg.tensor(weights, requires_grad=dtype().dtype.kind == "f")
    ours = gg.bincount(gg.tensor(values), mine, minlength=minlength)
    assert_same(ours, theirs, 1e-12 if dtype is np.float64 else 1e-3)
    if mine.requires_grad:
        upstream = rng.normal(size=tuple(ours.shape))
        (ours * gg.tensor(upstream, dtype=ours.dtype)).sum().backward()
        np.testing.assert_allclose(mine.grad.numpy(), upstream[values].astype(dtype), rtol=1e-6)


@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_unique_keeps_every_nan_apart(torch, shape, seed):
    """PyTorch's unique counts each NaN as a value of its own (NaN ≠ NaN); NumPy's merged them into one."""
    values = _tied_with_nans(shape, seed, 0.3)
    assert_matches_pytorch(torch, lambda lib, x: lib.unique(x.detach(), return_inverse=True, return_counts=True),
                           [values])


# --- comparisons in the common dtype ---------------------------------------------------------------------------

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]


@pytest.mark.parametrize("op", COMPARISONS)
@given(shape=SHAPES, seed=st.integers(0, 2**16))
def test_integers_compare_with_floats_in_the_float_dtype(torch, op, shape, seed):
    """int64 entries near 2²⁴ against float32 ones (and a Python float) compare after both are float32, as in
    PyTorch: 2²⁴ + 1 == 2²⁴ there; glassgrad compared the exact numbers."""
    rng = np.random.default_rng(seed)
    ints = 2**24 + rng.integers(-2, 3, size=shape)
    floats = (2.0**24 + rng.integers(-2, 3, size=shape) * 2).astype(np.float32)
    assert_matches_pytorch(torch, lambda lib, x, y: getattr(x, op)(y), [ints, floats])
    assert_matches_pytorch(torch, lambda lib, x: getattr(x, op)(float(2**24)), [ints])


# --- diff: n = 0, bools ------------------------------------------------------------------------------------

@given(shape=SHAPES, seed=st.integers(0, 2**16), n=st.integers(0, 3), data=st.data())
def test_diff_with_prepend_append_any_n_and_bools(torch, shape, seed, n, data):
    """``diff(x, n=0, prepend=p)`` is x itself (glassgrad joined p on); a bool tensor's diff is ``x[i+1] ≠ x[i]``
    (glassgrad: NumPy's TypeError for bool subtraction)."""
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    values, edge = rng.normal(size=shape), rng.normal(size=_with_one(shape, dim))
    assert_matches_pytorch(torch, lambda lib, x, p: lib.diff(x, n, dim, prepend=p, append=p), [values, edge], seed)
    assert_matches_pytorch(torch, lambda lib, x: lib.diff(x, n, dim), [values > 0])


def _with_one(shape: tuple, dim: int) -> tuple:
    return tuple(1 if d == dim % len(shape) else size for d, size in enumerate(shape))
