"""``Tensor``: a NumPy array that remembers how it was made, so gradients can flow back.

>>> import glassgrad as gg
>>> w = gg.tensor([[2.0, -1.0]], requires_grad=True)
>>> x = gg.tensor([[1.0], [3.0]])
>>> z = (w @ x).sum()          # z = 2·1 + (−1)·3 = −1
>>> z.backward()
>>> w.grad                     # ∂z/∂w = xᵀ
tensor([[1., 3.]])

Names and meanings follow PyTorch: ``data``, ``grad``, ``requires_grad``, ``is_leaf``,
``backward()``, ``detach()``, ``retain_grad()``, reductions with ``dim``/``keepdim``.
Differences, all deliberate: ``data`` is the NumPy array itself, ``numpy()`` works on a
tensor that requires grad (it returns the array, shared), and ``grad_fn`` is the
:class:`~glassgrad.ops.Op` row that made the tensor.

In-place changes (``+=``, ``t[i] = v``, ``add_``, ``copy_``, …) follow PyTorch's rule (see
:mod:`glassgrad.autograd`): each counts a new version of the tensor's memory, shared with its
views and ``detach()``; ``backward`` refuses a value that changed after the forward saved it;
on a tensor in the graph (``out += bias``, ``h[h < 0] = 0``) the change is recorded. One
deliberate difference: a recorded in-place change of a view of a graph tensor, or of a tensor
that has a view, is refused with a one-line error (PyTorch rewrites the other tensor's node with
``CopySlices``); change the tensor itself, before taking views, or write it out of place.

Dtypes follow PyTorch too: Python numbers and lists become float32 (or int64 / bool),
a NumPy array keeps its dtype, an integer tensor mixed with a float one becomes float,
and only floating tensors can require grad.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import ops
from .autograd import CLOCK, NOW, STATE, bump_version, bump_version_and_rebase, run_backward, version_of

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

MinMax = namedtuple("MinMax", ["values", "indices"])
"""What ``max(dim)``/``min(dim)`` return, as in PyTorch: the values and their positions."""

_new = object.__new__


def _is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(n) for n in shape) + (",)" if len(shape) == 1 else ")")


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Build tensors with :func:`glassgrad.tensor` and friends; ops on tensors that
    require grad record a graph, and ``backward()`` fills ``.grad`` of the leaves.
    """

    __slots__ = ("data", "_grad", "_requires_grad", "_op", "_parents", "_ctx", "_retains_grad", "_clock",
                 "_before", "_private", "_view_of", "_viewed", "__weakref__")
    # _clock: the in-place clock's tick when the node was made; _before: (tick, hidden tensor with the
    # node it had before an in-place change re-based it); _private: an input whose old value the node
    # copied for itself; _view_of / _viewed: this tensor is / has a view in the graph. Unset until used.
    __array_ufunc__ = None  # NumPy defers to our operators: np.float32(2) * t is a Tensor

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        from .creation import as_array

        self._init_leaf(as_array(data, None))
        self.requires_grad = requires_grad

    def _init_leaf(self, array: np.ndarray) -> None:
        self.data = array
        self._grad = None
        self._requires_grad = False
        self._op = None
        self._parents = ()
        self._ctx = None
        self._retains_grad = False

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A leaf around ``array`` (no copy, no checks): the engine's fast constructor."""
        tensor = _new(cls)
        tensor.data = array
        tensor._grad = None
        tensor._requires_grad = requires_grad
        tensor._op = None
        tensor._parents = ()
        tensor._ctx = None
        tensor._retains_grad = False
        return tensor

    @staticmethod
    def _plain(array: np.ndarray) -> Tensor:
        """A plain ``Tensor`` leaf around ``array`` (gradients are never Parameters)."""
        return Tensor._wrap(array)

    # --- attributes -------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op that records a graph)."""
        return self._op is None

    @property
    def grad_fn(self) -> ops.Op | None:
        """The rule that made this tensor (``None`` for a leaf)."""
        return self._op

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and not _is_floating(self.data.dtype):
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, but this one is "
                f"{self.data.dtype}: convert it first, e.g. t.float()"
            )
        if self._op is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; "
                "use t.detach() to get a tensor without a graph"
            )
        self._requires_grad = value

    @property
    def grad(self) -> Tensor | None:
        """∂L/∂self after ``L.backward()``: summed over every backward call until reset."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, not {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has shape {_shape_text(value.shape)} but the tensor has shape "
                    f"{_shape_text(self.shape)}"
                )
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self._op is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (shared with its views), as in PyTorch."""
        return version_of(self.data)

    # --- conversion -------------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """NumPy's array protocol (NumPy 2): the shared array, or a new one for another ``dtype``
        or ``copy=True``; ``copy=False`` refuses a conversion that would need a copy."""
        array = np.asarray(self.data)  # an op's 0-d result may hold a NumPy scalar, not an array
        if dtype is not None and np.dtype(dtype) != array.dtype:
            if copy is False:
                raise ValueError(
                    f"np.asarray(tensor, dtype={np.dtype(dtype)}, copy=False): converting this {array.dtype} "
                    "tensor needs a copy; leave out copy=False"
                )
            return array.astype(dtype)
        return array.copy() if copy else array

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"item() needs a tensor with exactly one element, but this one has shape "
                f"{_shape_text(self.shape)} ({self.data.size} elements); index it first"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data.item())

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__

    def detach(self) -> Tensor:
        """The same numbers, cut from the graph (shares memory)."""
        return Tensor._wrap(_own_array(self))

    def clone(self) -> Tensor:
        """A copy that stays in the graph (gradient flows back unchanged)."""
        return _apply(ops.CAST, (self,), self.data, self.data.dtype)  # astype always copies

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor in another dtype (differentiable between float dtypes), called as in PyTorch.

        ``t.to(gg.float64)``, ``t.to("cpu")``, ``t.to("cpu", gg.float64)``, ``t.to(device="cpu",
        dtype=…)``, ``t.to(other)`` (other's dtype); ``copy=True`` always returns a new tensor.
        glassgrad runs on the CPU: another device ('cuda', 'mps') is refused, saying so.
        """
        from .creation import resolve_dtype
        from .device import to_arguments

        dtype, copy = to_arguments("Tensor", args, kwargs)
        dtype = self.data.dtype if dtype is None else resolve_dtype(dtype)
        if dtype == self.data.dtype:
            return self.clone() if copy else self
        if not _is_floating(dtype):
            return Tensor._wrap(self.data.astype(dtype))
        return _apply(ops.CAST, (self,), self.data, dtype)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return self.to(int64)

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        if self.data.ndim == 0:
            raise IndexError(f"size: dim {dim} was asked for, but a 0-d tensor has no dims (its size is ())")
        return self.shape[_check_dim(self, dim, "size")]

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def contiguous(self) -> Tensor:
        return self

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._op is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # --- backward ---------------------------------------------------------------------

    def backward(self, gradient: Tensor | Any = None, retain_graph: bool = False) -> None:
        """Compute ∂self/∂leaf for every leaf that requires grad, adding it to ``leaf.grad``.

        ``gradient`` is ∂L/∂self; it may be left out only when self holds one number
        (then it is 1). The graph is freed afterwards unless ``retain_graph=True``.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: "
                "nothing upstream of this tensor requires grad (create the inputs with "
                "requires_grad=True, and do not compute it under no_grad)"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but this tensor has "
                    f"shape {_shape_text(self.shape)}: pass backward(gradient) with that shape, "
                    "or reduce it first (e.g. .sum() or .mean())"
                )
            seed = np.ones(self.data.shape, dtype=self.data.dtype)
        else:
            seed = np.array(gradient.data if isinstance(gradient, Tensor) else gradient, copy=True)
            if seed.shape != self.data.shape:
                raise RuntimeError(
                    f"backward: gradient has shape {_shape_text(seed.shape)} but the tensor has shape "
                    f"{_shape_text(self.shape)}; they must match"
                )
            if not _is_floating(seed.dtype):
                raise RuntimeError(f"backward: gradient must be a float tensor, got {seed.dtype}")
            seed = seed.astype(self.data.dtype, copy=False)
        run_backward(self, seed, retain_graph)

    # --- in-place updates -----------------------------------------------------------------
    # Each one counts a new version of the memory (see glassgrad.autograd). Where PyTorch records
    # it (grad mode on, and this tensor or the value requires grad), the tensor is re-based.

    def _in_place(self, name: str, ufunc: np.ufunc, op: ops.Op, other: Any) -> Tensor:
        if STATE.grad_enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            return _record_in_place(self, name, op, other)
        value = other.data if isinstance(other, Tensor) else other
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except TypeError:
            if not isinstance(self.data, np.ndarray):  # a 0-d result that NumPy handed back as a scalar
                _own_array(self)
                return self._in_place(name, ufunc, op, other)
            raise _cast_error(name, np.result_type(self.data, value), self) from None
        except ValueError as error:
            raise _shape_error(name, self, value, error) from None
        bump_version(self.data)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place("+=", np.add, ops.ADD, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place("-=", np.subtract, ops.SUB, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place("*=", np.multiply, ops.MUL, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place("/=", np.true_divide, ops.DIV, other)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._in_place("add_", np.add, ops.ADD, _scaled(other, alpha))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._in_place("sub_", np.subtract, ops.SUB, _scaled(other, alpha))

    def mul_(self, other: Any) -> Tensor:
        return self._in_place("mul_", np.multiply, ops.MUL, other)

    def div_(self, other: Any) -> Tensor:
        return self._in_place("div_", np.true_divide, ops.DIV, other)

    def copy_(self, source: Any) -> Tensor:
        self._set("copy_", ..., False, source)
        return self

    def fill_(self, value: float) -> Tensor:
        return self.copy_(value)

    def zero_(self) -> Tensor:
        return self.copy_(0)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._set("item assignment", *_plain_index(index), value)

    def _set(self, name: str, index: Any, advanced: bool, value: Any) -> None:
        if STATE.grad_enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            _record_set(self, name, index, advanced, value)
            return
        _own_array(self)
        self.data[index] = _data(value)
        bump_version(self.data)

    # --- arithmetic (rows of ops.py) -------------------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        return _binary(ops.ADD, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(ops.ADD, _lift(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(ops.SUB, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(ops.SUB, _lift(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(ops.MUL, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(ops.MUL, _lift(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(ops.DIV, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(ops.DIV, _lift(other, self), self)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            return _apply(ops.POW_SCALAR, (self,), self.data, exponent)
        return _binary(ops.POW, self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _binary(ops.POW, _lift(base, self), self)

    def __neg__(self) -> Tensor:
        return _apply(ops.NEG, (self,), self.data)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(_lift(other, self), self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__
    matmul = __matmul__

    def maximum(self, other: Any) -> Tensor:
        return _binary(ops.MAXIMUM, self, other)

    def minimum(self, other: Any) -> Tensor:
        return _binary(ops.MINIMUM, self, other)

    # --- comparisons: plain bool tensors, outside the graph ------------------------------

    def _compare(self, ufunc: np.ufunc, other: Any) -> Tensor:
        return Tensor._wrap(ufunc(self.data, _data(other)))

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.equal, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.not_equal, other)

    # --- elementwise functions -------------------------------------------------------------

    def exp(self) -> Tensor:
        return _apply(ops.EXP, (self,), _float_data(self))

    def log(self) -> Tensor:
        return _apply(ops.LOG, (self,), _float_data(self))

    def sqrt(self) -> Tensor:
        return _apply(ops.SQRT, (self,), _float_data(self))

    def abs(self) -> Tensor:
        return _apply(ops.ABS, (self,), self.data)

    def sin(self) -> Tensor:
        return _apply(ops.SIN, (self,), _float_data(self))

    def cos(self) -> Tensor:
        return _apply(ops.COS, (self,), _float_data(self))

    def relu(self) -> Tensor:
        return _apply(ops.RELU, (self,), self.data)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return _apply(ops.LEAKY_RELU, (self,), self.data, negative_slope)

    def sigmoid(self) -> Tensor:
        return _apply(ops.SIGMOID, (self,), _float_data(self))

    def tanh(self) -> Tensor:
        return _apply(ops.TANH, (self,), _float_data(self))

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        if min is None and max is None:
            raise ValueError("clamp: at least one of 'min' or 'max' must be given")
        return _apply(ops.CLAMP, (self,), self.data, _data(min), _data(max))

    clip = clamp

    # --- reductions ------------------------------------------------------------------------

    def sum(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        return _reduce(ops.SUM, self, dim, keepdim, axis, keepdims)

    def mean(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        if not _is_floating(self.data.dtype):
            raise RuntimeError(f"mean: needs a floating tensor, got {self.data.dtype}; use t.float().mean()")
        return _reduce(ops.MEAN, self, dim, keepdim, axis, keepdims)

    def var(self, dim=None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None,
            axis=None, keepdims=None) -> Tensor:
        """Variance ``Σ(a − ā)² / (n − correction)``; PyTorch's default ``correction=1``."""
        if unbiased is not None:
            correction = int(unbiased)
        return _reduce(ops.VAR, self, dim, keepdim, axis, keepdims, correction)

    def std(self, dim=None, keepdim: bool = False, *, correction: int = 1, unbiased: bool | None = None,
            axis=None, keepdims=None) -> Tensor:
        """Standard deviation ``√(Σ(a − ā)² / (n − correction))``; PyTorch's default ``correction=1``."""
        if unbiased is not None:
            correction = int(unbiased)
        return _reduce(ops.STD, self, dim, keepdim, axis, keepdims, correction)

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Largest entry; with ``dim``, a ``(values, indices)`` pair as in PyTorch."""
        return _extreme(ops.MAX, np.argmax, self, dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Smallest entry; with ``dim``, a ``(values, indices)`` pair as in PyTorch."""
        return _extreme(ops.MIN, np.argmin, self, dim, keepdim, axis, keepdims)

    def logsumexp(self, dim, keepdim: bool = False) -> Tensor:
        return _reduce(ops.LOGSUMEXP, self, dim, keepdim, None, None)

    def softmax(self, dim: int = -1) -> Tensor:
        return _apply(ops.SOFTMAX, (self,), self.data, _check_dim(self, dim, "softmax"))

    def log_softmax(self, dim: int = -1) -> Tensor:
        return _apply(ops.LOG_SOFTMAX, (self,), self.data, _check_dim(self, dim, "log_softmax"))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        axis = _nonempty_reduction(self, dim, "argmax")
        return Tensor._wrap(np.asarray(self.data.argmax(axis=axis, keepdims=keepdim), dtype=np.int64))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        axis = _nonempty_reduction(self, dim, "argmin")
        return Tensor._wrap(np.asarray(self.data.argmin(axis=axis, keepdims=keepdim), dtype=np.int64))

    def all(self) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.all()))

    def any(self) -> Tensor:
        return Tensor._wrap(np.asarray(self.data.any()))

    # --- shapes -----------------------------------------------------------------------------

    def reshape(self, *shape) -> Tensor:
        shape = _shape_arg(shape, "reshape")
        try:
            return _as_view(self, _apply(ops.RESHAPE, (self,), _own_array(self), shape))
        except ValueError:
            if _fits(shape, self.data.size):
                raise  # not a shape problem: let the real error through
            raise RuntimeError(
                f"reshape: shape {_shape_text(shape)} is invalid for a tensor of shape "
                f"{_shape_text(self.shape)} ({self.data.size} elements)"
            ) from None

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.data.ndim == 0:
            return self.reshape(1)
        start = _check_dim(self, start_dim, "flatten")
        end = _check_dim(self, end_dim, "flatten")
        shape = self.shape
        return self.reshape(shape[:start] + (-1,) + shape[end + 1:])

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        axes = list(range(self.data.ndim))
        dim0, dim1 = _check_dim(self, dim0, "transpose"), _check_dim(self, dim1, "transpose")
        if not axes:  # a 0-d tensor: dims 0 and -1 name the number itself, as in PyTorch
            return self
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return _as_view(self, _apply(ops.PERMUTE, (self,), _own_array(self), tuple(axes)))

    def permute(self, *dims) -> Tensor:
        dims = tuple(_check_dim(self, d, "permute") for d in _shape_arg(dims, "permute"))
        if sorted(dims) != list(range(self.data.ndim)):
            raise RuntimeError(f"permute: dims {dims} must list each of the {self.data.ndim} dims once")
        return _as_view(self, _apply(ops.PERMUTE, (self,), _own_array(self), dims))

    @property
    def T(self) -> Tensor:
        """All dims reversed (for a matrix: the transpose)."""
        if self.data.ndim < 2:
            return self
        return _as_view(self, _apply(ops.PERMUTE, (self,), _own_array(self), tuple(reversed(range(self.data.ndim)))))

    def unsqueeze(self, dim: int) -> Tensor:
        if not -self.data.ndim - 1 <= dim <= self.data.ndim:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for a {self.data.ndim}-d tensor")
        dim = dim if dim >= 0 else dim + self.data.ndim + 1
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim: int | None = None) -> Tensor:
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dim = _check_dim(self, dim, "squeeze")
        if self.data.ndim == 0 or self.shape[dim] != 1:  # dims 0 and -1 of a 0-d tensor: itself, as in PyTorch
            return self
        return self.reshape(self.shape[:dim] + self.shape[dim + 1:])

    def expand(self, *sizes) -> Tensor:
        sizes = _shape_arg(sizes, "expand")
        offset = len(sizes) - self.data.ndim
        if offset < 0:
            raise RuntimeError(f"expand: cannot expand shape {_shape_text(self.shape)} to fewer dims {sizes}")
        target = tuple(self.shape[i - offset] if n == -1 and i >= offset else n for i, n in enumerate(sizes))
        if not _broadcastable(self.shape, target) or np.broadcast_shapes(self.shape, target) != target:
            raise RuntimeError(
                f"expand: the shape {_shape_text(self.shape)} cannot be expanded to {_shape_text(target)} "
                "(only size-1 dims can grow)"
            )
        return _as_view(self, _apply(ops.EXPAND, (self,), _own_array(self), target))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def __getitem__(self, index: Any) -> Tensor:
        index, advanced = _plain_index(index)
        try:
            if advanced:
                return _apply(ops.GETITEM, (self,), self.data, index, advanced)
            if not any(part is Ellipsis for part in (index if isinstance(index, tuple) else (index,))):
                index = (*index, ...) if isinstance(index, tuple) else (index, ...)  # x[0] of a vector: a 0-d view
            return _as_view(self, _apply(ops.GETITEM, (self,), _own_array(self), index, advanced))
        except IndexError as error:
            raise IndexError(f"indexing a tensor of shape {_shape_text(self.shape)}: {error}") from None


