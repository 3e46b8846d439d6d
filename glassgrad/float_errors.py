"""NumPy's floating-point warnings, silenced in the rules that meet PyTorch's infinities and NaNs.

PyTorch computes ``log(0) = −∞``, ``√−1 = NaN``, ``1/0 = ∞``, ``0/0 = NaN`` and the gradients that follow from them
(``d√a/da = 1/(2√a)`` is ∞ at a = 0) without a word; NumPy gives the same numbers but warns ("RuntimeWarning: divide
by zero encountered in log"), which a learner reads as glassgrad's mistake. :func:`quiet` wraps an op's forward and
backward rule so that NumPy says nothing while it runs; the numbers stay what NumPy and PyTorch give.

``np.errstate`` does this, but costs about 0.9 µs a call, more than ``x.log()`` of 8 numbers costs in all (0.75 µs).
Since NumPy 2 the error state is a context variable (named ``numpy.ufunc.extobj``); :func:`quiet` sets it to the
value ``np.errstate(all="ignore")`` gives it, found once at import, and resets it after: about 0.15 µs. Where NumPy
keeps its error state elsewhere (NumPy 1.x), ``quiet`` is ``np.errstate(all="ignore")`` as a decorator.

The other ops (``+``, ``−``, ``·``, ``@``, sums) meet ±∞ only when numbers blow up, as a training run with too large a
learning rate makes them (``inf − inf``, an overflowing product); 0.15 µs on each of them would slow every step.
Their warnings are dropped instead once NumPy has raised them, by :data:`NUMPY_WARNINGS_OF_GLASSGRAD`, a warnings
filter added at import that matches NumPy's floating-point warnings raised on a line of glassgrad's own modules:
nothing is paid until a warning is raised, and the learner's own NumPy code (whose lines are in the learner's
modules) still warns. A program that turns warnings into errors itself (``warnings.simplefilter("error")``) puts its
filter before this one and sees them.
"""

from __future__ import annotations

import contextvars
import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def _error_state() -> tuple[contextvars.ContextVar | None, Any]:
    """NumPy's error-state context variable and its value inside ``np.errstate(all="ignore")`` (None, None: NumPy
    keeps no such variable)."""
    with np.errstate(all="ignore"):
        inside = contextvars.copy_context()
    for variable, value in inside.items():
        if variable.name == "numpy.ufunc.extobj":
            return variable, value
    return None, None


_STATE, _IGNORE = _error_state()


def quiet(rule: Callable) -> Callable:
    """``rule`` (called with positional arguments) run with NumPy's floating-point warnings off (divide by zero,
    invalid value, overflow), as PyTorch computes ±∞ and NaN silently."""
    if _STATE is None:
        return np.errstate(all="ignore")(rule)
    state, ignore = _STATE, _IGNORE

    @functools.wraps(rule)
    def quietly(*args: Any) -> Any:  # an op's rules are called with positional arguments: **kwargs would cost 0.1 µs
        token = state.set(ignore)
        try:
            return rule(*args)
        finally:
            state.reset(token)

    return quietly


NUMPY_WARNINGS_OF_GLASSGRAD = {
    "action": "ignore", "category": RuntimeWarning, "module": r"glassgrad\.",
    "message": r"(divide by zero|overflow|underflow|invalid value) encountered in ",
}
"""The filter for NumPy's floating-point warnings on glassgrad's lines (``module``: the module of the line that called
NumPy), added once at import: PyTorch gives the same ±∞ and NaN without a word."""
warnings.filterwarnings(**NUMPY_WARNINGS_OF_GLASSGRAD)
