"""glassgrad's dtypes against PyTorch 2.13's: the result dtype, value and raising of mixed-dtype ops.

Every case runs the same code on ``torch`` and on ``glassgrad`` and compares what comes back: the dtype, the
numbers, or that both raise the same built-in exception class (glassgrad with its own one-line message). Where
PyTorch has no kernel for a dtype (``NotImplementedError: "hypot_cpu" not implemented for 'Int'``) glassgrad
computes instead: those cases are not compared, nor the few others the README
lists among the deliberate differences (``argmax`` of bools, ``lcm`` at int32's limits): each of
those is pinned on both sides instead (:func:`check_left_as_it_is`), so it is noticed when either library
changes. bfloat16 is not a glassgrad dtype (README), so it is not swept.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SHAPES = {"dims": (3,), "0-d": ()}


def _dtype(module, name: str):
    return gg.bool_ if module is gg and name == "bool" else getattr(module, name)


def _name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _outcome(function, module):
    """What ``function(module)`` gives: ``("ok", result)``, ``("raise", exception)``, or ``("no kernel", …)`` when
    PyTorch has no kernel for the dtype."""
    try:
        return "ok", function(module)
    except NotImplementedError as error:
        return "no kernel", error
    except Exception as error:  # noqa: BLE001 - its class is compared by check
        return "raise", error


def _python_class(error: Exception) -> type:
    """The built-in exception class ``error`` is or derives from: RuntimeError for PyTorch's ``torch.AcceleratorError``
    or NumPy's ``UFuncTypeError`` alike."""
    return next(kind for kind in type(error).__mro__ if kind.__module__ == "builtins")


def _same_raise(want: Exception, got: Exception) -> bool:
    """glassgrad raised PyTorch's built-in class itself (a subclass of its own is fine), not one NumPy let escape."""
    return isinstance(got, _python_class(want)) and not type(got).__module__.startswith("numpy")


def _plain(result):
    """A tensor (or a tuple of them, a dtype, a number) as comparable Python data: (dtype name, float64 values)."""
    if isinstance(result, (tuple, list)) and result and hasattr(result[0], "dtype"):
        return tuple(_plain(item) for item in result)
    if hasattr(result, "detach"):
        values = np.asarray(result.detach().cpu().numpy() if hasattr(result, "cpu") else result.detach().numpy())
        return _name(result.dtype), values.astype(np.float64)
    if hasattr(result, "is_floating_point") or isinstance(result, np.dtype):
        return _name(result)
    return result


def _same(expected, got, rtol: float) -> bool:
    if isinstance(expected, tuple) and len(expected) == 2 and isinstance(expected[1], np.ndarray):
        return (expected[0] == got[0] and expected[1].shape == got[1].shape
                and np.allclose(expected[1], got[1], rtol=rtol, atol=rtol, equal_nan=True))
    if isinstance(expected, tuple):
        return len(expected) == len(got) and all(_same(e, g, rtol) for e, g in zip(expected, got))
    return expected == got


def check(torch, function, rtol: float = 1e-6) -> None:
    """``function`` gives on glassgrad what it gives on PyTorch: the same dtype and numbers, or both raise the same
    built-in exception class (RuntimeError for most of PyTorch's dtype refusals)."""
    want_kind, want = _outcome(function, torch)
    if want_kind == "no kernel":
        return
    got_kind, got = _outcome(function, gg)
    assert got_kind == want_kind, f"PyTorch: {want_kind} {want!r}; glassgrad: {got_kind} {got!r}"
    if want_kind == "raise":
        assert _same_raise(want, got), f"PyTorch raises {want!r}; glassgrad {got!r}"
    if want_kind == "ok":
        expected, result = _plain(want), _plain(got)
        assert _same(expected, result, rtol), f"PyTorch gives {expected}, glassgrad {result}"


def check_left_as_it_is(torch, function, glassgrad_gives: tuple, pytorch_gives: str | tuple) -> None:
    """A difference the README lists as deliberate, pinned on both sides: PyTorch still raises (``"raise"``) or
    gives ``pytorch_gives`` (dtype name, values), and glassgrad gives ``glassgrad_gives``; either changing fails."""
    want_kind, want = _outcome(function, torch)
    if pytorch_gives == "raise":
        assert want_kind == "raise", f"PyTorch now gives {want!r}: compare it, not a listed difference"
    else:
        assert want_kind == "ok" and _same(pytorch_gives, _plain(want), 0), f"PyTorch now gives {want!r}"
    got_kind, got = _outcome(function, gg)
    assert got_kind == "ok" and _same(glassgrad_gives, _plain(got), 0), f"glassgrad now gives {got_kind} {got!r}"


