"""A trace as JSON, in full precision: the one format that does not round.

Arrays become nested lists of numbers written with Python's shortest exact ``repr``, so
reading the file back gives the engine's values bit for bit (a float32 value is written
as the float64 number that equals it). JSON has no NaN or infinity: those are written as
the strings ``"nan"``, ``"inf"`` and ``"-inf"``.

Keys (at least): ``parameters`` (name → values), ``gradients`` (name → values, same
shapes), ``loss`` (``{name, symbol, value, reduction}``), ``forward`` and ``backward``
(lists of steps, each with ``formula``, ``inputs`` and ``output``), ``updates``, ``ops``
(the op-by-op record) and ``notes``.

>>> import json
>>> import glassgrad as gg
>>> x = gg.tensor([0.1], dtype=gg.float64, requires_grad=True)
>>> with gg.trace() as tape:
...     (x * x).sum().backward()
>>> json.loads(render_json(tape.describe()))["gradients"]["θ"]
[0.2]
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .numbers import shown_array

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _number(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def to_jsonable(value: Any) -> Any:
    """``value`` with arrays as nested lists and non-finite numbers as strings."""
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return to_jsonable(value.astype(np.float64).tolist())
        return value.tolist()
    if isinstance(value, (np.floating, float)):
        return _number(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def render_json(document: dict, indent: int | None = 1) -> str:
    """``document`` as JSON text (full precision)."""
    return json.dumps(to_jsonable(document), indent=indent, ensure_ascii=False, allow_nan=False)


def values_array(values: Any) -> np.ndarray:
    """Values read back from the JSON (nested lists, maybe with "nan"/"inf" strings) as the engine wrote them, by
    :func:`glassgrad.trace.numbers.shown_array`: a bool or integer array as it is (every digit of an int64), any
    other as float64.

    >>> values_array([[1.5, "nan"]]).dtype, values_array([True, False]).tolist(), int(values_array([2**53 + 1])[0])
    (dtype('float64'), [True, False], 9007199254740993)
    """
    def number(item: Any) -> Any:
        if isinstance(item, list):
            return [number(part) for part in item]
        return NON_FINITE.get(item, item) if isinstance(item, str) else item

    return shown_array(number(values))
