"""PyTorch's older spellings and the names it keeps for compatibility.

* ``apply_(f)`` / ``map_(other, f)`` / ``map2_(x, y, f)``: a Python function called on every entry (and the
  others'), written back in place; slow, for plain tensors only (a tensor that requires grad is refused, as in
  PyTorch).
* Older spellings: ``H`` (a matrix's conjugate transpose: its transpose), ``unsafe_chunk``/``unsafe_split``/
  ``unsafe_split_with_sizes`` (``chunk``/``split``), ``narrow_copy`` (``narrow`` copied), ``new(…)`` (an empty
  tensor, a tensor of data, or of a size, in this tensor's dtype), ``nonzero_static(size=n)``.
* ``gg.asarray(obj, dtype=…, copy=…)``: ``obj`` itself when it is a tensor already in that dtype (unless
  ``copy=True``), else a new tensor; the functions PyTorch removed (``torch.lstsq`` …) are refused with a line
  naming their replacement (the ``*_copy`` functions: :mod:`glassgrad.copies`).

>>> import glassgrad as gg
>>> gg.ones(2).new([1, 2]).tolist()
[1.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import shape_arg, sizes_tuple
from .autograd import note_unreplayable, recorded_call
from .composed import narrow
from .composed_slices import split_with_sizes
from .creation import _leaf, as_tensor, copied
from .device import check_device
from .settings import warn_once
from .tensor import Tensor
from .tensor_in_place import function_form
from .tensor_methods import _plain, add, method


def _conjugate_transpose(self: Tensor) -> Tensor:
    """A matrix's conjugate transpose: its transpose, for real numbers. As PyTorch's ``H``, a 0-d tensor is returned
    as it is (with PyTorch's deprecation warning, once), any other than 2 dims refused."""
    if self.ndim == 2:
        return self.t()
    if self.ndim == 0:
        warn_once("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().")
        return self
    raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor; "
                       "use x.mH for a batch of matrices")


add("H", property(_conjugate_transpose, doc=_conjugate_transpose.__doc__))
add("unsafe_chunk", Tensor.chunk)
add("unsafe_split", Tensor.split)
add("unsafe_split_with_sizes", split_with_sizes)


@method
def narrow_copy(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow`` copied (the result does not share this tensor's memory)."""
    return narrow(self, dim, start, length).clone()


@method
def nonzero_static(self: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero()`` in exactly ``size`` rows: cut off, or filled with ``fill_value`` rows."""
    return Tensor._wrap(recorded_call(_static_rows, self.array, int(size), int(fill_value)))  # a kernel of a step


def _static_rows(array: np.ndarray, size: int, fill_value: int) -> np.ndarray:
    """:func:`nonzero_static`'s rows, as one kernel of a compiled step (:func:`~glassgrad.autograd.recorded_call`):
    worked out in Python outside the kernels, a replay gave the captures' positions for every later tensor."""
    found = np.argwhere(array)[:size]
    rows = np.full((size, array.ndim), fill_value, dtype=np.int64)
    rows[:len(found)] = found
    return rows


@method
def new_empty_strided(self: Tensor, size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                      requires_grad: bool = False) -> Tensor:
    """``new_empty(size)``: a new row-major tensor (glassgrad does not lay out memory by the strides given)."""
    return self.new_empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)

def _entry_by_entry(self: Tensor, name: str, function: Any, *others: Tensor) -> Tensor:
    if self._requires_grad:
        raise RuntimeError(f"{name}: can't call a Python function on a tensor that requires grad; call it on "
                           ".detach()")
    note_unreplayable(f"{name} runs a Python function on each entry, which a replay would not")
    arrays = [np.broadcast_to(_plain(other), self.shape) for other in others]
    values = [function(*(array.flat[i].item() for array in (self.array, *arrays))) for i in range(self.array.size)]
    self.array[...] = np.asarray(values, dtype=self.array.dtype).reshape(self.shape)
    return self


@method
def apply_(self: Tensor, callable: Any) -> Tensor:
    """``x = f(x)`` for every entry, in place (a Python call per entry: slow)."""
    return _entry_by_entry(self, "apply_", callable)


@method
def map_(self: Tensor, tensor: Tensor, callable: Any) -> Tensor:
    """``x = f(x, y)`` for every entry and the matching entry of ``tensor`` (broadcast), in place."""
    return _entry_by_entry(self, "map_", callable, tensor)


@method
def map2_(self: Tensor, x: Tensor, y: Tensor, callable: Any) -> Tensor:
    """``s = f(s, x, y)`` for every entry and the matching entries of ``x`` and ``y`` (broadcast), in place."""
    return _entry_by_entry(self, "map2_", callable, x, y)


@method
def new(self: Tensor, *args: Any) -> Tensor:
    """PyTorch's old constructor: ``x.new()`` (empty), ``x.new(data)`` or ``x.new(*size)`` (zeros), in x's dtype."""
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray, Tensor)):
        return copied(args[0], self.dtype, False, None)
    return _leaf(np.zeros(shape_arg(args, "new") if args else (0,), dtype=self.array.dtype), False)