# --- how methods become graph nodes ------------------------------------------------------


def _apply(op: ops.Op, parents: tuple, *args: Any) -> Tensor:
    """Run ``op.forward(*args)`` and, if recording and some parent requires grad, remember it."""
    out, saved = op.forward(*args)
    result = _new(Tensor)
    result.data = out
    result._grad = None
    result._retains_grad = False
    state = STATE  # per thread (as PyTorch's grad mode): read each switch once
    if state.grad_enabled:
        for parent in parents:
            if parent._requires_grad:
                result._requires_grad = True
                result._op = op
                result._parents = parents
                result._ctx = saved
                result._clock = CLOCK[NOW]
                break
        else:
            result._requires_grad = False
            result._op = None
            result._parents = ()
            result._ctx = None
    else:
        result._requires_grad = False
        result._op = None
        result._parents = ()
        result._ctx = None
    tape = state.tape
    if tape is not None:
        tape.on_forward(op, parents, result, args)
    return result


def _as_view(base: Tensor, view: Tensor) -> Tensor:
    """Note that ``view`` may share ``base``'s memory.

    A recorded in-place change of either is then refused: PyTorch would rewrite the other's
    node too (CopySlices), glassgrad does not, so the gradient would be wrong. That covers a
    view of a plain tensor that later joins the graph (``v = x[0]; x += w``).
    """
    if view._requires_grad:
        if np.may_share_memory(view.data, base.data):  # reshape may copy instead
            view._view_of = base
            base._viewed = True
    elif not base._requires_grad:
        base._viewed = True
    return view


