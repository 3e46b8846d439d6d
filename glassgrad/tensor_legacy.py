"""PyTorch's methods about a tensor's memory, its older spellings, and its ``*_copy`` functions.

* Memory: ``data_ptr()`` (the address of the first entry), ``storage_offset()`` (entries between the start of
  the memory and the first entry), ``dim_order()``, ``share_memory_()``/``pin_memory()`` (the tensor itself:
  glassgrad has one process and no GPU), ``is_shared()``/``is_pinned()`` (False).
* ``resize_(*size)`` gives the tensor a new shape in place, keeping its entries in row-major order: cut off
  when it shrinks, zeros after them when it grows (PyTorch leaves those uninitialized); a tensor in a graph is
  refused, as in PyTorch. ``resize_as_(other)`` uses other's shape.
* ``apply_(f)`` / ``map_(other, f)``: a Python function called on every entry (and other's), written back in
  place; slow, for plain tensors only (a tensor that requires grad is refused, as in PyTorch).
* ``as_strided(size, stride, offset)``: the entries at ``offset + Σₖ iₖ·strideₖ`` (a sliding window, entries
  repeating), gathered from a row-major tensor's own entries (a copy, where PyTorch makes a view of its memory:
  positions outside the tensor are refused); ``as_strided_scatter`` writes there; ``nonzero_static(size=n)``.
* Older spellings: ``H`` (a matrix's conjugate transpose: its transpose), ``unsafe_chunk``/``unsafe_split``/
  ``unsafe_split_with_sizes`` (``chunk``/``split``), ``narrow_copy`` (``narrow`` copied), ``new(…)`` (an empty
  tensor, a tensor of data, or of a size, in this tensor's dtype).
* ``gg.t_copy(x)``, ``gg.transpose_copy(x, 0, 1)`` … (:data:`COPY_FORMS`): the view op, then a copy.
* ``gg.asarray(obj, dtype=…, copy=…)``: ``obj`` itself when it is a tensor already in that dtype (unless
  ``copy=True``), else a new tensor; ``gg.scalar_tensor(s)``: a 0-d tensor; ``gg.range(start, end, step)``
  (deprecated in PyTorch: it includes ``end``) warns and counts up to ``end`` inclusive.

>>> import glassgrad as gg
>>> gg.arange(6.0).resize_(2, 2).tolist()
[[0.0, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .arguments import check_dim, resolve_dtype, shape_arg, shape_text
from .autograd import bump_version
from .composed import narrow
from .composed_slices import split_with_sizes
from .creation import _leaf, as_tensor, tensor
from .device import check_device
from .dtypes import get_default_dtype
from .tensor import Tensor
from .tensor_in_place import function_form
from .tensor_methods import _plain, add, method


@method
def data_ptr(self: Tensor) -> int:
    """The memory address of the first entry."""
    return self.array.__array_interface__["data"][0]


@method
def storage_offset(self: Tensor) -> int:
    """How many entries into its memory the first entry sits (0 unless this is a slice of another tensor)."""
    return storage_offset_of(self)


def storage_offset_of(self: Tensor) -> int:
    """:meth:`storage_offset`, as a function."""
    owner = self.array
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    return (data_ptr(self) - owner.__array_interface__["data"][0]) // self.array.itemsize


@method
def dim_order(self: Tensor) -> tuple:
    """The dims in the order they sit in memory: ``(0, 1, …)`` for a row-major tensor (``is_contiguous()``), else
    from the largest stride to the smallest (ties keep the dims' order; with dims of size 1, which may sit
    anywhere, PyTorch may list another of the equally valid orders)."""
    if self.is_contiguous():
        return tuple(range(self.ndim))
    strides = self.stride()
    return tuple(sorted(range(self.ndim), key=lambda d: -strides[d]))


@method
def share_memory_(self: Tensor) -> Tensor:
    """The tensor itself: glassgrad runs in one process."""
    return self


@method
def pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """The tensor itself: glassgrad has no GPU to copy to."""
    return self


add("is_shared", lambda self: False)
add("is_pinned", lambda self: False)
add("H", property(lambda self: self.t(), doc="A matrix's conjugate transpose: its transpose, for real numbers."))
add("unsafe_chunk", Tensor.chunk)
add("unsafe_split", Tensor.split)
add("unsafe_split_with_sizes", split_with_sizes)


@method
def narrow_copy(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow`` copied (the result does not share this tensor's memory)."""
    return narrow(self, dim, start, length).clone()


