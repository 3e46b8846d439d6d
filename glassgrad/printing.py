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

import numpy as np

DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
PROFILES = {"default": DEFAULTS, "short": {**DEFAULTS, "precision": 2, "edgeitems": 2},
            "full": {**DEFAULTS, "threshold": sys.maxsize}}
OPTIONS = dict(DEFAULTS)


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Digits after the point, how many entries print before ``...``, the line width, as in PyTorch.

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
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"set_printoptions: {name} must be a non-negative number, got {value!r}")
            OPTIONS[name] = value
    OPTIONS["sci_mode"] = sci_mode  # as PyTorch: each call sets it, so a call without it goes back to the rule


def _float_writer(array: np.ndarray) -> Callable[[float], str]:
    """PyTorch's one format for all of a float tensor's entries, chosen from its finite nonzero ones (m their
    smallest magnitude, M their largest):

    * all whole numbers: ``1.``, ``-3.`` (scientific when M/m > 1000 or M > 10⁸);
    * otherwise ``precision`` digits after the point, ``0.9000`` (scientific when M/m > 1000, M > 10⁸ or m < 10⁻⁴);
    * ``sci_mode`` True or False decides instead; each entry is right-aligned to the widest.
    """
    digits = OPTIONS["precision"]
    finite = array[np.isfinite(array) & (array != 0)].astype(np.float64)
    whole = bool((finite == np.ceil(finite)).all())
    sci = False
    if finite.size:
        low, high = np.abs(finite).min(), np.abs(finite).max()
        sci = bool(high > 1000 * low or high > 1e8 or (not whole and low < 1e-4))
    if OPTIONS["sci_mode"] is not None:
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
    # every entry right-aligned to the widest finite nonzero one; zeros, NaN and ±inf alone are not (PyTorch)
    width = max((len(write(x)) for x in finite.tolist()), default=0)
    return lambda x: write(float(x)).rjust(width)


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


def _bool_writer(array: np.ndarray) -> Callable[[bool], str]:
    """``True``/``False`` right-aligned to the widest one shown (``[True, True]`` unpadded, as PyTorch's)."""
    width = 5 if not array.all() else 4
    return lambda x: str(bool(x)).rjust(width)


def array_text(array: np.ndarray, prefix: str) -> str:
    """``array`` written with the current options (the body of a tensor's repr); floats as PyTorch writes them
    (:func:`_float_writer`), from the entries shown (:func:`_shown`)."""
    formatter = None
    if array.size and array.dtype.kind == "f":
        formatter = {"float_kind": _float_writer(_shown(array))}
    elif array.size and array.dtype.kind == "b":
        formatter = {"bool": _bool_writer(_shown(array))}
    text = np.array2string(array, separator=", ", prefix=prefix, precision=OPTIONS["precision"],
                           threshold=OPTIONS["threshold"], edgeitems=OPTIONS["edgeitems"],
                           max_line_width=OPTIONS["linewidth"], formatter=formatter)
    return text.replace(", ...,", ",  ...,")  # PyTorch's ellipsis inside a row: ``2,  ..., 1997``