def _check_graph_in_place(tensor: Tensor, name: str) -> None:
    """Refuse the in-place changes of a graph tensor that PyTorch refuses, or that glassgrad cannot record."""
    if tensor._requires_grad and tensor._op is None:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation ({name}). "
            "Do parameter updates inside `with gg.no_grad():`"
        )
    base = getattr(tensor, "_view_of", None)
    if base is not None:
        while getattr(base, "_view_of", None) is not None:
            base = base._view_of
        if base._op is None:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place operation ({name}); "
                "change the leaf itself inside `with gg.no_grad():`"
            )
        raise RuntimeError(
            f"in-place {name} on a view (from reshape, transpose, expand or indexing) of a tensor in the "
            "graph is not supported: change the tensor itself (t[index] = value), or write it out of place "
            "(y = y * 2, gg.where(mask, value, y))"
        )
    if getattr(tensor, "_viewed", False):
        raise RuntimeError(
            f"in-place {name} recorded in the graph, on a tensor that has a view (from reshape, transpose, expand "
            "or indexing), is not supported: make the change before taking the view, or write it out of place "
            "(y = y * 2)"
        )
    if not tensor._requires_grad and tensor.data.base is not None:
        raise RuntimeError(
            f"in-place {name} with a value that requires grad, on a tensor that shares memory with another "
            "(a view), is not supported: clone() it first"
        )


