"""How the playground writes numbers: glassgrad's one rule, used for every number the page shows.

The page renders only what the API sends, so rounding happens here, by the glass box's own
formatter (:func:`glassgrad.trace.numbers.format_number`): 4 decimal places with the sign
always written (``+0.5460``, ``-0.4500``), so a reader without colour still sees which way a
gradient points; e-notation where a value would read as zero or is huge; exact zero as ``0``.
The JSON carries the engine's full value beside each text, and NaN/±∞ travel as ``null``
(JSON has no NaN).

>>> shown(0.546), shown(-0.45), shown(0.0), operand(-0.3)
('+0.5460', '-0.4500', '0', '(-0.3000)')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.trace import counting
from glassgrad.trace.numbers import DECIMALS, entry_writer, format_number, shown_array

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def precision_note(dtype: Any = np.float32) -> str:
    """What the page's numbers are: the engine's values of ``dtype`` (a model's: float32 on the page, float64 for a
    float64 model stepped through in a notebook), rounded for display."""
    return (f"Numbers are the engine's {np.dtype(dtype).name} values rounded to {DECIMALS} decimal places for display; "
            "in the step-through view, click one to see its formula and full value.")


PRECISION_NOTE = precision_note()
"""The note of the pages, whose models are float32."""

def shown(value: float, signed: bool = True) -> str:
    """``value`` as display text (see the module's rule); ``signed=False`` drops a leading ``+``."""
    return format_number(value, signed)


def texts(values: Any, signed: bool = True) -> Any:
    """The display text of every number in ``values`` (a number, or nested lists/an array of any shape),
    nested like it: ``texts([[0.5, -1e-7]])`` → ``[["+0.5000", "-1.0e-07"]]``; a bool ``True``/``False``, an integer
    every digit (:func:`glassgrad.trace.numbers.entry_writer`). NaN and ±∞ (which the JSON carries as ``null``) are
    written ``nan``, ``+inf``, ``-inf``."""
    array = shown_array(values)  # nested lists with None (NaN, ±∞ in the JSON): NaN
    write = entry_writer(array.dtype, signed)  # a bool is True/False, an integer every digit
    flat = np.array([write(value) for value in array.ravel()], dtype=object)
    return np.reshape(flat, array.shape).tolist()


def operand(value: float) -> str:
    """A number inside a formula: no ``+`` sign, negatives in parentheses (``0.5 · (-0.3)``)."""
    text = shown(value, signed=False)
    return f"({text})" if text.startswith("-") else text


def subscript(name: str, layer: int) -> str:
    """``subscript("W", 2)`` → ``"W₂"``."""
    return f"{name}{str(layer).translate(SUBSCRIPTS)}"


def json_number(value: float) -> float | None:
    """A float JSON can carry: ``None`` for NaN and ±∞."""
    value = float(value)
    return value if math.isfinite(value) else None


def entry_names(label: str, shape: tuple) -> list:
    """What a learner reads for each entry of a ``shape`` tensor called ``label`` (``W₁[2,1]``, counting
    from 1 as :mod:`glassgrad.trace.counting` says; ``ŷ[2]`` for ``ŷ = softmax(Z₃)``), nested like the values;
    the page's cell ids keep the code's 0-based index."""
    symbol = label.split(" = ", 1)[0]
    names = [counting.entry(symbol, index) for index in np.ndindex(*shape)]
    return np.reshape(np.array(names, dtype=object), shape).tolist()


def matrix_json(name: str, label: str, array: np.ndarray | None, shape: tuple = ()) -> dict[str, Any]:
    """A vector or matrix for the page: the values (full precision), their display text and each entry's name.

    ``array`` None means "not computed yet": the page shows ``?`` placeholders in ``shape``.
    """
    if array is None:
        return {"name": name, "label": label, "shape": list(shape), "values": None, "text": None,
                "entries": entry_names(label, tuple(shape))}
    values = np.asarray(array, dtype=np.float64)
    flat_values = [json_number(v) for v in values.ravel()]
    return {
        "name": name,
        "label": label,
        "shape": list(values.shape),
        "values": np.reshape(np.array(flat_values, dtype=object), values.shape).tolist(),
        "text": texts(array),  # a class index or a bool as it is (shown_array), a float to DECIMALS places
        "entries": entry_names(label, values.shape),
    }


def json_safe(data: Any) -> Any:
    """``data`` with every non-finite float replaced by ``None`` (a last guard before encoding)."""
    if isinstance(data, float):
        return json_number(data)
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(value) for value in data]
    if isinstance(data, np.generic):
        return json_safe(data.item())
    return data
