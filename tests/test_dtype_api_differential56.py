"""Round 56: the dtype and conversion API against PyTorch 2.13.

dtype objects (equality, hashing, pickling), ``finfo``/``iinfo`` of every dtype, ``promote_types``, ``result_type``,
``can_cast``, the default dtype and what it changes, the questions (``is_floating_point``, ``is_signed``,
``is_nonzero``, ``element_size``, ``itemsize``, ``nbytes``), conversions (``to`` in each spelling and when it returns
the tensor itself, ``type``, ``float()`` … ``bool()`` from every dtype, ``new_*``, ``tensor``/``as_tensor``/
``from_numpy`` of arrays, ``numpy()``, ``tolist()``, ``int()``/``float()``/``bool()``/``complex()``,
``operator.index``). Each case runs on PyTorch (the ``torch`` fixture, skipped without it) and on glassgrad, and
compares the result (dtype named without ``torch.``, numbers exact, NaN where NaN, Python types) or the exception
class. Arithmetic type promotion is round 39's (tests/test_promotion_differential39.py), not redone here.

Documented differences left alone (README, "creation, dtypes"): glassgrad's dtypes are NumPy's (``str(gg.float32)``
is ``'float32'``, no ``is_floating_point`` attribute, no complex, no bfloat16 tensors), and ``numpy()`` works on a
tensor that requires grad. Casts PyTorch leaves to the machine (NaN or ±∞ or an out-of-range float to an integer) are
not compared.
"""

from __future__ import annotations

import operator
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
CASTS = {"float": "float32", "double": "float64", "half": "float16", "int": "int32", "long": "int64",
         "short": "int16", "char": "int8", "byte": "uint8", "bool": "bool"}


def _plain(value):
    """``value`` with tensors and dtypes as comparable Python data (dtype names without ``torch.``)."""
    if hasattr(value, "detach") and hasattr(value, "dtype"):
        numbers = value.detach().numpy()
        return ("tensor", str(value.dtype).removeprefix("torch."), tuple(value.shape),
                [("nan" if n != n else (type(n).__name__, n)) for n in numbers.ravel().tolist()])
    if isinstance(value, np.dtype) or type(value).__name__ == "dtype":
        return ("dtype", str(value).removeprefix("torch."))
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, float) and value != value:
        return "nan"
    return (type(value).__name__, value)


