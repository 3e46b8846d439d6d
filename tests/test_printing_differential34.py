"""What a learner sees when printing tensors, against PyTorch 2.13: ``print(t)``/``repr``/``str``, f-strings and
``format`` of 0-d tensors, ``tolist``, shapes and dtypes, and ``set_printoptions`` (precision, threshold,
edgeitems, linewidth, sci_mode, profiles).

PyTorch's text is compared after ``torch.`` is taken out of it (glassgrad names a dtype ``float64`` and a shape
``Size([2, 3])``), and a ``grad_fn=<…>`` by glassgrad's own op name (``<mul>``, the README's row on tensor
methods); since ``dtype=float64`` is shorter than ``dtype=torch.float64``, a suffix after a dtype may wrap at
another place, so those suffixes are compared as a list, the body before them exactly.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch

SETTING = re.compile(r",\s*(?=(?:size|dtype|grad_fn|requires_grad)=)")
DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.fixture(autouse=True)
def _default_print_options():
    """Every test here sets print options: put both libraries' back afterwards."""
    yield
    gg.set_printoptions(profile="default")
    gg.set_default_dtype(gg.float32)
    if "torch" in sys.modules:
        sys.modules["torch"].set_printoptions(profile="default")
        sys.modules["torch"].set_default_dtype(sys.modules["torch"].float32)


def _parts(text: str) -> tuple[str, list[str]]:
    """A repr's body (up to its first ``size=``/``dtype=``/… setting) and its settings, ``grad_fn``'s name
    left out; where no dtype or grad_fn setting shows, the whole text (the layout must then be PyTorch's)."""
    pieces = SETTING.split(text.replace("torch.", "").removesuffix(")"))
    settings = [re.sub(r"grad_fn=<[^>]*>", "grad_fn=<>", " ".join(piece.split())) for piece in pieces[1:]]
    if not any(setting.startswith(("dtype", "grad_fn")) for setting in settings):
        return text.replace("torch.", ""), []
    return pieces[0], settings


def _pair(torch, values: np.ndarray, dtype: str, grad: str = "none"):
    """The same numbers as a glassgrad and a PyTorch tensor (PyTorch's made from glassgrad's, so a float16 is
    rounded once, by NumPy), a leaf that requires grad or a product of one when ``grad`` says so."""
    ours = gg.tensor(values, dtype=getattr(gg, dtype))
    theirs = torch.from_numpy(ours.numpy().copy())
    if grad != "none":
        ours.requires_grad_()
        theirs.requires_grad_()
        if grad == "product":
            ours, theirs = ours * 2, theirs * 2
    return ours, theirs


def _set(torch, **options):
    gg.set_printoptions(**options)
    torch.set_printoptions(**options)


def _assert_prints_alike(ours, theirs) -> None:
    assert _parts(repr(ours)) == _parts(repr(theirs))
    assert str(ours) == repr(ours)


# ---- the fuzzer's core: drawn tensors and options print as PyTorch's ----------------------------------------

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-5, 1e5, 123456.0, np.nan, np.inf, -np.inf]