def _values(name: str, shape: tuple, draw, near_limits: bool = True) -> np.ndarray:
    """Entries of a dtype that every op takes: ints in ±5 but 0 (no division by zero; uint8 1…5) or, with
    ``near_limits``, next to the dtype's limits (where a sum or a product wraps; the minimum + 1, not the minimum:
    PyTorch's trunc division of int32's minimum by −1 kills the process with SIGFPE), floats in ±3."""
    if name == "bool":
        elements = st.booleans()
    elif name[0] in "iu":
        limits = np.iinfo(name)
        ends = [int(limits.max), int(limits.max) - 1] + ([int(limits.min) + 1] if name[0] == "i" else [])
        elements = st.integers(-5 if name[0] == "i" else 1, 5).filter(bool)
        elements = st.one_of(elements, st.sampled_from(ends)) if near_limits else elements
    else:
        elements = st.floats(-3, 3, width=16).filter(lambda v: abs(v) > 0.1)
    return np.array(draw(st.lists(elements, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                    dtype=name).reshape(shape)


def _tolerance(*names: str) -> float:
    return 2e-3 if "float16" in names else 1e-5


pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # 1/0 and log(0) on both sides
              pytest.mark.filterwarnings("ignore::UserWarning")]  # var of one value, PyTorch's slow-list note

BINARY = {
    "+": lambda m, a, b: a + b,
    "-": lambda m, a, b: a - b,
    "*": lambda m, a, b: a * b,
    "/": lambda m, a, b: a / b,
    "//": lambda m, a, b: a // b,
    "%": lambda m, a, b: a % b,
    "**": lambda m, a, b: a ** b,
    "==": lambda m, a, b: a == b,
    "<": lambda m, a, b: a < b,
    ">=": lambda m, a, b: a >= b,
    "&": lambda m, a, b: a & b,
    "|": lambda m, a, b: a | b,
    "^": lambda m, a, b: a ^ b,
    "<<": lambda m, a, b: a << b,
    ">>": lambda m, a, b: a >> b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "where": lambda m, a, b: m.where(m.ones_like(a, dtype=m.bool), a, b),
    "atan2": lambda m, a, b: m.atan2(a, b),
    "fmod": lambda m, a, b: m.fmod(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b),
    "copysign": lambda m, a, b: m.copysign(a, b),
    "hypot": lambda m, a, b: m.hypot(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "xlogy": lambda m, a, b: m.xlogy(a, b),
    "nextafter": lambda m, a, b: m.nextafter(a, b),
    "ldexp": lambda m, a, b: m.ldexp(a, b),
    "lerp": lambda m, a, b: m.lerp(a, b, 0.25),
    "addcmul": lambda m, a, b: m.addcmul(a, b, b),
    "div floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "div trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "gcd": lambda m, a, b: m.gcd(a, b),
    "lcm": lambda m, a, b: m.lcm(a, b),
    "cat": lambda m, a, b: m.cat([a.reshape(-1), b.reshape(-1)]),
}
"""Binary ops compared over every pair of dtypes, each operand with dims or 0-d."""


@given(data=st.data(), op=st.sampled_from(sorted(BINARY)), names=st.tuples(*[st.sampled_from(DTYPES)] * 2),
       shapes=st.tuples(*[st.sampled_from(sorted(SHAPES))] * 2))
def test_binary_op_between_two_tensors_has_pytorchs_dtype_and_value(torch, data, op, names, shapes):
    near_limits = op not in WRAPS_OTHERWISE  # those are pinned at the limits below
    a, b = (_values(name, SHAPES[shape], data.draw, near_limits) for name, shape in zip(names, shapes))
    check(torch, lambda m: BINARY[op](m, m.tensor(a), m.tensor(b)), _tolerance(*names))


WRAPS_OTHERWISE = ("lcm", "ldexp")
"""Ops whose result at an integer dtype's limits differs (README): an lcm its dtype cannot hold wraps to a negative
number in glassgrad (NumPy's), a positive one in PyTorch; x·2ᵉ for an exponent near int64's limits is ±inf or 0 in
glassgrad (2ᵉ as a float), where PyTorch's integer 2ᵉ wraps."""


def test_lcm_and_ldexp_at_an_integer_dtypes_limits_are_left_as_they_are(torch):
    big = np.array([2147483647, 2], dtype=np.int32)
    check_left_as_it_is(torch, lambda m: m.lcm(m.tensor(big), m.tensor(np.int32(-2147483647))),
                        ("int32", np.array([2147483647.0, -2.0])), ("int32", np.array([2147483647.0, 2.0])))
    exponents = np.array([9223372036854775807, -9223372036854775807])
    check_left_as_it_is(torch, lambda m: m.ldexp(m.tensor([1.5, 1.5], dtype=m.float16), m.tensor(exponents)),
                        ("float16", np.array([np.inf, 0.0])), ("float16", np.array([0.75, 3.0])))


def test_ldexp_is_exact(torch):
    """3·2¹⁰ = 3072 (glassgrad took exp(10·ln 2) in float16: 3078)."""
    check(torch, lambda m: m.ldexp(m.tensor([0.5, 3.0], dtype=m.float16), m.tensor([-5, 10])), 0)
    check(torch, lambda m: m.ldexp(m.tensor([0.1, 3.0]), m.tensor([-5, 20])), 0)


def test_addcmul_multiplies_in_the_result_dtype(torch):
    """uint8 + int8·int8 is int16 3 + 127·127 = 16132 (glassgrad multiplied in int8, which wraps to 1: 4); a float16
    product with a float32 input is taken in float32 (300·300 is inf in float16)."""
    check(torch, lambda m: m.addcmul(m.tensor(np.array([3, 255], np.uint8)), m.tensor(np.array([127, -128], np.int8)),
                                     m.tensor(np.array([127, 2], np.int8))))
    check(torch, lambda m: m.addcmul(m.tensor([1.0]), m.tensor([300.0], dtype=m.float16),
                                     m.tensor([300.0], dtype=m.float16)))


def test_hypot_of_float16_squares_in_float32(torch):
    """hypot(300, 400) = 500 in float16 (glassgrad squared in float16: inf); int16 32767 with 0-d float16 too."""
    check(torch, lambda m: m.hypot(m.tensor([300.0, 3.0], dtype=m.float16), m.tensor([400.0, 4.0], dtype=m.float16)))
    check(torch, lambda m: m.hypot(m.tensor(np.array([32767, 3], np.int16)), m.tensor(np.float16(1.5))), 2e-3)


@pytest.mark.parametrize("first", DTYPES)
@pytest.mark.parametrize("second", DTYPES)
@pytest.mark.parametrize("op", ["+", "*", "/", "//", "%", "**", "<", "&", "maximum", "where", "atan2", "hypot"])
def test_every_pair_of_dtypes_with_dims_and_0d(torch, first, second, op):
    """Each pair of dtypes once, both operands with dims and the second 0-d (the hypothesis test above samples
    them; this one walks all of them)."""
    a = np.array([1, 0, 1], dtype=bool) if first == "bool" else np.array([3, 1, 2], dtype=first)
    b = np.array([1, 1, 1], dtype=bool) if second == "bool" else np.array([2, 1, 3], dtype=second)
    check(torch, lambda m: BINARY[op](m, m.tensor(a), m.tensor(b)), _tolerance(first, second))
    check(torch, lambda m: BINARY[op](m, m.tensor(a), m.tensor(b[0])), _tolerance(first, second))


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("number", [True, 3, 2.5, -2.0])
@pytest.mark.parametrize("op", ["+", "*", "/", "//", "%", "**", "==", "<", "maximum", "atan2", "copysign", "xlogy",
                                "hypot", "logaddexp", "nextafter", "ldexp"])
def test_binary_op_between_a_tensor_and_a_python_number_has_pytorchs_dtype(torch, name, number, op):
    """A number of the tensor's kind keeps the tensor's dtype (int8 + 3 is int8, float16 · 2.5 float16); a float
    number with an integer tensor gives the default float dtype; a bool number never raises the dtype."""
    values = np.array([1, 0, 1], dtype=bool) if name == "bool" else np.array([1, 2, 3], dtype=name)
    if op in ("maximum", "atan2", "copysign", "xlogy", "hypot", "logaddexp", "nextafter", "ldexp"):
        # PyTorch's functions take a number as a 0-d tensor of its own dtype
        check(torch, lambda m: BINARY[op](m, m.tensor(values), m.tensor(number)), _tolerance(name))
        return
    check(torch, lambda m: BINARY[op](m, m.tensor(values), number), _tolerance(name))
    check(torch, lambda m: BINARY[op](m, number, m.tensor(values)), _tolerance(name))


BOOL_POWERS = {
    "mask ** mask": lambda m, mask: mask ** mask,
    "mask ** 0-d mask": lambda m, mask: mask ** mask[0],
    "True ** mask": lambda m, mask: True ** mask,
    "pow(mask, mask)": lambda m, mask: m.pow(mask, mask),
    "pow(True, mask)": lambda m, mask: m.pow(True, mask),
    "mask.pow_(mask)": lambda m, mask: mask.clone().pow_(mask),
    "mask ** True": lambda m, mask: mask ** True,
    "mask ** False": lambda m, mask: mask ** False,
    "mask.pow(True)": lambda m, mask: mask.pow(True),
}


@pytest.mark.parametrize("case", sorted(BOOL_POWERS))
def test_a_bool_raised_to_a_bool_power_as_pytorch(torch, case):
    """PyTorch has no bool power: ``mask ** mask`` raises NotImplementedError (NumPy's answer, which glassgrad gave,
    is int8); a Python bool exponent is its ``pow(tensor, scalar)``, whose 1 gives the tensor and 0 ones, bool."""
    values = np.array([True, False, True])
    want_kind, want = _outcome(lambda m: BOOL_POWERS[case](m, m.tensor(values)), torch)
    got_kind, got = _outcome(lambda m: BOOL_POWERS[case](m, m.tensor(values)), gg)
    assert got_kind == want_kind, f"PyTorch: {want_kind} {want!r}; glassgrad: {got_kind} {got!r}"
    if want_kind == "ok":
        assert _same(_plain(want), _plain(got), 0), f"PyTorch gives {_plain(want)}, glassgrad {_plain(got)}"
    else:
        assert "bool" in str(got) and "convert" in str(got)  # names the problem and the fix, in one line
        assert "\n" not in str(got)


@pytest.mark.parametrize("name", DTYPES[1:])
@pytest.mark.parametrize("number", [True, 3, 100, 2.5])
@pytest.mark.parametrize("op", ["+", "-", "*", "//", "<", "/"])
def test_a_python_number_never_raises_a_0d_tensors_dtype_within_its_kind(torch, name, number, op):
    """A 0-d int32 tensor + 1 is int32 (glassgrad made the 1 an int64 0-d tensor, which raised the dtype to int64
    as a tensor would); a float number with a 0-d integer gives the default float."""
    check(torch, lambda m: BINARY[op](m, m.tensor(np.array(5, dtype=name)), number), _tolerance(name))
    check(torch, lambda m: BINARY[op](m, number, m.tensor(np.array(5, dtype=name))), _tolerance(name))


@given(name=st.sampled_from(DTYPES[1:6]), number=st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-600, 600)),
       zero_d=st.booleans(), op=st.sampled_from(["+", "-", "*", "<", "==", "&", "/"]), flipped=st.booleans())