def _record_in_place(tensor: Tensor, name: str, op: ops.Op, other: Any) -> Tensor:
    """``tensor op= other`` recorded in the graph: ``tensor`` becomes ``op(old tensor, other)``."""
    _check_graph_in_place(tensor, name)
    _own_array(tensor)
    other = other if isinstance(other, Tensor) else _lift(other, tensor)
    if np.may_share_memory(tensor.data, other.data):
        raise RuntimeError(
            f"in-place {name} of a tensor in the graph with an operand that shares memory with it is not "
            "supported: clone() the operand first"
        )
    # the rule may read the old value back (mul, div: for other's gradient); it is about to be overwritten
    private = any(0 in needs for needs, part in zip(op.saves, (tensor, other)) if part._requires_grad)
    a, b = (tensor.data.copy() if private else tensor.data), other.data
    if a.dtype is not b.dtype:
        a, b = _promote(a, b)
    try:
        out, saved = op.forward(a, b)
    except ValueError as error:
        raise _shape_error(name, tensor, b, error) from None
    if out.shape != tensor.shape:
        raise _shape_error(name, tensor, b, f"the result would have shape {_shape_text(out.shape)}")
    try:
        np.copyto(tensor.data, out, casting="same_kind")
    except TypeError:
        raise _cast_error(name, out.dtype, tensor) from None
    _rebase(tensor, op, other, saved, 0 if private else None, (a, b))
    return tensor


