"""A tensor's memory, as PyTorch shows it: where it sits, what shares it, and reading or reshaping it in place.

* ``data_ptr()`` (the address of the first entry), ``storage_offset()`` (entries between the start of the memory
  and the first entry), ``dim_order()``, ``untyped_storage()``/``storage()`` (the whole memory:
  :class:`Storage`, read or written an entry at a time), ``is_set_to(other)``; ``share_memory_()``/
  ``pin_memory()`` are the tensor itself (glassgrad has one process and no GPU), ``is_shared()``/``is_pinned()``
  False.
* ``resize_(*size)`` gives the tensor a new shape in place, keeping its entries in row-major order: cut off
  when it shrinks, zeros after them when it grows (PyTorch leaves those uninitialized); a tensor in a graph is
  refused, as in PyTorch. ``resize_as_(other)`` uses other's shape; ``set_(source)`` takes source's memory.
* ``as_strided(size, stride, offset)``: the entries at ``offset + Σₖ iₖ·strideₖ`` (a sliding window, entries
  repeating) of a row-major tensor's own entries, a view of its memory as in PyTorch (positions outside the
  tensor are refused); ``as_strided_scatter`` writes there.
* What glassgrad's tensors are not: sparse, quantized or on another device (``is_sparse`` … are False,
  ``layout`` is ``gg.strided``, the sparse methods and ``imag`` are refused in one line).

>>> import glassgrad as gg
>>> x = gg.arange(6.0)
>>> x[2:].storage_offset(), x[2:].untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
(2, True)
>>> x.resize_(2, 2).tolist()
[[0.0, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .arguments import shape_arg, shape_text
from .autograd import OTHER_MEMORY, _memory_owner, bump_version, note_unreplayable
from .creation import as_tensor
from .ops_index import AS_STRIDED
from .settings import warn_once
from .tensor import Tensor, refuse_inference, tensor_argument, view_of
from .tensor_methods import add, method


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
    owner = _memory_owner(self.array)
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


@method
def resize_(self: Tensor, *size: Any) -> Tensor:
    """A new shape in place, the entries kept in row-major order: cut off, or followed by zeros."""
    if self._requires_grad:
        raise RuntimeError("resize_: cannot resize a tensor that requires grad (or is in a graph); resize a "
                           ".detach()ed copy, or use reshape")
    note_unreplayable("resize_ gives a tensor new memory, which a replay does not repeat")
    shape = shape_arg(size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size, "resize_")
    if any(n < 0 for n in shape):
        raise RuntimeError(f"resize_: sizes must be non-negative, got {shape_text(shape)}")
    count, flat = math.prod(shape), self.array.reshape(-1)
    if shape == self.shape:
        return self  # nothing changes (and PyTorch counts no change)
    if self._inference:
        refuse_inference("resize_")
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
    """``resize_(other.shape)``; ``other`` must be a tensor (PyTorch's TypeError names it ``the_template``)."""
    return resize_(self, tuple(tensor_argument(other, "resize_as_", "the_template", 1).shape))


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
    """The entries at ``offset + Σₖ iₖ·strideₖ`` arranged in ``size`` (entries may repeat: a sliding window): a view,
    as in PyTorch (a write through it reaches this tensor); the gradient sums over repeats."""
    places = _strided_places(self, "as_strided", size, stride, storage_offset)
    return view_of(self, AS_STRIDED, places, shape_arg(tuple(stride), "as_strided"))


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


add("to_dense", lambda self, dtype=None, masked_grad=None: self if dtype is None else self.to(dtype))
add("const_data_ptr", data_ptr)

# --- what glassgrad's tensors are not: sparse, quantized, on another device -------------------------------

for _name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_mps", "is_xla", "is_xpu", "is_mkldnn",
              "is_nested", "is_vulkan", "is_ipu", "is_maia", "is_mtia"):
    add(_name, property(lambda self: False, doc="False: glassgrad's tensors are dense, unquantized, on the CPU."))
# (``is_meta`` is Tensor's own: a parameter of a model moved to 'meta' is one, glassgrad.nn.meta)


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


