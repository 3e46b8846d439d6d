"""More of PyTorch's ``Tensor`` methods: math functions, conversions, matrices, random fills.

Each is defined beside the row it uses (:mod:`glassgrad.ops_math`, :mod:`glassgrad.ops_index`) and
attached to :class:`~glassgrad.tensor.Tensor` as it is defined (by :func:`method`), so
``x.asin()``, ``x.tril()``, ``x.int()``, ``x.cpu()`` … work as in PyTorch; the methods that pick,
order, move or scan entries live in :mod:`glassgrad.tensor_indexing`. Each differentiable method is
one ``apply`` of a row; ``unflatten`` is a reshape, ``mm``/``bmm`` are checked ``matmul`` calls.

>>> import glassgrad as gg
>>> x = gg.tensor([[0.0, 0.5]], requires_grad=True)
>>> x.asin().sum().backward(); x.grad.tolist()   # ∂ arcsin a/∂a = 1/√(1 − a²)
[[1.0, 1.154700517654419]]
"""

from __future__ import annotations

import math
import operator
import weakref
from typing import Any

import numpy as np

from . import linalg, memory_formats, ops, ops_index, ops_math, ops_special, sampling
from .arguments import (
    broadcast_error,
    broadcastable,
    broadcasts_to,
    check_dim,
    check_in_range,
    common_dtype,
    float_dtype,
    is_floating,
    promote_to_float,
    shape_arg,
    shape_text,
    sizes_tuple,
)
from .autograd import is_grad_enabled, note_read, recorded_call, recorded_cast
from .creation import _fill_number, _filled, copied, drawn, sample_of, scaled_draws, tensor_argument
from .device import check_device
from .dtypes import bool_, can_cast, float16, get_default_dtype, int32, names_a_dtype
from .graph import records_tangent
from .memory_formats import check_memory_format
from .number_first import number_first
from .settings import warn_once
from .tensor import (
    Tensor,
    _binary,
    _float_data,
    _floating_only,
    _nonempty_reduction,
    _reduce,
    apply,
    grown_shape_error,
    lift,
    matmul,
    view_of,
)

METHODS: dict[str, Any] = {}


def add(name: str, function: Any) -> None:
    """Make ``function`` the Tensor method ``name`` (and list it in :data:`METHODS`)."""
    METHODS[name] = function
    setattr(Tensor, name, function)


def method(function: Any) -> Any:
    """Make ``function`` the Tensor method of its name.

    A name that would hide a Python builtin here (``int``, ``bool``, ``round``, ``type``) is
    written with a ``to_``/``_`` spelling and registered under PyTorch's name with :func:`named`.
    """
    add(function.__name__, function)
    return function


def named(name: str) -> Any:
    """Register the function as the Tensor method ``name``."""
    def register(function: Any) -> Any:
        function.__name__ = function.__qualname__ = name
        add(name, function)
        return function
    return register


# --- elementwise math (rows of ops_math) ----------------------------------------------------------

def _float_method(name: str, op: Any) -> None:
    def function(self: Tensor) -> Tensor:
        return apply(op, (self,), _float_data(self))
    function.__name__ = name
    function.__doc__ = f"``{op.formula}`` entry by entry; its derivative is ``{op.derivatives[0]}``."
    add(name, function)


for _name, _op in [("tan", ops_math.TAN), ("asin", ops_math.ASIN), ("acos", ops_math.ACOS), ("atan", ops_math.ATAN),
                   ("sinh", ops_math.SINH), ("cosh", ops_math.COSH), ("asinh", ops_math.ASINH),
                   ("acosh", ops_math.ACOSH), ("atanh", ops_math.ATANH), ("log10", ops_math.LOG10),
                   ("log2", ops_math.LOG2), ("log1p", ops_math.LOG1P), ("expm1", ops_math.EXPM1),
                   ("rsqrt", ops_math.RSQRT), ("reciprocal", ops_math.RECIPROCAL), ("erf", ops.ERF),
                   ("erfc", ops_math.ERFC), ("exp2", ops_math.EXP2),
                   ("lgamma", ops_special.LGAMMA), ("digamma", ops_special.DIGAMMA), ("erfinv", ops_special.ERFINV),
                   ("i0", ops_special.I0)]:
    _float_method(_name, _op)