@st.composite
def drawn_tensors(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 6), max_size=4)))
    size = int(np.prod(shape))
    if dtype == "bool":
        values = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)
    elif dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        numbers = st.integers(max(info.min, -10**9), min(info.max, 10**9))
        values = np.array(draw(st.lists(numbers, min_size=size, max_size=size)), dtype=dtype)
    else:
        style = draw(st.sampled_from(["normal", "whole", "magnitudes", "special"]))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        values = {"normal": rng.normal(size=size) * 10.0 ** rng.integers(-5, 5),
                  "whole": rng.integers(-50, 50, size) * 10.0 ** rng.integers(0, 11),
                  "magnitudes": rng.normal(size=size) * 10.0 ** rng.integers(-8, 10, size),
                  "special": rng.choice(SPECIAL, size)}[style]
    grad = draw(st.sampled_from(["none", "leaf", "product"])) if dtype.startswith("float") else "none"
    options = draw(st.fixed_dictionaries({}, optional={
        "profile": st.sampled_from(["default", "short", "full"]), "precision": st.integers(0, 9),
        "threshold": st.integers(0, 60), "edgeitems": st.integers(0, 4), "linewidth": st.integers(10, 120),
        "sci_mode": st.booleans()}))
    return np.asarray(values).reshape(shape), dtype, grad, options


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # NumPy's, a 0-d past float16
@given(drawn_tensors())
def test_a_drawn_tensor_prints_lists_and_formats_as_pytorchs(torch, drawn):
    values, dtype, grad, options = drawn
    ours, theirs = _pair(torch, values, dtype, grad)
    _set(torch, profile="default")
    _set(torch, **options)
    before = ours.detach().numpy().copy()
    _assert_prints_alike(ours, theirs)
    assert _parts(f"{ours}") == _parts(f"{theirs}")
    assert repr(ours.tolist()) == repr(theirs.tolist())
    assert str(ours.shape) == str(theirs.shape).replace("torch.", "") and str(ours.dtype) == str(theirs.dtype)[6:]
    if ours.ndim == 0 and dtype != "bool":
        assert f"{ours:.3f}" == f"{theirs:.3f}" and format(ours, ">12") == format(theirs, ">12")
    np.testing.assert_array_equal(ours.detach().numpy(), before)  # printing changed nothing
    assert ours.dtype == getattr(gg, dtype)


# ---- pinned cases: each prints exactly as PyTorch's --------------------------------------------------------