def _no_sparse(name: str) -> None:
    def refuse(self: Tensor, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{name}: glassgrad has no sparse tensors; keep the tensor dense")

    refuse.__name__ = refuse.__qualname__ = name
    add(name, refuse)


for _name in ("to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr", "to_sparse_bsc",
              "values", "indices", "coalesce", "sparse_mask"):
    _no_sparse(_name)

@method
def set_(self: Tensor, source: Tensor | None = None) -> Tensor:
    """Make this tensor use ``source``'s memory and shape (no source: an empty tensor), in place."""
    if self._requires_grad:
        raise RuntimeError("set_: cannot change the memory of a tensor that requires grad (or is in a graph)")
    if self._inference:
        refuse_inference("set_")
    note_unreplayable(OTHER_MEMORY.format(how="set_"))
    self.array = np.zeros(0, dtype=self.array.dtype) if source is None else as_tensor(source).array
    bump_version(self.array)
    return self


@method
def is_set_to(self: Tensor, tensor: Tensor) -> bool:
    """Whether both are the same entries of the same memory (same start, shape and strides)."""
    return (data_ptr(self) == data_ptr(tensor) and self.shape == tensor.shape
            and self.array.strides == tensor.array.strides)


class Storage:
    """The memory under a tensor, as ``x.untyped_storage()`` shows it: its address, its size in bytes (and, from
    ``x.storage()``, in entries of the tensor's dtype), and its entries in order, including those no view shows.
    Two tensors share memory when their storages' ``data_ptr()`` are equal."""

    def __init__(self, owner: np.ndarray, typed: bool) -> None:
        self._owner, self._typed = owner, typed

    def data_ptr(self) -> int:
        """The address of the first byte."""
        return self._owner.__array_interface__["data"][0]

    def nbytes(self) -> int:
        """How many bytes the memory holds."""
        return self._owner.nbytes

    def size(self) -> int:
        """Entries (``storage()``) or bytes (``untyped_storage()``)."""
        return self._owner.size if self._typed else self._owner.nbytes

    def __len__(self) -> int:
        return self.size()

    def _flat(self) -> np.ndarray:
        """The entries (``storage()``) or the bytes (``untyped_storage()``), in memory order, as one row viewing
        the memory (the owner of a tensor's memory is contiguous, so the row is a view, not a copy)."""
        flat = self._owner.reshape(-1, order="A")
        return flat if self._typed else flat.view(np.uint8)

    def tolist(self) -> list:
        """The entries (``storage()``) or the bytes (``untyped_storage()``), in memory order."""
        return self._flat().tolist()

    def _checked(self, index: int) -> int:
        """``index`` if it is an integer within the storage (negative ones count from the end)."""
        size = self.size()
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"storage indices must be integers, got {type(index).__name__}; use tolist() for a range")
        if not -size <= index < size:
            raise IndexError(f"index {index} out of range for storage of size {size}")
        return index

    def __getitem__(self, index: int) -> Any:
        """One entry (a Python number), or one byte of an untyped storage; negative indices count from the end."""
        return self._flat()[self._checked(index)].item()

    def __setitem__(self, index: int, value: Any) -> None:
        """Write one entry (or one byte of an untyped storage) into the memory: every tensor viewing it shows the
        new value, and it counts as an in-place change of them (a backward that needs the old value refuses)."""
        note_unreplayable("a write through storage() changes memory outside the ops a replay repeats")
        self._flat()[self._checked(index)] = value
        bump_version(self._owner)

    def __iter__(self) -> Iterator:
        return iter(self.tolist())

    @property
    def dtype(self) -> np.dtype:
        """The entries' dtype (``uint8`` for the bytes of an untyped storage)."""
        return self._owner.dtype if self._typed else np.dtype(np.uint8)

    def __repr__(self) -> str:
        """Every entry on its own line, then what the memory is, as PyTorch prints a storage."""
        kind = f"{self._owner.dtype.name} storage of {self._owner.size} entries" if self._typed else (
            f"untyped storage of {self._owner.nbytes} bytes")
        return "".join(f" {entry}\n" for entry in self.tolist()) + f"[{kind} at {self.data_ptr():#x}]"


@method
def untyped_storage(self: Tensor) -> Storage:
    """The whole memory this tensor is a view of, counted in bytes."""
    return Storage(_memory_owner(self.array), typed=False)


@method
def storage(self: Tensor) -> Storage:
    """The whole memory this tensor is a view of, counted in entries of its dtype (PyTorch's deprecated
    ``TypedStorage``: the first call in a process warns, as PyTorch's does)."""
    warn_once("TypedStorage is deprecated: tensor.storage() (memory counted in entries of the dtype) is kept for "
              "old code; call tensor.untyped_storage() (the same memory in bytes) instead")
    return Storage(_memory_owner(self.array), typed=True)