def _record_set(tensor: Tensor, name: str, index: Any, advanced: bool, value: Any) -> None:
    """``tensor[index] = value`` recorded in the graph (``copy_`` is ``tensor[...] = value``)."""
    _check_graph_in_place(tensor, name)
    _own_array(tensor)
    value = value if isinstance(value, Tensor) else _lift(value, tensor)
    if advanced:  # keep the index as it is now: the rule reads it back
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(part.copy() if isinstance(part, np.ndarray) else part for part in parts)
        index = parts if isinstance(index, tuple) else parts[0]
    _, saved = ops.SETITEM.forward(tensor.data, value.data, index)
    _rebase(tensor, ops.SETITEM, value, saved, None, (index,))


def _rebase(tensor: Tensor, op: ops.Op, other: Tensor, saved: Any, private: int | None, args: tuple) -> None:
    """Make ``tensor`` stand for ``op(its old value, other)`` after an in-place change, as PyTorch does.

    Its previous node moves to a hidden tensor on the same memory; ops recorded before the
    change still lead there (``glassgrad.autograd.reroute``).
    """
    old = _new(Tensor)
    old.data = tensor.data
    old._grad = None
    old._requires_grad = tensor._requires_grad
    old._op = tensor._op
    old._parents = tensor._parents
    old._ctx = tensor._ctx
    old._retains_grad = False
    old._clock = getattr(tensor, "_clock", 0)
    old._before = getattr(tensor, "_before", None)
    old._private = getattr(tensor, "_private", None)
    tick = bump_version_and_rebase(tensor.data)
    tensor._requires_grad = True
    tensor._op = op
    tensor._parents = (old, other)
    tensor._ctx = saved
    tensor._clock = tick
    tensor._before = (tick, old)
    tensor._private = private
    tape = STATE.tape
    if tape is not None:
        tape.on_rebase(tensor, old)
        tape.on_forward(op, (old, other), tensor, args)