def test_a_number_an_integer_dtype_cannot_hold_wraps_to_it_with_dims_or_0d(torch, name, number, zero_d, op, flipped):
    """0-d uint8 + 300 is uint8 49 and 0-d int32 + 2**40 + 3 is int32 8, as with dims: the number wraps to the
    tensor's dtype first (glassgrad gave 0-d operands int64 305 and 1099511627784); a true division takes it as it
    is (0-d uint8 / 300 is 5/300)."""
    values = np.array(5 if zero_d else [5, 0, 100], dtype=name)
    if flipped:
        check(torch, lambda m: BINARY[op](m, number, m.tensor(values)), _tolerance(name))
    else:
        check(torch, lambda m: BINARY[op](m, m.tensor(values), number), _tolerance(name))


@given(name=st.sampled_from(DTYPES[1:6]), number=st.one_of(st.sampled_from([256, -256, 2**16, 2**32, 2**31, 2**63 - 1]),
                                                          st.integers(-2**40, 2**40)),
       zero_d=st.booleans(), op=st.sampled_from(["//", "%", "fmod", "remainder"]))
def test_a_number_that_wraps_to_0_in_the_dtype_is_a_division_by_zero(torch, name, number, zero_d, op):
    """int32 // 2**32 divides by 0 in int32, as the number wraps to the tensor's dtype first: refused, as PyTorch
    refuses it (glassgrad checked the number before it wrapped and gave 0); other numbers wrap and divide."""
    values = np.array(5 if zero_d else [5, 7, 100], dtype=name)
    check(torch, lambda m: BINARY[op](m, m.tensor(values), number), _tolerance(name))


@given(name=st.sampled_from(DTYPES[1:6]), zero_d=st.booleans(), in_place=st.booleans(),
       power=st.one_of(st.integers(0, 2**64), st.integers(0, 70).map(lambda n: 2**n)))
def test_an_integer_power_the_dtype_cannot_hold_is_refused_as_pytorch(torch, name, power, zero_d, in_place):
    """int16 ** 2**20 is refused, as PyTorch refuses it (RuntimeError; OverflowError past 64 bits), in one line: NumPy's
    OverflowError ("Python integer 1048576 out of bounds for int16") leaked; a power the dtype holds is computed."""
    values = np.array(1 if zero_d else [1, 0, 1], dtype=name)
    check(torch, lambda m: m.tensor(values).pow_(power) if in_place else m.tensor(values) ** power)
    if not np.iinfo(name).min <= power <= np.iinfo(name).max:
        with pytest.raises((RuntimeError, OverflowError), match="does not fit this tensor's dtype") as error:
            gg.tensor(values) ** power
        assert "\n" not in str(error.value)


@given(data=st.data(), op=st.sampled_from(["+", "*", "/", "atan2", "hypot", "copysign"]),
       names=st.tuples(*[st.sampled_from(DTYPES[1:])] * 2))
def test_a_0d_tensor_raises_the_dtype_only_when_of_a_higher_kind(torch, data, op, names):
    """int32 + 0-d float64 is float64 (a higher kind), float32 + 0-d float64 stays float32, int8 + 0-d int64 int8."""
    dims, zero_d = _values(names[0], (3,), data.draw), _values(names[1], (), data.draw)
    check(torch, lambda m: BINARY[op](m, m.tensor(dims), m.tensor(zero_d)), _tolerance(*names))
    check(torch, lambda m: BINARY[op](m, m.tensor(zero_d), m.tensor(dims)), _tolerance(*names))


@given(name=st.sampled_from(DTYPES[1:6]), number=st.integers(-2000, 2000).filter(bool), zero_d=st.booleans(),
       flipped=st.booleans())
