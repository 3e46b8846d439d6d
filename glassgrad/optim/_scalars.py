"""PyTorch's arithmetic on an optimizer's options given as 0-d tensors, on the NumPy numbers a step reads for them.

PyTorch's Adam keeps ``betas=(torch.tensor(0.9), torch.tensor(0.999))`` as tensors and works its step's constants
out with them: ``1 − β₁ᵗ`` in float32 for float32 tensors. A step of glassgrad reads such a tensor as a NumPy number
of its dtype (:meth:`~glassgrad.optim.optimizer.Optimizer._tensor_options_as_numbers`), whose arithmetic rounds as
PyTorch's 0-d tensors do, except where PyTorch's ops take a way of their own: those are here.

>>> bool(tensor_power(np.float32(0.999), 3) == np.float32(0.999) * np.float32(0.999) * np.float32(0.999))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np


def tensor_power(base: Any, exponent: float) -> Any:
    """``base ** exponent`` as PyTorch's ``pow`` of a 0-d tensor ``base`` (a NumPy number of its dtype: an option
    given as a tensor) by a Python number rounds it: ``x·x`` and ``x·x·x`` for the exponents 2 and 3, else C's
    ``pow`` in float64, rounded to ``base``'s dtype; Python's ``**`` for a Python ``base``."""
    if not isinstance(base, np.generic):
        return base**exponent
    if exponent == 2:
        return base * base
    if exponent == 3:
        return base * base * base
    return base.dtype.type(float(base) ** exponent)


def tensor_quotient(dividend: Any, divisor: Any) -> Any:
    """``dividend / divisor`` as PyTorch's step divides options that may be 0-d tensors (NumPy numbers of their
    dtype here): a Python number by a tensor is ``tensor.reciprocal() * number`` there (``Tensor.__rtruediv__``), in
    the tensor's dtype; any other pair NumPy divides as PyTorch does (a float32 tensor by a float: in float32)."""
    if isinstance(divisor, np.generic) and not isinstance(dividend, np.generic):
        return divisor.dtype.type(1) / divisor * dividend
    return dividend / divisor
