"""``linspace``/``logspace`` with an integer dtype, as PyTorch 2.13's CPU kernel makes them.

PyTorch writes the ends into the dtype first (cut toward 0; out of the dtype's range its RuntimeError), steps by
``(e − s)/(n − 1)`` in float64, and cuts each point toward 0; the second half counts back from the end. glassgrad
stepped from the uncut ends, so ``logspace(2.5, 1, 3, dtype=int64)`` was [316, 56, 10] where PyTorch gives
[100, 31, 10], and ``linspace(-3, 7, 5, dtype=uint8)`` [253, 0, 2, 4, 7] where PyTorch gives [253, 191, 130, 68, 7].

Oracles: the kernel's rule written out below with Python's own numbers, and PyTorch on the same calls. PyTorch's
vectorised loop (from about 10 points, with a fractional step) cuts each SIMD block's first point before adding
the step, so it can be 1 off its own scalar rule there (README); those calls are compared with the rule only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

INTEGER_DTYPES = ["int64", "int32", "int16", "int8", "uint8"]


def _rule(start, end, count, dtype, base=None):
    """The kernel's rule with Python numbers: ends cut toward 0 (an int into an unsigned dtype wrapped), then
    ``s + k·step`` for k < n // 2 and ``e − (n − 1 − k)·step`` after, each point cut toward 0."""
    info = np.iinfo(dtype)
    s, e = (int(v) % (info.max + 1) if np.dtype(dtype).kind == "u" else int(v) for v in (start, end))
    step = (e - s) / (count - 1)
    points = [s + step * k if k < count // 2 else e - step * (count - 1 - k) for k in range(count)]
    return [math.trunc(base ** p if base is not None else p) for p in points]


ends = st.one_of(st.integers(-120, 120), st.floats(-120, 120).map(lambda v: round(v, 2)))


@settings(max_examples=150, deadline=None)
@given(start=ends, end=ends, count=st.integers(2, 60), dtype=st.sampled_from(["int64", "int32", "int16"]))
def test_integer_linspace_follows_the_kernels_rule(start, end, count, dtype):
    result = gg.linspace(start, end, count, dtype=getattr(gg, dtype))
    assert result.dtype == getattr(gg, dtype) and result.tolist() == _rule(start, end, count, dtype)


@settings(max_examples=100, deadline=None)
@given(start=st.floats(-2, 4).map(lambda v: round(v, 3)), end=st.floats(-2, 4).map(lambda v: round(v, 3)),
       count=st.integers(2, 30), base=st.sampled_from([10.0, 2.0, 2.5]))
def test_integer_logspace_follows_the_kernels_rule(start, end, count, base):
    assert gg.logspace(start, end, count, base=base, dtype=gg.int64).tolist() == _rule(start, end, count, "int64",
                                                                                          base)


CALLS = [
    ("logspace", (2.5, 1, 3), "int64"), ("logspace", (2.5, 1, 3), "uint8"), ("logspace", (0.5, 9.7, 6), "int64"),
    ("logspace", (0.5, 9.7, 6), "int32"), ("logspace", (1.0, 1.5, 5), "int16"), ("logspace", (2.5, -2.6, 1), "int16"),
    ("linspace", (0.5, 9.7, 6), "int64"), ("linspace", (-3, 7, 5), "uint8"), ("linspace", (-200, 7, 3), "uint8"),
    ("linspace", (10, 0, 4), "int8"), ("linspace", (2.7, 0, 1), "int32"), ("linspace", (0, 100, 51), "int64"),
    ("linspace", (-40, 40, 41), "int16"), ("linspace", (1.9, -1.9, 3), "int32"),
    # out of the dtype's range: PyTorch's RuntimeError
    ("linspace", (300, 7, 5), "uint8"), ("linspace", (-3.0, 7, 5), "uint8"), ("linspace", (127.9, 0, 3), "int8"),
    ("linspace", (-200, 7, 3), "int8"), ("linspace", (2**40, 0, 3), "int32"), ("logspace", (-0.5, 2, 4), "uint8"),
    ("logspace", (7.1, 7.4, 1), "int8"),
]


@pytest.mark.parametrize("name, arguments, dtype", CALLS)
def test_integer_ranges_as_pytorch(torch, name, arguments, dtype):
    def outcome(library):
        try:
            return getattr(library, name)(*arguments, dtype=getattr(library, dtype)).tolist()
        except Exception as error:
            return type(error)

    assert outcome(gg) == outcome(torch)


@settings(max_examples=60, deadline=None)
@given(start=ends, end=ends, count=st.integers(1, 3), dtype=st.sampled_from(INTEGER_DTYPES),
       log=st.booleans())
def test_a_few_integer_points_as_pytorch(torch, start, end, count, dtype, log):
    """Up to 3 points PyTorch's loop is never vectorised: its numbers or its error class, exactly."""
    if log:
        start, end = start / 40, end / 40

    def outcome(library):
        function = library.logspace if log else library.linspace
        try:
            return function(start, end, count, dtype=getattr(library, dtype)).tolist()
        except RuntimeError:
            return RuntimeError

    assert outcome(gg) == outcome(torch)


def test_float_ranges_are_as_before():
    """The float dtypes keep NumPy's linspace (end exact) and base ** linspace."""
    assert gg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert np.array_equal(gg.logspace(-3, 5, 17, dtype=gg.float64).numpy(), np.logspace(-3, 5, 17))