@method
def resize_(self: Tensor, *size: Any) -> Tensor:
    """A new shape in place, the entries kept in row-major order: cut off, or followed by zeros."""
    if self._requires_grad:
        raise RuntimeError("resize_: cannot resize a tensor that requires grad (or is in a graph); resize a "
                           ".detach()ed copy, or use reshape")
    shape = shape_arg(size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size, "resize_")
    if any(n < 0 for n in shape):
        raise RuntimeError(f"resize_: sizes must be non-negative, got {shape_text(shape)}")
    count, flat = math.prod(shape), self.array.reshape(-1)
    if shape == self.shape:
        return self  # nothing changes (and PyTorch counts no change)
    if count == flat.size:
        self.array = flat.reshape(shape)
    else:
        resized = np.zeros(count, dtype=flat.dtype)
        resized[:min(count, flat.size)] = flat[:count]
        self.array = resized.reshape(shape)
    bump_version(self.array)
    return self


@method
def resize_as_(self: Tensor, other: Tensor) -> Tensor:
    """``resize_(other.shape)``."""
    return resize_(self, tuple(other.shape))


def _strided_places(x: Tensor, name: str, size: Any, stride: Any, storage_offset: int | None) -> np.ndarray:
    """The row-major positions in ``x`` that a view of ``size`` with ``stride`` (counted in entries of x's memory)
    reads: ``offset + Σₖ iₖ·strideₖ``; x must be row-major (``is_contiguous``) and every position inside it."""
    shape, steps = shape_arg(tuple(size), name), shape_arg(tuple(stride), name)
    if len(shape) != len(steps) or any(n < 0 for n in shape) or any(step < 0 for step in steps):
        raise RuntimeError(f"{name}: size {shape_text(shape)} and stride {shape_text(steps)} must have one "
                           "non-negative entry per dim")
    if not x.is_contiguous():
        raise RuntimeError(f"{name}: this tensor is not row-major (a transposed or strided view): call "
                           ".contiguous() first, so that strides count its own entries")
    start = 0 if storage_offset is None else storage_offset - storage_offset_of(x)
    places = np.full(shape, start, dtype=np.int64)
    for d, (n, step) in enumerate(zip(shape, steps)):
        places += (np.arange(n) * step).reshape([-1 if k == d else 1 for k in range(len(shape))])
    if places.size and (places.min() < 0 or places.max() >= x.numel()):
        raise RuntimeError(f"{name}: size {shape_text(shape)}, stride {shape_text(steps)} and offset "
                           f"{storage_offset} read outside this tensor's {x.numel()} entries (glassgrad reads "
                           "only the tensor's own entries, not the rest of its memory)")
    return places


