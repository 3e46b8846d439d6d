"""PyTorch's typed tensor classes from before dtypes (``FloatTensor``, ``DoubleTensor``, ``LongTensor``, …) and
from before tensors had gradients (``autograd.Variable``).

Older course code builds tensors with them (``torch.LongTensor([0, 2])``, ``torch.FloatTensor(3, 4)``), tests
with them (``isinstance(x, torch.FloatTensor)``), converts with them (``x.type(torch.DoubleTensor)``) and sets the
default float dtype with :func:`set_default_tensor_type`. In glassgrad each is a name for a dtype: calling it makes
an ordinary :class:`~glassgrad.tensor.Tensor` of that dtype, by the legacy constructor's rules
(:func:`~glassgrad.tensor.legacy_array`: whole numbers are a shape, filled with zeros; a sequence or array is data,
converted), and ``isinstance`` asks whether a tensor has that dtype. ``Variable(t, requires_grad=True)`` is a new
leaf sharing t's memory (``t.detach().requires_grad_()``), and every tensor is a ``Variable``.

>>> import glassgrad as gg
>>> gg.LongTensor([1.7, 2.0]).tolist(), gg.FloatTensor(2, 3).shape
([1, 2], Size([2, 3]))
>>> isinstance(gg.zeros(2), gg.FloatTensor), isinstance(gg.zeros(2), gg.DoubleTensor)
(True, False)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .device import check_device
from .dtypes import set_default_dtype
from .settings import warn_once
from .tensor import Tensor, legacy_array
from .tensor_methods import LEGACY_DTYPES, TYPE_NAMES


class LegacyTensorType(type):
    """The class of ``FloatTensor`` and its siblings: calling one makes a tensor of its ``dtype``; a tensor is an
    instance of one when it has that dtype."""

    dtype: np.dtype

    def __call__(cls, *data: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(legacy_array(data, cls.dtype, cls.__name__))

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'glassgrad.{cls.__name__}'>"


def _legacy_type(dtype_name: str) -> LegacyTensorType:
    name = f"{TYPE_NAMES[dtype_name]}Tensor"
    return LegacyTensorType(name, (), {"dtype": np.dtype(dtype_name), "__module__": __name__,
                                       "__doc__": f"Tensors of dtype {dtype_name} (PyTorch's ``torch.{name}``)."})


FloatTensor, DoubleTensor, HalfTensor = (_legacy_type(name) for name in ("float32", "float64", "float16"))
LongTensor, IntTensor, ShortTensor, CharTensor = (_legacy_type(name) for name in ("int64", "int32", "int16", "int8"))
ByteTensor, BoolTensor = _legacy_type("uint8"), _legacy_type("bool")


def set_default_tensor_type(t: Any) -> None:
    """PyTorch's older way to choose the default float dtype, deprecated since PyTorch 2.1 (it warns once in a
    process, as PyTorch does): ``DoubleTensor`` or ``'torch.DoubleTensor'`` makes new float tensors float64
    (:func:`set_default_dtype`), ``FloatTensor`` float32; an integer type is refused, and a GPU type
    (``'torch.cuda.FloatTensor'``) too."""
    warn_once("gg.set_default_tensor_type() is deprecated, as torch.set_default_tensor_type() is since PyTorch 2.1: "
              "use gg.set_default_dtype(gg.float64)")
    name = t if isinstance(t, str) else f"torch.{getattr(t, '__name__', t)}"
    if name.startswith("torch.cuda."):
        check_device("cuda")
    dtype = LEGACY_DTYPES.get(name)
    if dtype is None or dtype.kind != "f":
        raise TypeError(f"set_default_tensor_type: only float tensor types can be the default, got {t!r}; use "
                        "'torch.FloatTensor' or 'torch.DoubleTensor' (or gg.set_default_dtype)")
    set_default_dtype(dtype)


class _VariableType(type):
    """The class of :class:`Variable`: calling it makes a leaf tensor; every tensor is an instance."""

    def __call__(cls, data: Any, requires_grad: bool = False, volatile: Any = None) -> Tensor:  # type: ignore[override]
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}; make one with "
                            "gg.tensor(data)")
        if volatile is not None:
            warnings.warn("Variable(volatile=…) was removed from PyTorch and does nothing: use `with gg.no_grad():`",
                          UserWarning, stacklevel=2)
        made = Tensor._wrap(data.array)  # a new leaf over the same numbers, cut from data's graph
        made.requires_grad = requires_grad
        return made

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableType):
    """``torch.autograd.Variable``, from before tensors had gradients: ``Variable(t, requires_grad=True)`` is a new
    leaf sharing t's memory (``t.detach().requires_grad_()``), so ``.grad`` collects on it; ``volatile=`` warns
    and does nothing, as in PyTorch."""
