"""Round 52: integer, bitwise, logical and comparison semantics against PyTorch 2.13.

Every integer dtype glassgrad has (uint8, int8, int16, int32, int64; PyTorch's uint16/32/64 are not glassgrad
dtypes) and bool, as tensors with dims or 0-d, against Python numbers on either side: ``& | ^ ~ << >>``, the
logical ops, comparisons (NaN, inf, int64 past 2⁵³ against floats), ``equal``/``isclose``, whole division by 0 and
by negatives, overflow that wraps, reductions' dtypes, ``gcd``, ``bincount``, ``histc``. Each case runs on PyTorch
(the ``torch`` fixture, skipped without it) and on glassgrad from the same numbers; results must match in dtype
and exactly in value, refusals in exception class. (Round 39's test_promotion_differential39.py covers the dtype
promotion of arithmetic; not repeated here.)
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_promotion_differential39 import _assert_same as _same  # (dtype, numbers) or the class raised

import glassgrad as gg

INTEGER_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
DTYPES = ("bool", *INTEGER_DTYPES)


def _limits(dtype: str) -> np.ndarray:
    """The dtype's edges and a few small numbers (both bools for bool)."""
    if dtype == "bool":
        return np.array([True, False, True, True, False, False, True])
    info = np.iinfo(dtype)
    return np.array([info.min, info.max, 0, 1, 7, info.max - 1, max(info.min + 1, 3)], dtype=dtype)


# --- defects fixed in round 52 -----------------------------------------------------------------------------

EMPTY_DIVISIONS = {
    "// 0": lambda lib, t: t // 0, "% 0": lambda lib, t: t % 0, "fmod(t, 0)": lambda lib, t: lib.fmod(t, 0),
    "remainder(t, 0)": lambda lib, t: lib.remainder(t, 0), "floor_divide(t, 0)": lambda lib, t: lib.floor_divide(t, 0),
    "div trunc 0": lambda lib, t: lib.div(t, 0, rounding_mode="trunc"),
    "// zeros(1)": lambda lib, t: t // lib.zeros(1, dtype=t.dtype), "//= 0": lambda lib, t: t.__ifloordiv__(0),
}


@pytest.mark.parametrize("name", sorted(EMPTY_DIVISIONS))
def test_an_empty_integer_tensor_divided_by_zero_is_empty(torch, name):
    """Nothing to divide: PyTorch returns the empty result (glassgrad raised its division-by-zero error)."""
    for dtype in INTEGER_DTYPES:
        for shape in ((0,), (2, 0)):
            _same(torch, EMPTY_DIVISIONS[name], np.zeros(shape, dtype))