@method
def polygamma(self: Tensor, n: int) -> Tensor:
    """``ψ⁽ⁿ⁾(x)``, the n-th derivative of digamma (n = 0 is digamma itself); its derivative is ``ψ⁽ⁿ⁺¹⁾(x)``."""
    try:
        order = operator.index(n)
    except TypeError:
        raise TypeError(f"polygamma: n must be a whole number (the order of the derivative), got {n!r}") from None
    if order < 0:
        raise RuntimeError(f"polygamma: n must be 0 or more (the order of the derivative of digamma), got {order}")
    return apply(ops_special.POLYGAMMA, (self,), _float_data(self), order)
for _alias, _name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                      ("arccosh", "acosh"), ("arctanh", "atanh")]:
    add(_alias, METHODS[_name])


def _same_dtype_method(name: str, op: Any) -> None:
    def function(self: Tensor) -> Tensor:
        return apply(op, (self,), self.array)
    function.__name__ = name
    function.__doc__ = f"``{op.formula}`` entry by entry (keeps the dtype); its derivative is ``{op.derivatives[0]}``."
    add(name, function)


for _name, _op in [("floor", ops_math.FLOOR), ("ceil", ops_math.CEIL), ("trunc", ops_math.TRUNC),
                   ("sign", ops_math.SIGN), ("square", ops_math.SQUARE)]:
    _same_dtype_method(_name, _op)
add("fix", METHODS["trunc"])


@named("round")
def rounded(self: Tensor, decimals: int = 0) -> Tensor:
    """Nearest whole number (halves to even: ``round(0.5) = 0``), or ``decimals`` digits after the point.

    Its derivative is 0: a step function stops the gradient, as in PyTorch.
    """
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be a whole number, got {decimals!r}")
    if decimals and self.array.dtype.kind in "biu":  # NumPy's would round 17 to 20; PyTorch has no such kernel
        raise NotImplementedError(f"round: decimals={decimals} needs a float tensor, got {self.array.dtype}; "
                                  "convert it first (x.float().round(decimals=...))")
    return apply(ops_math.ROUND, (self,), self.array, int(decimals))


@method
def atan2(self: Tensor, other: Any) -> Tensor:
    """The angle of the point ``(other, self)``, in (−π, π]: ``∂/∂a = b/(a² + b²)``, ``∂/∂b = −a/(a² + b²)``."""
    other = lift(other, self)
    return _broadcasting(ops_math.ATAN2, (self, other), *recorded_call(promote_to_float, self.array, other.array))


add("arctan2", atan2)


@method
def lerp(self: Tensor, end: Any, weight: Any) -> Tensor:
    """``self + weight·(end − self)``: ``∂/∂self = 1 − w``, ``∂/∂end = w``, ``∂/∂weight = end − self``. ``end``
    and a ``weight`` with dims must have ``self``'s dtype, as in PyTorch (a 0-d weight may be any float); integer
    and bool tensors are refused, as PyTorch has no kernel for them."""
    end = lift(end, self)
    weight = lift(weight, self)
    for label, given in (("end", end), ("weight", weight)):
        if given.array.dtype != self.array.dtype and (label == "end" or given.ndim):
            raise RuntimeError(f"lerp: expected dtype {self.array.dtype} for `{label}` but got dtype "
                               f"{given.array.dtype}; convert it first ({label}.to(x.dtype))")
    a, b = _floating_only(self, "lerp", error=NotImplementedError).array, end.array  # one float dtype, checked
    w = recorded_cast(weight.array, a.dtype)  # a kernel of a compiled step: a 0-d weight of another float dtype
    return _broadcasting(ops_math.LERP, (self, end, weight), a, b, w)


def _broadcasting(op: Any, parents: tuple, *arrays: np.ndarray) -> Tensor:
    try:
        np.broadcast_shapes(*(array.shape for array in arrays))
    except ValueError:
        raise RuntimeError(f"{op.name}: shapes {', '.join(shape_text(a.shape) for a in arrays)} cannot be broadcast "
                           "together (sizes must match or be 1, aligned from the right)") from None
    return apply(op, parents, *arrays)


