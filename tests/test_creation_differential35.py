"""Round 35: tensor creation and dtype inference against PyTorch 2.13, differentially.

``gg.tensor`` / ``as_tensor`` / ``asarray`` / ``from_numpy`` of drawn nested Python data, NumPy scalars and arrays
(every dtype, strided, read-only), with and without ``dtype=`` and under ``set_default_dtype(float64)``; memory
sharing with the NumPy array; ``arange`` / ``range`` / ``linspace`` / ``logspace`` with float steps; ``full`` fill
value → dtype; ``randint`` ranges per dtype; the size spellings. Each case runs on PyTorch (the ``torch`` fixture) and
on glassgrad from the same numbers, comparing values, shape, dtype and the exception class.

The regressions glassgrad had:

* ``full((2,), np.int32(4))`` was int32 and ``full((2,), np.float16(1.5))`` float16 (PyTorch: int64, the default float
  dtype — a NumPy number counts as the Python number it holds; ``np.True_`` gives the default float dtype there).
* ``tensor([-1], dtype=uint8)`` raised NumPy's OverflowError (PyTorch: 255), ``tensor([300], dtype=int8)`` too
  (PyTorch: RuntimeError), and ``full((2,), 1e10, dtype=int32)`` was -2147483648 silently.
* ``randint(-5, 5, (3,), dtype=uint8)`` and ``randint(0, 256, (3,), dtype=int8)`` wrapped silently (PyTorch refuses).
* ``asarray(numpy_array)`` copied; PyTorch's shares the array's memory, as ``as_tensor`` does.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _outcome(make):
    """("ok", tensor) or ("error", class name): what one call gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", make()
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            return "error", type(error).__name__


def _same(torch, label, make):
    """Run ``make(torch)`` and ``make(gg)``; the same values, shape and dtype, or the same exception class."""
    (t_kind, t_value), (g_kind, g_value) = _outcome(lambda: make(torch)), _outcome(lambda: make(gg))
    assert (t_kind, t_kind == "error" and t_value) == (g_kind, g_kind == "error" and g_value), (label, t_value, g_value)
    if t_kind == "error":
        return
    assert tuple(g_value.shape) == tuple(t_value.shape), label
    assert str(g_value.dtype).split(".")[-1] == str(t_value.dtype).split(".")[-1], label
    assert g_value.requires_grad == t_value.requires_grad, label
    expected, got = t_value.detach().numpy(), np.asarray(g_value.detach().numpy())
    if expected.dtype.kind == "f":  # ranges and linspace agree to the dtype's rounding (PyTorch's sums differ in order)
        rtol = {2: 1e-3, 4: 1e-6, 8: 1e-12}[expected.dtype.itemsize]
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * 1e-3, err_msg=label)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=label)


def _dtype_kw(library, dtype):
    return {} if dtype is None else {"dtype": getattr(library, dtype)}


# ---------------------------------------------------------------- the regressions


def test_full_dtype_of_a_numpy_number_is_pytorchs(torch):
    for fill in [np.int32(4), np.uint8(3), np.int8(-2), np.float16(1.5), np.float64(0.25), np.True_, 3, True, 2.5]:
        _same(torch, repr(fill), lambda L, fill=fill: L.full((2, 3), fill))


@pytest.mark.parametrize(("data", "dtype"), [([-1], "uint8"), ([-200, 3], "uint8"), ([-256], "uint8"),
                                             ([300], "int8"), ([-129], "int8"), ([2**40], "int32"),
                                             ([1e10], "int32"), ([-1.0], "uint8"), ([255.9], "uint8"),
                                             ([float("nan")], "int32"), ([float("inf")], "int64"),
                                             ([True, -1], "uint8"), (-1, "uint8"), ([2.7, -2.7], "int64"),
                                             ([np.int64(-1)], "uint8"), ([np.int64(300)], "uint8")])
def test_tensor_of_numbers_outside_an_integer_dtype(torch, data, dtype):
    _same(torch, f"{data} {dtype}", lambda L: L.tensor(data, dtype=getattr(L, dtype)))


