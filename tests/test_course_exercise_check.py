"""A notebook exercise's ``check`` with the numbers a learner's code produces: NumPy scalars and float32 tensors.

The oracle is the decimal each dtype itself writes for its number (NumPy's shortest round-trip repr, which is
also what PyTorch and glassgrad print): the engine's float32 0.1 is 0.1, not the 0.10000000149… of its widening
to float64, and NumPy's float64 0.25 is 0.25.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.course import check

DECIMALS = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False)


def test_the_right_decimal_is_right_against_a_float32_tensor():
    assert check(0.1, gg.tensor(0.1)).correct  # gg.tensor's default dtype is float32, as PyTorch's
    assert check("0.7", gg.tensor([0.7])).correct
    assert check(1.3, gg.tensor(1.3, requires_grad=True)).correct
    assert str(check(0.1, gg.tensor(0.2))) == "Not quite: you answered 0.1, the answer is 0.2."


def test_a_numpy_number_is_read_as_the_number_it_is():
    assert check(np.float64(0.25), 0.25).correct
    assert check(np.array([0.1, 0.2]).sum(), 0.3).correct  # 0.30000000000000004, within the tolerance
    assert check(np.float32(0.1), 0.1).correct
    assert str(check(np.float64(0.5), 0.25)) == "Not quite: you answered 0.5, the answer is 0.25."
    assert check(np.bool_(True), 1).status == "unreadable"


@given(DECIMALS)
def test_any_short_decimal_is_right_against_its_float32_and_numpy_forms(value):
    text = str(value)
    assert check(text, gg.tensor(float(value), dtype=gg.float32)).correct, text
    assert check(np.float64(float(value)), float(value)).correct, text
    assert check(gg.tensor(float(value), dtype=gg.float32), text).correct, text


def test_an_engine_value_that_is_not_a_number_is_reported_not_raised():
    """A learner who changed a cell above (η = 10, a thousand steps) leaves inf or nan to grade against: the cell
    says so in one line (it raised ValueError: Invalid literal for Fraction: 'nan')."""
    for expected in (float("nan"), float("inf"), np.float64("-inf"), gg.tensor(float("nan"))):
        verdict = check(0.5, expected)
        assert verdict.status == "unreadable" and "\n" not in str(verdict), verdict
        assert str(verdict).startswith("Cannot grade yet: the engine's value here is "), verdict
    assert check(..., float("nan")).status == "unanswered"