def test_true_division_of_integers_by_a_number_their_dtype_cannot_hold(torch, name, number, zero_d, flipped):
    """uint8 / 256 is 100/256 = 0.39 (glassgrad cast 256 to uint8 first, 0, and gave inf), int8 / 1000 is 0.1, uint8
    / −2 is −50: a true division takes each integer operand straight to the float dtype."""
    values = np.array(100 if zero_d else [100, 7, 1], dtype=name)
    if flipped:
        check(torch, lambda m: number / m.tensor(values))
    else:
        check(torch, lambda m: m.tensor(values) / number)
        check(torch, lambda m: m.tensor(values).div(m.tensor(number)))
        check(torch, lambda m: m.true_divide(m.tensor(values), m.tensor(np.array(number % 128, dtype=np.int8))))


@pytest.mark.parametrize("bounds", [((3,), None), (None, (2, 3)), ((2, 3), (3,)), ((2, 3), (2, 3))])
@pytest.mark.parametrize("shape", [(), (3,), (1, 3)])
def test_clamp_by_tensor_bounds_of_more_dims_broadcasts(torch, shape, bounds):
    """clamp(0-d x, min=tensor of 3) is a tensor of 3, as in PyTorch (glassgrad raised NumPy's 'non-broadcastable
    output operand'); the gradient of x sums over the broadcast dims."""
    low_shape, high_shape = bounds

    def run(m):
        x = m.tensor(np.full(shape, 0.5), requires_grad=True)
        low = None if low_shape is None else m.tensor(np.linspace(0, 1, int(np.prod(low_shape))).reshape(low_shape))
        high = None if high_shape is None else m.tensor(np.linspace(0.4, 2, int(np.prod(high_shape))).reshape(
            high_shape))
        out = m.clamp(x, min=low, max=high)
        out.sum().backward()
        return out, x.grad

    check(torch, run)


def test_lerp_refuses_an_end_or_weight_of_another_dtype_and_addcmul_keeps_the_tensors_dtype(torch):
    """lerp(float32, float64) raises in PyTorch (glassgrad promoted); addcmul of bool and 0-d uint8 tensors is
    uint8 (glassgrad multiplied by the default value 1, a Python int, and got int64)."""
    check(torch, lambda m: m.lerp(m.ones(2), m.ones(2, dtype=m.float64), 0.5))
    check(torch, lambda m: m.lerp(m.ones(2), m.ones((), dtype=m.float64), 0.5))
    check(torch, lambda m: m.lerp(m.ones(2), m.zeros(2), m.full((2,), 0.5, dtype=m.float64)))
    check(torch, lambda m: m.lerp(m.ones(2), m.zeros(2), m.tensor(0.25, dtype=m.float64)))
    check(torch, lambda m: m.ones(2).lerp_(m.zeros(2, dtype=m.float64), 0.5))
    check(torch, lambda m: m.addcmul(m.tensor(3, dtype=m.uint8), m.tensor(True), m.tensor(True)))
    check(torch, lambda m: m.addcmul(m.tensor([3], dtype=m.int8), m.tensor([True]), m.tensor([2], dtype=m.int8)))


@pytest.mark.parametrize("first", DTYPES[:6])
@pytest.mark.parametrize("second", DTYPES[:6])
def test_gcd_lcm_and_truncated_division_take_the_common_integer_dtype(torch, first, second):
    """gcd(uint8, int8) is int16 and gcd(bool, int8) int8 (glassgrad took the first operand's dtype, and refused a
    bool first); div(bool, uint8, rounding_mode='trunc') is uint8 (glassgrad: float32)."""
    a, b = np.array([1, 0, 1], dtype=first), np.array([3, 1, 2], dtype=second)
    for op in ("gcd", "lcm", "div trunc"):
        check(torch, lambda m, op=op: BINARY[op](m, m.tensor(a), m.tensor(b)))
        check(torch, lambda m, op=op: BINARY[op](m, m.tensor(a), m.tensor(b[0])))


def test_copysign_of_a_bool_tensor_by_a_negative_number_is_negative(torch):
    """copysign(bool, −2): PyTorch makes the bool a float and takes −2's sign (glassgrad made −2 a bool, True,
    and lost it)."""
    check(torch, lambda m: m.copysign(m.tensor([True, False]), m.tensor(-2)))
    check(torch, lambda m: m.copysign(m.tensor([True, False]), -2.0))


def test_float_results_of_bool_and_integer_operands_take_the_common_float_dtype(torch):
    """atan2/copysign/ldexp/xlogy/nextafter/logaddexp of a bool or integer tensor and a float16 or 0-d float64 one:
    the common dtype first, then a float (glassgrad made the integer a float32 first: float16 became float32, and
    a bool minus a bool inside logaddexp raised NumPy's TypeError)."""
    bools, halves = np.array([True, False, True]), np.array([0.5, 1.5, -1.0], dtype=np.float16)
    for op in ("atan2", "copysign", "ldexp", "xlogy", "nextafter", "logaddexp", "hypot"):
        check(torch, lambda m, op=op: BINARY[op](m, m.tensor(bools), m.tensor(halves)), 2e-3)
        check(torch, lambda m, op=op: BINARY[op](m, m.tensor([1, 2, 3], dtype=m.uint8), m.tensor(halves)), 2e-3)
        check(torch, lambda m, op=op: BINARY[op](m, m.tensor(bools), m.tensor(0.5, dtype=m.float64)))
        check(torch, lambda m, op=op: BINARY[op](m, m.tensor(halves), m.tensor(bools)), 2e-3)


# --- in place ---------------------------------------------------------------------------------------------------

IN_PLACE = {
    "+= 1.5": lambda x: x.__iadd__(1.5),
    "+= 1": lambda x: x.__iadd__(1),
    "+= True": lambda x: x.__iadd__(True),
    "-= 1": lambda x: x.__isub__(1),
    "*= 2.0": lambda x: x.__imul__(2.0),
    "/= 2": lambda x: x.__itruediv__(2),
    "//= 2": lambda x: x.__ifloordiv__(2),
    "%= 2": lambda x: x.__imod__(2),
    "**= 2": lambda x: x.__ipow__(2),
    "|= 1": lambda x: x.__ior__(1),
    "clamp_(0.5)": lambda x: x.clamp_(0.5),
    "sqrt_()": lambda x: x.sqrt_(),
    "fill_(2.5)": lambda x: x.fill_(2.5),
}


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("op", sorted(IN_PLACE))
def test_in_place_op_keeps_the_dtype_or_raises_as_pytorch(torch, name, op):
    """An in-place result of a higher kind than the tensor (int += 1.5, int /= 2, bool += 1) is refused; one of
    the same kind is cast into it; the tensor is changed in place (an alias sees it)."""
    values = np.array([1, 0, 1], dtype=bool) if name == "bool" else np.array([1, 2, 3], dtype=name)

    def run(m):
        x = m.tensor(values)
        alias = x
        result = IN_PLACE[op](x)
        assert result is alias
        return alias

    check(torch, run, _tolerance(name))