def _own_array(tensor: Tensor) -> np.ndarray:
    """The tensor's array; a 0-d tensor that holds a NumPy scalar (an op's 0-d result) gets a real one.

    Only an array can be changed in place, or share its memory with a view or ``detach()``.
    """
    if not isinstance(tensor.data, np.ndarray):
        tensor.data = np.array(tensor.data)
    return tensor.data


def _scaled(other: Any, alpha: float) -> Any:
    """``alpha · other`` for ``add_``/``sub_`` (recorded when ``other`` is a tensor in the graph)."""
    if alpha == 1:
        return other
    return other * alpha if isinstance(other, Tensor) else np.multiply(_data(other), alpha)


def _cast_error(name: str, result_dtype: np.dtype, tensor: Tensor) -> RuntimeError:
    return RuntimeError(
        f"{name}: result type {result_dtype} can't be cast to this tensor's dtype {tensor.data.dtype}"
    )


def _shape_error(name: str, tensor: Tensor, value: Any, reason: Any) -> RuntimeError:
    return RuntimeError(
        f"{name}: cannot update a tensor of shape {_shape_text(tensor.shape)} in place with a "
        f"value of shape {_shape_text(np.shape(value))} ({reason})"
    )


def _float_data(tensor: Tensor) -> np.ndarray:
    """The tensor's array, as float32 if it holds integers (PyTorch's result dtype for exp, log, …)."""
    data = tensor.data
    return data if data.dtype.kind == "f" else data.astype(float32)


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _lift(value: Any, like: Tensor) -> Tensor:
    """``value`` as a tensor; a Python number takes ``like``'s float dtype (as in PyTorch)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)):
        like_dtype = like.data.dtype
        if _is_floating(like_dtype):
            return Tensor._wrap(ops.constant(value, like_dtype))  # cached, read-only
        if isinstance(value, float):
            return Tensor._wrap(ops.constant(value, float32))
    from .creation import as_array

    return Tensor._wrap(as_array(value, None))


def _binary(op: ops.Op, a: Tensor, b: Any) -> Tensor:
    if type(b) is not Tensor:
        b = _lift(b, a)
    a_data, b_data = a.data, b.data
    if a_data.dtype is not b_data.dtype:
        a_data, b_data = _promote(a_data, b_data)
    try:
        return _apply(op, (a, b), a_data, b_data)
    except ValueError:
        if _broadcastable(a.shape, b.shape):
            raise  # not a shape problem: let the real error through
        raise RuntimeError(
            f"{op.name}: shapes {_shape_text(a.shape)} and {_shape_text(b.shape)} cannot be broadcast "
            "together (sizes must match or be 1, aligned from the right)"
        ) from None


def _fits(shape: tuple, size: int) -> bool:
    """Whether ``size`` elements can take ``shape`` (one -1 may stand for the rest)."""
    known = int(np.prod([n for n in shape if n != -1]))
    if list(shape).count(-1) > 1 or any(n < -1 for n in shape):
        return False
    return known == size or (-1 in shape and known > 0 and size % known == 0)


def _broadcastable(*shapes: tuple) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _promote(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's rule: an integer/bool operand takes the float operand's dtype."""
    a_float, b_float = _is_floating(a.dtype), _is_floating(b.dtype)
    if a_float and not b_float:
        return a, b.astype(a.dtype)
    if b_float and not a_float:
        return a.astype(b.dtype), b
    return a, b


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product ``input @ other`` with NumPy's rules for 1-D and batched operands."""
    a, b = input, _lift(other, input)
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise RuntimeError("matmul: both operands need at least one dimension (use * for scalars)")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.data.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        raise RuntimeError(
            f"matmul: shapes {_shape_text(a.shape)} and {_shape_text(b.shape)} cannot be multiplied: "
            f"the first's last dim ({inner_a}) must equal the second's "
            f"{'second-to-last' if b.data.ndim > 1 else 'only'} dim ({inner_b})"
        )
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(
            f"matmul: expected both operands to have the same dtype, but got {a.data.dtype} and "
            f"{b.data.dtype}; convert one with .float() or .double()"
        )
    try:
        return _apply(ops.MATMUL, (a, b), a.data, b.data, (a._requires_grad, b._requires_grad))
    except ValueError:
        if _broadcastable(a.shape[:-2], b.shape[:-2]):
            raise  # not a shape problem: let the real error through
        raise RuntimeError(
            f"matmul: batch dims of {_shape_text(a.shape)} and {_shape_text(b.shape)} cannot be broadcast"
        ) from None