CASES = {
    "0-d bool": (lambda lib: lib.tensor(True), {}),
    "0-d False": (lambda lib: lib.tensor(False), {}),
    "empty int64": (lambda lib: lib.tensor([], dtype=lib.int64), {}),
    "empty int64 matrix": (lambda lib: lib.zeros(0, 3, dtype=lib.int64), {}),
    "empty bool": (lambda lib: lib.zeros(0, dtype=lib.bool), {}),
    "empty float16 matrix": (lambda lib: lib.zeros(2, 0, dtype=lib.float16), {}),
    "empty leaf": (lambda lib: lib.zeros(0, requires_grad=True), {}),
    "float16 nan 0-d": (lambda lib: lib.tensor(float("nan"), dtype=lib.float16), {}),
    "float16 nan and 1.5": (lambda lib: lib.tensor([float("nan"), 1.5], dtype=lib.float16), {}),
    "negative zeros": (lambda lib: lib.tensor([-0.0, 0.0]), {}),
    "negative zero 0-d": (lambda lib: lib.tensor(-0.0), {}),
    "negative zero and 1.5": (lambda lib: lib.tensor([-0.0, 1.5]), {}),
    "only nan": (lambda lib: lib.tensor([float("nan")] * 3), {}),
    "only infinities": (lambda lib: lib.tensor([float("inf"), -float("inf")]), {}),
    "inf and a whole number": (lambda lib: lib.tensor([float("inf"), 1.0]), {}),
    "whole numbers past 1e8": (lambda lib: lib.tensor([123456789.0]), {}),
    "whole numbers 1000x apart": (lambda lib: lib.tensor([1.0, 1001.0]), {}),
    "a small number": (lambda lib: lib.tensor([1e-5, 1.0]), {}),
    "float32 whole past 2^24": (lambda lib: lib.tensor([16777217.0, 3.0e20]), {}),
    "float16 largest": (lambda lib: lib.tensor([65504.0, 1.5], dtype=lib.float16), {}),
    "float64 subnormal": (lambda lib: lib.tensor([5e-324, 1.0], dtype=lib.float64), {}),
    "int64 limits": (lambda lib: lib.tensor([-2**63, 2**63 - 1]), {}),
    "uint8": (lambda lib: lib.tensor([1, 255], dtype=lib.uint8), {}),
    "bools all True": (lambda lib: lib.tensor([True, True]), {}),
    "bools summarized": (lambda lib: lib.arange(2000) % 3 == 0, {}),
    "sci_mode off": (lambda lib: lib.tensor([1e-8, 1e8]), {"sci_mode": False}),
    "sci_mode on whole": (lambda lib: lib.tensor([1.0, 2.0]), {"sci_mode": True}),
    "sci_mode on zeros": (lambda lib: lib.tensor([0.0, float("nan")]), {"sci_mode": True}),
    "sci_mode on ints": (lambda lib: lib.tensor([1, 2]), {"sci_mode": True}),
    "precision 0": (lambda lib: lib.tensor([0.5, 1.5, 2.25]), {"precision": 0}),
    "precision 10 float32": (lambda lib: lib.tensor([1 / 3, 2 / 3]), {"precision": 10}),
    "precision 10 float16": (lambda lib: lib.tensor([1 / 3, 2 / 3], dtype=lib.float16), {"precision": 10}),
    "threshold 0 0-d": (lambda lib: lib.tensor(3.0), {"threshold": 0}),
    "threshold 0 vector": (lambda lib: lib.arange(10), {"threshold": 0}),
    "threshold exact": (lambda lib: lib.arange(3.0), {"threshold": 3}),
    "edgeitems 0": (lambda lib: lib.arange(10.0), {"threshold": 5, "edgeitems": 0}),
    "edgeitems 0 matrix": (lambda lib: lib.ones(4, 4), {"threshold": 5, "edgeitems": 0}),
    "edgeitems 0 small": (lambda lib: lib.ones(2), {"threshold": 5, "edgeitems": 0}),
    "edgeitems 0 on a 0-d leaf": (lambda lib: lib.tensor(1.5, requires_grad=True), {"edgeitems": 0}),
    "edgeitems 1, 3-d": (lambda lib: lib.arange(27).reshape(3, 3, 3), {"edgeitems": 1, "threshold": 2}),
    "sci_mode off, tiny": (lambda lib: lib.tensor([1e-20, 1.0]), {"sci_mode": False}),
    "sci_mode on, precision 0": (lambda lib: lib.tensor([12345.0, 0.5]), {"sci_mode": True, "precision": 0}),
    "precision 3 with nan and -inf": (lambda lib: lib.tensor([float("nan"), 0.25, -float("inf")]), {"precision": 3}),
    "edgeitems past size": (lambda lib: lib.arange(10.0), {"threshold": 3, "edgeitems": 100}),
    "linewidth 1": (lambda lib: lib.arange(5.0), {"linewidth": 1}),
    "linewidth 20 with requires_grad": (lambda lib: (lib.arange(3.0) / 7).requires_grad_(), {"linewidth": 20}),
    "threshold inf": (lambda lib: lib.arange(5.0), {"threshold": float("inf")}),
    "profile short": (lambda lib: lib.arange(2000.0) / 3, {"profile": "short"}),
    "profile full": (lambda lib: lib.arange(2000), {"profile": "full"}),
    "profile full then precision": (lambda lib: lib.tensor([1 / 3]), {"profile": "full", "precision": 2}),
    "summarized matrix": (lambda lib: lib.arange(3000.0).reshape(30, 100), {}),
    "summarized 4-d": (lambda lib: lib.arange(625).reshape(5, 5, 5, 5), {"threshold": 10, "edgeitems": 2}),
    "long row wraps": (lambda lib: (lib.arange(40.0) / 3).reshape(2, 20), {}),
    "leaf": (lambda lib: lib.tensor([1.0, 2.0], requires_grad=True), {}),
    "0-d leaf": (lambda lib: lib.tensor(1.0, requires_grad=True), {}),
    "parameter": (lambda lib: lib.nn.Parameter(lib.tensor([1.0, 2.0])), {}),
    "parameter without grad": (lambda lib: lib.nn.Parameter(lib.tensor([1.0]), requires_grad=False), {}),
    "detached product": (lambda lib: (lib.tensor([1.0], requires_grad=True) * 2).detach(), {}),
    "transposed": (lambda lib: lib.arange(6.0).reshape(2, 3).t(), {}),
    "flipped": (lambda lib: lib.arange(6.0).flip(0), {}),
    "expanded": (lambda lib: lib.tensor([1.5]).expand(3, 2), {}),
    "size-1 dims": (lambda lib: lib.ones(1, 1, 1, 1), {}),
    "empty between size-1 dims": (lambda lib: lib.ones(1, 0, 1), {}),
    "a list of tensors": (lambda lib: [lib.tensor(1.0), lib.tensor(2)], {}),
}


