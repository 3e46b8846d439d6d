"""How a tensor prints: ``tensor([1.0000, 2.5000])`` with PyTorch's defaults, changed by :func:`set_printoptions`.

>>> import glassgrad as gg
>>> gg.set_printoptions(precision=2)
>>> gg.tensor([1 / 3])
tensor([0.33])
>>> gg.set_printoptions(profile="default")
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np

DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
PROFILES = {"default": DEFAULTS, "short": {**DEFAULTS, "precision": 2, "edgeitems": 2},
            "full": {**DEFAULTS, "threshold": sys.maxsize}}
OPTIONS = dict(DEFAULTS)


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Digits after the point, how many entries print before ``...``, the line width, as in PyTorch.

    ``precision`` and ``edgeitems`` are whole numbers (PyTorch takes ``2.0`` and fails at the next print),
    ``threshold`` and ``linewidth`` any non-negative numbers (``float("inf")``); NumPy's numbers are taken.
    ``profile`` (``"default"``, ``"short"``, ``"full"``) sets them all first; ``sci_mode=True``
    prints floats in scientific notation, ``False`` never, ``None`` by PyTorch's rule (:func:`_float_writer`).
    """
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
        OPTIONS.update(PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems, "linewidth": linewidth}
    for name, value in given.items():
        if value is not None:
            whole = name in ("precision", "edgeitems")  # a count of digits or entries; NumPy's ints are taken
            if isinstance(value, bool) or not isinstance(value, Integral if whole else Real) or value < 0:
                kind = "number (a whole one)" if whole else "number"
                raise ValueError(f"set_printoptions: {name} must be a non-negative {kind}, got {value!r}")
            OPTIONS[name] = value
    OPTIONS["sci_mode"] = sci_mode  # as PyTorch: each call sets it, so a call without it goes back to the rule


def _float_writer(array: np.ndarray) -> tuple[Callable[[float], str], int]:
    """PyTorch's one format for all of a float tensor's entries, chosen from its finite nonzero ones (m their
    smallest magnitude, M their largest):

    * all whole numbers: ``1.``, ``-3.`` (scientific when M/m > 1000 or M > 10⁸);
    * otherwise ``precision`` digits after the point, ``0.9000`` (scientific when M/m > 1000, M > 10⁸ or m < 10⁻⁴);
    * ``sci_mode`` True or False decides instead; each entry is right-aligned to the widest.

    Also that width, which decides how many entries a line holds (at least 1, as PyTorch's).
    """
    digits = OPTIONS["precision"]
    finite = array[np.isfinite(array) & (array != 0)].astype(np.float64)
    whole = bool((finite == np.ceil(finite)).all())
    sci = False
    if finite.size:
        low, high = np.abs(finite).min(), np.abs(finite).max()
        sci = bool(high > 1000 * low or high > 1e8 or (not whole and low < 1e-4))
    if OPTIONS["sci_mode"] is not None and finite.size:  # (only zeros, NaN and ±inf: written 0., nan, as PyTorch)
        sci = OPTIONS["sci_mode"]
    if sci:
        def write(x: float) -> str:
            return f"{x:.{digits}e}"
    elif whole:
        def write(x: float) -> str:
            return f"{x:.0f}." if np.isfinite(x) else f"{x}"
    else:
        def write(x: float) -> str:
            return f"{x:.{digits}f}"
    # every entry right-aligned to the widest finite nonzero one (zeros, NaN and ±inf do not set the width: PyTorch)
    width = max((len(write(x)) for x in finite.tolist()), default=1)
    return (lambda x: write(float(x)).rjust(width)), width


def _shown(array: np.ndarray) -> np.ndarray:
    """The entries a print shows: all of them, or, past ``threshold``, the first and last ``edgeitems`` along each
    dim. They alone decide the format, as in PyTorch (a 784×128 weight printed in scientific notation because of an
    entry the ``...`` hides)."""
    if array.size <= OPTIONS["threshold"]:
        return array
    edge = int(OPTIONS["edgeitems"])
    for axis, size in enumerate(array.shape):
        if size > 2 * edge:
            array = np.take(array, [*range(edge), *range(size - edge, size)], axis=axis)
    return array


def _bool_writer(array: np.ndarray) -> tuple[Callable[[bool], str], int]:
    """``True``/``False`` right-aligned to the widest one shown (``[True, True]`` unpadded, as PyTorch's)."""
    width = 5 if not array.all() else 4
    return (lambda x: str(bool(x)).rjust(width)), width


def _int_writer(array: np.ndarray) -> tuple[Callable[[int], str], int]:
    """Whole numbers right-aligned to the widest one shown."""
    width = max((len(str(x)) for x in array.ravel().tolist()), default=1)
    return (lambda x: str(int(x)).rjust(width)), width


def _writer(shown: np.ndarray) -> tuple[Callable[[Any], str], int]:
    """How every entry is written (:func:`_float_writer` and the others) and the width they are aligned to."""
    if shown.dtype.kind == "f":
        return _float_writer(shown)
    if shown.dtype.kind == "b":
        return _bool_writer(shown)
    return _int_writer(shown)


def array_text(array: np.ndarray, indent: int) -> str:
    """``array`` written with the current options (the body of a tensor's repr, ``indent`` characters in), laid out
    as PyTorch lays it out: one format for all entries, taken from the entries shown (:func:`_shown`,
    :func:`_float_writer`); as many entries on a line as ``linewidth`` holds; past ``threshold`` entries,
    ``edgeitems`` at each end of every dim around ``...``."""
    if array.size == 0:
        return "[]"
    write, width = _writer(_shown(array))
    per_line = max(1, int((OPTIONS["linewidth"] - indent - array.ndim + 1) // (width + 2)))  # the innermost dim's
    return _nested(array, indent, write, per_line, array.size > OPTIONS["threshold"], int(OPTIONS["edgeitems"]))


def _nested(array: np.ndarray, indent: int, write: Callable[[Any], str], per_line: int, summarize: bool,
            edge: int) -> str:
    """One dim's text: its entries (a vector, ``per_line`` to a line) or its slices, each a dim less, one indent
    further in."""
    if array.ndim == 0:
        return write(array.item())
    cut = summarize and array.shape[0] > 2 * edge
    if array.ndim == 1:
        values = array.tolist()
        texts = ([write(x) for x in values[:edge]] + [" ..." if edge else "..."]
                 + [write(x) for x in values[len(values) - edge:]] if cut else [write(x) for x in values])
        lines = [", ".join(texts[start:start + per_line]) for start in range(0, len(texts), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(array.shape[0])
    shown = [*rows[:edge], None, *rows[len(rows) - edge:]] if cut else list(rows)  # None: the rows left out
    parts = ["..." if i is None else _nested(array[i], indent + 1, write, per_line, summarize, edge) for i in shown]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def edges_hidden() -> bool:
    """Whether ``edgeitems`` is 0, so that a summarized print shows no entry (``[...]``): PyTorch then adds
    ``size=`` to every print, as to an empty tensor's."""
    return int(OPTIONS["edgeitems"]) == 0


def with_settings(body: str, settings: list[str], indent: int) -> str:
    """``tensor(body, dtype=…, grad_fn=…)``: each setting after the body, on a line of its own (indented) where
    the line would pass ``linewidth``, as PyTorch places them."""
    texts = [body]
    line = len(body) - body.rfind("\n") + 1
    for setting in settings:
        if line + len(setting) + 2 > OPTIONS["linewidth"]:
            texts.append(",\n" + " " * indent + setting)
            line = indent + len(setting)
        else:
            texts.append(", " + setting)
            line += len(setting) + 2
    return "".join(texts) + ")"
