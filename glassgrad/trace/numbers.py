"""How the glass box writes numbers: rounded for display only, signs always written.

Every renderer except JSON shows values through :func:`format_number`, so a learner
reads ``+0.4400`` and ``-0.5500`` (the sign in words, not only in colour) and the same
string appears in the terminal, Markdown and HTML. The full-precision numbers are in the
JSON trace, and every rendered trace says so (:data:`PRECISION_NOTE`).

>>> format_number(0.1), format_number(-0.05), format_number(0.0), format_number(3e-9)
('+0.1000', '-0.0500', '0', '+3.0e-09')

Every number shown, here and in the commands' lines (a loss, an accuracy in %), is written by
:func:`rounded_text`, which rounds an exact half away from zero, as a learner rounds by hand:
``0.53125`` is ``0.5313`` and 17 of 32 right is ``53.13%`` (Python's own format rounds the exact
binary value half to even: ``0.5312``, ``53.12%``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np

from ..arguments import shape_text
from .counting import numbers_text

DECIMALS = 4
HALF_AWAY_FROM_ZERO = Context(prec=1100, rounding=ROUND_HALF_UP)
"""Decimal arithmetic exact for any float64 (its exact decimal value has at most 767 significant digits), rounding
an exact half away from zero (Decimal's ROUND_HALF_UP)."""
SIGN_COLOURS = {"positive": "#1d4ed8", "negative": "#c2410c"}
"""The one colour scheme for signs (blue and orange, told apart with red-green colour blindness too):
the terminal, the HTML trace and the playground (``--positive``/``--negative`` in its app.css) use it."""
MAX_ROWS = 8
MAX_COLUMNS = 8
"""Larger matrices are shown cut to this many rows and columns (the JSON keeps them whole)."""
MAX_BLOCKS = 4
"""A tensor of 3 or more dims is shown as its matrices ``[1,·,·]``, ``[2,·,·]``, …: the first this many."""


def rounded_text(value: Any, decimals: int, notation: str = "f", signed: bool = False) -> str:
    """``value`` written as ``format(value, ".{decimals}{notation}")`` does (``notation`` "f", "e", "%" or "g",
    ``signed``: a ``+`` before a positive number), but an exact half rounded away from zero; with "g",
    ``decimals`` counts significant digits and trailing zeros go, as Python's "g" writes them.

    The digits come from the float's exact value, so only a value exactly halfway between two
    shown numbers (a binary fraction: 0.53125, 0.125) can round otherwise than Python's format does.
    A :class:`~fractions.Fraction` (a count of right answers over a count of questions) is read exactly
    too, so ``Fraction(3, 200)`` is ``2%``, where the float ``3 / 200`` lies just below 1.5%:

    >>> rounded_text(0.53125, 4), rounded_text(17 / 32, 2, "%"), rounded_text(-2.5, 0), f"{0.53125:.4f}"
    ('0.5313', '53.13%', '-3', '0.5312')
    >>> rounded_text(Fraction(3, 200), 0, "%"), rounded_text(3 / 200, 0, "%")
    ('2%', '1%')
    >>> rounded_text(0.53125, 4, "g"), rounded_text(0.5, 4, "g"), rounded_text(0.125, 2, "g"), f"{0.53125:.4g}"
    ('0.5313', '0.5', '0.13', '0.5312')

    A negative number that rounds to zero is written ``0`` (``signed``: ``-0``, keeping the sign it has), where
    Python's format writes ``-0``:

    >>> rounded_text(-0.25, 0), rounded_text(-0.00004, 2, "%"), f"{-0.25:.0f}"
    ('0', '0.00%', '-0')
    """
    spec = f"{'+' if signed else ''}.{decimals}{notation}"
    with localcontext(HALF_AWAY_FROM_ZERO):  # a fraction whose decimals end (k/2ᵃ5ᵇ) is exact in 1100 digits
        if isinstance(value, Fraction):
            exact = Decimal(value.numerator) / Decimal(value.denominator)
        else:
            value = float(value)
            if not math.isfinite(value):
                return format(value, spec)
            exact = Decimal(value)
        if notation == "g":  # the digits rounded here; Python's "g" writes them (no trailing zeros, its exponents)
            text = format(float(Context(prec=max(decimals, 1), rounding=ROUND_HALF_UP).create_decimal(exact)), spec)
        else:
            text = format(exact, spec)
    mantissa, e, exponent = text.partition("e")
    if not signed and mantissa.startswith("-") and not mantissa.strip("-0.%"):  # -0.25 shown as 0, not -0
        mantissa = mantissa[1:]
    return f"{mantissa}e{int(exponent):+03d}" if e else mantissa  # 1.3e+06, as Python writes it (Decimal: 1.3e+6)


def rounding_note(decimals: int = DECIMALS, percent_decimals: int | None = None, significant: bool = False) -> str:
    """What numbers written by :func:`rounded_text` were rounded to, said once where a learner reads them (a
    trace's notes, a command's last line): ``decimals`` for its numbers, ``percent_decimals`` for its percentages;
    ``significant``: ``decimals`` counts significant digits (numbers written with the "g" notation).

    >>> rounding_note(), rounding_note(4, 2), rounding_note(4, significant=True)
    ('values rounded to 4 decimals for display', 'values rounded to 4 decimals for display, percentages to 2', \
'values rounded to 4 significant digits for display')
    """
    percentages = "" if percent_decimals is None else f", percentages to {percent_decimals}"
    digits = "significant digits" if significant else "decimals"
    return f"values rounded to {decimals} {digits} for display{percentages}"


PRECISION_NOTE = f"{rounding_note()} (tiny or huge: 2 digits, 3.0e-09); full in JSON"
"""The note of every number written by :func:`format_number`, where a JSON file keeps each one whole."""


def format_number(value: Any, signed: bool = True) -> str:
    """``value`` with its sign and :data:`DECIMALS` decimals; tiny and huge values in e-notation.

    Exact zero is ``0``; a nonzero value that would round to ``±0.0000`` is written in
    e-notation instead, so a small gradient never looks like zero. ``signed=False`` writes no ``+``
    (for a quantity that is never negative: a loss, an accuracy, a norm, where a sign tells nothing).
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return ("+inf" if signed else "inf") if value > 0 else "-inf"
    if value == 0:
        return "0"
    if abs(value) < 0.5 * 10**-DECIMALS or abs(value) >= 1e6:
        return rounded_text(value, 1, "e", signed)
    return rounded_text(value, DECIMALS, "f", signed)


def percent_text(share: float) -> str:
    """``share`` (0.16 for 16%) in whole percent, :func:`rounded_text`'s way; a nonzero share that would read
    ``0%`` gets two significant digits instead, so a small change never looks like none:

    >>> percent_text(0.76), percent_text(0.0016), percent_text(0.000025), percent_text(0.0)
    ('76%', '0.16%', '0.0025%', '0%')
    """
    text = rounded_text(share, 0, "%")
    if share == 0 or not math.isfinite(share) or text.lstrip("+-") != "0%":
        return text
    return rounded_text(share, 1 - math.floor(math.log10(abs(share) * 100)), "%")


def written_rounded(value: float) -> bool:
    """Whether :func:`format_number` writes ``value`` rounded (its text read back is not the value): an
    explanation whose numbers are rounded writes ``≈`` before its result, since the written arithmetic need not
    give the value shown (``0.1235·0.4568 = 0.056415…``, shown ``0.0564``). NaN and ±∞ are written as they are.

    >>> written_rounded(0.5), written_rounded(0.123456), written_rounded(float("nan"))
    (False, True, False)
    """
    value = float(value)
    return math.isfinite(value) and float(format_number(value)) != value


def written_number(text: str) -> Fraction | None:
    """The exact value of a number as a learner reads it written (``+0.5000``, ``(-0.3000)``, ``1.6e-05``, ``1/3``,
    ``−2``), or None for ``nan``, ``inf`` and anything else that is not a finite number.

    >>> written_number("(-0.5500)"), written_number("+1.0e-05"), written_number("+inf")
    (Fraction(-11, 20), Fraction(1, 100000), None)
    """
    try:
        return Fraction(text.strip().strip("()").replace("−", "-"))
    except (ValueError, ZeroDivisionError):
        return None


def relation(*values: float, rounds: Callable[[float], bool] = written_rounded,
             written: tuple[Fraction | None, str] | None = None) -> str:
    """``=`` or ``≈`` between a written calculation and the result written after it: ``=`` exactly when the
    statement is true of the numbers as written.

    ``written`` is (the calculation done exactly on its numbers as written, the result as written): ``=`` when the
    two are the same number, whatever the engine's unrounded numbers were (``0.5000·0.5000 = 0.2500`` when the
    engine's float32 factors are 0.50000001), else ``≈`` (``0.1235·0.4568 ≈ 0.0564``). Where the calculation cannot
    be done exactly on the written numbers (``written`` None, or its calculation None: ``tanh(0.31)``, a softmax),
    ``=`` only when none of ``values`` (every number in it and the result) is written rounded (``rounds``:
    :func:`written_rounded` by default), since a rounded number's arithmetic need not give the result shown.

    >>> relation(0.5, 0.25), relation(0.5, 1 / 3), relation(1 / 3, written=(Fraction(1, 4), "0.2500"))
    ('=', '≈', '=')
    """
    if written is not None:
        calculation, result = written
        shown = written_number(result)
        if calculation is not None and shown is not None:
            return "=" if calculation == shown else "≈"
    return "≈" if any(rounds(value) for value in values) else "="


def entry_writer(dtype: Any, signed: bool = True) -> Callable[[Any], str]:
    """How one entry of a ``dtype`` array is written: a bool ``True``/``False`` and an integer in full, as PyTorch
    prints them (every digit, past 2**53 too, where a float would lose some), a float by :func:`format_number`.

    >>> [entry_writer(d)(v) for d, v in ((bool, True), (np.int64, 2**53 + 1), (np.float32, 0.5))]
    ['True', '9007199254740993', '+0.5000']
    """
    kind = np.dtype(dtype).kind
    if kind == "b":
        return lambda value: str(bool(value))
    if kind in "iu":
        return lambda value: str(int(value))
    return lambda value: format_number(value, signed)


def shown_array(values: Any) -> np.ndarray:
    """``values`` as an array whose entries are written as the engine holds them: a bool or integer array keeps its
    dtype (every digit of an int64, :func:`entry_writer`), anything else becomes float64 (nested lists with ``None``
    for NaN and ±∞, as the JSON carries them: NaN). The one rule of every display and of the JSON read back.

    >>> shown_array([True, False]).dtype, shown_array([2**53 + 1]).dtype, shown_array([[0.5, None]]).tolist()
    (dtype('bool'), dtype('int64'), [[0.5, nan]])
    """
    array = np.asarray(values)
    return array if array.dtype.kind in "iub" else array.astype(np.float64)


def as_matrix(values: Any) -> np.ndarray:
    """``values`` as a 2-D array for display: a scalar is 1×1, a vector one row, higher dims flattened
    (:func:`matrix_blocks` shows them as matrices), its entries as :func:`shown_array` keeps them."""
    array = shown_array(values)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, -1)
    return array.reshape(-1, array.shape[-1])


def matrix_cells(values: Any) -> tuple[list[list[str]], str]:
    """The display strings of ``values`` as rows of cells (right-aligned to one width), cut to
    MAX_ROWS × MAX_COLUMNS; each entry written by :func:`entry_writer`.

    Returns the rows and a note saying what was cut ("" when nothing was).
    """
    matrix = as_matrix(values)
    rows, columns = matrix.shape
    shown = matrix[:MAX_ROWS, :MAX_COLUMNS]
    write = entry_writer(matrix.dtype)
    width = max((len(write(v)) for v in shown.flat), default=0)
    cells = [[write(v).rjust(width) for v in row] for row in shown]
    cut = []
    if rows > MAX_ROWS:
        cut.append(f"first {MAX_ROWS} of {rows} rows")
    if columns > MAX_COLUMNS:
        cut.append(f"first {MAX_COLUMNS} of {columns} columns")
    return cells, ("showing " + " and ".join(cut) if cut else "")


def matrix_blocks(values: Any) -> tuple[list[tuple[str, list[list[str]]]], str]:
    """``values`` as matrices of cells, each with its heading: one matrix headed ``""`` for up to 2 dims; for 3 or
    more, one per index of the leading dims, headed by that index counting from 1 with ``·`` for the matrix's own
    (``[2,·,·]``: the matrix ``x[1]`` in code), the first :data:`MAX_BLOCKS`, all cells right-aligned to one width.

    Returns the matrices and a note: the shape of a tensor of 3 or more dims, and what was cut.

    >>> blocks, note = matrix_blocks(np.arange(8).reshape(2, 2, 2))
    >>> blocks[1], note
    (('[2,·,·]', [['4', '5'], ['6', '7']]), 'shape (2, 2, 2): one matrix per [i,·,·]')
    """
    array = np.asarray(values)
    if array.ndim < 3 or array.size == 0:
        cells, cut = matrix_cells(array)
        return [("", cells)], cut
    leading = array.shape[:-2]
    indices = list(itertools.islice(np.ndindex(*leading), MAX_BLOCKS))
    blocks = [(index, matrix_cells(array[index])) for index in indices]
    width = max(len(cell) for _, (cells, _) in blocks for row in cells for cell in row)
    dots = ",·,·]"
    letters = ",".join("ijklmn"[:len(leading)])
    notes = [f"shape {shape_text(array.shape)}: one matrix per [{letters}{dots}"]
    total = math.prod(leading)
    if total > MAX_BLOCKS:
        notes.append(f"showing first {MAX_BLOCKS} of {total} matrices")
    if blocks[0][1][1]:
        notes.append(blocks[0][1][1])
    return ([(f"[{numbers_text(index)}{dots}", [[cell.rjust(width) for cell in row] for row in cells])
             for index, (cells, _) in blocks], "; ".join(notes))


def format_values(values: Any) -> str:
    """``values`` on one line: ``+0.1000`` for a number, ``[+0.1000, -0.1000]`` for a vector,
    ``[[…], […]]`` for a matrix, each matrix of a tensor of 3 or more dims after its heading
    (``[1,·,·] [[…], […]]``), cut as in :func:`matrix_blocks`.

    >>> format_values(np.array([[True, False]])), format_values(np.arange(4).reshape(2, 1, 2))
    ('[[True, False]]', '[1,·,·] [[0, 1]]; [2,·,·] [[2, 3]]  (shape (2, 1, 2): one matrix per [i,·,·])')
    """
    array = np.asarray(values)
    if array.ndim == 0:
        return matrix_cells(array)[0][0][0]
    blocks, cut = matrix_blocks(array)
    texts = []
    for heading, cells in blocks:
        rows = ["[" + ", ".join(cell.strip() for cell in row) + "]" for row in cells]
        text = rows[0] if array.ndim == 1 else "[" + ", ".join(rows) + "]"
        texts.append(f"{heading} {text}" if heading else text)
    return "; ".join(texts) + (f"  ({cut})" if cut else "")