def test_the_pinned_tensors_print_as_pytorchs(torch):
    differ = {}
    for name, (make, options) in CASES.items():
        _set(torch, profile="default")
        _set(torch, **options)
        ours, theirs = str(make(gg)), str(make(torch)).replace("torch.", "")
        if ours != theirs:
            differ[name] = (ours, theirs)
    assert differ == {}


DTYPE_CASES = {
    "float64": lambda lib: lib.tensor([1.0, 2.5], dtype=lib.float64),
    "int32": lambda lib: lib.tensor([1, -2], dtype=lib.int32),
    "int8 0-d": lambda lib: lib.tensor(-5, dtype=lib.int8),
    "float64 leaf": lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True),
    "float64 product 0-d": lambda lib: (lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True) * 2).sum(),
    "float64 wrapping": lambda lib: lib.arange(11.0, dtype=lib.float64) / 3,
    "empty int32 3-d": lambda lib: lib.zeros(0, 2, 3, dtype=lib.int32),
}


@pytest.mark.parametrize("name", DTYPE_CASES)
def test_a_dtype_or_grad_fn_setting_is_pytorchs_in_glassgrads_spelling(torch, name):
    ours, theirs = DTYPE_CASES[name](gg), DTYPE_CASES[name](torch)
    assert _parts(repr(ours)) == _parts(repr(theirs))


def test_the_default_dtype_decides_which_dtype_is_named(torch):
    gg.set_default_dtype(gg.float64)
    torch.set_default_dtype(torch.float64)
    for make in (lambda lib: lib.tensor([1.5], dtype=lib.float32), lambda lib: lib.tensor([1.5]),
                 lambda lib: lib.zeros(0, dtype=lib.float32), lambda lib: lib.zeros(0), lambda lib: lib.tensor([1])):
        assert repr(make(gg)) == repr(make(torch)).replace("torch.", "")


def test_glassgrads_documented_spellings():
    """The README's row: the dtype named without ``torch.``, grad_fn by the op's name, ``Size`` without a module."""
    product = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True) * 2
    assert repr(product) == "tensor([2., 4.], dtype=float64, grad_fn=<mul>)"
    assert str(gg.zeros(2, 3).shape) == "Size([2, 3])" and repr(gg.zeros(()).size()) == "Size([])"
    assert str(gg.zeros(2).dtype) == "float32" and f"{gg.zeros(2, dtype=gg.long).dtype}" == "int64"


# ---- f-strings, format and tolist ----------------------------------------------------------------------------

FORMATS = [("float", ".3f"), ("float", ""), ("float", ">10"), ("float", "g"), ("float", "+.1e"),
           ("int", "d"), ("int", "05d"), ("int", ".2f"), ("bool", ""), ("uint8", ".2f"), ("float16", ".5f"),
           ("leaf", ".2f"), ("product", ".2f")]


@pytest.mark.parametrize(("kind", "spec"), FORMATS)
def test_a_0d_tensor_formats_as_pytorchs(torch, kind, spec):
    def make(lib):
        return {"float": lambda: lib.tensor(1 / 3), "int": lambda: lib.tensor(3), "bool": lambda: lib.tensor(True),
                "uint8": lambda: lib.tensor(3, dtype=lib.uint8),
                "float16": lambda: lib.tensor(1 / 3, dtype=lib.float16),
                "leaf": lambda: lib.tensor(1 / 3, requires_grad=True),
                "product": lambda: lib.tensor(1 / 3, requires_grad=True) * 2}[kind]()

    assert format(make(gg), spec) == format(make(torch), spec)
    assert f"{make(gg).item():{spec}}" == f"{make(torch).item():{spec}}"


def test_a_format_spec_on_a_vector_is_a_type_error_naming_the_fix(torch):
    with pytest.raises(TypeError):
        format(torch.tensor([1 / 3]), ".2f")
    with pytest.raises(TypeError, match=r"needs a tensor of one number \(0-d\).*t\.item\(\) or t\.tolist\(\)"):
        format(gg.tensor([1 / 3]), ".2f")
    assert f"{gg.tensor([1.5])}" == str(gg.tensor([1.5]))
    assert "%.3f" % gg.tensor(1 / 3) == "%.3f" % torch.tensor(1 / 3) == "0.333"  # noqa: UP031 (a learner's idiom)