def test_full_of_a_number_outside_an_integer_dtype(torch):
    for fill, dtype in [(1e10, "int32"), (-1, "uint8"), (-256, "uint8"), (300, "int8"), (float("nan"), "int64"),
                        (np.int8(-2), "uint8"), (2.9, "int16")]:
        _same(torch, f"full {fill} {dtype}",
              lambda L, fill=fill, dtype=dtype: L.full((2,), fill, dtype=getattr(L, dtype)))
        _same(torch, f"full_like {fill} {dtype}", lambda L, fill=fill, dtype=dtype:
              L.full_like(L.zeros(2, dtype=L.int64), fill, dtype=getattr(L, dtype)))


@pytest.mark.parametrize(("args", "dtype"), [((-5, 5, (4,)), "uint8"), ((0, 257, (3,)), "uint8"),
                                             ((0, 256, (3,)), "int8"), ((0, 3, (3,)), "bool"),
                                             ((-1, 1, (3,)), "bool"), ((0, 2**31 + 1, (3,)), "int32")])
def test_randint_range_that_does_not_fit_the_dtype_is_refused(torch, args, dtype):
    _same(torch, f"randint{args} {dtype}", lambda L: L.randint(*args, dtype=getattr(L, dtype)))


def test_randint_range_that_fits_the_dtype(torch):
    for args, dtype in [((0, 256, (50,)), "uint8"), ((-128, 128, (50,)), "int8"), ((0, 2, (50,)), "bool"),
                        ((-3, 3, (50,)), "int32")]:
        drawn = gg.randint(*args, dtype=getattr(gg, dtype))
        assert drawn.dtype == getattr(gg, dtype)
        values = drawn.numpy().astype(np.int64)
        assert values.min() >= args[0] and values.max() < args[1]
        assert torch.randint(*args, dtype=getattr(torch, dtype)).dtype == getattr(torch, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int8", "uint8", "bool", "float16"])
def test_asarray_shares_a_numpy_arrays_memory_as_pytorchs(torch, dtype):
    def shared(library, asked, layout):
        base = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
        array = {"contiguous": base, "transposed": base.T, "every_other": base[:, ::2]}[layout]
        made = library.asarray(array, **_dtype_kw(library, asked))
        array[0, 0] = 1 - array[0, 0]
        return bool(made[0, 0].item() == array[0, 0].item())

    for layout in ("contiguous", "transposed", "every_other"):
        for asked in (None, dtype, "float64"):
            assert shared(gg, asked, layout) == shared(torch, asked, layout), (asked, layout)


def test_asarray_copies_where_pytorch_does(torch):
    for library in (torch, gg):
        zero_d = np.array(1.5, dtype=np.float32)
        made = library.asarray(zero_d)
        zero_d[()] = 7
        assert made.item() == 1.5  # PyTorch copies a 0-d array, as a number
        array = np.ones(3, dtype=np.float32)
        copied = library.asarray(array, copy=True)
        array[0] = 5
        assert copied[0].item() == 1.0


# ---------------------------------------------------------------- the fuzzer's core

_leaves = st.one_of(st.integers(-5, 5), st.sampled_from([0.5, -1.25, 3.0, 1e-3]), st.booleans())
_rect = st.integers(0, 3).flatmap(lambda n: st.lists(st.lists(_leaves, min_size=n, max_size=n), max_size=3))
_data = st.one_of(_leaves, st.lists(_leaves, max_size=4), _rect,
                  st.sampled_from(DTYPES + ["uint16"]).map(lambda name: getattr(np, name)(1)))


@settings(max_examples=120, deadline=None)
@given(data=_data, dtype=st.sampled_from([None, *DTYPES]), maker=st.sampled_from(["tensor", "as_tensor", "asarray"]),
       default64=st.booleans(), tuples=st.booleans())
def test_drawn_data_makes_pytorchs_tensor(torch, data, dtype, maker, default64, tuples):
    if isinstance(data, np.generic) and dtype not in (None, "float32", "float64", "float16"):
        dtype = None  # a leniency, noted: PyTorch refuses a NumPy number into an integer dtype ('cannot be interpreted
        # as an integer'), glassgrad converts it
    if tuples and isinstance(data, list):
        data = tuple(tuple(row) if isinstance(row, list) else row for row in data)

    def make(library):
        old = library.get_default_dtype()
        if default64:
            library.set_default_dtype(library.float64)
        try:
            return getattr(library, maker)(data, **_dtype_kw(library, dtype))
        finally:
            library.set_default_dtype(old)

    _same(torch, f"{maker}({data!r}, {dtype}) default64={default64}", make)


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from(DTYPES), shape=st.lists(st.integers(0, 3), max_size=3),
       layout=st.sampled_from(["as is", "reversed", "transposed", "read-only"]),
       maker=st.sampled_from(["tensor", "as_tensor", "from_numpy", "asarray"]),
       asked=st.sampled_from([None, "same", "float64", "int64"]))
