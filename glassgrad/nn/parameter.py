"""``Parameter``: a tensor that a module learns.

Design choice (as in PyTorch): a ``Parameter`` is a :class:`~glassgrad.tensor.Tensor`
*subclass*. Assigning one to a :class:`~glassgrad.nn.Module` attribute registers it; a
plain tensor assigned to a module, even one that requires grad, stays an ordinary attribute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import as_array
from ..tensor import Tensor, float32


class Parameter(Tensor):
    """A tensor that a :class:`Module` learns: registered on assignment, ``requires_grad=True``.

    ``Parameter(t)`` shares ``t``'s memory (no copy) and is always a leaf; its
    ``.grad`` is a plain :class:`~glassgrad.tensor.Tensor`.

    >>> import glassgrad as gg
    >>> w = gg.nn.Parameter(gg.zeros(2, 3))
    >>> w.requires_grad, w.is_leaf, isinstance(w, gg.Tensor)
    (True, True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty(0, dtype=float32)
        elif isinstance(data, Tensor):
            array = data.array
        else:
            array = as_array(data, None)
        self._init_leaf(array)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (a lazy layer's, before its first call): it holds no numbers
    until :meth:`materialize` fills it, in place, so an optimizer given it beforehand trains it afterwards."""

    __slots__ = ()

    def materialize(self, shape: tuple[int, ...]) -> None:
        """Become an ordinary :class:`Parameter` of ``shape``, in the dtype it holds (e.g. after ``module.to``);
        its numbers are uninitialised: the layer then draws them."""
        self.array = np.empty(shape, dtype=self.array.dtype)
        self.__class__ = Parameter

    def __repr__(self) -> str:
        return "<UninitializedParameter>"
