"""How a tensor prints: ``tensor([1.0000, 2.5000])`` with PyTorch's defaults, changed by :func:`set_printoptions`.

>>> import glassgrad as gg
>>> gg.set_printoptions(precision=2)
>>> gg.tensor([1 / 3])
tensor([0.33])
>>> gg.set_printoptions(profile="default")
"""

from __future__ import annotations

import sys

import numpy as np

DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
PROFILES = {"default": DEFAULTS, "short": {**DEFAULTS, "precision": 2, "edgeitems": 2},
            "full": {**DEFAULTS, "threshold": sys.maxsize}}
OPTIONS = dict(DEFAULTS)


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Digits after the point, how many entries print before ``...``, the line width, as in PyTorch.

    ``profile`` (``"default"``, ``"short"``, ``"full"``) sets them all first; ``sci_mode=True``
    prints floats in scientific notation, ``False`` never, ``None`` when NumPy finds it clearer.
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
    if sci_mode is not None or profile is not None:
        OPTIONS["sci_mode"] = sci_mode


def array_text(array: np.ndarray, prefix: str) -> str:
    """``array`` written with the current options (the body of a tensor's repr)."""
    formatter = None
    if OPTIONS["sci_mode"] is not None and array.dtype.kind == "f":
        digits = OPTIONS["precision"]
        formatter = {"float_kind": (lambda x: f"{x:.{digits}e}") if OPTIONS["sci_mode"] else
                     (lambda x: f"{x:.{digits}f}")}
    return np.array2string(array, separator=", ", prefix=prefix, precision=OPTIONS["precision"],
                           threshold=OPTIONS["threshold"], edgeitems=OPTIONS["edgeitems"],
                           max_line_width=OPTIONS["linewidth"], formatter=formatter)
