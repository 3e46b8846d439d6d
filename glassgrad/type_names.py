"""What kind of object something is, by PyTorch's names: ``typename`` and ``is_storage``.

>>> import glassgrad as gg
>>> gg.typename(gg.zeros(2)), gg.typename(gg.zeros(2, dtype=gg.int64)), gg.typename(3)
('torch.FloatTensor', 'torch.LongTensor', 'int')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .creation import as_tensor
from .tensor import Tensor


def typename(obj: Any) -> str:
    """A tensor's legacy type name (``t.type()``, e.g. ``'torch.FloatTensor'``); for anything else the module and
    qualified name of the object (a class or function) or of its class (``'glassgrad.nn.linear.Linear'``), without
    ``builtins.``."""
    if isinstance(obj, Tensor):
        return obj.type()
    named = obj if hasattr(obj, "__qualname__") else type(obj)
    module = getattr(obj, "__module__", None) or getattr(named, "__module__", "") or ""
    qualname = getattr(named, "__qualname__", "")
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def tensor_input(value: object, function: str, argument: str, position: int, listed: type[Exception],
                 arrays: type[Exception] = TypeError, reads: tuple[type, ...] = (),
                 numbers: type[Exception] | None = None) -> Tensor:
    """``value``, given for ``function``'s tensor ``argument`` (at 1-based ``position``), if it is a tensor; anything
    else refused as PyTorch 2.13 refuses it there, in one line naming the argument, its type and the fix. A NumPy array
    or number is ``arrays``; a list or a tuple is ``listed``; a Python number is ``numbers`` (``listed`` if not given).
    PyTorch's C++ functions raise TypeError for all of them ("must be Tensor, not numpy.ndarray"); its Python ones
    fail on the first method they call (AttributeError: ``F.sigmoid(x)`` is ``x.sigmoid()``, a loss's ``.size()``
    or ``.dim()``; TypeError where that is not callable, or where an operator comes first: ``F.softmin`` negates
    its input, and ``-[1.0]`` is a TypeError). Values of the types in ``reads`` are read as tensors, where PyTorch's
    arithmetic computes with them (``multilabel_soft_margin_loss``'s target may be a number,
    ``gaussian_nll_loss``'s a number or a NumPy array)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, reads):
        return as_tensor(value)
    error = arrays if isinstance(value, (np.ndarray, np.generic)) else \
        listed if numbers is None or isinstance(value, (list, tuple)) else numbers
    raise error(f"{function}(): argument '{argument}' (position {position}) must be Tensor, not {typename(value)}; "
                f"pass gg.tensor({argument})")


def is_storage(obj: Any) -> bool:
    """False: glassgrad's tensors keep their numbers in NumPy arrays, and it has no storage objects."""
    return False
