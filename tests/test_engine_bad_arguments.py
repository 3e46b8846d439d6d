"""Bad arguments to the tensor makers and shape methods are refused, never silently reinterpreted.

``zeros(2.5)`` used to make 2 zeros, ``full((2,), 'a')`` a string tensor, ``randperm(-1)`` an
empty one. Each row is ``make(lib)``, so PyTorch can be given the same mistake: it must raise
the same kind of exception there, while glassgrad says in one line what is wrong and how to fix it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from one_line_errors import assert_glassgrad_refuses

import glassgrad as gg

NOT_WHOLE = r"sizes must be whole numbers \(ints\), but got"
ERRORS = {
    # name: (make(lib), exception class (PyTorch's too), what glassgrad's message must say)
    "zeros(2.5)": (lambda lib: lib.zeros(2.5), TypeError, rf"zeros: {NOT_WHOLE} 2.5 \(float\) at position 0"),
    "zeros('3')": (lambda lib: lib.zeros("3"), TypeError, rf"zeros: {NOT_WHOLE} '3' \(str\)"),
    "zeros((2, 1.0))": (lambda lib: lib.zeros((2, 1.0)), TypeError, rf"zeros: {NOT_WHOLE} 1.0 \(float\) at position 1"),
    "zeros(True)": (lambda lib: lib.zeros(True), TypeError, rf"zeros: {NOT_WHOLE} True \(bool\)"),
    "zeros(None)": (lambda lib: lib.zeros(None), TypeError, rf"zeros: {NOT_WHOLE} None"),
    "zeros(-1)": (lambda lib: lib.zeros(-1), RuntimeError, r"zeros: sizes must be non-negative, but got \(-1,\)"),
    "ones(2, 2.5)": (lambda lib: lib.ones(2, 2.5), TypeError, rf"ones: {NOT_WHOLE} 2.5"),
    "rand(2.5)": (lambda lib: lib.rand(2.5), TypeError, rf"rand: {NOT_WHOLE} 2.5"),
    "randn('3')": (lambda lib: lib.randn("3"), TypeError, rf"randn: {NOT_WHOLE} '3'"),
    "full((2.5,), 1.0)": (lambda lib: lib.full((2.5,), 1.0), TypeError, rf"full: {NOT_WHOLE} 2.5"),
    "full((2,), 'a')": (lambda lib: lib.full((2,), "a"), TypeError, r"full: fill_value must be a number, not str"),
    "full((2,), None)": (lambda lib: lib.full((2,), None), TypeError, r"full: fill_value .* not NoneType"),
    "full((2,), [1, 2])": (lambda lib: lib.full((2,), [1, 2]), TypeError, r"full: fill_value .* not list"),
    "eye(2.5)": (lambda lib: lib.eye(2.5), TypeError, rf"eye: {NOT_WHOLE} 2.5"),
    "eye('2')": (lambda lib: lib.eye("2"), TypeError, rf"eye: {NOT_WHOLE} '2'"),
    "eye(-1)": (lambda lib: lib.eye(-1), RuntimeError, r"eye: sizes must be non-negative"),
    "eye(2, -1)": (lambda lib: lib.eye(2, -1), RuntimeError, r"eye: sizes must be non-negative, but got \(2, -1\)"),
    "arange('3')": (lambda lib: lib.arange("3"), TypeError, r"arange: end must be a number, not str"),
    "arange(inf)": (lambda lib: lib.arange(float("inf")), RuntimeError, r"arange: end is inf; .*finite"),
    "arange(0, 3, -1)": (lambda lib: lib.arange(0, 3, -1), RuntimeError,
                         r"arange: from 0 to 3 a step of -1 never arrives; flip the sign of step"),
    "arange(3, 0)": (lambda lib: lib.arange(3, 0), RuntimeError, r"arange: from 3 to 0 a step of 1 never arrives"),
    "randperm(-1)": (lambda lib: lib.randperm(-1), RuntimeError, r"randperm: sizes must be non-negative"),
    "randperm(2.5)": (lambda lib: lib.randperm(2.5), TypeError, rf"randperm: {NOT_WHOLE} 2.5"),
    "randint(0, 5, (2.5,))": (lambda lib: lib.randint(0, 5, (2.5,)), TypeError, rf"randint: {NOT_WHOLE} 2.5"),
    "randint(0.5, 5, (2,))": (lambda lib: lib.randint(0.5, 5, (2,)), TypeError,
                              r"randint: low must be a whole number \(int\), not 0.5"),
    "randint(5, 0, (2,))": (lambda lib: lib.randint(5, 0, (2,)), RuntimeError,
                            r"randint: low \(5\) must be less than high \(0\)"),
    "randint(0, 5, (-1,))": (lambda lib: lib.randint(0, 5, (-1,)), RuntimeError, r"randint: sizes .* non-negative"),
    "reshape(2.5, 2)": (lambda lib: lib.ones(5).reshape(2.5, 2), TypeError, rf"reshape: {NOT_WHOLE} 2.5"),
    "reshape('5')": (lambda lib: lib.ones(5).reshape("5"), TypeError, rf"reshape: {NOT_WHOLE} '5' \(str\)"),
    "reshape((True, 5))": (lambda lib: lib.ones(5).reshape((True, 5)), TypeError, rf"reshape: {NOT_WHOLE} True"),
    "view((2.5, 2))": (lambda lib: lib.ones(5).view((2.5, 2)), TypeError, rf"view: {NOT_WHOLE} 2.5"),
    "expand(2.5)": (lambda lib: lib.ones(1).expand(2.5), TypeError, rf"expand: {NOT_WHOLE} 2.5"),
    "permute(0.0, 1)": (lambda lib: lib.ones(2, 3).permute(0.0, 1), TypeError, rf"permute: {NOT_WHOLE} 0.0"),
    **{
        f"{maker} with dtype=object": ((lambda lib, maker=maker: make_with_dtype(lib, maker, object)), TypeError,
                                       r"dtype object is not a tensor dtype: tensors hold numbers; use gg.float32")
        for maker in ("zeros", "ones", "full", "eye", "arange", "rand", "randn", "tensor", "zeros_like", "ones_like")
    },
    "zeros with dtype=str": (lambda lib: lib.zeros(2, dtype=str), TypeError, r"dtype str is not a tensor dtype"),
}


def make_with_dtype(lib, maker, dtype):
    arguments = {"full": ((2,), 1.0), "eye": (2,), "arange": (3,), "tensor": ([1.0],),
                 "zeros_like": (lib.ones(2),), "ones_like": (lib.ones(2),)}.get(maker, (2,))
    return getattr(lib, maker)(*arguments, dtype=dtype)


GLASSGRAD_ONLY = {
    # PyTorch raises too, but another kind of exception (its own message or an internal one)
    "bce target 2.0": (lambda: gg.nn.functional.binary_cross_entropy(gg.tensor([0.5]), gg.tensor([2.0])),
                       RuntimeError, r"binary_cross_entropy: target must hold probabilities \(labels\) in \[0, 1\]"),
    "bce target -1": (lambda: gg.nn.BCELoss()(gg.tensor([0.5, 0.5]), gg.tensor([1.0, -1.0])),
                      RuntimeError, r"target must hold probabilities .* map them to 0/1 first"),
    "bce target nan": (lambda: gg.nn.functional.binary_cross_entropy(gg.tensor([0.5]), gg.tensor([float("nan")])),
                       RuntimeError, r"target must hold probabilities .*NaN is not one"),
    "rand with an int dtype": (lambda: gg.rand(2, dtype=gg.int64), NotImplementedError,
                               r"rand: dtype int64 is not floating.*gg.float32 or gg.float64"),
    "randn with a bool dtype": (lambda: gg.randn(2, dtype=gg.bool_), NotImplementedError,
                                r"randn: dtype bool is not floating"),
    "zeros with a datetime dtype": (lambda: gg.zeros(2, dtype="M8[s]"), TypeError,
                                    r"dtype datetime64\[s\] is not a tensor dtype"),
    "tensor.to(object)": (lambda: gg.ones(2).to(object), TypeError, r"dtype object is not a tensor dtype"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_glassgrad_refuses_in_one_line(name):
    assert_glassgrad_refuses(*ERRORS[name])


@pytest.mark.torch
@pytest.mark.parametrize("name", [n for n in ERRORS if "dtype" not in n])  # torch.zeros(dtype=object): not a dtype
def test_pytorch_refuses_with_the_same_kind_of_error(name, torch):
    make, kind, _ = ERRORS[name]
    with pytest.raises(kind):
        make(torch)


@pytest.mark.torch
def test_pytorch_refuses_non_number_dtypes_with_a_type_error_too(torch):
    with pytest.raises(TypeError):
        torch.zeros(2, dtype=object)


@pytest.mark.parametrize("name", GLASSGRAD_ONLY)
def test_glassgrad_refuses_what_pytorch_refuses_differently(name):
    make, kind, message = GLASSGRAD_ONLY[name]
    with pytest.raises(kind, match=message) as caught:
        make()
    assert "\n" not in str(caught.value)


@pytest.mark.torch
def test_pytorch_refuses_a_bce_target_outside_0_1(torch):
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([2.0]))


def test_bce_targets_at_the_ends_of_0_1_are_accepted():
    loss = gg.nn.functional.binary_cross_entropy(gg.tensor([0.25, 0.75]), gg.tensor([0.0, 1.0]))
    assert loss.item() == pytest.approx(-np.log(0.75))


# --- property: whatever a shape holds, it is refused unless every entry is a whole number -------

MAKERS = {
    "zeros": lambda shape: gg.zeros(*shape),
    "ones": lambda shape: gg.ones(shape),
    "rand": lambda shape: gg.rand(*shape),
    "randn": lambda shape: gg.randn(shape),
    "full": lambda shape: gg.full(shape, 2.0),
    "reshape": lambda shape: gg.zeros(24).reshape(*shape),
}
BAD_ENTRIES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 4).map(float),
    st.text(max_size=3),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
    st.integers(0, 4).map(np.float64),
    st.just(gg.tensor(2.0)),
)


@given(
    maker=st.sampled_from(sorted(MAKERS)),
    good=st.lists(st.integers(0, 3), max_size=3),
    bad=BAD_ENTRIES,
    position=st.integers(0, 3),
)
def test_any_shape_with_a_non_integer_entry_is_refused(maker, good, bad, position):
    assume(good or not isinstance(bad, list))  # zeros([2, 3]) alone is the shape given as one list: fine
    shape = list(good)
    position = min(position, len(shape))
    shape.insert(position, bad)
    with pytest.raises(TypeError, match=rf"{maker}: sizes must be whole numbers \(ints\), but got .* at position "
                                        rf"{position}") as caught:
        MAKERS[maker](tuple(shape))
    assert "\n" not in str(caught.value)


@given(maker=st.sampled_from(sorted(MAKERS)), shape=st.lists(st.integers(0, 3), max_size=3),
       kinds=st.lists(st.sampled_from([int, np.int64, np.int32, lambda n: gg.tensor(n)]), min_size=3, max_size=3))
def test_any_shape_of_whole_numbers_is_accepted(maker, shape, kinds):
    """Python ints, NumPy integers and 0-d integer tensors all count as sizes, as in PyTorch."""
    assume(shape or maker in {"ones", "randn", "full"})  # f() gives no sizes: PyTorch's TypeError (f(()) is 0-d)
    entries = tuple(kind(n) for kind, n in zip(kinds, shape))
    made = gg.zeros(int(np.prod(shape))).reshape(*entries) if maker == "reshape" else MAKERS[maker](entries)
    assert made.shape == tuple(shape)


@given(size=st.integers(-5, -1), maker=st.sampled_from(["zeros", "ones", "rand", "randn", "randperm"]))
def test_any_negative_size_is_refused(size, maker):
    with pytest.raises(RuntimeError, match=rf"{maker}: sizes must be non-negative, but got \({size},\)"):
        getattr(gg, maker)(size)
