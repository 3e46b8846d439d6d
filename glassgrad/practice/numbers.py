"""Numbers in exercises: the engine's float64 results as exact decimals, and numbers as text.

The engine computes in float64, where one tenth has no exact binary form: ``2 − 0.1·3``
comes out as ``1.7000000000000002``. Exercises are built so that every answer is a short
exact decimal, so :func:`exact` recovers that decimal from the engine's float and refuses
(``ArithmeticError``) when the float is not within 1e-9 of one, which would mean a
generator broke its own design. Where numbers are genuinely not short decimals (a real
model's weights), :func:`rounded` rounds them for display, and the exercise states the
precision.

>>> from glassgrad.practice.numbers import exact, number_text
>>> number_text(exact(2 - 0.1 * 3))
'1.7'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np

from ..creation import tensor
from ..tensor import Tensor, float64
from ..trace import counting

EXACT_PLACES = 6
"""Engine results are matched to decimals with at most this many places."""

CLOSE = 1e-9
"""How far (relative) a float64 result may sit from the exact decimal it stands for."""

FLOAT_NOISE = 1e-12
"""How far (relative) a float64 result may sit from a short decimal and still be read as that decimal's float noise
when rounding it for display (a few float64 roundings are ~1e-15): -3.8594999989 is no noise around -3.8595, so at
three places it shows -3.859 (with :data:`CLOSE` it showed -3.86)."""


def seeded(seed: int, stream: int = 0) -> np.random.Generator:
    """The random generator of an exercise: the same seed, the same numbers. Seeds are whole numbers from 0 up.

    ``stream`` (a kind's own number) gives two kinds that draw alike different numbers for one seed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number from 0 up, not {seed!r}")
    return np.random.default_rng([int(seed), stream] if stream else int(seed))


def engine_tensor(values: object, requires_grad: bool = False) -> Tensor:
    """The numbers of an exercise as a float64 glassgrad tensor (integers and tenths stay exact enough)."""
    return tensor(np.asarray(values, dtype=np.float64), dtype=float64, requires_grad=requires_grad)


def rounded(value: float, places: int) -> Fraction:
    """``value`` rounded to ``places`` decimal places (half to even), as an exact fraction.

    A float that stands for a short decimal (within float noise, :data:`FLOAT_NOISE`) is rounded as that decimal,
    so the engine's 0.11499999999999999 for 0.115 shows as 0.12 at two places.

    >>> rounded(0.123456, 3)
    Fraction(123, 1000)
    """
    decimal = Decimal(repr(float(value)))
    snapped = decimal.quantize(Decimal(1).scaleb(-EXACT_PLACES), rounding=ROUND_HALF_EVEN)
    if abs(float(snapped) - float(value)) <= FLOAT_NOISE * max(1.0, abs(float(value))):
        decimal = snapped  # float noise around a short decimal (0.11499999999999999): round the decimal itself
    return Fraction(decimal.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def is_short_decimal(value: float, places: int = EXACT_PLACES) -> bool:
    """True when ``value`` is, up to float64 noise, a decimal with at most ``places`` places."""
    return abs(float(rounded(value, places)) - float(value)) <= CLOSE * max(1.0, abs(float(value)))


def exact(value: float, places: int = EXACT_PLACES) -> Fraction:
    """The short exact decimal that the engine's float ``value`` stands for.

    Raises ``ArithmeticError`` when ``value`` is not within 1e-9 (relative) of a decimal
    with at most ``places`` places.
    """
    if not is_short_decimal(value, places):
        raise ArithmeticError(
            f"{float(value)!r} is not a decimal with at most {places} places; the exercise "
            "generator should have chosen numbers that give a short exact answer"
        )
    return rounded(value, places)


def as_shown(value: float, places: int) -> Fraction:
    """``value`` exactly if it is a decimal with at most ``places`` places, else rounded to ``places``."""
    return exact(value, places) if is_short_decimal(value, places) else rounded(value, places)


def fraction_array(values: np.ndarray | Sequence, convert: Callable[[float], Fraction] = exact) -> np.ndarray:
    """An object array of exact fractions, one per entry of ``values`` (same shape)."""
    values = np.asarray(values, dtype=np.float64)
    result = np.empty(values.shape, dtype=object)
    for index, value in np.ndenumerate(values):
        result[index] = convert(float(value))
    return result


def number_text(value: Fraction | int | None) -> str:
    """A number as a learner would write it: ``3``, ``-2.5``, ``0.125``; ``?`` for a blank.

    Fractions without a short decimal form stay fractions (``1/3``).
    """
    if value is None:
        return "?"
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    twos = fives = 0
    rest = value.denominator
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    whole, decimals = divmod(abs(value.numerator) * 10**places // value.denominator, 10**places)
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{decimals:0{places}d}"  # exact at any length (a Decimal would round past 28 digits)


def factor_text(value: Fraction | None) -> str:
    """A number ready to multiply in a written sum: negatives in parentheses, ``(-2)``."""
    text = number_text(value)
    return f"({text})" if text.startswith("-") else text


def products_text(left: Sequence, right: Sequence) -> str:
    """A dot product written out: ``2·1 + (-1)·3 + 0·4``."""
    return " + ".join(f"{factor_text(a)}·{factor_text(b)}" for a, b in zip(left, right))


def _shown_index(index: tuple, shape: tuple) -> tuple:
    """The index as a sheet shows the tensor: one number for a column vector, none for a scalar."""
    if len(shape) == 2 and shape[1] == 1:
        return tuple(index[:1])
    return tuple(index) if shape else ()


def index_label(name: str, index: tuple, shape: tuple) -> str:
    """How worked solutions name one entry (the one convention, :mod:`glassgrad.trace.counting`):
    ``W[2,3]`` for the index ``(1, 2)``, ``x[2]`` for a column, ``L`` for a scalar."""
    return counting.entry(name, _shown_index(index, shape))


def stated_label(name: str, index: tuple, shape: tuple) -> str:
    """How a question names its blank, the convention spelt out: ``W[2,3] (row 2, column 3, counting from 1)``."""
    return counting.stated(name, _shown_index(index, shape))
