"""What kind of object something is, by PyTorch's names: ``typename`` and ``is_storage``.

>>> import glassgrad as gg
>>> gg.typename(gg.zeros(2)), gg.typename(gg.zeros(2, dtype=gg.int64)), gg.typename(3)
('torch.FloatTensor', 'torch.LongTensor', 'int')
"""

from __future__ import annotations

from typing import Any

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


def is_storage(obj: Any) -> bool:
    """False: glassgrad's tensors keep their numbers in NumPy arrays, and it has no storage objects."""
    return False