def float_operands(input: Any, other: Any, name: str) -> tuple[Tensor, Tensor]:
    """Both operands of the op ``name`` whose result is a float (``hypot``, ``xlogy``, ``copysign``, …) as tensors
    in its dtype (:func:`glassgrad.arguments.float_dtype`: bool with float16 is float16, int with int float32); a
    Python number is lifted as in ``x + 2.0``. The conversions are differentiable. Shapes that do not broadcast
    together are PyTorch's RuntimeError here (a NumPy mask worked out from both, before any op, raised NumPy's
    ValueError)."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            raise TypeError(f"expected a tensor operand, got {type(input).__name__} and {type(other).__name__}")
        input = lift(input, other, exact=True)
    a, b = input, lift(other, input, exact=True)
    if (error := broadcast_error(name, a.shape, b.shape)) is not None:
        raise error
    dtype = float_dtype(a.array, b.array)
    return a.to(dtype), b.to(dtype)


# --- comparisons and conversions ------------------------------------------------------------------

for _name, _dunder in [("lt", "__lt__"), ("le", "__le__"), ("gt", "__gt__"), ("ge", "__ge__")]:
    add(_name, getattr(Tensor, _dunder))


@method
def eq(self: Tensor, other: Any) -> Tensor:
    """``x == other`` entry by entry (a bool tensor); ``x.eq(None)`` is refused, where ``x == None`` is False."""
    return self._compare(np.equal, other)


@method
def ne(self: Tensor, other: Any) -> Tensor:
    """``x != other`` entry by entry (a bool tensor)."""
    return self._compare(np.not_equal, other)


for _alias, _name in [("greater", "gt"), ("less", "lt"), ("greater_equal", "ge"), ("less_equal", "le"),
                      ("not_equal", "ne")]:
    add(_alias, METHODS[_name])


@method
def isclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Entry by entry ``|self − other| ≤ atol + rtol·|other|`` (a bool tensor, outside the graph); two tensors
    must share a dtype, as in PyTorch (a float32 result checked against a float64 one is refused, not rounded)."""
    if isinstance(other, Tensor) and other.dtype != self.dtype:
        raise RuntimeError(f"isclose: the tensors' dtypes differ, {self.dtype} and {other.dtype}; convert one "
                           "first (other.to(self.dtype))")
    other = _plain(other)
    if not (rtol >= 0 and atol >= 0):
        raise RuntimeError(f"isclose: rtol and atol must be >= 0, got rtol={rtol} and atol={atol}")
    if not broadcastable(self.shape, np.shape(other)):  # PyTorch's RuntimeError, not NumPy's ValueError
        raise RuntimeError(f"isclose: shapes {shape_text(self.shape)} and {shape_text(np.shape(other))} do not "
                           "broadcast together")
    return Tensor._wrap(recorded_call(close_entries, self.array, other, rtol, atol, equal_nan,
                                      get_default_dtype()))  # a compiled step's kernel


def close_entries(a: np.ndarray, b: Any, rtol: float, atol: float, equal_nan: bool,
                  float_dtype: np.dtype) -> np.ndarray:
    """``isclose``'s entries (``testing.assert_close``'s too, with float64). Integers and bools are compared as
    PyTorch compares them: exactly equal ones are close, and with zero tolerances only those (int64 ids past 2⁵³
    stay apart); else both are read in ``float_dtype`` (``isclose``: the default float dtype, float32 unless set)
    and measured there, as PyTorch casts them."""
    if a.dtype.kind in "biu" and np.asarray(b).dtype.kind in "biu":
        equal = np.asarray(a == b)
        if rtol == 0 and atol == 0:
            return equal
        a, b = a.astype(float_dtype), np.asarray(b).astype(float_dtype)
        return equal | np.isclose(a, b, rtol=rtol, atol=atol)
    return np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