@pytest.mark.parametrize("target", DTYPES)
@pytest.mark.parametrize("source", DTYPES)
@pytest.mark.parametrize("method", ["add_", "mul_", "div_", "copy_", "sub_"])
def test_in_place_method_with_a_tensor_of_another_dtype(torch, target, source, method):
    """x.add_(y) casts y's result into x's dtype when not of a higher kind: float32.add_(float64) and
    uint8.add_(int8) are allowed (glassgrad refused the second, NumPy's "same_kind" rule), int.add_(float) is not."""
    def run(m):
        x = m.tensor(np.array([1, 0, 1], dtype=target) if target == "bool" else np.array([1, 2, 3], dtype=target))
        y = m.tensor(np.array([1, 1, 0], dtype=source) if source == "bool" else np.array([3, 1, 2], dtype=source))
        return getattr(x, method)(y)

    check(torch, run, _tolerance(target, source))  # x.sub_(mask) is refused (glassgrad computed it)


def test_in_place_floor_division_changes_the_tensor_itself(torch):
    """x //= 2, x %= 3, x **= 2 change x's memory as PyTorch does (glassgrad had no __ifloordiv__, __imod__,
    __ipow__, so Python made a new tensor and a view of x kept the old numbers)."""
    def run(m):
        x = m.tensor([5, -7, 9])
        view = x[:2]
        x //= 2
        x %= 3
        x **= 2
        return view

    check(torch, run)


@given(name=st.sampled_from(DTYPES), mask_first=st.booleans(), zero_d=st.booleans())
def test_subtracting_a_bool_tensor_is_refused_as_in_pytorch(torch, name, mask_first, zero_d):
    """1 − mask, mask − 1, x − mask raise RuntimeError pointing to ~mask (glassgrad computed them, so a program
    worked here and failed on PyTorch)."""
    mask = np.array(True) if zero_d else np.array([True, False])
    other = np.array([1, 2], dtype=name)
    check(torch, lambda m: m.tensor(mask) - m.tensor(other) if mask_first else m.tensor(other) - m.tensor(mask))
    check(torch, lambda m: 1 - m.tensor(mask) if mask_first else m.tensor(mask) - 1)
    with pytest.raises(RuntimeError, match="~mask"):
        gg.tensor(mask) - (1 if name == "bool" else gg.tensor(other))


PYTHON_BOOL_OPERANDS = {
    "x - b": lambda m, x, b: x - b, "b - x": lambda m, x, b: b - x, "sub(x, b)": lambda m, x, b: m.sub(x, b),
    "x.sub(b)": lambda m, x, b: x.sub(b), "rsub(x, b)": lambda m, x, b: m.rsub(x, b),
    "x.sub_(b)": lambda m, x, b: x.sub_(b), "x -= b": lambda m, x, b: _subtracted_in_place(x, b),
    "x + b": lambda m, x, b: x + b, "b * x": lambda m, x, b: b * x, "x / b": lambda m, x, b: x / b,
    "x == b": lambda m, x, b: x == b, "x > b": lambda m, x, b: x > b, "x ** b": lambda m, x, b: x ** b,
    "where(x > 1, x, b)": lambda m, x, b: m.where(x > 1, x, b), "x.add_(b)": lambda m, x, b: x.add_(b),
    "x.sub(b, alpha=2)": lambda m, x, b: x.sub(b, alpha=2), "x.sub_(b, alpha=2)": lambda m, x, b: x.sub_(b, alpha=2),
}


@given(name=st.sampled_from(["float32", "float64", "int64", "int32", "uint8"]), value=st.booleans(),
       zero_d=st.booleans(), case=st.sampled_from(sorted(PYTHON_BOOL_OPERANDS)))
def test_a_python_bool_operand_counts_as_a_bool_as_in_pytorch(torch, name, value, zero_d, case):
    """x − True is refused for every dtype, as PyTorch refuses it (for a float x glassgrad read True as 1.0 and
    computed it, so a program worked here and failed on PyTorch); other ops take True as 1 in x's dtype."""
    other = np.array(2, dtype=name) if zero_d else np.array([1, 2, 0], dtype=name)
    check(torch, lambda m: PYTHON_BOOL_OPERANDS[case](m, m.tensor(other), value))
    if "-" in case or "sub" in case:
        with pytest.raises(RuntimeError, match="~mask") as error:
            PYTHON_BOOL_OPERANDS[case](gg, gg.tensor(other), value)
        assert "\n" not in str(error.value)


def _subtracted_in_place(x, other):
    x -= other
    return x


BOOL_REFUSALS = {
    "-mask": lambda m, mask: -mask, "neg(mask)": lambda m, mask: m.neg(mask),
    "mask.neg_()": lambda m, mask: mask.neg_(),
    "mask - mask": lambda m, mask: mask - mask, "sub(mask, mask)": lambda m, mask: m.sub(mask, mask),
    "rsub(mask, mask)": lambda m, mask: m.rsub(mask, mask), "mask.sub_(mask)": lambda m, mask: mask.sub_(mask),
    "mask -= mask": lambda m, mask: _subtracted_in_place(mask, mask),
    "mask -= 1.5": lambda m, mask: _subtracted_in_place(mask, 1.5),
    "ones.sub_(mask, alpha=2)": lambda m, mask: m.ones(mask.shape).sub_(mask, alpha=2),
    "ones.sub_(mask, alpha=0.5)": lambda m, mask: m.ones(mask.shape).sub_(mask, alpha=0.5),
}


@pytest.mark.parametrize("zero_d", [False, True])
@pytest.mark.parametrize("case", sorted(BOOL_REFUSALS))
def test_negating_or_subtracting_bool_tensors_raises_pytorchs_runtime_error_in_one_line(torch, case, zero_d):
    """−mask and mask − mask raise RuntimeError as in PyTorch (glassgrad let NumPy's TypeError through, 'numpy
    boolean subtract … use the bitwise_xor', which names NumPy's functions); the line names ~mask."""
    mask = np.array(True) if zero_d else np.array([True, False])
    check(torch, lambda m: BOOL_REFUSALS[case](m, m.tensor(mask)))
    with pytest.raises(RuntimeError, match="~mask") as error:
        BOOL_REFUSALS[case](gg, gg.tensor(mask))
    assert "\n" not in str(error.value)