def _shape_arg(shape: tuple, name: str) -> tuple:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))``, each a whole number (never 2.5, '3' or True)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for position, n in enumerate(shape):
        if isinstance(n, Tensor) and n.data.ndim == 0 and n.data.dtype.kind in "iu":
            continue  # a 0-d integer tensor counts as its number, as in PyTorch
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(
                f"{name}: sizes must be whole numbers (ints), but got {n!r} ({type(n).__name__}) at position "
                f"{position}; pass ints (int(...) converts a whole float)"
            )
    return tuple(int(n) for n in shape)


def _check_dim(tensor: Tensor, dim: int, name: str) -> int:
    ndim = max(tensor.data.ndim, 1)
    if not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
        raise IndexError(
            f"{name}: dim {dim} is out of range for a tensor of shape {_shape_text(tensor.shape)} "
            f"(expected an int in [{-ndim}, {ndim - 1}])"
        )
    return int(dim) % ndim


def _axis_arg(tensor: Tensor, dim: Any, axis: Any, name: str):
    dim = axis if axis is not None else dim
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(_check_dim(tensor, d, name) for d in dim)
    return _check_dim(tensor, dim, name)


def _reduce(op: ops.Op, tensor: Tensor, dim, keepdim, axis, keepdims, *extra) -> Tensor:
    axis = _axis_arg(tensor, dim, axis, op.name)
    keep = bool(keepdims) if keepdims is not None else bool(keepdim)
    return _apply(op, (tensor,), tensor.data, axis, *extra, keep)


