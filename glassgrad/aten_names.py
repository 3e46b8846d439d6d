"""PyTorch's older and lower-level spellings, each built on a function glassgrad already has.

* ``range(start, end, step)``: deprecated in PyTorch in favour of ``arange``; unlike it, ``end`` is included:
  the ``⌊(end − start)/step⌋ + 1`` numbers ``start + k·step``, always in the default float dtype unless
  ``dtype`` says otherwise (an integer dtype first truncates start, end and step to whole numbers, as PyTorch);
* ``scalar_tensor(s)``: a 0-d tensor holding the number ``s`` (default float dtype);
* ``rsub(input, other, alpha)``: ``other − alpha·input``, subtraction with its operands swapped;
* ``frobenius_norm(input, dim)``: ``√(Σ xᵢⱼ²)`` over one or two dims (``linalg.vector_norm`` with p = 2);
* ``nuclear_norm(input, dim)``: the sum of the singular values of the matrices in two dims
  (``linalg.matrix_norm`` with ``'nuc'``).

Their gradients are those of the functions they call.

>>> import glassgrad as gg
>>> import warnings
>>> with warnings.catch_warnings():       # gg.range warns that it is deprecated
...     warnings.simplefilter("ignore")
...     gg.range(1, 2, 0.5).tolist()
[1.0, 1.5, 2.0]
>>> gg.rsub(gg.tensor([1.0, 2.0]), 10.0).tolist()
[9.0, 8.0]
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import linalg
from .arguments import check_alpha, resolve_dtype
from .creation import _leaf, _real, check_steps, full, tensor_argument
from .device import check_device
from .dtypes import get_default_dtype
from .settings import warn_at_learners_line
from .tensor import Tensor, lift


def range(start: float = 0, end: float | None = None, step: float = 1, *, dtype: Any = None,  # noqa: A001
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """``start, start + step, …`` up to and including ``end`` (PyTorch's deprecated ``torch.range``; ``arange``
    leaves ``end`` out). Warns, as PyTorch does, that it is deprecated."""
    warn_at_learners_line("range is deprecated (in PyTorch too): its end is included, unlike Python's range; use "
                          "gg.arange(start, end + step, step)")
    check_device(device)
    if end is None:
        raise TypeError("range: give both start and end (torch.range(start, end, step) includes end); for "
                        "0, 1, …, n − 1 use gg.arange(n)")
    start, end, step = (_real(v, label, "range") for v, label in ((start, "start"), (end, "end"), (step, "step")))
    dtype = resolve_dtype(dtype) or get_default_dtype()
    if dtype.kind in "iu":  # as PyTorch: an integer range takes whole numbers (truncated towards 0)
        start, end, step = int(start), int(end), int(step)
    check_steps("range", start, end, step)
    count = math.floor((end - start) / step) + 1
    values = start + step * np.arange(count, dtype=np.float64)
    return _leaf(values.astype(dtype), requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s`` (a bool counts as 0 or 1; a 0-d tensor as its number, one with a dim
    is refused, as PyTorch's Number)."""
    value = s.item() if isinstance(s, Tensor) and s.ndim == 0 else s
    value = int(value) if isinstance(value, (bool, np.bool_)) else value
    return full((), _real(value, "s", "scalar_tensor"), dtype=resolve_dtype(dtype) or get_default_dtype(),
                device=device, requires_grad=requires_grad)


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``other − alpha·input``: ``input`` subtracted (``alpha`` times) from ``other``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"rsub: input must be a tensor, got {type(input).__name__}")
    check_alpha("rsub", input.array.dtype, other, alpha)
    return lift(other, input).sub(input, alpha=alpha)  # a number counts as PyTorch's, as for ``number - input``


def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``√(Σ x²)`` over ``dim`` (one or two dims)."""
    tensor_argument(input, "frobenius_norm", "input", 1)
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    if len(dims) > 2:
        raise ValueError(f"frobenius_norm: dim holds at most 2 dims, got {dims}; use gg.linalg.vector_norm for more")
    return linalg.vector_norm(input, 2, dims, keepdim)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The sum of the singular values of the matrices in the two dims ``dim`` (the last two when None); as in
    PyTorch, ``nuclear_norm(x, True)`` means ``keepdim=True``."""
    tensor_argument(input, "nuclear_norm", "input", 1)
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    dims = (-2, -1) if dim is None else tuple(dim)
    if len(dims) != 2:
        raise ValueError(f"nuclear_norm: dim must be two dims (the matrices' rows and columns), got {dims}")
    return linalg.matrix_norm(input, "nuc", dims, keepdim)
