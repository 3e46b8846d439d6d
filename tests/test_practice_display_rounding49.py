"""Rounding for display never moves a number by more than half a unit in the last place shown.

Before: :func:`glassgrad.practice.numbers.rounded` read any float within 1e-9 (relative) of a six-place decimal as that
decimal's float noise, so -3.8594999989 (1.1e-9 from -3.8595) showed at three places as -3.86 instead of -3.859,
about one number in 20,000 shown (found by round 92's fuzzer). Float noise is ~1e-15; the snap now takes 1e-12.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from glassgrad.practice.numbers import FLOAT_NOISE, exact, rounded


def test_a_number_just_below_a_half_point_is_rounded_down():
    assert rounded(-3.8594999989, 3) == Fraction(-3859, 1000)
    assert rounded(2.0004999989, 3) == Fraction(2, 1)


def test_float_noise_around_a_short_decimal_is_still_read_as_the_decimal():
    assert rounded(0.11499999999999999, 2) == Fraction(12, 100)  # 0.115's float, rounded half to even as 0.115
    assert exact(2 - 0.1 * 3) == Fraction(17, 10)
    assert rounded(1.0000000000000002 * 0.125, 2) == Fraction(12, 100)


@st.composite
def near_half_points(draw) -> tuple[float, int]:
    """A number within 5e-9 (relative, more than float noise) of a half point at ``places`` (where rounding turns)."""
    places = draw(st.integers(min_value=0, max_value=5))
    half = (draw(st.integers(min_value=-10**6, max_value=10**6)) + 0.5) / 10**places
    shift = draw(st.floats(min_value=2e-12, max_value=5e-9)) * draw(st.sampled_from([-1, 1]))
    return half * (1 + shift), places


@given(st.one_of(st.tuples(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
                           st.integers(min_value=0, max_value=6)), near_half_points()))
def test_rounding_moves_a_number_by_at_most_half_a_unit_shown(drawn):
    value, places = drawn
    exact_value = Fraction(Decimal(repr(value)))
    allowed = Fraction(1, 2 * 10**places) + Fraction(FLOAT_NOISE) * max(1, abs(exact_value))
    assert abs(rounded(value, places) - exact_value) <= allowed
