"""A Python number written into an integer tensor (``x[i] = v``, ``fill_``, ``masked_fill``, ``index_fill``,
``scatter``, a ``clamp`` bound) against PyTorch 2.13: the same entries and dtype, or PyTorch's RuntimeError.

PyTorch wraps a negative int into an unsigned dtype down to −max (``x[0] = -1`` into uint8 is 255), cuts a float in
the dtype's range toward 0, and refuses the rest (``300`` into uint8, ``-2.7`` into uint8, NaN, ±inf). glassgrad let
NumPy's OverflowError out for ``-1`` into uint8 and wrote ``-2.7`` into uint8 by scatter as 254.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

WRITES = {
    "setitem": lambda lib, x, v: x.__setitem__(0, v),
    "setitem by index": lambda lib, x, v: x.__setitem__(lib.tensor([0, 2]), v),
    "setitem by mask": lambda lib, x, v: x.__setitem__(lib.tensor([True, False, True]), v),
    "fill_": lambda lib, x, v: x.fill_(v),
    "masked_fill": lambda lib, x, v: x.masked_fill(lib.tensor([True, False, True]), v),
    "index_fill": lambda lib, x, v: x.index_fill(0, lib.tensor([1]), v),
    "scatter": lambda lib, x, v: x.scatter(0, lib.tensor([0, 2]), v),
    "clamp max": lambda lib, x, v: x.clamp(max=v),
    "clamp min": lambda lib, x, v: x.clamp(min=v),
}
DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
numbers = st.one_of(st.integers(-2**16, 2**16), st.sampled_from([-256, -255, -129, -128, -1, 127, 128, 255, 256,
                                                                  2**31, -2**31 - 1, 2**63 - 1]),
                    st.floats(-300, 300), st.sampled_from([-0.5, 255.5, 127.9, -128.9, float("nan"), float("inf")]))


def _written(lib, name, dtype, value):
    x = lib.tensor([3, 1, 2], dtype=getattr(lib, dtype))
    try:
        out = WRITES[name](lib, x, value)
    except RuntimeError:
        return "RuntimeError"
    out = x if out is None else out
    return str(out.dtype).removeprefix("torch."), str(out.tolist())  # as text: NaN equals NaN


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(WRITES))
@given(dtype=st.sampled_from(DTYPES), value=numbers)
def test_a_number_written_into_an_integer_tensor_is_pytorchs(torch, name, dtype, value):
    assert _written(gg, name, dtype, value) == _written(torch, name, dtype, value)


def test_the_refusal_is_one_line_naming_the_range():
    with pytest.raises(RuntimeError, match=r"^item assignment: 300 cannot be written to a uint8 tensor without "
                                           r"overflow \(it takes -255 to 255\); convert .*\.long\(\)$"):
        gg.zeros(2, dtype=gg.uint8)[0] = 300
    with pytest.raises(RuntimeError, match=r"^masked_fill: -2\.7 cannot be written to a uint8 tensor .*\(it takes 0 "):
        gg.zeros(2, dtype=gg.uint8).masked_fill(gg.tensor([True, False]), -2.7)
    x = gg.zeros(2, dtype=gg.uint8)
    x[1] = -1
    assert x.tolist() == [0, 255]