@method
def as_strided(self: Tensor, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
    """The entries at ``offset + Σₖ iₖ·strideₖ`` arranged in ``size`` (entries may repeat: a sliding window);
    gathered from the row-major entries (a copy, where PyTorch makes a view), so the gradient sums over repeats."""
    places = _strided_places(self, "as_strided", size, stride, storage_offset)
    return self.reshape(-1)[Tensor._wrap(places)]


@method
def as_strided_scatter(self: Tensor, src: Tensor, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
    """A copy with ``src`` written at the positions ``as_strided(size, stride, storage_offset)`` reads."""
    places = _strided_places(self, "as_strided_scatter", size, stride, storage_offset)
    values = as_tensor(src)
    if tuple(values.shape) != places.shape:
        raise RuntimeError(f"as_strided_scatter: src has shape {shape_text(values.shape)}, expected "
                           f"{shape_text(places.shape)}")
    out = self.reshape(-1).clone()
    out[Tensor._wrap(places.reshape(-1))] = values.reshape(-1)
    return out.reshape(tuple(self.shape))


@method
def nonzero_static(self: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero()`` in exactly ``size`` rows: cut off, or filled with ``fill_value`` rows."""
    found = np.argwhere(self.array)[:size]
    rows = np.full((size, self.ndim), fill_value, dtype=np.int64)
    rows[:len(found)] = found
    return Tensor._wrap(rows)


add("to_dense", lambda self, dtype=None, masked_grad=None: self if dtype is None else self.to(dtype))
add("const_data_ptr", data_ptr)


# --- what glassgrad's tensors are not: sparse, quantized, on another device -------------------------------

for _name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mps", "is_xla", "is_xpu", "is_mkldnn",
              "is_nested", "is_vulkan", "is_ipu", "is_maia", "is_mtia"):
    add(_name, property(lambda self: False, doc="False: glassgrad's tensors are dense, unquantized, on the CPU."))


class Layout:
    """How entries sit in memory; glassgrad has one layout, :data:`strided` (PyTorch's ``torch.strided``)."""

    def __repr__(self) -> str:
        return "torch.strided"


strided = Layout()
add("layout", property(lambda self: strided, doc="``gg.strided``: every glassgrad tensor is dense and strided."))


def _imaginary(self: Tensor) -> Tensor:
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes: glassgrad's numbers are real "
                       "(their imaginary part is 0)")


add("imag", property(_imaginary))
add("conj_physical_", lambda self: self)


def _no_sparse(name: str) -> None:
    def refuse(self: Tensor, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{name}: glassgrad has no sparse tensors; keep the tensor dense")

    refuse.__name__ = refuse.__qualname__ = name
    add(name, refuse)


for _name in ("to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr", "to_sparse_bsc",
              "values", "indices", "coalesce", "sparse_mask"):
    _no_sparse(_name)


@method
def new_empty_strided(self: Tensor, size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                      requires_grad: bool = False) -> Tensor:
    """``new_empty(size)``: a new row-major tensor (glassgrad does not lay out memory by the strides given)."""
    return self.new_empty(*tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


@method
def set_(self: Tensor, source: Tensor | None = None) -> Tensor:
    """Make this tensor use ``source``'s memory and shape (no source: an empty tensor), in place."""
    if self._requires_grad:
        raise RuntimeError("set_: cannot change the memory of a tensor that requires grad (or is in a graph)")
    self.array = np.zeros(0, dtype=self.array.dtype) if source is None else as_tensor(source).array
    bump_version(self.array)
    return self


@method
def is_set_to(self: Tensor, tensor: Tensor) -> bool:
    """Whether both are the same entries of the same memory (same start, shape and strides)."""
    return (data_ptr(self) == data_ptr(tensor) and self.shape == tensor.shape
            and self.array.strides == tensor.array.strides)


def _entry_by_entry(self: Tensor, name: str, function: Any, *others: Tensor) -> Tensor:
    if self._requires_grad:
        raise RuntimeError(f"{name}: can't call a Python function on a tensor that requires grad; call it on "
                           ".detach()")
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
        return tensor(args[0], dtype=self.dtype)
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
    """``obj`` as a tensor: itself when it is one already in ``dtype`` (unless ``copy=True``), else a new one."""
    if isinstance(obj, Tensor) and not copy and not requires_grad:
        return as_tensor(obj, dtype=dtype, device=device)
    return tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding ``s`` (in the default float dtype unless ``dtype`` says otherwise)."""
    return tensor(float(s), dtype=dtype or get_default_dtype(), device=device, requires_grad=requires_grad)


def _copy_form(name: str) -> Any:
    def copied(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        result = getattr(as_tensor(input), name)(*args, **kwargs)
        return tuple(part.clone() for part in result) if isinstance(result, tuple) else result.clone()

    copied.__name__ = copied.__qualname__ = f"{name}_copy"
    copied.__doc__ = f"``x.{name}(…)`` copied: the same numbers, not sharing memory with x."
    return copied


COPY_FORMS = {f"{name}_copy": _copy_form(name) for name in (
    "t", "transpose", "permute", "unsqueeze", "squeeze", "expand", "view", "select", "diagonal", "detach",
    "unbind", "split", "split_with_sizes", "unfold")}
"""PyTorch's ``torch.t_copy`` …: a view op whose result is copied."""


def slice_copy(input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
               step: int = 1) -> Tensor:
    """``x[…, start:end:step, …]`` along ``dim``, copied."""
    x = as_tensor(input)
    return x[(slice(None),) * check_dim(x, dim, "slice_copy") + (slice(start, end, step),)].clone()


def alias_copy(input: Tensor) -> Tensor:
    """A copy of the tensor (PyTorch's alias, copied)."""
    return as_tensor(input).clone()


COPY_FORMS.update(slice_copy=slice_copy, alias_copy=alias_copy)


def typename(obj: Any) -> str:
    """PyTorch's name for the type of ``obj``: ``'torch.FloatTensor'`` for a float32 tensor, else the class's
    qualified name."""
    if isinstance(obj, Tensor):
        return obj.type()
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """A new tensor of ``size`` (row-major: glassgrad does not lay out memory by the strides given)."""
    from .creation import empty

    return empty(*tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def get_default_device() -> str:
    """``'cpu'``: glassgrad's only device."""
    return "cpu"


def set_default_device(device: Any) -> None:
    """Accept ``'cpu'`` (or None); refuse any other device in one line, as glassgrad runs on the CPU only."""
    check_device(device)


def _removed_function(name: str, replacement: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"torch.{name}: removed from PyTorch in version 1.9; use {replacement}")

    refuse.__name__ = refuse.__qualname__ = name
    return refuse


REMOVED = {name: _removed_function(name, replacement) for name, replacement in [
    ("lstsq", "gg.linalg.lstsq(A, B).solution (arguments swapped)"),
    ("solve", "gg.linalg.solve(A, B) (arguments swapped)"), ("eig", "gg.linalg.eigh(A) for a symmetric matrix"),
    ("symeig", "gg.linalg.eigh(A)"), ("matrix_rank", "gg.linalg.matrix_rank(A)")]}
"""The ``torch.*`` functions PyTorch removed, refused with a line naming their replacement."""
FUNCTION_FORMS = {name: function_form(name) for name in (
    "narrow_copy", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "resize_as_", "conj_physical_",
    "is_inference", "get_device")}
"""``torch.narrow_copy(x, …)`` … : the methods' function forms."""


def inclusive_range(start: float, end: float, step: float = 1, *, dtype: Any = None, device: Any = None,
                    requires_grad: bool = False) -> Tensor:
    """PyTorch's deprecated ``torch.range``: ``start, start + step, …`` up to and including ``end`` (default float
    dtype); it warns, as PyTorch does, because Python's ``range`` and ``gg.arange`` stop before ``end``."""
    warnings.warn("range is deprecated (as torch.range): it includes end, unlike Python's range; use "
                  "gg.arange(start, end + step, step), which stops before its end", UserWarning, stacklevel=2)
    if step == 0 or (end - start) * step < 0:
        raise RuntimeError(f"range: step {step} does not lead from {start} to {end}")
    count = int(math.floor((end - start) / step + 1e-9)) + 1  # 1e-9: (1 − 0)/0.1 is 9.999…, still 11 values
    check_device(device)
    values = start + step * np.arange(count, dtype=np.float64)
    return _leaf(values.astype(resolve_dtype(dtype) or get_default_dtype()), requires_grad)