def test_an_integer_tensor_holding_a_zero_divisor_still_raises(torch):
    for dtype in INTEGER_DTYPES:
        _same(torch, lambda lib, t: t // 0, np.array([5, 3], dtype))
        _same(torch, lambda lib, t: t % lib.zeros_like(t), np.array([5, 3], dtype))


def test_isclose_of_integers_with_zero_tolerances_is_exact(torch):
    """int64 ids past 2⁵³ one apart are not close (glassgrad compared them in float64: close)."""
    first = np.array([2**53 + 1, -2**63, 2**62 + 1, 5])
    second = np.array([2**53, -2**63 + 1, 2**62, 5])
    _same(torch, lambda lib, a, b: lib.isclose(a, b, rtol=0, atol=0), first, second)
    _same(torch, lambda lib, a, b: a.isclose(b, rtol=0.0, atol=0.0), first.astype(np.int32), second.astype(np.int32))


def test_isclose_of_integers_measures_in_the_default_float_dtype(torch):
    """PyTorch reads both in float32: 16777217 and 16777216 are one number there, so close within atol=0.5."""
    first, second = np.array([16777217, 5, 2**31 - 1], np.int32), np.array([16777216, 4, -2**31], np.int32)
    for rtol, atol in ((0, 0.5), (1e-9, 0), (0, 2), (1e-5, 1e-8)):
        _same(torch, lambda lib, a, b, rtol=rtol, atol=atol: lib.isclose(a, b, rtol=rtol, atol=atol), first, second)
        _same(torch, lambda lib, a, b, rtol=rtol, atol=atol: lib.tensor(lib.allclose(a, b, rtol=rtol, atol=atol)),
              first, second)
    _same(torch, lambda lib, a, b: lib.isclose(a, b, atol=1), np.array([True, False]), np.array([True, True]))


def test_equal_compares_two_dtypes_in_their_common_dtype(torch):
    """int32 2³¹ − 1 equals its float32 copy 2³¹ in PyTorch (glassgrad compared the raw numbers: False)."""
    values = np.array([-2**31, 2**31 - 1, 2**31 - 2, 0, 16777217], np.int32)
    for convert in ("float", "half", "double", "long", "bool"):
        _same(torch, lambda lib, t, convert=convert: lib.tensor(lib.equal(t, getattr(t, convert)())), values)
        _same(torch, lambda lib, t, convert=convert: lib.tensor(t.equal(getattr(t, convert)())), values)
    _same(torch, lambda lib, t: lib.tensor(lib.equal(t + 1, t.float())), values)
    _same(torch, lambda lib, t: lib.tensor(lib.equal(t, t[:2])), values)


BROADCAST_REFUSALS = {
    "<<": lambda lib, a, b: a << b, ">>": lambda lib, a, b: a >> b, "<<=": lambda lib, a, b: a.__ilshift__(b),
    "bitwise_right_shift": lambda lib, a, b: lib.bitwise_right_shift(a, b), "gcd": lambda lib, a, b: lib.gcd(a, b),
    "lcm": lambda lib, a, b: lib.lcm(a, b), "&": lambda lib, a, b: a & b,
    "logical_xor": lambda lib, a, b: a.logical_xor(b),
}


@pytest.mark.parametrize("name", sorted(BROADCAST_REFUSALS))
def test_shapes_that_do_not_broadcast_raise_pytorchs_runtime_error(torch, name):
    """Shifts and gcd/lcm raised NumPy's raw ValueError ("operands could not be broadcast together")."""
    _same(torch, BROADCAST_REFUSALS[name], np.arange(6, dtype=np.int32).reshape(2, 3), np.arange(6, dtype=np.int32))
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(6,\)") as error:
        BROADCAST_REFUSALS[name](gg, gg.ones(2, 3, dtype=gg.int32), gg.ones(6, dtype=gg.int32))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("call", [
    lambda lib, t: lib.gcd(t, t), lambda lib, t: lib.lcm(t, t), lambda lib, t: t.gcd_(t),
    lambda lib, t: lib.gcd(t.float(), t.int()), lambda lib, t: lib.bincount(t), lambda lib, t: lib.bincount(t.double()),
])
def test_gcd_lcm_and_bincount_of_bool_or_float_raise_pytorchs_not_implemented_error(torch, call):
    """PyTorch has no kernel for those dtypes: NotImplementedError (glassgrad: RuntimeError, its base class)."""
    _same(torch, call, np.array([True, False, True]))


# --- pinned: what already matched ----------------------------------------------------------------------------

SHIFTS = {
    "<< -1": lambda lib, t: t << -1, ">> -1": lambda lib, t: t >> -1, "<< 8": lambda lib, t: t << 8,
    ">> 7": lambda lib, t: t >> 7, "<< 31": lambda lib, t: t << 31, ">> 63": lambda lib, t: t >> 63,
    ">> 64": lambda lib, t: t >> 64, "<< 64": lambda lib, t: t << 64, "<< 100": lambda lib, t: t << 100,
    "1 << t": lambda lib, t: 1 << t, "-8 >> t": lambda lib, t: -8 >> t, "t >> t": lambda lib, t: t >> t,
    "by a tensor": lambda lib, t: t >> lib.tensor([-1, 64, 65, 3, 200, 8, 7]),
    "left_shift by a tensor": lambda lib, t: lib.bitwise_left_shift(t, lib.tensor([-1, 64, 65, 3, 200, 8, 7])),
}


def test_shifts_by_negative_or_past_the_width_and_of_negatives(torch):
    """A shift outside [0, bits) is 0, or −1 for a negative number shifted right; a bool shifted is int64."""
    for shift, dtype in itertools.product(SHIFTS.values(), DTYPES):
        _same(torch, shift, _limits(dtype))
        _same(torch, shift, _limits(dtype)[1:2].reshape(()))


LOGICAL = {
    "logical_and": lambda lib, a, b: lib.logical_and(a, b), "logical_or": lambda lib, a, b: a.logical_or(b),
    "logical_xor": lambda lib, a, b: lib.logical_xor(a, b), "logical_not": lambda lib, a, b: lib.logical_not(a),
    "out int16": lambda lib, a, b: lib.logical_and(a, b, out=lib.empty(0, dtype=lib.int16)),
    "out float32": lambda lib, a, b: lib.logical_xor(a, b, out=lib.empty(0, dtype=lib.float32)),
    "eq out int64": lambda lib, a, b: lib.eq(a, b, out=lib.empty(0, dtype=lib.int64)),
    "logical_and_ in int8": lambda lib, a, b: a.logical_and_(b), "lt_": lambda lib, a, b: a.lt_(b),
}


@pytest.mark.parametrize("name", sorted(LOGICAL))
def test_logical_ops_give_bools_or_the_out_dtype(torch, name):
    for first, second in (("int8", "float32"), ("uint8", "bool"), ("int64", "int64")):
        a = _limits(first) if first != "float32" else np.array([0.0, np.nan, -0.0, 2.5, np.inf, 0.0, 1.0], np.float32)
        b = _limits(second) if second != "float32" else np.array([0.0, np.nan, -0.0, 2.5, np.inf, 0.0, 1.0], np.float32)
        _same(torch, LOGICAL[name], a[:3], b[:3])


def test_comparisons_of_int64_past_two_to_the_53_with_floats(torch):
    """int64 2⁵³ + 1 against float64 2⁵³ compares in float64 (equal), against a Python float too."""
    big = np.array([2**53 + 1, 2**63 - 1, -2**63, 3])
    for call in (lambda lib, t: t == lib.tensor(2.0**53, dtype=lib.float64), lambda lib, t: t > 2.0**53,
                 lambda lib, t: t == 2**53 + 1, lambda lib, t: t >= 2.0**63, lambda lib, t: t < float("inf"),
                 lambda lib, t: t != float("nan"), lambda lib, t: t == t.double(), lambda lib, t: (t + 1) > t.double(),
                 lambda lib, t: t.int() == 2**40, lambda lib, t: t.to(lib.uint8) < -1, lambda lib, t: t.float() == t):
        _same(torch, call, big)


def test_integer_division_and_remainder_of_negatives(torch):
    a, b = np.array([7, -7, 7, -7, 0, -128]), np.array([2, 2, -2, -2, -3, 3])
    for dtype in ("int8", "int16", "int32", "int64"):
        for call in (lambda lib, x, y: x // y, lambda lib, x, y: x % y, lambda lib, x, y: lib.fmod(x, y),
                     lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"), lambda lib, x, y: x / y,
                     lambda lib, x, y: lib.remainder(-7, y), lambda lib, x, y: x // -3):
            _same(torch, call, a.astype(dtype), b.astype(dtype))


def test_integer_powers_with_negative_exponents_are_refused(torch):
    for dtype in INTEGER_DTYPES:
        values = np.array([2, 3, 1], dtype)
        for call in (lambda lib, t: t ** -1, lambda lib, t: t.pow(lib.tensor([-1, 2, 0])), lambda lib, t: 2 ** -t,
                     lambda lib, t: t ** 3, lambda lib, t: t ** -1.0):
            _same(torch, call, values)


WRAPS = {
    "abs": lambda lib, t: lib.abs(t), "neg": lambda lib, t: -t, "neg_": lambda lib, t: t.neg_(),
    "t + t": lambda lib, t: t + t, "t * 3": lambda lib, t: t * 3, "t + 300": lambda lib, t: t + 300,
    "sum": lambda lib, t: t.sum(), "sum(0)": lambda lib, t: t.sum(0), "prod": lambda lib, t: t.prod(),
    "cumsum": lambda lib, t: t.cumsum(0), "cumprod": lambda lib, t: t.cumprod(0),
    "nansum": lambda lib, t: lib.nansum(t),
    "sum int8": lambda lib, t: t.sum(dtype=lib.int8), "cumsum int16": lambda lib, t: t.cumsum(0, dtype=lib.int16),
    "/ 2": lambda lib, t: t / 2, "sign": lambda lib, t: lib.sign(t), "sgn": lambda lib, t: lib.sgn(t),
    "count_nonzero": lambda lib, t: lib.count_nonzero(t), "max": lambda lib, t: t.max(), "min": lambda lib, t: t.min(),
    "clamp(0.5, 2.5)": lambda lib, t: t.clamp(0.5, 2.5), "clip(-1.5)": lambda lib, t: lib.clip(t, min=-1.5),
    "clamp(-1000, 1000)": lambda lib, t: t.clamp(-1000, 1000), "clamp_(0.5)": lambda lib, t: t.clamp_(0.5),
    "~": lambda lib, t: ~t, "any": lambda lib, t: t.any(), "all": lambda lib, t: t.all(),
}


@pytest.mark.parametrize("name", sorted(WRAPS))
def test_unary_ops_and_reductions_at_the_dtypes_edges(torch, name):
    """abs/neg of the minimum is the minimum, sums wrap in int64 (the default dtype of an int or bool sum), clamp by
    float bounds gives a float, sign of uint8 is 0 or 1, max of bools is a bool."""
    for dtype in DTYPES if name != "abs" else INTEGER_DTYPES:  # abs of bools: taken (README), PyTorch refuses
        values = _limits(dtype)
        _same(torch, WRAPS[name], values)
        _same(torch, WRAPS[name], np.stack([values, values[::-1]]))


def test_gcd_and_lcm_of_every_integer_dtype(torch):
    for dtype in INTEGER_DTYPES:
        a, b = np.array([0, 12, 7, 100, 0, 9], dtype), np.array([0, 18, 1, 3, 5, 6], dtype)
        _same(torch, lambda lib, x, y: lib.gcd(x, y), a, b)
        _same(torch, lambda lib, x, y: lib.lcm(x, y), a, b)
        _same(torch, lambda lib, x, y: x.gcd(y[:1]), a, b)


def test_bincount_and_histc_of_integers(torch):
    values = np.array([0, 3, 3, 1, 7])
    for call in (lambda lib, t: lib.bincount(t), lambda lib, t: lib.bincount(t, minlength=10),
                 lambda lib, t: lib.bincount(t, weights=lib.tensor([0.5, 1.0, 2.0, 1.5, 1.0])),
                 lambda lib, t: lib.bincount(t, weights=lib.arange(5)),
                 lambda lib, t: lib.bincount(t.to(lib.uint8), weights=lib.arange(5, dtype=lib.float32)),
                 lambda lib, t: lib.bincount(t - 1), lambda lib, t: lib.bincount(t.reshape(1, 5)),
                 lambda lib, t: lib.bincount(t[:0]), lambda lib, t: lib.histc(t, bins=4),
                 lambda lib, t: lib.histc(t.float(), bins=4, min=0, max=8)):
        _same(torch, call, values)


def test_in_place_ops_refuse_a_result_the_tensor_cannot_hold(torch):
    """bool &= int, int8 += float, int <<= int64 tensor (the tensor's dtype kept)."""
    values = np.array([1, 0, 3], np.int8)
    for call in (lambda lib, t: t.bool().__iand__(t), lambda lib, t: t.__iadd__(1.5),
                 lambda lib, t: t.__ilshift__(t.long()), lambda lib, t: t.bool().__ior__(1),
                 lambda lib, t: t.__iand__(t.bool()), lambda lib, t: t.__imul__(t.float()),
                 lambda lib, t: t.__itruediv__(2), lambda lib, t: t.eq_(1.5), lambda lib, t: t.bitwise_xor_(-1)):
        _same(torch, call, values)


# --- the fuzzer's core ---------------------------------------------------------------------------------------

BINARY = {
    "&": lambda lib, a, b: a & b, "|": lambda lib, a, b: a | b, "^": lambda lib, a, b: a ^ b,
    "<<": lambda lib, a, b: a << b, ">>": lambda lib, a, b: a >> b, "==": lambda lib, a, b: a == b,
    "!=": lambda lib, a, b: a != b, "<": lambda lib, a, b: a < b, ">=": lambda lib, a, b: a >= b,
    "//": lambda lib, a, b: a // b, "%": lambda lib, a, b: a % b, "fmod": lambda lib, a, b: lib.fmod(a, b),
    "logical_and": lambda lib, a, b: lib.logical_and(a, b), "logical_xor": lambda lib, a, b: lib.logical_xor(a, b),
    "+": lambda lib, a, b: a + b, "*": lambda lib, a, b: a * b, "/": lambda lib, a, b: a / b,
    "equal": lambda lib, a, b: lib.tensor(lib.equal(a, b)),
    "isclose": lambda lib, a, b: lib.isclose(a, b, rtol=1e-3, atol=1),
}
"""Ops glassgrad gives PyTorch's answer for (the README's leniencies, bool abs/argmax/… and Python numbers taken
where PyTorch wants a tensor, are left out)."""

NUMBERS = (0, 1, -1, 3, 7, 8, 63, 64, 65, -3, 200, 2**40, 2**53 + 1, True, False, 1.5, float("nan"), float("inf"))


@st.composite
def _tensor(draw, dtype=None):
    dtype = dtype or draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from([(), (3,), (2, 3)]))
    if dtype == "bool":
        flags = draw(st.lists(st.booleans(), min_size=6, max_size=6))
        return np.array(flags, bool)[:int(np.prod(shape))].reshape(shape)
    info = np.iinfo(dtype)  # the minimum left out: PyTorch's minimum // -1 kills the process (SIGFPE)
    edge = st.sampled_from([int(info.min) + 1, int(info.max), 0, 1, 2, 7, 8, 63, 64])
    values = draw(st.lists(st.one_of(edge, st.integers(int(info.min) + 1, int(info.max))), min_size=6, max_size=6))
    return np.array(values, dtype)[:int(np.prod(shape))].reshape(shape)


@given(op=st.sampled_from(sorted(BINARY)), first=_tensor(), second=st.one_of(_tensor(), st.sampled_from(NUMBERS)),
       flipped=st.booleans())
def test_binary_integer_and_bool_ops_on_random_operands_match_pytorch(torch, op, first, second, flipped):
    if op in ("logical_and", "logical_xor", "fmod") and not isinstance(second, np.ndarray):
        second = np.asarray(second)  # PyTorch's functions want a tensor (glassgrad takes a number: README)
    operands = (second, first) if flipped and op not in ("equal", "isclose") else (first, second)
    if op in ("equal", "isclose") and not isinstance(second, np.ndarray):
        operands = (first, first.copy())  # PyTorch's functions take two tensors only (a number: TypeError)
    if op == "isclose" and operands[0].dtype != operands[1].dtype:
        operands = (first, second.astype(first.dtype))  # isclose of two dtypes: a listed leniency of glassgrad
    _same(torch, BINARY[op], *operands)