def _outcome(lib, function):
    """('ok', plain result, warning classes) or ('raises', exception class name)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", category=RuntimeWarning)  # NumPy's cast warnings, which glassgrad filters
            result = function(lib)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return ("raises", type(error).__name__)
    return ("ok", _plain(result), sorted({type(w.message).__name__ for w in caught}))


def _same(torch, function, what=""):
    expected, got = _outcome(torch, function), _outcome(gg, function)
    assert got == expected, (what, expected, got)


# --- defects fixed in round 56 -----------------------------------------------------------------------------

UNSUPPORTED_ARRAYS = {
    "tensor of an np.longdouble array": lambda lib: lib.tensor(np.zeros(2, np.longdouble)),
    "as_tensor of an np.longdouble array": lambda lib: lib.as_tensor(np.ones(2, np.longdouble)),
    "tensor of an np.longdouble number": lambda lib: lib.tensor(np.longdouble(1.5)),
    "tensor of a list holding an np.longdouble": lambda lib: lib.tensor([np.longdouble(1.5)]),
    "tensor of a big-endian float32 array": lambda lib: lib.tensor(np.ones(2, ">f4")),
    "as_tensor of a big-endian int64 array": lambda lib: lib.as_tensor(np.ones(2, ">i8")),
    "tensor of a big-endian array with a dtype": lambda lib: lib.tensor(np.ones(2, ">f4"), dtype=lib.float32),
    "ones with dtype=np.longdouble": lambda lib: lib.ones(2, dtype=np.longdouble),
    "to(np.longdouble)": lambda lib: lib.ones(2).to(np.longdouble),
}


@pytest.mark.parametrize("name", UNSUPPORTED_ARRAYS)
def test_arrays_no_tensor_holds_are_refused_with_pytorchs_class(torch, name):
    """A float128 array made a float128 tensor, and a big-endian one a tensor whose dtype is not gg.float32 (its
    sum raised NumPy's raw TypeError); PyTorch refuses both (TypeError; ValueError for the byte order)."""
    _same(torch, UNSUPPORTED_ARRAYS[name], name)


def test_a_big_endian_array_is_refused_in_one_line_naming_the_fix():
    with pytest.raises(ValueError, match=r"byte order \(>f4\) is not the machine's.*newbyteorder"):
        gg.tensor(np.ones(2, ">f4"))
    with pytest.raises(TypeError, match="up to 8 bytes"):
        gg.as_tensor(np.ones(2, np.longdouble))


QUESTIONS = ("is_floating_point", "is_signed", "is_complex", "is_nonzero", "is_conj", "is_neg", "isreal")


@pytest.mark.parametrize("question", QUESTIONS)
def test_questions_about_a_tensor_refuse_a_number_a_list_or_an_array(torch, question):
    """``gg.is_floating_point(1.5)`` raised a raw AttributeError, ``gg.is_complex(1.5)`` answered False and
    ``gg.is_floating_point(np.ones(1))`` True; PyTorch raises TypeError: argument 'input' must be Tensor."""
    for value in (1.5, [1.0], np.ones(1)):
        _same(torch, lambda lib, value=value: getattr(lib, question)(value), (question, value))
    _same(torch, lambda lib: getattr(lib, question)(lib.ones(1, dtype=lib.int8)), question)


def test_is_same_size_refuses_a_number_on_either_side(torch):
    for call in (lambda lib: lib.is_same_size(lib.ones(2), 1.5), lambda lib: lib.is_same_size([1.0], lib.ones(1)),
                 lambda lib: lib.is_same_size(lib.ones(2, 3), lib.zeros(2, 3))):
        _same(torch, call)
    with pytest.raises(TypeError, match=r"is_same_size\(\): argument 'other' \(position 2\) must be Tensor"):
        gg.is_same_size(gg.ones(2), 1.5)


def test_finfo_of_bfloat16_gives_its_limits(torch):
    """PyTorch's finfo(bfloat16), which mixed-precision code reads; glassgrad raised NumPy's 'Cannot interpret'."""
    expected, got = torch.finfo(torch.bfloat16), gg.finfo(gg.bfloat16)
    for attribute in ("eps", "max", "min", "tiny", "smallest_normal", "resolution", "bits", "dtype"):
        assert getattr(got, attribute) == getattr(expected, attribute), attribute
        assert type(getattr(got, attribute)) is type(getattr(expected, attribute)), attribute


def test_type_takes_non_blocking_and_refuses_cuda_type_names_as_pytorch(torch):
    """``x.type(dtype, non_blocking=True)`` raised TypeError (PyTorch converts); a CUDA type name raised TypeError
    where PyTorch raises RuntimeError (no CUDA)."""
    for call in (lambda lib: lib.ones(2).type(lib.float64, non_blocking=True),
                 lambda lib: lib.ones(2).type(lib.float64, True),
                 lambda lib: lib.ones(2).type(dtype=lib.int32, non_blocking=False),
                 lambda lib: lib.ones(2).type("torch.cuda.FloatTensor"),
                 lambda lib: lib.ones(2).type(lib.float64, True, True)):
        _same(torch, call)


# --- dtype objects, finfo, iinfo, promote_types, can_cast, result_type ----------------------------------------

def test_dtypes_compare_hash_pickle_and_key_dicts(torch):
    for name in DTYPES:
        def behaviour(lib, name=name):
            dtype = getattr(lib, name)
            table = {dtype: name, lib.float64: "d"}
            again = pickle.loads(pickle.dumps(dtype))
            return (table[getattr(lib, name)], again == dtype, hash(again) == hash(dtype), dtype == lib.float32,
                    lib.ones(2, dtype=dtype).dtype == dtype,
                    lib.ones(2, dtype=dtype).dtype in (lib.float16, lib.float32))
        _same(torch, behaviour, name)
    _same(torch, lambda lib: (lib.float is lib.float32, lib.double is lib.float64, lib.half is lib.float16,
                              lib.long is lib.int64, lib.int is lib.int32, lib.short is lib.int16))


def test_finfo_and_iinfo_of_every_dtype(torch):
    for name in DTYPES:
        _same(torch, lambda lib, name=name: [getattr(lib.finfo(getattr(lib, name)), a) for a in (
            "eps", "tiny", "smallest_normal", "max", "min", "bits", "resolution", "dtype")], ("finfo", name))
        _same(torch, lambda lib, name=name: [getattr(lib.iinfo(getattr(lib, name)), a) for a in ("bits", "max", "min")]
              + [str(lib.iinfo(getattr(lib, name)).dtype)], ("iinfo", name))  # glassgrad's dtype: NumPy's, == the str
    _same(torch, lambda lib: (lib.finfo().eps, lib.finfo().dtype))


def test_finfo_with_no_argument_follows_the_default_dtype(torch):
    def under_float64(lib):
        lib.set_default_dtype(lib.float64)
        try:
            return lib.finfo().eps, lib.finfo().dtype, lib.finfo(lib.float32).eps
        finally:
            lib.set_default_dtype(lib.float32)
    _same(torch, under_float64)


def test_promote_types_and_can_cast_of_every_pair(torch):
    for first in DTYPES:
        for second in DTYPES:
            _same(torch, lambda lib, a=first, b=second: (lib.promote_types(getattr(lib, a), getattr(lib, b)),
                                                         lib.can_cast(getattr(lib, a), getattr(lib, b))),
                  (first, second))


@pytest.mark.parametrize("number", [1, -3, 1.5, True])
def test_result_type_of_tensors_and_numbers(torch, number):
    for name in DTYPES:
        _same(torch, lambda lib, n=name: (lib.result_type(lib.ones(2, dtype=getattr(lib, n)), number),
                                          lib.result_type(number, lib.ones((), dtype=getattr(lib, n))),
                                          lib.result_type(lib.ones((), dtype=getattr(lib, n)),
                                                          lib.ones(2, dtype=lib.int8))),
              (name, number))
    _same(torch, lambda lib: (lib.result_type(number, 2), lib.result_type(number, 2.0)))


# --- the default dtype ------------------------------------------------------------------------------------

DEFAULT_DTYPE_USES = {
    "tensor(1.5)": lambda lib: lib.tensor(1.5),
    "tensor([1, 2.0])": lambda lib: lib.tensor([1, 2.0]),
    "tensor([1, 2])": lambda lib: lib.tensor([1, 2]),
    "tensor([])": lambda lib: lib.tensor([]),
    "arange(0.5)": lambda lib: lib.arange(0.5),
    "arange(0, 1, 0.25)": lambda lib: lib.arange(0, 1, 0.25),
    "arange(3)": lambda lib: lib.arange(3),
    "full((2,), 1.5)": lambda lib: lib.full((2,), 1.5),
    "full((2,), 3)": lambda lib: lib.full((2,), 3),
    "ones(2)": lambda lib: lib.ones(2),
    "linspace": lambda lib: lib.linspace(0, 1, 3),
    "int tensor * 1.5": lambda lib: lib.tensor([1, 2]) * 1.5,
    "int tensor / 2": lambda lib: lib.tensor([1, 2]) / 2,
    "int tensor + 0-d float": lambda lib: lib.tensor([1, 2]) + lib.tensor(0.5),
    "float16 tensor * 1.5": lambda lib: lib.ones(2, dtype=lib.float16) * 1.5,
    "tensor(np.float64(1.5))": lambda lib: lib.tensor(np.float64(1.5)),
    "legacy Tensor([1, 2])": lambda lib: lib.Tensor([1, 2]),
    "scalar_tensor(2)": lambda lib: lib.scalar_tensor(2),
}


@pytest.mark.parametrize("default", ["float64", "float16", "float32"])
def test_what_the_default_dtype_changes(torch, default):
    for name, make in DEFAULT_DTYPE_USES.items():
        def under(lib, make=make):
            lib.set_default_dtype(getattr(lib, default))
            try:
                return make(lib), lib.get_default_dtype()
            finally:
                lib.set_default_dtype(lib.float32)
        _same(torch, under, (default, name))


def test_set_default_dtype_refuses_integers_and_bool(torch):
    for name in ("int64", "int32", "bool", "uint8"):
        _same(torch, lambda lib, n=name: lib.set_default_dtype(getattr(lib, n)), name)
        assert gg.get_default_dtype() == gg.float32


# --- questions: is_tensor, is_floating_point, is_signed, is_nonzero, sizes --------------------------------------

def test_questions_of_every_dtype(torch):
    for name in DTYPES:
        def answers(lib, n=name):
            x = lib.ones(3, dtype=getattr(lib, n))
            return (lib.is_floating_point(x), x.is_floating_point(), x.is_signed(), lib.is_signed(x), x.is_complex(),
                    x.element_size(), x.itemsize, x.nbytes, x[:2].nbytes, lib.ones((), dtype=getattr(lib, n)).nbytes)
        _same(torch, answers, name)
    _same(torch, lambda lib: (lib.is_tensor(lib.ones(1)), lib.is_tensor(np.ones(1)), lib.is_tensor(1.5),
                              lib.is_tensor(lib.nn.Parameter(lib.ones(1)))))


@pytest.mark.parametrize("value", [0, 1, 2.5, -0.0, -1])
def test_is_nonzero_of_one_element(torch, value):
    for name in DTYPES:
        if name == "uint8" and value == -1:
            continue
        _same(torch, lambda lib, n=name: (lib.is_nonzero(lib.tensor([value]).to(getattr(lib, n))),
                                          lib.tensor(value).to(getattr(lib, n)).is_nonzero()), name)


def test_is_nonzero_refuses_other_sizes(torch):
    for make in (lambda lib: lib.ones(2), lambda lib: lib.ones(0), lambda lib: lib.ones(1, 1, 1)):
        _same(torch, lambda lib, make=make: lib.is_nonzero(make(lib)))


# --- conversions -----------------------------------------------------------------------------------------

def _defined_cast(source: str, target: str, value: float) -> bool:
    """Whether PyTorch defines ``value`` of ``source`` cast to ``target``: a float to an integer only when its whole
    part fits (NaN, ±∞ and out-of-range floats are left to the machine); every other cast is defined."""
    if target == "bool" or target.startswith("float") or not source.startswith("float"):
        return True
    if not np.isfinite(value):
        return False
    info = np.iinfo(target)
    return info.min <= int(np.trunc(value)) <= info.max


CAST_FLOATS = [0.0, -0.0, 1.0, -1.0, 2.5, -2.7, 127.9, 255.0, 256.5, -129.0, 65504.0, 70000.0, 3e9, -3e9, 1e20,
               float("nan"), float("inf"), float("-inf")]
CAST_INTS = [0, 1, -1, 127, 128, 255, 256, -129, 32767, 40000, 2**31 - 1, -(2**31), 2**40, 2**62]


@pytest.mark.parametrize("source", DTYPES)
def test_each_cast_method_from_each_dtype(torch, source):
    """``float()`` … ``bool()`` of every dtype, with NaN, ±∞, negatives to unsigned, and overflow to float16;
    floats too large for an integer dtype are PyTorch's undefined behaviour and not compared."""
    pool = [0, 1] if source == "bool" else CAST_FLOATS if source.startswith("float") else CAST_INTS
    for value in pool:
        with np.errstate(over="ignore", invalid="ignore"):
            array = np.array([value]).astype(source)
        if source != "bool" and value == value and float(array[0]) != value:
            continue  # not a number of this dtype
        for method, target in CASTS.items():
            if _defined_cast(source, target, float(array[0])):
                _same(torch, lambda lib, a=array, m=method: getattr(lib.from_numpy(a.copy()), m)(),
                      (source, value, method))


def test_to_returns_the_tensor_itself_when_nothing_changes(torch):
    for source in DTYPES:
        for target in DTYPES:
            def identities(lib, s=source, t=target):
                x = lib.ones(3, dtype=getattr(lib, s))
                dtype = getattr(lib, t)
                return (x.to(dtype) is x, x.to(dtype, copy=True) is x, x.to(lib.ones(1, dtype=dtype)) is x,
                        x.to("cpu", dtype) is x, x.to("cpu") is x, x.to(device="cpu", dtype=dtype) is x,
                        x.type(dtype) is x, x.type_as(lib.ones(1, dtype=dtype)) is x, x.to(dtype).dtype,
                        x.to(dtype, copy=True).dtype)
            _same(torch, identities, (source, target))


def test_to_keeps_the_graph_between_floats(torch):
    def graph(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        (w.to(lib.float64) * w.half().double()).sum().backward()
        return (w.to(lib.float64).requires_grad, w.long().requires_grad, w.to(lib.float32) is w, w.grad)
    _same(torch, graph)


LEGACY_NAMES = ["torch.DoubleTensor", "torch.FloatTensor", "torch.HalfTensor", "torch.LongTensor",
                "torch.IntTensor", "torch.ShortTensor", "torch.CharTensor", "torch.ByteTensor", "torch.BoolTensor"]


def test_type_names_and_conversions_by_name(torch):
    for name in DTYPES:
        def by_name(lib, n=name):
            x = lib.tensor([1.5, 0.0, 3.0]).to(getattr(lib, n))
            return [x.type(), x.type(x.type()) is x, x.type(lib.DoubleTensor)] + [x.type(t) for t in LEGACY_NAMES]
        _same(torch, by_name, name)


@pytest.mark.parametrize("source", ["bool", "uint8", "int64", "float16", "float64"])
def test_new_methods_inherit_the_dtype(torch, source):
    calls = {
        "new_tensor ints": lambda lib, x: x.new_tensor([1, 2]),
        "new_tensor floats": lambda lib, x: x.new_tensor([1.5, 2.5]),
        "new_tensor int8 array": lambda lib, x: x.new_tensor(np.array([1, 2], np.int8)),
        "new_tensor of a tensor": lambda lib, x: x.new_tensor(lib.ones(2, dtype=lib.int8)),
        "new_zeros": lambda lib, x: x.new_zeros(2, 3),
        "new_ones": lambda lib, x: x.new_ones((2,)),
        "new_empty shape": lambda lib, x: (x.new_empty((2,)).dtype, x.new_empty((2,)).shape),
        "new_full 7": lambda lib, x: x.new_full((2,), 7),
        "new_full 2.5": lambda lib, x: x.new_full((2,), 2.5),
        "new_full True": lambda lib, x: x.new_full((2,), True),
        "new_zeros dtype": lambda lib, x: x.new_zeros((2,), dtype=lib.int16),
        "new_ones requires_grad": lambda lib, x: x.new_ones(2, dtype=lib.float64, requires_grad=True).requires_grad,
    }
    for name, call in calls.items():
        _same(torch, lambda lib, call=call: call(lib, lib.tensor([1.0, 0.0]).to(getattr(lib, source))), (source, name))


def test_tensor_of_a_tensor_warns_and_as_tensor_shares(torch):
    for name in DTYPES:
        def sharing(lib, n=name):
            source = lib.ones(2, dtype=getattr(lib, n))
            array = np.array([1, 0, 1]).astype(n)
            shared, same_dtype, cast = lib.as_tensor(array), lib.as_tensor(array, dtype=getattr(lib, n)), \
                lib.as_tensor(array, dtype=lib.float64)
            array[0] = 0
            return (lib.tensor(source), lib.as_tensor(source) is source, lib.as_tensor(source, dtype=source.dtype)
                    is source, lib.as_tensor(source, dtype=lib.float64), shared, same_dtype, cast)
        _same(torch, sharing, name)


def test_from_numpy_dtypes_and_refusals(torch):
    for name in (*DTYPES, "uint16", "uint32", "uint64", "object", "U3", "datetime64[s]", ">f4", np.longdouble):
        def made(lib, n=name):
            array = np.zeros(2, dtype=n)
            tensor = lib.from_numpy(array)
            array[:] = 1
            return tensor.dtype, tensor.numpy().dtype.str
        _same(torch, made, name)
    for call in (lambda lib: lib.from_numpy([1, 2]), lambda lib: lib.from_numpy(np.float32(2)),
                 lambda lib: lib.from_numpy(np.arange(6.0)[::-1])):
        _same(torch, call)


@pytest.mark.parametrize("value", [0, 1, -2, 3.7, -3.7])
def test_python_numbers_of_one_element_tensors(torch, value):
    for name in DTYPES:
        if name == "uint8" and value < 0:
            continue
        def numbers(lib, n=name):
            x = lib.tensor([value], dtype=lib.float64).to(getattr(lib, n))
            return (int(x), float(x), bool(x), complex(x), x.item(), x.tolist(), x[0].tolist(), x.numpy().dtype.str,
                    [type(v).__name__ for v in x.tolist()])
        _same(torch, numbers, (name, value))


def test_operator_index_of_integer_tensors_and_refusal_for_floats(torch):
    for name in DTYPES:
        for make in (lambda lib, n: lib.tensor(2).to(getattr(lib, n)),
                     lambda lib, n: lib.tensor([[1]]).to(getattr(lib, n))):
            _same(torch, lambda lib, n=name, make=make: (operator.index(make(lib, n)), [10, 20, 30][make(lib, n)],
                                                         list(range(make(lib, n))), hex(make(lib, n))), name)
    for call in (lambda lib: int(lib.ones(2)), lambda lib: float(lib.ones(0)), lambda lib: bool(lib.ones(2)),
                 lambda lib: operator.index(lib.ones(2, dtype=lib.int64)), lambda lib: int(lib.tensor([[3.9]]))):
        _same(torch, call)


# --- property: random casts and their identities --------------------------------------------------------------

@given(source=st.sampled_from(DTYPES), target=st.sampled_from(DTYPES),
       values=st.lists(st.one_of(st.integers(-300, 300), st.floats(-1e5, 1e5),
                                 st.sampled_from([float("nan"), float("inf"), float("-inf")])),
                       min_size=1, max_size=5),
       spelling=st.sampled_from(["to", "to cpu", "to tensor", "type", "type name", "method"]))
def test_casts_drawn_match_pytorch(torch, source, target, values, spelling):
    """A cast of drawn numbers in each spelling gives PyTorch's dtype and numbers, and is the tensor itself exactly
    when PyTorch's is; casts PyTorch leaves to the machine are dropped from the draw."""
    with np.errstate(over="ignore", invalid="ignore"):  # the drawn array is NumPy's: the same for both
        array = np.array(values, dtype=np.float64).astype(source) if source != "bool" else np.array(values) != 0
    if not all(_defined_cast(source, target, float(v)) for v in array.ravel().tolist()):
        return
    method = {v: k for k, v in CASTS.items()}[target]

    def cast(lib):
        x = lib.from_numpy(array.copy())
        dtype = getattr(lib, target)
        result = {"to": lambda: x.to(dtype), "to cpu": lambda: x.to("cpu", dtype),
                  "to tensor": lambda: x.to(lib.zeros(1, dtype=dtype)), "type": lambda: x.type(dtype),
                  "type name": lambda: x.type(f"torch.{method.capitalize()}Tensor"),
                  "method": lambda: getattr(x, method)()}[spelling]()
        return result, result is x
    _same(torch, cast, (source, target, spelling, array))