def _assigned(x, index, value):
    x[index] = value
    return x


WRITES = {
    "x[0] = 0-d": lambda m, x, v: _assigned(x, 0, v.reshape(-1)[0]),
    "x[[0, 1]] = v": lambda m, x, v: _assigned(x, [0, 1], v),
    "x[tensor([0, 1])] = v": lambda m, x, v: _assigned(x, m.tensor([0, 1]), v),
    "x[mask] = v": lambda m, x, v: _assigned(x, m.tensor([True, False, True]), v),
    "x[mask] = one value": lambda m, x, v: _assigned(x, m.tensor([True, False, True]), v[:1]),
    "x[:2] = v": lambda m, x, v: _assigned(x, slice(0, 2), v),
    "scatter": lambda m, x, v: x.scatter(0, m.tensor([0, 1]), v),
    "scatter_add": lambda m, x, v: x.scatter_add(0, m.tensor([0, 1]), v),
    "index_add": lambda m, x, v: x.index_add(0, m.tensor([0, 1]), v),
    "index_copy": lambda m, x, v: x.index_copy(0, m.tensor([0, 1]), v),
    "masked_scatter": lambda m, x, v: x.masked_scatter(m.tensor([True, False, True]), v),
    "index_put": lambda m, x, v: x.index_put((m.tensor([0, 1]),), v),
    "masked_fill 0-d": lambda m, x, v: x.masked_fill(m.tensor([True, False, True]), v[0]),
}


