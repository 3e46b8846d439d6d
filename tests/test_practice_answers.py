"""The answer checker: what it reads, what it accepts, and how it refuses (never a traceback)."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from glassgrad.practice import AnswerError, check_answer, number_text, parse_answer
from glassgrad.practice.numbers import exact, rounded

integers = st.integers(min_value=-10**6, max_value=10**6)
spaces = st.text(alphabet=" \t", max_size=3)


@given(numerator=integers, denominator=st.integers(min_value=1, max_value=10**4), pad=spaces)
def test_fractions_read_exactly_with_any_spacing(numerator, denominator, pad):
    text = f"{pad}{numerator}{pad}/{pad}{denominator}{pad}"
    assert parse_answer(text) == Fraction(numerator, denominator)


@given(whole=integers, digits=st.integers(min_value=0, max_value=10**6), places=st.integers(1, 6), pad=spaces)
def test_decimals_read_exactly(whole, digits, places, pad):
    digits %= 10**places
    sign = "-" if whole < 0 else ""
    text = f"{pad}{sign}{abs(whole)}.{digits:0{places}d}{pad}"
    expected = Fraction(abs(whole)) + Fraction(digits, 10**places)
    assert parse_answer(text) == (-expected if whole < 0 else expected)


@given(value=st.fractions(max_denominator=10**4))
@example(value=Fraction(2000000000000000000000000001, 2))  # 29 digits: Decimal's default precision rounded it
def test_number_text_reads_back_to_the_same_value(value):
    assert parse_answer(number_text(value)) == value


@given(text=st.text(max_size=12))
def test_any_text_is_a_number_or_a_clear_refusal(text):
    try:
        value = parse_answer(text)
    except AnswerError as error:
        message = str(error)
        assert any(part in message for part in ("integer (3)", "point", "zero", "space inside", "out of range"))
    else:
        assert isinstance(value, Fraction)
        # only digits, signs, a point, an exponent, a slash and spaces can make a number
        assert re.fullmatch(r"[\s0-9+\-\u2212\u2013\u2014./eE]*", text)


@pytest.mark.parametrize("text, problem", [
    ("", "empty answer"), ("   ", "empty answer"), ("abc", "'abc' is not a number"), ("3 apples", "not a number"),
    ("nan", "not a number"), ("inf", "not a number"), ("1..2", "not a number"), ("--1", "not a number"),
    ("½", "not a number"), ("1/2/3", "not a number"), ("1_000", "not a number"), ("0x10", "not a number"),
    ("2,5", "with a point"), ("3/0", "divides by zero"),
    ("1 1/2", "has a space inside a number: write one number, e.g. 1.5 or 3/2"), ("2 .5", "space inside a number"),
    ("1e400", "out of range"), ("1/1e-999999999", "out of range"),
])
def test_refusals_name_the_problem_and_the_fix(text, problem):
    with pytest.raises(AnswerError, match=re.escape(problem)) as caught:
        parse_answer(text)
    assert "\n" not in str(caught.value)


def test_spellings_of_the_same_number():
    for text in ("-2.5", "- 2.5", "\u22122.5", "-5/2", "-10 / 4", "-2.50", "-25e-1", "5/-2"):
        assert parse_answer(text) == Fraction(-5, 2)
    assert parse_answer(".5") == parse_answer("0.5") == parse_answer("1/2") == parse_answer("+0.5")


def test_checker_exact_tolerant_and_given_values_modes():
    assert check_answer("3/2", Fraction(3, 2)).correct
    assert not check_answer("1.4", Fraction(3, 2)).correct
    assert check_answer("0.30000000000000004", Fraction(3, 10)).correct  # Python's float noise
    assert not check_answer("0.3000001", Fraction(3, 10)).correct
    # a rounded answer with its stated tolerance
    verdict = check_answer("0.1238", Fraction(1235, 10000), tolerance=Fraction(1, 1000))
    assert verdict.correct and "±0.001" in verdict.feedback
    assert not check_answer("0.126", Fraction(1235, 10000), tolerance=Fraction(1, 1000)).correct
    # given-values mode: what the rounded numbers shown lead to counts too
    verdict = check_answer("2.003", Fraction(2), tolerance=Fraction(1, 1000), given_values_answer=Fraction(2003, 1000))
    assert verdict.correct and "rounded numbers shown" in verdict.feedback
    assert not check_answer("2.003", Fraction(2), tolerance=Fraction(1, 1000)).correct
    wrong = check_answer("7", Fraction(-3))
    assert not wrong.correct and wrong.feedback == "Not quite: you answered 7, the answer is -3."


def test_engine_floats_become_short_exact_decimals():
    assert exact(2 - 0.1 * 3) == Fraction(17, 10)
    assert exact(0.1 + 0.2) == Fraction(3, 10)
    with pytest.raises(ArithmeticError, match="not a decimal with at most 6 places"):
        exact(1 / 3)
    assert rounded(2 / 3, 4) == Fraction(6667, 10000)
    assert number_text(Fraction(1, 3)) == "1/3" and number_text(Fraction(-1, 8)) == "-0.125"