def _extreme(op: ops.Op, arg_function, tensor: Tensor, dim, keepdim, axis, keepdims):
    if isinstance(dim, Tensor):  # gg.max(a, b) is the elementwise maximum, as in PyTorch
        return tensor.maximum(dim) if op is ops.MAX else tensor.minimum(dim)
    chosen = axis if axis is not None else dim
    chosen_axis = _nonempty_reduction(tensor, chosen, op.name)
    values = _reduce(op, tensor, dim, keepdim, axis, keepdims)
    if chosen is None:
        return values
    keep = bool(keepdims) if keepdims is not None else bool(keepdim)
    indices = arg_function(tensor.data, axis=chosen_axis, keepdims=keep)
    return MinMax(values, Tensor._wrap(indices.astype(np.int64)))


def _nonempty_reduction(tensor: Tensor, dim: Any, name: str):
    """The checked axis of a ``max``/``min``/``argmax``/``argmin``, which needs a value to pick.

    As in PyTorch: over all elements of an empty tensor is a ``RuntimeError`` (an ``IndexError``
    for ``argmax``/``argmin``); over a dim of size 0 an ``IndexError``; over another dim of an
    empty tensor an empty result.
    """
    axis = _axis_arg(tensor, dim, None, name)
    if axis is None:
        if tensor.data.size == 0:
            raise (IndexError if name.startswith("arg") else RuntimeError)(
                f"{name}: the tensor of shape {_shape_text(tensor.shape)} is empty, so it has no "
                f"{name.removeprefix('arg')}imum; reduce over a dim of non-zero size with dim=..."
            )
        return None
    for reduced in axis if isinstance(axis, tuple) else (axis,):
        if tensor.data.ndim and tensor.shape[reduced] == 0:
            raise IndexError(
                f"{name}: dim {reduced} of the tensor of shape {_shape_text(tensor.shape)} has size 0, so it has "
                f"no {name.removeprefix('arg')}imum; reduce over a dim of non-zero size"
            )
    return axis


def _plain_index(index: Any) -> tuple[Any, bool]:
    """Turn tensors inside an index into arrays; report whether NumPy's advanced indexing is used."""
    parts = index if isinstance(index, tuple) else (index,)
    plain = []
    advanced = False
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        if isinstance(part, (list, np.ndarray)):
            advanced = True
            part = np.asarray(part)
        plain.append(part)
    return (tuple(plain) if isinstance(index, tuple) else plain[0]), advanced