@pytest.mark.parametrize("make", [lambda lib: lib.tensor(2.5), lambda lib: lib.tensor([True]),
                                  lambda lib: lib.tensor([0.1], dtype=lib.float16), lambda lib: lib.tensor([0.1]),
                                  lambda lib: lib.tensor([3], dtype=lib.uint8), lambda lib: lib.zeros(2, 0),
                                  lambda lib: lib.arange(6).reshape(2, 3).t()])
def test_tolist_gives_pytorchs_python_numbers(torch, make):
    ours, theirs = make(gg).tolist(), make(torch).tolist()
    assert repr(ours) == repr(theirs) and type(ours) is type(theirs)


def test_printing_changes_neither_the_tensor_nor_its_graph():
    x = gg.tensor([[1.0, float("nan")], [-0.0, 3.0]], requires_grad=True)
    y = x * 2
    for tensor in (x, y, gg.tensor(True), gg.zeros(0, dtype=gg.int64), gg.tensor(float("nan"), dtype=gg.float16)):
        before = tensor.detach().numpy().copy()
        repr(tensor), str(tensor), f"{tensor}", tensor.tolist()
        np.testing.assert_array_equal(tensor.detach().numpy(), before)
    y.sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]] and x.is_leaf and not y.is_leaf


# ---- set_printoptions --------------------------------------------------------------------------------------

def test_each_set_printoptions_call_sets_sci_mode_and_a_profile_resets_the_rest(torch):
    x = [1 / 3, 2.0]
    for lib in (gg, torch):
        lib.set_printoptions(sci_mode=True, precision=2)
        lib.set_printoptions(threshold=5)  # no sci_mode: back to the rule, precision stays
    assert repr(gg.tensor(x)) == repr(torch.tensor(x)) == "tensor([0.33, 2.00])"
    _set(torch, profile="short")
    assert repr(gg.arange(10.0) / 3) == repr(torch.arange(10.0) / 3)
    _set(torch, profile="default")
    assert repr(gg.arange(2000.0)) == repr(torch.arange(2000.0))


@pytest.mark.parametrize("options", [{"precision": -1}, {"threshold": -1}, {"edgeitems": -1}, {"linewidth": -1},
                                     {"precision": "2"}, {"precision": True}])
def test_a_meaningless_print_option_is_refused_in_one_line(options):
    """PyTorch takes these and prints oddly (or fails at the next print); glassgrad refuses them where set."""
    name = next(iter(options))
    with pytest.raises(ValueError, match=f"set_printoptions: {name} must be a non-negative number"):
        gg.set_printoptions(**options)
    assert repr(gg.tensor([1 / 3])) == "tensor([0.3333])"


def test_numpy_numbers_are_taken_as_print_options_as_pytorch_takes_them(torch):
    """``precision=np.int64(2)`` (a number worked out with NumPy) was refused as not a number."""
    options = {"precision": np.int64(2), "threshold": np.int64(3), "edgeitems": np.int32(1),
               "linewidth": np.float64(60.5)}
    _set(torch, **options)
    assert repr(gg.arange(10.0) / 3) == repr(torch.arange(10.0) / 3)
    _set(torch, precision=np.int64(3))
    assert repr(gg.tensor([1 / 3, 2.5])) == repr(torch.tensor([1 / 3, 2.5])) == "tensor([0.333, 2.500])"


@pytest.mark.parametrize("options", [{"precision": 2.0}, {"edgeitems": 2.5}])
def test_a_fractional_count_is_refused_where_it_is_set(torch, options):
    """PyTorch takes ``precision=2.0`` and fails at the next print, deep in its formatting; glassgrad says so
    at once (``threshold`` and ``linewidth`` may be fractional, ``float("inf")``)."""
    torch.set_printoptions(**options, threshold=3)
    with pytest.raises((TypeError, ValueError)):
        repr(torch.arange(10.0) / 3)
    name = next(iter(options))
    with pytest.raises(ValueError, match=f"set_printoptions: {name} must be a non-negative number \\(a whole one\\)"):
        gg.set_printoptions(**options)


def test_an_unknown_profile_is_refused_naming_the_profiles():
    with pytest.raises(ValueError, match="unknown profile 'long'; use one of default, short, full"):
        gg.set_printoptions(profile="long")