def _no_dtype(name: str, why: str) -> None:
    def refuse(self: Tensor, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{name}: glassgrad has no {why} dtype (NumPy computes in float16/32/64); use .float() or "
                        ".double()")

    refuse.__name__ = refuse.__qualname__ = name
    add(name, refuse)


_no_dtype("bfloat16", "bfloat16")
for _name in ("cfloat", "cdouble", "chalf"):
    _no_dtype(_name, "complex")


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor: itself when it is one already in ``dtype`` (unless ``copy=True``), sharing memory with a
    NumPy array of that dtype, as :func:`~glassgrad.creation.as_tensor` (unless ``copy=True``; PyTorch copies a 0-d
    array, as a number), else a new one."""
    if (isinstance(obj, Tensor) or isinstance(obj, np.ndarray) and obj.ndim) and not copy and not requires_grad:
        return as_tensor(obj, dtype=dtype, device=device)
    check_device(device)
    return copied(obj, dtype, requires_grad, None)


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """A new tensor of ``size`` (row-major: glassgrad does not lay out memory by the strides given)."""
    from .creation import empty

    sizes_tuple(stride, "empty_strided", "stride")
    return empty(sizes_tuple(size, "empty_strided"), dtype=dtype, device=device, requires_grad=requires_grad)


def _removed_function(name: str, replacement: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"torch.{name}: removed from PyTorch in version 1.9; use {replacement}")

    refuse.__name__ = refuse.__qualname__ = name
    return refuse


def _complex_function(name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"torch.{name}: glassgrad has no complex numbers; rotary position embeddings can be written in real "
            "numbers: x * cos + rotate_half(x) * sin, with x1, x2 = x.chunk(2, dim=-1) and rotate_half(x) = "
            "torch.cat((-x2, x1), dim=-1)")

    refuse.__name__ = refuse.__qualname__ = name
    return refuse


COMPLEX = {name: _complex_function(name) for name in ("polar", "view_as_complex", "view_as_real", "complex")}
"""The ``torch.*`` functions that make or read complex tensors (Llama's rotary embeddings), refused in one line."""
REMOVED = {name: _removed_function(name, replacement) for name, replacement in [
    ("lstsq", "gg.linalg.lstsq(A, B).solution (arguments swapped)"),
    ("solve", "gg.linalg.solve(A, B) (arguments swapped)"), ("eig", "gg.linalg.eigh(A) for a symmetric matrix"),
    ("symeig", "gg.linalg.eigh(A)"), ("matrix_rank", "gg.linalg.matrix_rank(A)")]}
"""The ``torch.*`` functions PyTorch removed, refused with a line naming their replacement."""
FUNCTION_FORMS = {name: function_form(name) for name in (
    "narrow_copy", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "resize_as_", "conj_physical_",
    "is_inference", "get_device")}
"""``torch.narrow_copy(x, …)`` … : the methods' function forms."""