def test_drawn_numpy_arrays_make_pytorchs_tensor_and_share_as_it_does(torch, dtype, shape, layout, maker, asked):
    def array():
        made = np.array((np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(dtype))
        if layout == "reversed" and made.ndim:
            made = made[::-1]
        elif layout == "transposed":
            made = made.T
        elif layout == "read-only":
            made.flags.writeable = False
        return made

    wanted = dtype if asked == "same" else asked

    def make(library):
        source = array()
        if maker == "from_numpy":
            return library.from_numpy(source)
        return getattr(library, maker)(source, **_dtype_kw(library, wanted))

    _same(torch, f"{maker} {dtype}{shape} {layout} {wanted}", make)

    def shares(library):
        source = array()
        if source.size == 0 or layout == "read-only":
            return None
        outcome = _outcome(lambda: make_from(library, source))
        if outcome[0] == "error":
            return outcome[1]
        source.flat[0] = 1 - source.flat[0]
        return bool(outcome[1].flatten()[0].item() == source.flat[0].item())

    def make_from(library, source):
        if maker == "from_numpy":
            return library.from_numpy(source)
        return getattr(library, maker)(source, **_dtype_kw(library, wanted))

    assert shares(gg) == shares(torch)


# ---------------------------------------------------------------- pinned: cases that already behaved


@pytest.mark.parametrize("dtype", [None, "float32", "float64", "int64", "int32", "float16"])
def test_arange_length_and_dtype(torch, dtype):
    for args in [(0, 1, 0.1), (1, 2.5, 0.5), (10, 0, -3), (1, 0, -0.1), (0.0, 1.0, 0.3), (0, 5, 1.5), (-1, 1, 0.25),
                 (0.1, 0.9, 0.2), (5, 1), (0, 0), (2.5,), (np.int64(2),), (0, 1, 0), (1, 0, 0.1)]:
        _same(torch, f"arange{args} {dtype}", lambda L, args=args: L.arange(*args, **_dtype_kw(L, dtype)))


def test_range_includes_its_end(torch):
    for args in [(0, 1, 0.1), (1, 2.5, 0.5), (0, 10, 3), (1, 0, -0.25), (3,)]:
        _same(torch, f"range{args}", lambda L, args=args: L.range(*args))


@pytest.mark.parametrize("dtype", [None, "float64", "int64"])
def test_linspace_and_logspace(torch, dtype):
    for args in [(0, 1, 5), (0, 1, 1), (0, 1, 0), (1, 0, 4), (0, 10, 3), (0, 1, -1)]:
        _same(torch, f"linspace{args} {dtype}", lambda L, args=args: L.linspace(*args, **_dtype_kw(L, dtype)))
        _same(torch, f"logspace{args} {dtype}", lambda L, args=args: L.logspace(*args, base=2, **_dtype_kw(L, dtype)))


@pytest.mark.parametrize("maker", ["zeros", "ones"])
def test_size_spellings(torch, maker):
    for size in [(2, 3), ((2, 3),), ([2, 3],), (), ((),), (0,), (-1,), ((2, -1),), (2.0,), (np.int64(2), 3)]:
        _same(torch, f"{maker}{size}", lambda L, size=size: getattr(L, maker)(*size))
        _same(torch, f"{maker}{size} int64", lambda L, size=size: getattr(L, maker)(*size, dtype=L.int64))


def test_size_as_size_and_zero_d_tensor_and_int_requires_grad(torch):
    _same(torch, "Size", lambda L: L.ones(L.Size([2, 3])))
    _same(torch, "0-d tensor", lambda L: L.zeros(L.tensor(3), 2))
    _same(torch, "rand shape", lambda L: L.rand(L.tensor(3), 2).zero_())
    _same(torch, "int requires_grad", lambda L: L.zeros(2, dtype=L.int64, requires_grad=True))
    _same(torch, "tensor int requires_grad", lambda L: L.tensor([1, 2], requires_grad=True))
    _same(torch, "like dtype", lambda L: L.ones_like(L.zeros(2, dtype=L.int32), dtype=L.float64))
    _same(torch, "eye", lambda L: L.eye(3, 4, dtype=L.int64))


def test_tril_triu_indices(torch):
    for n, m, offset in [(3, 3, 0), (3, 3, 1), (4, 3, -1), (3, 4, 2), (0, 0, 0), (3, 3, 5), (3, 3, -5)]:
        _same(torch, "tril", lambda L, n=n, m=m, offset=offset: L.tril_indices(n, m, offset))
        _same(torch, "triu", lambda L, n=n, m=m, offset=offset: L.triu_indices(n, m, offset))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_indexing(torch, indexing):
    _same(torch, indexing, lambda L: L.stack(L.meshgrid(L.arange(3), L.arange(4), indexing=indexing)))
    _same(torch, indexing, lambda L: L.stack(L.meshgrid([L.arange(2), L.arange(3), L.arange(1)], indexing=indexing)))


def test_empty_nested_lists_and_tensors_in_a_list(torch):
    _same(torch, "[]", lambda L: L.tensor([]))
    _same(torch, "[[]]", lambda L: L.tensor([[], []], dtype=L.int64))
    _same(torch, "0-d tensors", lambda L: L.tensor([L.tensor(1.5), L.tensor(2.0)]))
    _same(torch, "0-d int tensors", lambda L: L.tensor([L.tensor(1), L.tensor(2)]))
    _same(torch, "ragged", lambda L: L.tensor([[1, 2], [3]]))


def test_factory_out_takes_outs_dtype(torch):
    """``gg.ones(2, 3, out=int_tensor)`` was refused ('float32 can't be cast to int64'); a factory makes its result
    in out's dtype, as PyTorch's, and refuses a ``dtype=`` that is not out's."""
    cases = {"ones int": lambda L: L.ones(2, 3, out=L.zeros(2, 3, dtype=L.int64)),
             "arange float": lambda L: L.arange(5, out=L.zeros(5)),
             "full bool into float": lambda L: L.full((2,), True, out=L.zeros(2)),
             "eye bool": lambda L: L.eye(2, out=L.zeros(2, 2, dtype=L.bool)),
             "linspace int": lambda L: L.linspace(0, 1, 3, out=L.zeros(3, dtype=L.int64)),
             "randint float": lambda L: L.randint(3, (3,), out=L.zeros(3)).zero_(),
             "zeros dtype mismatch": lambda L: L.zeros(2, 3, dtype=L.float64, out=L.zeros(2, 3)),
             "full dtype mismatch": lambda L: L.full((2,), 1.5, dtype=L.float32, out=L.zeros(2, dtype=L.int64)),
             "zeros same dtype": lambda L: L.zeros(2, dtype=L.float32, out=L.ones(2))}
    for label, make in cases.items():
        _same(torch, label, make)