@method
def allclose(self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every entry is close (see :func:`isclose`): a Python bool."""
    close = isclose(self, other, rtol, atol, equal_nan).array
    note_read("allclose(a, b)")  # a Python bool: a compiled step's replay would keep the captures' answer
    return bool(close.all())


def _plain(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


@named("int")
def to_int(self: Tensor, memory_format: Any = None) -> Tensor:
    return self.to(int32, memory_format=memory_format)


@named("bool")
def to_bool(self: Tensor, memory_format: Any = None) -> Tensor:
    return self.to(bool_, memory_format=memory_format)


@method
def half(self: Tensor, memory_format: Any = None) -> Tensor:
    return self.to(float16, memory_format=memory_format)


TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
              "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
"""PyTorch's legacy type names (``torch.FloatTensor``) for ``t.type()``."""
LEGACY_DTYPES = {f"torch.{short}Tensor": np.dtype(name) for name, short in TYPE_NAMES.items()}
"""Each legacy type name's dtype (``'torch.DoubleTensor'`` → float64), for ``t.type(name)`` and
``set_default_tensor_type``."""


@named("type")
def type_name(self: Tensor, dtype: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Any:
    """With no argument, PyTorch's type name (``'torch.FloatTensor'``); with a dtype, ``self.to(dtype)``
    (``non_blocking`` changes nothing on the CPU, as in PyTorch)."""
    if dtype is None:
        return f"torch.{TYPE_NAMES.get(self.array.dtype.name, self.array.dtype.name)}Tensor"
    return self.to(type_dtype(dtype), memory_format=memory_format)


def type_dtype(dtype: Any) -> Any:
    """What ``type(dtype)`` converts to: a legacy type name (``'torch.DoubleTensor'``) as its dtype, else ``dtype``.
    A CUDA type name (``'torch.cuda.FloatTensor'``) is refused as the device 'cuda' is: PyTorch's RuntimeError."""
    if isinstance(dtype, str) and dtype.startswith("torch.cuda."):
        check_device("cuda")
    if isinstance(dtype, str) and dtype in LEGACY_DTYPES:
        return LEGACY_DTYPES[dtype]
    if isinstance(dtype, str) and (dtype.startswith("torch.") or not names_a_dtype(dtype)):
        raise ValueError(f"type: invalid type {dtype!r}; use e.g. 'torch.FloatTensor' or a dtype")  # PyTorch's class
    return dtype


@method
def type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.to(other.dtype)``."""
    return self.to(tensor_argument(other, "type_as", "other").dtype)


@method
def element_size(self: Tensor) -> int:
    """Bytes per entry (4 for float32)."""
    return self.array.itemsize


add("nelement", Tensor.numel)


@method
def stride(self: Tensor, dim: int | None = None) -> Any:
    """How many entries apart in memory neighbours along each dim sit (``x.t().stride()`` is ``(1, n)``: a view
    of the same memory, as in PyTorch; ``expand`` gives 0); with ``dim``, that dim's only."""
    strides = memory_formats.strides_of(self.array)
    return strides if dim is None else strides[check_dim(self, dim, "stride")]


@method
def is_contiguous(self: Tensor, memory_format: Any = None) -> bool:
    """Whether the entries sit in memory in row-major order with no gaps (False for a transposed or sliced view),
    or in ``memory_format``'s order (``torch.channels_last``: N, H, W, C; False for a tensor of another rank), as
    PyTorch reads the strides. ``contiguous()`` copies a tensor for which this is False."""
    if memory_format is not None and not isinstance(memory_format, memory_formats.memory_format):
        raise TypeError(f"is_contiguous(): argument 'memory_format' must be torch.memory_format, not "
                        f"{type(memory_format).__name__}")
    return memory_formats.dense_in_order(self.array.shape, memory_formats.strides_of(self.array),
                                         memory_formats.dims_inner_first(memory_format, self.ndim))


add("nbytes", property(lambda self: self.array.nbytes, doc="Bytes the entries take: ``numel() · itemsize``."))
add("itemsize", property(lambda self: self.array.itemsize, doc="Bytes per entry (4 for float32)."))


@method
def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself: it already lives on the CPU, glassgrad's only device (with a ``memory_format``, as
    ``self.to(memory_format=memory_format)``: a copy in that layout unless it has it, as PyTorch's)."""
    check_memory_format(memory_format, "Tensor.cpu", self.ndim)
    return self if memory_format is None else self.to(memory_format=memory_format)


@method
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    """Refused with one line: glassgrad has no GPU (``.to(device)`` with a device chosen at run time works)."""
    check_device("cuda" if device is None or isinstance(device, int) else device)
    return self


def _new(name: str, value: Any):
    def function(self: Tensor, *shape: Any, size: Any = None, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _filled(shape, value, dtype or self.dtype, requires_grad, name, device, size)
    function.__name__ = name
    function.__doc__ = f"A tensor of ``size`` filled with {value}, in this tensor's dtype unless ``dtype`` is given."
    add(name, function)


_new("new_zeros", 0)
_new("new_ones", 1)
_new("new_empty", 0)


@method
def new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, in this tensor's dtype unless ``dtype`` is given."""
    fill_value = _fill_number(fill_value, "new_full")  # a 0-d tensor's .item(), which a compiled step is told of
    return _filled((sizes_tuple(size, "new_full"),), fill_value, dtype or self.dtype, requires_grad, "new_full", device,
                   given=True)


@method
def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``gg.tensor(data)`` in this tensor's dtype unless ``dtype`` is given."""
    check_device(device)
    return copied(data, dtype or self.dtype, requires_grad, "tensor.new_tensor")


# --- in-place random fills -------------------------------------------------------------------------

def _random_fill(self: Tensor, name: str, kernel: Any, kind: str, *params: Any, generator: Any = None,
                 error: type[Exception] = NotImplementedError) -> Tensor:
    """Write real-valued draws into a float tensor: ``kernel(kind, None, generator, shape, dtype, *params)``
    (:func:`~glassgrad.creation.drawn` or :func:`~glassgrad.creation.scaled_draws`), one kernel of a compiled step,
    which draws again at each call. An integer or bool tensor is refused, before any draw, with ``error``, PyTorch's
    exception for ``name`` (NotImplementedError from its kernels, RuntimeError from its distribution checks)."""
    if not is_floating(self.array.dtype):
        raise error(f"{name}: the tensor holds {self.array.dtype}, but its samples are real numbers; "
                    "fill a float tensor")
    return self.copy_(Tensor._wrap(recorded_call(kernel, kind, None, generator, self.array.shape, self.array.dtype,
                                                 *params)))


def check_spread(name: str, std: float) -> None:
    """PyTorch's RuntimeError for a normal fill's ``std`` below 0 or NaN (``x.normal_``, ``nn.init.normal_``)."""
    if not std >= 0:
        raise RuntimeError(f"{name}: std must be >= 0, got {std}")


def check_uniform_bounds(name: str, dtype: np.dtype, a: float, b: float) -> None:
    """PyTorch's RuntimeErrors for a uniform fill's bounds into a float tensor of ``dtype`` (``x.uniform_``,
    ``nn.init.uniform_``): ``a ≤ b``, both finite numbers the dtype holds, ``b − a`` too (else the draws overflow to
    inf). An integer ``dtype`` passes: the fill refuses it before any bound is read, as PyTorch."""
    if is_floating(dtype):
        check_in_range(name, dtype, ("from", a), ("to", b))
        if a > b:
            raise RuntimeError(f"{name}: expects a <= b, got a={a}, b={b}")
        check_in_range(name, dtype, ("to - from", b - a))


@method
def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill in place with samples of N(mean, std²) (``p.data.normal_(0, 0.02)``)."""
    check_spread("normal_", std)
    return _random_fill(self, "normal_", scaled_draws, "standard_normal", mean, std, generator=generator)


@method
def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill in place with samples of the uniform distribution on [a, b) (:func:`check_uniform_bounds`)."""
    check_uniform_bounds("uniform_", self.array.dtype, a, b)
    return _random_fill(self, "uniform_", drawn, "uniform", a, b, generator=generator)


# --- matrices --------------------------------------------------------------------------------------

@method
def t(self: Tensor) -> Tensor:
    """The transpose of a matrix (a 0-d or 1-D tensor is returned as it is), as in PyTorch."""
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dims, but this one has shape {shape_text(self.shape)}; "
                           "use transpose(dim0, dim1) or .mT for the last two")
    return self.transpose(0, 1) if self.ndim == 2 else self


@method
def mm(self: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two matrices (2-D only; ``@``/``matmul`` also broadcasts)."""
    if getattr(self, "ndim", None) != 2 or getattr(mat2, "ndim", 0) != 2:
        tensor_argument(self, "mm", "input", 1)  # gg.spmm(2.5, x), x.mm([[…]]): PyTorch's TypeError
        tensor_argument(mat2, "mm", "mat2", 1)
        raise RuntimeError(f"mm: both operands must be matrices (2-D), got shapes {shape_text(self.shape)} and "
                           f"{shape_text(np.shape(_plain(mat2)))}; use @ for other shapes")
    return matmul(self, mat2)


@method
def bmm(self: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product: (b, n, m) @ (b, m, p) → (b, n, p), the same b on both sides."""
    other = np.shape(_plain(mat2))
    if self.ndim != 3 or len(other) != 3 or self.array.shape[0] != other[0]:
        raise RuntimeError(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                           f"{shape_text(self.shape)} and {shape_text(other)}")
    return matmul(self, mat2)


def last_two_swapped(x: Tensor, name: str = "mT", zero_dims_hint: str = "This function is the identity in these "
                     "cases.") -> Tensor:
    """``x`` (…, m, n) as (…, n, m), for ``name`` (``mT``, ``mH``, ``adjoint()``: for real numbers one transpose).
    As PyTorch's, a 0-d tensor is returned as it is, with PyTorch's deprecation warning (once, and its
    ``zero_dims_hint``), and a 1-D one is refused."""
    if x.ndim >= 2:
        return x.transpose(-2, -1)
    if x.ndim == 0:
        warn_once(f"{'Tensor.' if name[-1] != ')' else ''}{name} is deprecated on 0-D tensors. {zero_dims_hint}")
        return x
    raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. Got 1-D tensor "
                       f"{shape_text(x.shape)}; for a vector as a column use x.unsqueeze(-1)")


add("mT", property(last_two_swapped, doc="The last two dims swapped (a batch of matrices, transposed)."))


@method
def view_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.view(other.shape)``."""
    return self.view(tensor_argument(other, "view_as", "other").shape)


@method
def unflatten(self: Tensor, dim: int, sizes: Any) -> Tensor:
    """Dim ``dim`` split into ``sizes`` (one may be -1, worked out from that dim's size): a reshape."""
    dim = check_dim(self, dim, "unflatten", needs_dims=RuntimeError)  # a 0-d tensor has no dim to split (PyTorch's)
    sizes = shape_arg(tuple(sizes), "unflatten")
    known = math.prod(size for size in sizes if size != -1)
    if sizes.count(-1) == 1 and known:  # from the dim alone: another dim of size 0 would leave the whole -1 open
        sizes = tuple(self.array.shape[dim] // known if size == -1 else size for size in sizes)
    return self.reshape(self.array.shape[:dim] + sizes + self.array.shape[dim + 1:])


@method
def tril(self: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below diagonal ``diagonal``) of the last two dims; 0 above it."""
    return _triangle(self, ops_index.TRIL, diagonal)


@method
def triu(self: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above diagonal ``diagonal``) of the last two dims; 0 below it."""
    return _triangle(self, ops_index.TRIU, diagonal)


def _triangle(self: Tensor, op: Any, diagonal: int) -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(f"{op.name}: needs a matrix (at least 2 dims), got shape {shape_text(self.shape)}")
    return apply(op, (self,), self.array, int(diagonal))


@method
def diag(self: Tensor, diagonal: int = 0) -> Tensor:
    """1-D: a square matrix with these entries on diagonal ``diagonal``; 2-D: that diagonal of the matrix."""
    if self.ndim == 1:
        return apply(ops_index.DIAG, (self,), self.array, int(diagonal))
    if self.ndim == 2:
        return self.diagonal(diagonal).clone()  # a new tensor, as PyTorch's diag (diagonal is a view)
    raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {shape_text(self.shape)}; use diagonal()")


@method
def diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims ``dim1``, ``dim2`` (``offset`` above it), as the last dim of the result."""
    first, second = check_dim(self, dim1, "diagonal"), check_dim(self, dim2, "diagonal")
    if self.ndim < 2 or first == second:
        raise RuntimeError(f"diagonal: needs two different dims of a tensor with at least 2, got dim1={dim1}, "
                           f"dim2={dim2} for shape {shape_text(self.shape)}")
    return view_of(self, ops_index.DIAGONAL, int(offset), first, second)


# --- norms and the largest or smallest entry over dims --------------------------------------------

add("norm", linalg.tensor_norm)
add("inverse", linalg.inv)
add("det", linalg.det)
add("logdet", linalg.logdet)
add("slogdet", linalg.slogdet)


@method
def amax(self: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The largest entry over ``dim`` (every dim by default); ties share the gradient evenly, as in PyTorch."""
    return _extremes(ops.MAX, self, dim, keepdim)


@method
def amin(self: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The smallest entry over ``dim`` (every dim by default); ties share the gradient evenly, as in PyTorch."""
    return _extremes(ops.MIN, self, dim, keepdim)


def _extremes(op: ops.Op, tensor: Tensor, dim: Any, keepdim: bool) -> Tensor:
    """``amax``/``amin``: an empty tensor is refused as PyTorch refuses it, unless the dims reduced have entries."""
    chosen = None if isinstance(dim, (tuple, list)) and not dim else dim  # dim=() or [] : every dim
    if tensor.array.size == 0:
        _nonempty_reduction(tensor, chosen, "a" + op.name, several=True)
    return _reduce(op, tensor, chosen, keepdim, None, None)


# --- division with a remainder (rows of ops_math): a % b, a // b, fmod --------------------------------

def _whole_division(op: Any, a: Tensor, b: Any) -> Tensor:
    """``op`` entry by entry; integers divided by 0 are refused, as PyTorch does (floats give inf or NaN), the divisor
    read in the dtype the op computes in: a number wraps to it first (int32 // 2**32 divides by 0). Two bools are
    refused, as PyTorch has no such kernel (NumPy computed them in int8)."""
    b = lift(b, a)
    if a.array.dtype.kind in "iub" and b.array.dtype.kind in "iub":  # a kernel of a compiled step: run at each call
        if a.array.dtype == b.array.dtype == np.bool_:
            raise NotImplementedError(f"{op.name}: not implemented for two bool tensors; convert one first "
                                      "(mask.long())")
        recorded_call(_refuse_a_zero_divisor, op.name, a.array, b.array, common_dtype(a.array, b.array))
    return _binary(op, a, b)


def _refuse_a_zero_divisor(name: str, dividend: np.ndarray, divisor: np.ndarray, dtype: np.dtype) -> None:
    """Refuse an integer divisor holding a 0 (read in the dtype the op computes in), as PyTorch does; an empty
    dividend divides nothing, so its result is empty whatever the divisor (PyTorch's ``empty // 0`` is empty).

    Through :func:`~glassgrad.autograd.recorded_call`: a compiled step checked only its captures' divisors, and a
    later 0 gave NumPy's 0 with a warning where eager refuses."""
    if dividend.size and not np.all(divisor.astype(dtype, copy=False)):
        raise RuntimeError(f"{name}: integer division by zero (the divisor holds a 0); divide floats to get "
                           "inf/nan, or keep 0 out of the divisor")


@method
def remainder(self: Tensor, other: Any) -> Tensor:
    """``self mod other``, with the sign of ``other`` (Python's ``%``): ``a − b·⌊a/b⌋``."""
    return _whole_division(ops_math.REMAINDER, self, other)


@method
def fmod(self: Tensor, other: Any) -> Tensor:
    """The remainder with the sign of ``self`` (C's ``fmod``): ``a − b·trunc(a/b)``."""
    return _whole_division(ops_math.FMOD, self, other)


@method
def floor_divide(self: Tensor, other: Any) -> Tensor:
    """``⌊self/other⌋`` (Python's ``//``); a step, so its slope is 0."""
    return _whole_division(ops_math.FLOOR_DIVIDE, self, other)


@method
def div(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``self / other``; ``rounding_mode="floor"`` is ``⌊a/b⌋`` (``//``) and ``"trunc"`` rounds toward 0
    (for integers, in their dtype: ``⌊a/b⌋``, plus 1 where it was rounded down from a negative quotient, so the
    dtype's lowest number, whose ``|a|`` it cannot hold, is divided right: int8 −128 by 3 is −42). A rounded
    quotient is a step: slope 0, also where b is 0 or a is ±∞ (PyTorch's zeros; through ``a / b`` the chain
    rule gave 0·∞ = NaN there)."""
    if rounding_mode is None:
        return _binary(ops.DIV, self, other)
    if rounding_mode == "floor":
        return floor_divide(self, other)
    if rounding_mode != "trunc":
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    other = lift(other, self)
    dtype = common_dtype(self.array, other.array)
    if dtype.kind in "biu":  # integers, or a bool with integers: in their common dtype, as PyTorch (two bools refused)
        a, b = self.to(dtype), other.to(dtype)
        floored = floor_divide(a, b)
        return floored + ((a - floored * b != 0) & ((a < 0) != (b < 0)))  # a remainder (wraps exactly to 0 or not)
    quotient = (self / other).trunc()
    if not quotient._requires_grad:
        return quotient
    return ops.with_zero_slope(self, ops.with_zero_slope(other, quotient.detach()))  # 0 for a and b, not 0·(1/b)


@method
def div_(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``self /= other`` in place, rounded as :func:`div` says."""
    if rounding_mode is None:
        return self._in_place("div_", ops.quiet_true_divide, ops.DIV, other)
    return write_in_place(self, lambda source: div(source, other, rounding_mode=rounding_mode), "div_")


add("__mod__", remainder)
add("__floordiv__", floor_divide)
add("__rmod__", lambda self, other: _whole_division(ops_math.REMAINDER, lift(other, self), self))
add("__rfloordiv__", lambda self, other: _whole_division(ops_math.FLOOR_DIVIDE, lift(other, self), self))


# --- in-place forms (x.clamp_(…), x.exp_(), ema.lerp_(p, w)): the op, then copy_ into x -----------------

def write_in_place(tensor: Tensor, compute: Any, name: str = "in-place operation") -> Tensor:
    """``tensor.copy_(compute(tensor))``: a result written into ``tensor``'s memory, counted as an in-place change
    (recorded, when the tensor is in a graph, as a clone, the op and the copy; a leaf that requires grad is
    refused under grad mode, as in PyTorch). A result that does not fit the dtype (floats into an integer tensor)
    is refused, as in PyTorch, instead of being cut to whole numbers, and so is one that another operand broadcast
    to a larger shape (``x.lerp_(y, w)`` with ``w`` of shape (1, n) for an x of shape (n,)), instead of having
    its leading 1s dropped by ``copy_`` without a word. A number or a list where the tensor goes (``gg.abs_(2.5)``,
    ``F.relu_([x])``, the function forms, which share this) is PyTorch's one-line TypeError naming the argument,
    where it failed here with an AttributeError."""
    if not isinstance(tensor, Tensor):
        tensor_argument(tensor, name, "input", 1)
    # in a graph the op reads a copy of the old numbers, which its backward may need after the tensor changes
    source = tensor.clone() if tensor._requires_grad and (is_grad_enabled() or records_tangent(tensor)) else tensor
    result = compute(source)
    numbers = np.asarray(_plain(result))
    if numbers.shape != tensor.shape:
        raise grown_shape_error(name, tensor.shape, numbers.shape)
    made, kept = numbers.dtype, tensor.array.dtype
    if not can_cast(made, kept):
        raise RuntimeError(f"{name}: result type {made.name} can't be cast to this tensor's dtype {kept.name}; "
                           f"convert the tensor first (x = x.double()) or use the out-of-place form")
    tensor.copy_(result)
    if tensor._op is ops.SETITEM and tensor._parents[-1] is result and made is kept:
        # PyTorch's rule of x.exp_() reads x itself as its output: a second derivative passes through x's hooks
        result._written_into = (weakref.ref(tensor), tensor._version)  # (glassgrad.gradient_walk.written_into)
    return tensor


def _in_place_form(name: str) -> None:
    """``x.{name}_(…)`` is ``x.copy_(x.{name}(…))`` (:func:`write_in_place`)."""
    def in_place(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        # the method is looked up when called
        return write_in_place(self, lambda source: getattr(source, name)(*args, **kwargs), f"{name}_")

    in_place.__name__ = in_place.__qualname__ = f"{name}_"
    in_place.__doc__ = f"``x.{name}(…)`` written into x in place (returns x)."
    add(f"{name}_", in_place)


for _name in ("abs", "addcdiv", "addcmul", "ceil", "clamp", "clamp_max", "clamp_min", "clip", "cos", "exp",
              "floor", "frac", "index_add", "index_fill", "lerp", "log", "neg", "pow", "reciprocal", "relu", "round",
              "rsqrt", "sigmoid", "sign", "sin", "sqrt", "square", "tanh", "trunc"):
    _in_place_form(_name)
for _name in ("addcmul_", "addcdiv_"):  # the old number-first order read (and warned about) under their own names
    add(_name, number_first(_name)(getattr(Tensor, _name)))


@method
def bernoulli_(self: Tensor, p: float = 0.5, generator: Any = None) -> Tensor:
    """Fill in place with draws of 1 (probability ``p``) or 0, in the tensor's dtype (an int or bool one too, as
    PyTorch); probabilities ``p`` that require grad take the tensor into their graph, with a gradient of 0
    (:data:`glassgrad.ops.DRAW`), as PyTorch's. A tensor ``p`` must broadcast to the tensor's shape."""
    if isinstance(p, Tensor) and not broadcasts_to(p.shape, self.shape):
        raise RuntimeError(f"bernoulli_: the probabilities' shape {shape_text(p.shape)} does not broadcast to the "
                           f"tensor's {shape_text(self.shape)}")
    sample = recorded_call(sampling.flips, None, generator, self.array.shape, self.array.dtype, _plain(p), "bernoulli_")
    return self.copy_(sample_of(sample, (p,), "bernoulli"))


@method
def bernoulli(self: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:
    """Draws of 1 (probability: each entry, or ``p``) or 0 in this tensor's shape (``gg.bernoulli``)."""
    return sampling.bernoulli(self, p, generator=generator)


@method
def fill_diagonal_(self: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """Set the main diagonal (entries ``[i, i, …]``) to ``fill_value`` in place; ``wrap`` continues it below a
    tall matrix every ``columns + 1`` rows, as NumPy's ``fill_diagonal`` does."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: needs a matrix, or a tensor whose dims all have one size, got shape "
                           f"{shape_text(self.shape)}")
    diagonal = np.zeros(self.shape, dtype=bool)
    np.fill_diagonal(diagonal, True, wrap=wrap)
    self._set("fill_diagonal_", diagonal, True, fill_value)  # those entries only: the others keep their gradient
    return self