@pytest.mark.parametrize("target", ["int64", "float32", "float64"])
@pytest.mark.parametrize("source", ["int64", "float32", "float64"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_values_written_by_index_must_have_the_tensors_dtype_as_in_pytorch(torch, target, source, write):
    """x[[0, 1]] = float64 values into a float32 (or int64) tensor, scatter/index_add/index_copy/masked_scatter/
    index_put of another dtype: refused as in PyTorch (glassgrad cast them, cutting floats to whole numbers in an
    integer tensor); x[0] = v, x[:2] = v and x[mask] = one value cast, as there."""
    def run(m):
        x = m.zeros(3, dtype=_dtype(m, target))
        return WRITES[write](m, x, m.tensor(np.array([2.5, 7.25]), dtype=_dtype(m, source)))

    check(torch, run)


def test_int_plus_equals_a_float_is_refused_with_pytorchs_exception(torch):
    for module in (torch, gg):
        x = module.tensor([1, 2])
        with pytest.raises(RuntimeError, match="can't be cast"):
            x += 1.5
        with pytest.raises(RuntimeError, match="can't be cast"):
            x /= 2
        flags = module.tensor([True, False])
        with pytest.raises(RuntimeError, match="can't be cast"):
            flags += 1


# --- unary ops and reductions ------------------------------------------------------------------------------------

UNARY = {
    "sum": lambda m, x: x.sum(), "prod": lambda m, x: x.prod(), "cumsum": lambda m, x: x.cumsum(0),
    "sum(dim)": lambda m, x: x.sum(0, keepdim=True), "mean": lambda m, x: x.mean(), "var": lambda m, x: x.var(),
    "std": lambda m, x: x.std(), "sqrt": lambda m, x: x.sqrt(), "exp": lambda m, x: x.exp(),
    "sin": lambda m, x: x.sin(), "sigmoid": lambda m, x: x.sigmoid(), "tanh": lambda m, x: x.tanh(),
    "abs": lambda m, x: x.abs(), "neg": lambda m, x: -x, "argmax": lambda m, x: x.argmax(),
    "round": lambda m, x: m.round(x), "floor": lambda m, x: m.floor(x), "ceil": lambda m, x: m.ceil(x),
    "max": lambda m, x: x.max(), "max(dim)": lambda m, x: x.max(0), "log": lambda m, x: x.log(),
    "reciprocal": lambda m, x: x.reciprocal(), "sign": lambda m, x: x.sign(), "square": lambda m, x: x.square(),
    "all": lambda m, x: x.all(), "any": lambda m, x: x.any(), "count_nonzero": lambda m, x: m.count_nonzero(x),
    "softmax": lambda m, x: m.softmax(x, 0), "norm": lambda m, x: x.norm(), "logsumexp": lambda m, x: x.logsumexp(0),
    "~": lambda m, x: ~x, "isnan": lambda m, x: x.isnan(), "sum(dtype=float64)": lambda m, x: x.sum(dtype=m.float64),
    "/ 2": lambda m, x: x / 2, "// -2": lambda m, x: x // -2, "% -2": lambda m, x: x % -2,
    "neg // 2": lambda m, x: (-x) // 2, "neg % 3": lambda m, x: (-x) % 3, "1 / x": lambda m, x: 1 / x,
    "2 ** x": lambda m, x: 2 ** x, "x ** 0.5": lambda m, x: x ** 0.5, "float()": lambda m, x: x.float(),
    "item type": lambda m, x: type(x[0].item()).__name__, "tolist": lambda m, x: x.tolist(),
}


LEFT_AS_THEY_ARE = {  # (op, dtype): (glassgrad's result, PyTorch's) of [True, False, True], as the README lists
    ("argmax", "bool"): (("int64", np.array(0.0)), "raise"),  # glassgrad: the first True; PyTorch has no kernel
}
NO_NEGATIVES = ("bool", "uint8")


@pytest.mark.parametrize(("op", "name"), [(op, name) for op in sorted(UNARY) for name in DTYPES
                                          if not (op in ("neg // 2", "neg % 3") and name in NO_NEGATIVES)])
def test_unary_op_or_reduction_has_pytorchs_dtype(torch, name, op):
    """sum/prod/cumsum of bool or int32 are int64, mean/var/std of integers raise, sqrt/exp/sin of integers are the
    default float dtype, round/floor/ceil keep an integer dtype, // and % of negative integers round down, all/any
    of uint8 are uint8 (glassgrad gave bool)."""
    values = np.array([True, False, True]) if name == "bool" else np.array([1, 2, 3], dtype=name)
    if (op, name) in LEFT_AS_THEY_ARE:
        check_left_as_it_is(torch, lambda m: UNARY[op](m, m.tensor(values)), *LEFT_AS_THEY_ARE[op, name])
        return
    check(torch, lambda m: UNARY[op](m, m.tensor(values)), _tolerance(name))


@given(data=st.data(), shape=st.lists(st.integers(1, 40), min_size=1, max_size=3),
       reduction=st.sampled_from(["mean", "var", "std", "norm", "norm(1)", "vector_norm"]), by_dim=st.booleans())
def test_float16_reductions_add_up_in_float32_as_pytorch(torch, data, shape, reduction, by_dim):
    """A float16 mean, var, std or norm adds up in float32 and rounds back (the mean of a thousand 100s is 100;
    glassgrad's float16 running total overflowed to inf). The gradient stays float16."""
    values = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).uniform(-100, 500, shape).astype(np.float16)
    dim = data.draw(st.integers(0, len(shape) - 1)) if by_dim else None
    forms = {"mean": lambda m, x: x.mean(dim), "var": lambda m, x: x.var(dim), "std": lambda m, x: x.std(dim),
             "norm": lambda m, x: x.norm(dim=dim), "norm(1)": lambda m, x: x.norm(1, dim=dim),
             "vector_norm": lambda m, x: m.linalg.vector_norm(x, dim=dim)}

    def run(m):
        x = m.tensor(values, requires_grad=True)
        out = forms[reduction](m, x)
        out.sum().backward()
        return out, x.grad.dtype

    check(torch, run, 4e-3)


def test_a_float16_mean_of_many_entries_does_not_overflow(torch):
    check(torch, lambda m: m.full((1000,), 100.0, dtype=m.float16).mean())
    check(torch, lambda m: m.full((1000, 3), 100.0, dtype=m.float16).var(0))
    check(torch, lambda m: m.full((1000,), 100.0, dtype=m.float16).norm())


# --- creation -----------------------------------------------------------------------------------------------------

CREATION = {
    "tensor(True)": lambda m: m.tensor(True),
    "tensor([1, 2])": lambda m: m.tensor([1, 2]),
    "tensor([1, 2.5])": lambda m: m.tensor([1, 2.5]),
    "tensor([True, 2])": lambda m: m.tensor([True, 2]),
    "tensor([[1], [2.5]])": lambda m: m.tensor([[1], [2.5]]),
    "tensor(2.7, dtype=long)": lambda m: m.tensor([2.7, -2.7], dtype=m.long),
    "tensor([np.float64])": lambda m: m.tensor([np.float64(1.5), np.float64(2)]),
    "tensor([1, np.float64])": lambda m: m.tensor([1, np.float64(1.5)]),
    "tensor([[np.float64], [2.0]])": lambda m: m.tensor([[np.float64(1.5)], [2.0]]),
    "tensor([np.float32, 2])": lambda m: m.tensor([np.float32(1.5), 2]),
    "tensor([np.float16, 2.5])": lambda m: m.tensor([np.float16(1.5), 2.5]),
    "tensor([np.int32, 2])": lambda m: m.tensor([np.int32(1), 2]),
    "tensor([tensor(1), 2.5])": lambda m: m.tensor([m.tensor(1), 2.5]),
    "tensor(np.float64(1.5))": lambda m: m.tensor(np.float64(1.5)),
    "tensor([])": lambda m: m.tensor([]),
    "tensor([[], []])": lambda m: m.tensor([[], []]),
    "tensor([(1, 2.5), (3, 4)])": lambda m: m.tensor([(1, 2.5), (3, 4)]),
    "tensor([np array, list])": lambda m: m.tensor([np.array([1.0, 2.0]), [3.0, 4.0]]),
    "tensor([np.float16, np.float32])": lambda m: m.tensor([np.float16(1), np.float32(2.5)]),
    "as_tensor(np float64)": lambda m: m.as_tensor(np.array([0.5, 1.5])),
    "arange(5)": lambda m: m.arange(5),
    "arange(5.0)": lambda m: m.arange(5.0),
    "arange(0, 1, 0.25)": lambda m: m.arange(0, 1, 0.25),
    "arange(0.5, 3, dtype=long)": lambda m: m.arange(0.5, 3, dtype=m.long),
    "arange(tensor(5))": lambda m: m.arange(m.tensor(5)),
    "arange(1, tensor(4.0))": lambda m: m.arange(1, m.tensor(4.0)),
    "arange(tensor([5]))": lambda m: m.arange(m.tensor([5])),
    "linspace(0, 1, 5)": lambda m: m.linspace(0, 1, 5),
    "linspace(0, 10, 5, dtype=long)": lambda m: m.linspace(0, 10, 5, dtype=m.long),
    "full(3)": lambda m: m.full((2,), 3),
    "full(True)": lambda m: m.full((2,), True),
    "full(2.5)": lambda m: m.full((2,), 2.5),
    "full(2.5, dtype=long)": lambda m: m.full((2,), 2.5, dtype=m.long),
    "zeros(2)": lambda m: m.zeros(2),
    "ones(2, dtype=long)": lambda m: m.ones(2, dtype=m.long),
    "zeros_like(dtype=int32)": lambda m: m.zeros_like(m.ones(2), dtype=m.int32),
    "full_like(int, 2.5)": lambda m: m.full_like(m.tensor([1, 2]), 2.5),
    "randint dtype": lambda m: m.randint(0, 5, (3,)).dtype,
    "randint(dtype=int8) dtype": lambda m: m.randint(0, 5, (3,), dtype=m.int8).dtype,
    "randn dtype": lambda m: m.randn(2).dtype,
    "int + 1.5": lambda m: m.tensor([1, 2]) + 1.5,
    "int / 2": lambda m: m.tensor([1, 2]) / 2,
    "sqrt(int)": lambda m: m.sqrt(m.tensor([1, 2])),
    "result_type(int, 2.5)": lambda m: m.result_type(m.tensor([1]), 2.5),
    "finfo().bits": lambda m: m.finfo().bits,
    "Linear weight dtype": lambda m: m.nn.Linear(2, 2).weight.dtype,
}


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CREATION))
def test_creation_dtype_matches_pytorch_under_each_default_dtype(torch, case, default):
    """Python floats become the default dtype, NumPy numbers and arrays keep theirs (also inside a list:
    tensor([np.float64(1.5)]) is float64, glassgrad made it float32), a 0-d tensor counts as its number in arange."""
    torch.set_default_dtype(_dtype(torch, default))
    gg.set_default_dtype(_dtype(gg, default))
    try:
        check(torch, CREATION[case])
    finally:
        torch.set_default_dtype(torch.float32)
        gg.set_default_dtype(gg.float32)


@pytest.mark.parametrize("name", DTYPES)
def test_numpy_numbers_and_arrays_keep_their_dtype(torch, name):
    for make in (lambda m: m.tensor(np.array(3).astype(name)[()]), lambda m: m.tensor(np.array([1, 0], dtype=name)),
                 lambda m: m.as_tensor(np.array([1, 0], dtype=name)),
                 lambda m: m.from_numpy(np.array([1, 0], dtype=name)),
                 lambda m: m.tensor([np.array(1, dtype=name)[()], np.array(0, dtype=name)[()]]),
                 lambda m: m.ones(2, dtype=_dtype(m, name)), lambda m: m.zeros_like(m.ones(2), dtype=_dtype(m, name))):
        check(torch, make)


# --- dtype rules, conversions, dtype facts -------------------------------------------------------------------------

@pytest.mark.parametrize("first", DTYPES)
@pytest.mark.parametrize("second", DTYPES)
def test_promote_types_can_cast_result_type_and_conversions(torch, first, second):
    check(torch, lambda m: m.promote_types(_dtype(m, first), _dtype(m, second)))
    check(torch, lambda m: m.can_cast(_dtype(m, first), _dtype(m, second)))
    check(torch, lambda m: m.result_type(m.tensor(np.ones(2, dtype=first)), m.tensor(np.ones((), dtype=second))))
    check(torch, lambda m: m.tensor(np.array([1, 0], dtype=first)).to(_dtype(m, second)))
    check(torch, lambda m: m.tensor(np.array([1, 0], dtype=first)).type(_dtype(m, second)))
    check(torch, lambda m: m.tensor(np.array([1, 0], dtype=first)).type_as(m.tensor(np.ones(1, dtype=second))))


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_facts_and_conversion_methods(torch, name):
    make = lambda m: m.tensor(np.array([1, 0], dtype=name))  # noqa: E731
    for number in (True, 1, 1.5):
        check(torch, lambda m, number=number: m.result_type(make(m), number))
        check(torch, lambda m, number=number: m.result_type(number, make(m)))
    for conversion in ("double", "float", "half", "long", "int", "short", "char", "byte", "bool"):
        check(torch, lambda m, conversion=conversion: getattr(make(m), conversion)())
    check(torch, lambda m: make(m).type())
    check(torch, lambda m: make(m).type("torch.DoubleTensor"))
    check(torch, lambda m: make(m).is_floating_point())
    check(torch, lambda m: m.is_floating_point(make(m)))
    check(torch, lambda m: make(m).is_signed())
    check(torch, lambda m: make(m).element_size())
    check(torch, lambda m: _dtype(m, name).itemsize)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo(torch, name):
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        check(torch, lambda m, field=field: getattr(m.finfo(_dtype(m, name)), field))


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(torch, name):
    for field in ("bits", "max", "min", "dtype"):
        check(torch, lambda m, field=field: getattr(m.iinfo(_dtype(m, name)), field))


# --- gradients through dtype changes ------------------------------------------------------------------------------

GRADIENTS = {
    "double then float": (lambda m, x: (x.double() * 2).float() ** 2, ["float32"]),
    "float32 · float64": (lambda m, x, y: x * y, ["float32", "float64"]),
    "float32 + 0-d float64": (lambda m, x, y: x + y * x, ["float32", "float64"]),
    "float16 · float32": (lambda m, x, y: x * y, ["float16", "float32"]),
    "half then float": (lambda m, x: x.half().float() ** 2, ["float32"]),
    "where float64 float32": (lambda m, x, y: m.where(x > 1.5, x, y), ["float64", "float32"]),
    "cat float32 float64": (lambda m, x, y: m.cat([x, y]) * m.arange(6), ["float32", "float64"]),
    "atan2 float32 float64": (lambda m, x, y: m.atan2(x, y), ["float32", "float64"]),
    "hypot float32 float64": (lambda m, x, y: m.hypot(x, y), ["float32", "float64"]),
    "float32 ** float64": (lambda m, x, y: x ** y, ["float32", "float64"]),
    "float32 / float64": (lambda m, x, y: x / y, ["float32", "float64"]),
    "float32 · int": (lambda m, x: x * m.tensor([2, 3, 4]), ["float32"]),
    "sum(dtype=float64)": (lambda m, x: x.sum(dtype=m.float64), ["float32"]),
    "addcmul mixed": (lambda m, x, y: m.addcmul(x, y, x), ["float32", "float64"]),
    "mse_loss mixed": (lambda m, x, y: m.nn.functional.mse_loss(x, y), ["float32", "float64"]),
}


@pytest.mark.parametrize("case", sorted(GRADIENTS))
def test_each_leaf_gets_its_gradient_in_its_own_dtype(torch, case):
    function, names = GRADIENTS[case]
    starts = [np.array([1.0, 2.5, 0.5]), np.array([3.0, 0.75, 2.0])]

    def run(m):
        leaves = [m.tensor(start.astype(name), requires_grad=True) for start, name in zip(starts, names)]
        function(m, *leaves).sum().backward()
        return tuple(leaf.grad for leaf in leaves)

    check(torch, run, _tolerance(*names))


@pytest.mark.parametrize("bound", [np.float32(0.5), np.array([0.0, 1.0], np.float32)], ids=["0-d", "per column"])
def test_clamp_by_a_bound_that_broadcasts_to_x_reads_x_itself(bound):
    """A narrower tensor bound (0-d, one per column) needs no broadcast of x: its node reads the leaf directly (a
    review found every bound of another shape expanded x to its own shape, one node more and 3x the time)."""
    x = gg.tensor([[-1.0, 2.0], [0.75, -3.0]], requires_grad=True)
    y = x.clamp(min=gg.tensor(bound))
    (node, _), = y.grad_fn.next_functions
    assert getattr(node, "variable", None) is x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (x.detach().numpy() >= bound).astype(np.float32))


def test_a_compiled_step_replays_an_in_place_cast_within_a_kind():
    """uint8 += int8 (PyTorch casts the int16 result back to uint8) inside a gg.compile'd step: the replay made the
    change with NumPy's same-kind rule and raised UFuncTypeError on its first replay (review)."""
    counts = gg.tensor(np.array([1, 2, 3], np.uint8))

    @gg.compile(fullgraph=True)
    def step(increment):
        counts.add_(increment)
        return counts * 2

    results = [step(gg.tensor(np.array([1, 2, 3], np.int8))).numpy() for _ in range(4)]
    np.testing.assert_array_equal(counts.numpy(), [5, 10, 15])
    assert counts.dtype == np.uint8
    np.testing.assert_array_equal(results[-1], [10, 20, 30])
    assert step.entries[step.last_key].replays == 2  # calls 3 and 4 replayed
